// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm: a segment arriving (tcp_reasm_add). The usual one, next in line
 * with nothing pending, only becomes the view; SYN, ACK and FIN move the
 * stream state, payload that answers peer bytes not out yet is held, and
 * what lands beyond a hole goes to the buffers (tcp_reasm_ooo.c). The
 * module is described at the top of tcp_reasm.c.
 */
#include "dataplane/tcp_reasm_int.h"
/* d stops waiting for its peer: the peer's bytes were lost, or there is no room. */
static void tcp_reasm_give_up(struct tcp_reasm *r, struct tcp_reasm_dir *d)
{
	d->flags &= (uint8_t)~TCP_REASM_F_HOLD;
	d->xflags |= TCP_REASM_X_NO_LATE;
	r->st.holds_given_up++;
}

/*
 * A data segment of direction di acknowledging ack: hold it back if the peer
 * is behind. Holding needs a side slot; without one d gives up at once.
 */
static void tcp_reasm_note_ack(struct tcp_reasm *r, struct tcp_reasm_pair *tp, unsigned int di,
			       uint32_t ack)
{
	struct tcp_reasm_dir *d = &tp->dir[di];
	struct tcp_reasm_xdir *x;

	if (!tcp_reasm_must_wait(d, &tp->dir[!di], ack))
		return;
	if (!tcp_reasm_side_take(r, tp)) {
		tcp_reasm_give_up(r, d);
		return;
	}
	x = tcp_reasm_x(r, tp, di);
	if (!(d->flags & TCP_REASM_F_HOLD) || seq_lt(x->hold_ack, ack))
		x->hold_ack = ack;
	d->flags |= TCP_REASM_F_HOLD;
}

/* The stream of d starts at its SYN's seq (nothing of it buffered, held or owed). */
static inline void tcp_reasm_syn_start(struct tcp_reasm_dir *d, uint32_t seq)
{
	d->next_seq = seq + 1;
	d->fin_seq = 0;
	d->flags = TCP_REASM_F_STARTED | TCP_REASM_F_SYN;
	d->xflags = 0;
}

static void tcp_reasm_syn(struct tcp_reasm *r, struct tcp_reasm_pair *tp, unsigned int di,
			  uint32_t seq)
{
	struct tcp_reasm_dir *d = &tp->dir[di];

	if (d->flags & TCP_REASM_F_STARTED) {
		/* Only a SYN with a new ISN before any payload restarts the stream. */
		if ((d->flags & (TCP_REASM_F_HAS_DATA | TCP_REASM_F_SYN)) != TCP_REASM_F_SYN ||
		    d->next_seq == seq + 1)
			return;
	}
	if (tcp_reasm_side_slot(tp)) {
		struct tcp_reasm_xdir *x = tcp_reasm_x(r, tp, di);

		tcp_reasm_free_dir(r, x);
		x->pending_gap = 0;
	}
	tcp_reasm_syn_start(d, seq);
}

/*
 * The peer acknowledged up to ack: bytes of o below it that we lack were lost
 * by the capture -- but only once o itself has moved past the hole (data
 * buffered beyond it, or its FIN). On a tap that delivers each direction on
 * its own port, an ACK can overtake the data it acknowledges; that data is
 * still coming, in order, and must not be written off as lost.
 */
static void tcp_reasm_ack(struct tcp_reasm *r, struct tcp_reasm_pair *tp, unsigned int oi,
			  uint32_t ack)
{
	struct tcp_reasm_dir *o = &tp->dir[oi];
	struct tcp_reasm_xdir *x = tcp_reasm_x(r, tp, oi);
	uint32_t lim = ack;

	if (!(o->flags & TCP_REASM_F_STARTED) || (o->flags & TCP_REASM_F_EOF_SENT))
		return;
	if (!x->ooo_head && !(o->flags & TCP_REASM_F_FIN))
		return;
	/* The FIN takes a sequence number but carries no byte. */
	if ((o->flags & TCP_REASM_F_FIN) && seq_lt(o->fin_seq, lim))
		lim = o->fin_seq;
	if (x->ooo_head && seq_lt(tcp_reasm_seg(r, x->ooo_head)->seq, lim))
		lim = tcp_reasm_seg(r, x->ooo_head)->seq;
	/* The gap is owed until the next chunk: without a slot, the bytes stay awaited. */
	if (!seq_lt(o->next_seq, lim) || !tcp_reasm_side_take(r, tp))
		return;
	x = tcp_reasm_x(r, tp, oi);
	x->pending_gap = tcp_reasm_skip(r, o, x->pending_gap, lim);
}

