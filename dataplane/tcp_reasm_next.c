// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm: handing chunks out (tcp_reasm_next). Who holds byte next_seq, a
 * buffer or the packet being added; holds that make a direction wait for
 * its peer; holes given up on as gaps. The module is described at the top
 * of tcp_reasm.c.
 */
#include "dataplane/tcp_reasm_int.h"

/* d gives up on the bytes before to: returns gap plus them, saturated. */
uint32_t tcp_reasm_skip(struct tcp_reasm *r, struct tcp_reasm_dir *d, uint32_t gap, uint32_t to)
{
	uint32_t n = to - d->next_seq;

	d->next_seq = to;
	r->st.gaps++;
	r->st.gap_bytes += n;
	return gap > UINT32_MAX - n ? UINT32_MAX : gap + n;
}

static inline const struct tcp_reasm_view *
tcp_reasm_view_of(const struct tcp_reasm *r, const struct tcp_reasm_pair *tp, unsigned int dir)
{
	return r->view.tp == tp && r->view.dir == dir ? &r->view : NULL;
}

/*
 * Where to skip to when nothing is ready at next_seq and holes are no longer
 * waited for (after flush, or for a segment the caps refused): the nearest
 * byte we hold, or the FIN after flush. Returns TCP_REASM_NO_SKIP or the
 * target sequence number.
 */
#define TCP_REASM_NO_SKIP UINT64_MAX

static uint64_t tcp_reasm_skip_target(const struct tcp_reasm *r, const struct tcp_reasm_dir *d,
				      const struct tcp_reasm_xdir *x,
				      const struct tcp_reasm_view *v)
{
	bool flush = d->flags & TCP_REASM_F_FLUSH;
	bool found = false;
	uint32_t t = 0;

	if (v && !seq_lt(v->seq, d->next_seq) && (flush || v->force)) {
		t = v->seq;
		found = true;
	}
	if (!flush && !found)
		return TCP_REASM_NO_SKIP;
	if (x->ooo_head) {
		uint32_t s = tcp_reasm_seg(r, x->ooo_head)->seq;

		if (!found || seq_lt(s, t))
			t = s;
		found = true;
	}
	if (flush && (d->flags & TCP_REASM_F_FIN) && (!found || seq_lt(d->fin_seq, t))) {
		t = d->fin_seq;
		found = true;
	}
	return found && seq_lt(d->next_seq, t) ? t : TCP_REASM_NO_SKIP;
}

/* ---- handing out ---- */

/* Who holds byte next_seq: a buffer (it came first), else the packet being added. */
static bool tcp_reasm_take(struct tcp_reasm *r, const struct tcp_reasm_dir *d,
			   const struct tcp_reasm_xdir *x, const struct tcp_reasm_view *v,
			   struct tcp_reasm_chunk *out)
{
	const struct tcp_reasm_seg *h = x->ooo_head ? tcp_reasm_seg(r, x->ooo_head) : NULL;
	bool from_packet = false;
	uint32_t off;

	if (h && seq_leq(h->seq, d->next_seq)) {
		off = d->next_seq - h->seq;
		out->ptr = h->data + off;
		out->len = h->len - off;
	} else if (v && seq_leq(v->seq, d->next_seq) && seq_lt(d->next_seq, v->seq + v->len)) {
		off = d->next_seq - v->seq;
		out->ptr = v->ptr + off;
		out->len = v->len - off;
		if (h && seq_lt(h->seq, d->next_seq + out->len))
			out->len = h->seq - d->next_seq;
		from_packet = true;
	} else {
		return false;
	}
	if ((d->flags & TCP_REASM_F_FIN) && seq_lt(d->fin_seq, d->next_seq + out->len))
		out->len = d->fin_seq - d->next_seq;
	if (from_packet)
		r->st.bytes_in_order += out->len;
	return true;
}

/* Nothing can come out of direction di: the common case for one side of every packet. */
static inline bool tcp_reasm_dir_idle(const struct tcp_reasm *r, const struct tcp_reasm_pair *tp,
				      unsigned int di, const struct tcp_reasm_view *v)
{
	const struct tcp_reasm_dir *d = &tp->dir[di];
	const struct tcp_reasm_xdir *x;

	if ((d->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_EOF_SENT)) != TCP_REASM_F_STARTED)
		return true;
	if (v || (d->flags & (TCP_REASM_F_FIN | TCP_REASM_F_FLUSH)))
		return false;
	if (!tcp_reasm_side_slot(tp))
		return true;
	x = tcp_reasm_x(r, tp, di);
	return !x->pending_gap && !x->ooo_head;
}

/*
 * What the peer must have delivered before d's next bytes may go: what the
 * buffer holding them acknowledged, or the packet's own ACK. Held bytes wait
 * segment by segment, not for the newest ACK of all: bytes of both sides
 * crossing each other would otherwise wait for each other until the hold
 * budget gives up and deliver out of order.
 */
static uint32_t tcp_reasm_need(const struct tcp_reasm *r, const struct tcp_reasm_dir *d,
			       const struct tcp_reasm_xdir *x, const struct tcp_reasm_view *v)
{
	const struct tcp_reasm_seg *h = x->ooo_head ? tcp_reasm_seg(r, x->ooo_head) : NULL;

	if (h && seq_leq(h->seq, d->next_seq))
		return h->ack;
	if (v && seq_leq(v->seq, d->next_seq) && seq_lt(d->next_seq, v->seq + v->len))
		return r->seg_ack;
	return x->hold_ack;
}

bool tcp_reasm_dir_ready(const struct tcp_reasm *r, const struct tcp_reasm_pair *tp,
			 unsigned int dir)
{
	const struct tcp_reasm_dir *d = &tp->dir[dir];
	const struct tcp_reasm_xdir *x = tcp_reasm_x(r, tp, dir);
	const struct tcp_reasm_view *v = tcp_reasm_view_of(r, tp, dir);

	if (tcp_reasm_dir_idle(r, tp, dir, v) ||
	    tcp_reasm_held(d, &tp->dir[!dir], tcp_reasm_need(r, d, x, v)))
		return false;
	if (x->pending_gap || tcp_reasm_fin_reached(d))
		return true;
	if (x->ooo_head && seq_leq(tcp_reasm_seg(r, x->ooo_head)->seq, d->next_seq))
		return true;
	if (v && seq_leq(v->seq, d->next_seq) && seq_lt(d->next_seq, v->seq + v->len))
		return true;
	return tcp_reasm_skip_target(r, d, x, v) != TCP_REASM_NO_SKIP;
}

static bool tcp_reasm_dir_next(struct tcp_reasm *r, struct tcp_reasm_pair *tp, unsigned int dir,
			       struct tcp_reasm_chunk *out)
{
	struct tcp_reasm_dir *d = &tp->dir[dir];
	struct tcp_reasm_xdir *x = tcp_reasm_x(r, tp, dir);
	const struct tcp_reasm_view *v = tcp_reasm_view_of(r, tp, dir);
	uint32_t gap = x->pending_gap;
	uint64_t to;

	*out = (struct tcp_reasm_chunk){.dir = (uint8_t)dir};
	if (d->flags & TCP_REASM_F_HOLD) {
		if (tcp_reasm_held(d, &tp->dir[!dir], tcp_reasm_need(r, d, x, v)))
			return false;
		if (!tcp_reasm_held(d, &tp->dir[!dir], x->hold_ack))
			d->flags &= (uint8_t)~TCP_REASM_F_HOLD; /* the peer caught up */
	}
	if (!tcp_reasm_fin_reached(d) && !tcp_reasm_take(r, d, x, v, out)) {
		to = tcp_reasm_skip_target(r, d, x, v);
		if (to != TCP_REASM_NO_SKIP) {
			/* Handed out below: owed only this call, so no side slot is needed. */
			gap = tcp_reasm_skip(r, d, gap, (uint32_t)to);
			if (!tcp_reasm_fin_reached(d))
				tcp_reasm_take(r, d, x, v, out);
		} else if (!gap) {
			return false;
		}
	}
	d->next_seq += out->len;
	out->gap = gap;
	if (x->pending_gap)
		x->pending_gap = 0; /* never a write to slot 0 */
	if (tcp_reasm_fin_reached(d)) {
		out->fin = true;
		d->flags |= TCP_REASM_F_EOF_SENT;
	}
	return true;
}