static void tcp_reasm_fin(struct tcp_reasm *r, struct tcp_reasm_dir *d, uint32_t fin_seq)
{
	if (!(d->flags & TCP_REASM_F_STARTED)) {
		d->next_seq = fin_seq;
		d->flags |= TCP_REASM_F_STARTED;
		r->st.midstream++;
	}
	if (d->flags & TCP_REASM_F_FIN)
		return; /* the first FIN stands */
	d->flags |= TCP_REASM_F_FIN;
	d->fin_seq = fin_seq;
}

/*
 * What the peer must have delivered before the in-order bytes being added may
 * go: their own ACK, or that of a buffer they sit behind (it comes out first).
 * Bytes behind a held buffer are kept too, never left in the packet's view.
 */
static uint32_t tcp_reasm_add_need(const struct tcp_reasm *r, const struct tcp_reasm_dir *d,
				   const struct tcp_reasm_xdir *x)
{
	const struct tcp_reasm_seg *h = x->ooo_head ? tcp_reasm_seg(r, x->ooo_head) : NULL;

	if (h && seq_leq(h->seq, d->next_seq) && seq_lt(r->seg_ack, h->ack))
		return h->ack;
	return r->seg_ack;
}

/*
 * An in-order packet reaching past a buffer that may wait for the peer (its
 * ACK is ahead of the packet's): the packet's bytes behind that buffer would
 * leave with the view while it waits. So the packet is buffered whole (the
 * first copy still wins) and goes out from the buffers; with no room for it,
 * d stops waiting, as a held packet without room does. (flow_reasm fuzzing:
 * a retransmission carrying other bytes later filled the lost tail.)
 */
static void tcp_reasm_keep_past_held(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
				     unsigned int di, uint32_t seq, const uint8_t *p, uint32_t len)
{
	struct tcp_reasm_view v = r->view;

	if (tcp_reasm_store(r, tp, di, seq, p, len) != TCP_REASM_CAPPED)
		return;
	r->view = v;
	tcp_reasm_give_up(r, &tp->dir[di]);
}

static enum tcp_reasm_status tcp_reasm_data(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
					    unsigned int dir, uint32_t seq, const uint8_t *p,
					    uint32_t len)
{
	struct tcp_reasm_dir *d = &tp->dir[dir];
	const struct tcp_reasm_xdir *x;
	int32_t behind;

	if (!(d->flags & TCP_REASM_F_STARTED)) {
		d->next_seq = seq;
		d->flags |= TCP_REASM_F_STARTED;
		r->st.midstream++;
	}
	d->flags |= TCP_REASM_F_HAS_DATA;
	/* Nothing follows the FIN; bytes claiming to are junk. */
	if ((d->flags & TCP_REASM_F_FIN) && seq_lt(d->fin_seq, seq + len)) {
		r->st.overlaps++;
		if (!seq_lt(seq, d->fin_seq))
			return TCP_REASM_NO_DATA;
		len = d->fin_seq - seq;
	}
	behind = seq_diff(d->next_seq, seq);
	if (behind > 0) {
		if ((uint32_t)behind >= len) {
			r->st.retransmits++;
			return TCP_REASM_NO_DATA;
		}
		r->st.overlaps++;
		seq += (uint32_t)behind;
		p += behind;
		len -= (uint32_t)behind;
	}
	r->view = (struct tcp_reasm_view){
		.tp = tp,
		.ptr = p,
		.seq = seq,
		.len = len,
		.dir = (uint8_t)dir,
	};
	x = tcp_reasm_x(r, tp, dir);
	if ((d->flags & TCP_REASM_F_HOLD) && x->ooo_bytes + len > TCP_REASM_HOLD_MAX) {
		/* Waited long enough: the peer's bytes were lost, not delayed. */
		tcp_reasm_give_up(r, d);
	}
	if (seq == d->next_seq && tcp_reasm_held(d, &tp->dir[!dir], tcp_reasm_add_need(r, d, x))) {
		enum tcp_reasm_status st = tcp_reasm_store(r, tp, dir, seq, p, len);

		if (st != TCP_REASM_CAPPED) {
			r->st.held_segments++;
			return st;
		}
		/* No room to wait: deliver now, out of order with the peer. */
		r->view.force = false;
		tcp_reasm_give_up(r, d);
	}
	if (seq != d->next_seq) {
		enum tcp_reasm_status st = tcp_reasm_store(r, tp, dir, seq, p, len);

		if (st == TCP_REASM_CAPPED && (d->flags & TCP_REASM_F_HOLD))
			tcp_reasm_give_up(r, d); /* no room to wait either: out now, as above */
		return st;
	}
	x = tcp_reasm_x(r, tp, dir); /* a store above may have given the pair a slot */
	if (x->ooo_head && seq_lt(tcp_reasm_seg(r, x->ooo_head)->seq, seq + len)) {
		r->st.overlaps++; /* buffered bytes inside it will win */
		if (d->flags & TCP_REASM_F_HOLD)
			tcp_reasm_keep_past_held(r, tp, dir, seq, p, len);
	}
	return TCP_REASM_OK;
}

/* Bypassed: no payload, but FIN and RST still end the pair. */
static void tcp_reasm_follow(struct tcp_reasm *r, struct tcp_reasm_dir *d, const struct pkt_meta *m)
{
	r->st.bypassed_bytes += m->payload_len;
	if (m->payload_len || (m->tcp_flags & PKT_TCP_SYN))
		d->flags |= TCP_REASM_F_STARTED;
	if (m->tcp_flags & PKT_TCP_RST)
		d->flags |= TCP_REASM_F_RST;
	if (m->tcp_flags & PKT_TCP_FIN)
		d->flags |= TCP_REASM_F_STARTED | TCP_REASM_F_FIN | TCP_REASM_F_EOF_SENT;
}

static enum tcp_reasm_status tcp_reasm_add_any(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
					       unsigned int di, const struct pkt_meta *m)
{
	struct tcp_reasm_dir *d = &tp->dir[di];
	enum tcp_reasm_status st = TCP_REASM_NO_DATA;
	uint8_t fl = m->tcp_flags;
	uint32_t seq = m->seq;

	tcp_reasm_reap(r, tp);
	if (m->payload_len)
		r->st.segments++;
	if (tp->aux & TCP_REASM_AUX_BYPASS) {
		tcp_reasm_follow(r, d, m);
		return TCP_REASM_NO_DATA;
	}
	if (fl & PKT_TCP_RST) {
		d->flags |= TCP_REASM_F_RST;
		return TCP_REASM_NO_DATA;
	}
	/*
	 * A SYN-ACK ahead of the SYN it answers (the two directions came through
	 * different queues): its ACK is where the peer's stream starts, so bytes
	 * acknowledging peer bytes not seen yet wait for them. The real SYN, if
	 * its ISN differs, still restarts the peer.
	 */
	if ((fl & (PKT_TCP_SYN | PKT_TCP_ACK)) == (PKT_TCP_SYN | PKT_TCP_ACK) &&
	    !(tp->dir[!di].flags & TCP_REASM_F_STARTED))
		tcp_reasm_syn(r, tp, !di, m->ack - 1);
	if (fl & PKT_TCP_SYN)
		tcp_reasm_syn(r, tp, di, seq++);
	/* Without an ACK the bytes wait for nothing the peer has not delivered. */
	r->seg_ack = (fl & PKT_TCP_ACK) ? m->ack : tcp_reasm_delivered_end(&tp->dir[!di]);
	if (fl & PKT_TCP_ACK)
		tcp_reasm_ack(r, tp, !di, m->ack);
	if ((fl & PKT_TCP_ACK) && m->payload_len)
		tcp_reasm_note_ack(r, tp, di, m->ack);
	if (m->payload_len)
		st = tcp_reasm_data(r, tp, di, seq, m->payload, m->payload_len);
	if (fl & PKT_TCP_FIN)
		tcp_reasm_fin(r, d, seq + m->payload_len);
	if (st == TCP_REASM_OK)
		return st; /* in-order bytes wait in the view */
	if (tcp_reasm_pair_ready(r, tp))
		return TCP_REASM_OK;
	/*
	 * The caller drains only after OK: a view left behind (a refused segment
	 * waiting on the peer) would be read by a later flush, when the frame it
	 * points into may be back in the NIC's ring.
	 */
	r->view.tp = NULL;
	return st;
}