/* The usual packet: its payload is next in its direction and nothing else is pending. */
static inline bool tcp_reasm_next_fast(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
				       struct tcp_reasm_chunk *out)
{
	const struct tcp_reasm_view *v = &r->view;
	struct tcp_reasm_dir *d = &tp->dir[v->dir];
	const struct tcp_reasm_xdir *x = tcp_reasm_x(r, tp, v->dir);

	if (v->seq != d->next_seq || (tcp_reasm_side_slot(tp) && (x->ooo_head || x->pending_gap)) ||
	    (d->flags &
	     (TCP_REASM_F_FIN | TCP_REASM_F_FLUSH | TCP_REASM_F_EOF_SENT | TCP_REASM_F_HOLD)) ||
	    !tcp_reasm_dir_idle(r, tp, !v->dir, NULL))
		return false;
	*out = (struct tcp_reasm_chunk){.ptr = v->ptr, .len = v->len, .dir = v->dir};
	d->next_seq += v->len;
	r->st.bytes_in_order += v->len;
	r->view.tp = NULL;
	return true;
}

static bool tcp_reasm_next_any(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
			       struct tcp_reasm_chunk *out)
{
	unsigned int first = 0;

	tcp_reasm_reap(r, tp);
	if (tp->aux & TCP_REASM_AUX_BYPASS)
		return false;
	if (r->view.tp == tp) {
		if (tcp_reasm_next_fast(r, tp, out))
			return true;
		/* The peer's gap or data was acknowledged by this packet, so it came first. */
		first = !r->view.dir;
	}
	for (unsigned int i = 0; i < 2; i++) {
		unsigned int dir = first ^ i;

		if (!tcp_reasm_dir_idle(r, tp, dir, tcp_reasm_view_of(r, tp, dir)) &&
		    tcp_reasm_dir_next(r, tp, dir, out))
			return true;
	}
	/*
	 * Drained: the packet is done with. Its bytes still in the view (held for
	 * the peer, not kept by the caps: counted) must not be read by a later
	 * flush, when its frame may be back in the NIC's ring.
	 */
	if (r->view.tp == tp)
		r->view.tp = NULL;
	return false;
}

/* Out of line: the fast paths in add() and next() then stay register-only. */
__attribute__((noinline)) static bool
tcp_reasm_next_slow(struct tcp_reasm *r, struct tcp_reasm_pair *tp, struct tcp_reasm_chunk *out)
{
	bool got = tcp_reasm_next_any(r, tp, out);

	tcp_reasm_side_settle(r, tp);
	return got;
}

bool tcp_reasm_next(struct tcp_reasm *r, struct tcp_reasm_pair *tp, struct tcp_reasm_chunk *out)
{
	/* Kept small so the per-packet calls spill no registers. No side slot
	 * and no bypass: nothing is buffered, held or owed. */
	if (!tp->aux) {
		if (r->view.tp == tp) {
			/* The fast path left both directions idle and the view spent. */
			if (tcp_reasm_next_fast(r, tp, out)) {
				out->last = true;
				return true;
			}
			return tcp_reasm_next_slow(r, tp, out);
		}
		bool idle0 = tcp_reasm_dir_idle(r, tp, 0, NULL);
		bool idle1 = tcp_reasm_dir_idle(r, tp, 1, NULL);
		struct tcp_reasm_dir *d = &tp->dir[idle0];

		if (idle0 && idle1)
			return false;
		/* One direction's FIN is reached (a FIN in line, the usual end):
		 * without a side slot nothing else of it is owed, and the other
		 * direction stays idle, so the end is the last chunk. */
		if (idle0 != idle1 && tcp_reasm_fin_reached(d)) {
			*out = (struct tcp_reasm_chunk){
				.dir = (uint8_t)idle0, .fin = true, .last = true};
			d->flags |= TCP_REASM_F_EOF_SENT;
			return true;
		}
	}
	return tcp_reasm_next_slow(r, tp, out);
}