/* Everything but the bare ACK (tcp_reasm_add_slow()); out of line, like next_slow. */
__attribute__((noinline)) static enum tcp_reasm_status tcp_reasm_add_rest(struct tcp_reasm *r,
									  struct tcp_reasm_pair *tp,
									  unsigned int di,
									  const struct pkt_meta *m)
{
	const struct tcp_reasm_dir *d = &tp->dir[di], *o = &tp->dir[!di];
	enum tcp_reasm_status st;

	/* A bare FIN next in line, its ACK writing nothing off (no side slot,
	 * and no peer FIN it could reach past): tcp_reasm_add_any() would only
	 * mark the end, which is then ready at once. */
	if ((m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_FIN | PKT_TCP_RST)) == PKT_TCP_FIN &&
	    !m->payload_len && !tp->aux && m->seq == d->next_seq &&
	    (d->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_FIN | TCP_REASM_F_FLUSH |
			 TCP_REASM_F_EOF_SENT)) == TCP_REASM_F_STARTED &&
	    (!(m->tcp_flags & PKT_TCP_ACK) ||
	     (o->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_EOF_SENT | TCP_REASM_F_FIN)) !=
		     (TCP_REASM_F_STARTED | TCP_REASM_F_FIN))) {
		r->seg_ack = (m->tcp_flags & PKT_TCP_ACK) ? m->ack : tcp_reasm_delivered_end(o);
		tcp_reasm_fin(r, &tp->dir[di], m->seq);
		return TCP_REASM_OK;
	}
	/* The SYN-ACK of a handshake whose SYN came: tcp_reasm_add_any() would
	 * only start d (nothing of it to drop) and note an ACK that, with no
	 * side slot and no peer FIN, writes nothing off; nothing is ready. */
	if ((m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_FIN | PKT_TCP_RST)) ==
		    (PKT_TCP_SYN | PKT_TCP_ACK) &&
	    !m->payload_len && !tp->aux && !d->flags &&
	    (o->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_FIN | TCP_REASM_F_FLUSH)) ==
		    TCP_REASM_F_STARTED) {
		tcp_reasm_syn_start(&tp->dir[di], m->seq);
		r->seg_ack = m->ack;
		return TCP_REASM_NO_DATA;
	}
	st = tcp_reasm_add_any(r, tp, di, m);
	tcp_reasm_side_settle(r, tp);
	return st;
}

/*
 * A bare ACK (nothing but the ACK bit) on a pair with no side slot and no
 * FIN either way, not flushed: tcp_reasm_add_any() would only note its ACK
 * (no peer FIN or buffer for it to write off as lost) and find nothing
 * ready, as nothing can be without a side slot, a FIN or a flush. Tested
 * here, not in tcp_reasm_add(): there it cost a SYN flood's packets 0.5%
 * more (code the inlined fast paths became). A leaf of its own in front of
 * tcp_reasm_add_rest(), so this answer (a quarter of an SMTP flow's
 * packets) saves and restores none of the six registers the rest needs.
 */
__attribute__((noinline)) static enum tcp_reasm_status tcp_reasm_add_slow(struct tcp_reasm *r,
									  struct tcp_reasm_pair *tp,
									  unsigned int di,
									  const struct pkt_meta *m)
{
	if (m->tcp_flags == PKT_TCP_ACK && !m->payload_len && !tp->aux &&
	    !((tp->dir[0].flags | tp->dir[1].flags) & (TCP_REASM_F_FIN | TCP_REASM_F_FLUSH))) {
		r->seg_ack = m->ack;
		return TCP_REASM_NO_DATA;
	}
	return tcp_reasm_add_rest(r, tp, di, m);
}

/*
 * The usual segment: next in line, nothing held, buffered or owed (no side
 * slot), not bypassed, its ACK tells nothing new (the peer bytes it
 * acknowledges are out already, or the peer is not awaited).
 */
static inline bool tcp_reasm_usual(const struct tcp_reasm_pair *tp, const struct tcp_reasm_dir *d,
				   const struct tcp_reasm_dir *o, const struct pkt_meta *m)
{
	return m->payload_len && m->seq == d->next_seq && !tp->aux &&
	       !(m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_FIN | PKT_TCP_RST)) &&
	       (d->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_FIN)) == TCP_REASM_F_STARTED &&
	       (!(m->tcp_flags & PKT_TCP_ACK) ||
		((o->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_EOF_SENT)) == TCP_REASM_F_STARTED
			 ? !seq_lt(o->next_seq, m->ack)
			 : !tcp_reasm_peer_late(d, o)));
}

/*
 * After the usual segment of d, tcp_reasm_next() hands it out whole as one
 * chunk marked last (its fast path): d is not flushed, done or holding, and
 * o has nothing to hand out (without a side slot only its FIN or a flush
 * could give it something).
 */
static inline bool tcp_reasm_passes(const struct tcp_reasm_dir *d, const struct tcp_reasm_dir *o)
{
	return !(d->flags & (TCP_REASM_F_FLUSH | TCP_REASM_F_EOF_SENT | TCP_REASM_F_HOLD)) &&
	       ((o->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_EOF_SENT)) != TCP_REASM_F_STARTED ||
		!(o->flags & (TCP_REASM_F_FIN | TCP_REASM_F_FLUSH)));
}

/*
 * With pass, a usual segment for which tcp_reasm_passes() holds is consumed as
 * that tcp_reasm_next() call would consume it: TCP_REASM_PASSED, and the payload is
 * never put in the view.
 */
static inline enum tcp_reasm_status tcp_reasm_add_in(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
						     enum flow_dir dir, const struct pkt_meta *m,
						     bool pass)
{
	unsigned int di = dir & 1;
	struct tcp_reasm_dir *d = &tp->dir[di];
	const struct tcp_reasm_dir *o = &tp->dir[!di];

	/* An earlier packet's view that was not drained: its frame may be gone. */
	r->view.tp = NULL;
	if (tcp_reasm_usual(tp, d, o, m)) {
		/*
		 * Read once, before the stores: a store to the flags (a byte,
		 * which may alias anything) or to next_seq (a uint32_t, like
		 * payload_len) would make the compiler load them all again.
		 */
		uint32_t len = m->payload_len;
		uint8_t df = d->flags;

		r->st.segments++;
		if (pass && tcp_reasm_passes(d, o)) {
			d->next_seq += len;
			r->st.bytes_in_order += len;
			d->flags = df | TCP_REASM_F_HAS_DATA;
			return TCP_REASM_PASSED;
		}
		d->flags = df | TCP_REASM_F_HAS_DATA;
		r->view = (struct tcp_reasm_view){
			.tp = tp,
			.ptr = m->payload,
			.seq = m->seq,
			.len = m->payload_len,
			.dir = (uint8_t)di,
		};
		return TCP_REASM_OK;
	}
	/* A connection's first SYN (what a SYN flood is made of): the direction
	 * starts, nothing can be ready, so the slow path's checks are skipped. */
	if ((m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_FIN | PKT_TCP_RST)) ==
		    PKT_TCP_SYN &&
	    !m->payload_len && !tp->aux && !(d->flags | o->flags)) {
		tcp_reasm_syn_start(d, m->seq);
		return TCP_REASM_NO_DATA;
	}
	return tcp_reasm_add_slow(r, tp, di, m);
}

enum tcp_reasm_status tcp_reasm_add(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
				    enum flow_dir dir, const struct pkt_meta *m)
{
	return tcp_reasm_add_in(r, tp, dir, m, false);
}

enum tcp_reasm_status tcp_reasm_add_pass(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
					 enum flow_dir dir, const struct pkt_meta *m)
{
	return tcp_reasm_add_in(r, tp, dir, m, true);
}
