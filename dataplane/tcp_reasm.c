// SPDX-License-Identifier: BSD-3-Clause
/*
 * The payload of the segment being added is kept as a "view" (pointer into
 * the packet) in struct tcp_reasm until next() has handed it out, so in-order
 * data is never copied. Only a segment that lands beyond a hole is copied,
 * into pool buffers kept per direction in a list sorted by sequence number,
 * non-overlapping (the first copy wins). next() asks "who holds byte
 * next_seq?": a buffer first (it came first), else the view.
 *
 * A delivered buffer stays on its list until the next call on its pair
 * (chunk pointers must stay valid until then): every entry point first reaps
 * buffers that lie wholly before next_seq.
 *
 * Holes are given up on (a gap) when the caps stop a segment from being kept
 * (the segment is then delivered from the packet after skipping what is
 * missing before it), when the peer acknowledges bytes never seen, and after
 * flush. Sequence numbers compare by signed 32-bit difference (wraparound).
 *
 * What a direction needs only out of order, while holding or while it owes
 * a gap lives in a side slot (struct tcp_reasm_side), taken from its own
 * pool when a direction of the pair first needs one and put back once both
 * directions have drained (tcp_reasm_side_settle at the end of every entry
 * point that may drain one). Slot 0 is never handed out and stays all
 * zeroes, so a pair without a slot reads "nothing buffered, no gap" through
 * the same pointer; nothing ever writes to it. F_HOLD is only ever set on a
 * pair that has a slot (hold_ack is there).
 *
 * The pool is MADV_DONTDUMP memory (pool_init_nodump): copied segments may
 * carry SMTP AUTH credentials, and a core dump must not.
 */
#include "dataplane/tcp_reasm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/pool.h"

/* Private flag bits: after flush, holes are not waited for any more; while
 * HOLD, delivery waits for the peer's stream to reach hold_ack. */
#define TCP_REASM_F_FLUSH 0x40
#define TCP_REASM_F_HOLD  0x80
_Static_assert(((TCP_REASM_F_FLUSH | TCP_REASM_F_HOLD) &
		(TCP_REASM_F_STARTED | TCP_REASM_F_SYN | TCP_REASM_F_FIN | TCP_REASM_F_RST |
		 TCP_REASM_F_EOF_SENT | TCP_REASM_F_HAS_DATA)) == 0,
	       "private flag collides with a public one");

/* xflags: d stopped waiting for a peer whose SYN-ACK never came (tcp_reasm_peer_late). */
#define TCP_REASM_X_NO_LATE 0x01

/* Bytes a direction may hold back waiting for the other: taps reorder the two
 * directions by a few packets; a longer wait means the peer's bytes were lost. */
#define TCP_REASM_HOLD_MAX (16u << 10)

/* struct tcp_reasm_pair's aux word. */
#define TCP_REASM_AUX_BYPASS 0x80000000u
#define TCP_REASM_AUX_SIDE   0x7fffffffu /* side slot, 0: none */

#define TCP_REASM_MIN_SEG_BYTES 64
#define TCP_REASM_MAX_SEG_BYTES (1u << 20)

struct tcp_reasm_seg {
	uint32_t seq;
	uint32_t len;
	uint32_t next; /* pool index + 1, 0: end */
	uint32_t ack;  /* the peer's stream must reach this before these bytes go out */
	uint8_t data[];
};

/* What a direction keeps only while it buffers, holds or owes a gap. */
struct tcp_reasm_xdir {
	uint32_t ooo_head;    /* first buffered segment, pool index + 1 (0: none) */
	uint32_t ooo_bytes;   /* bytes buffered in this direction */
	uint32_t pending_gap; /* gap to report with the next chunk */
	uint32_t hold_ack;    /* while F_HOLD: until the peer's delivered stream reaches it */
};

struct tcp_reasm_side {
	struct tcp_reasm_xdir dir[2];
};
_Static_assert(sizeof(struct tcp_reasm_side) == 32, "a side slot is half a cache line");
_Static_assert(sizeof(struct tcp_reasm_dir) == 10 && sizeof(struct tcp_reasm_pair) == 24,
	       "the pair is in every flow entry: only what the in-order path reads");

/* The payload of the segment being added, still in the packet. */
struct tcp_reasm_view {
	const struct tcp_reasm_pair *tp; /* NULL: none */
	const uint8_t *ptr;
	uint32_t seq;
	uint32_t len;
	uint8_t dir;
	bool force; /* the caps refused it: skip holes until it is delivered */
};

struct tcp_reasm {
	struct pool pool;
	struct pool sides; /* struct tcp_reasm_side; slot 0 stays all zeroes */
	uint32_t seg_bytes;
	uint32_t flow_bytes;
	uint32_t dir_segs_max; /* buffers per direction: tiny segments must not drain the pool */
	uint32_t seg_ack;      /* what the segment being added acknowledges (see buffers' ack) */
	struct tcp_reasm_view view;
	struct tcp_reasm_stats st;
};

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}

void tcp_reasm_cfg_default(struct tcp_reasm_cfg *cfg)
{
	cfg->flow_bytes = 64u << 10;
	cfg->total_bytes = 64ull << 20;
	cfg->seg_bytes = 2048;
}

int tcp_reasm_create(const struct tcp_reasm_cfg *cfg, struct tcp_reasm **out)
{
	struct tcp_reasm *r;
	uint64_t n, sides;
	int err;

	if (!cfg || cfg->seg_bytes < TCP_REASM_MIN_SEG_BYTES ||
	    cfg->seg_bytes > TCP_REASM_MAX_SEG_BYTES || cfg->flow_bytes == 0)
		return -EINVAL;
	n = cfg->total_bytes / cfg->seg_bytes;
	if (n == 0 || n >= TCP_REASM_AUX_SIDE)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	/* Copied stream bytes (AUTH lines among them) stay out of core dumps. */
	err = pool_init_nodump(&r->pool, (uint32_t)n,
			       sizeof(struct tcp_reasm_seg) + cfg->seg_bytes);
	if (err) {
		free(r);
		return err;
	}
	/*
	 * A direction that buffers holds a segment, so by default as many side
	 * slots as segments; holds and gaps without a buffer are short-lived.
	 * Slot 0, the first one out, is the all-zero slot of pairs without one.
	 */
	sides = cfg->side_slots && cfg->side_slots < n ? cfg->side_slots : n;
	err = pool_init(&r->sides, (uint32_t)sides + 1, sizeof(struct tcp_reasm_side));
	if (!err && pool_index(&r->sides, pool_get(&r->sides)) != 0)
		err = -EINVAL;
	if (err) {
		tcp_reasm_destroy(r);
		return err;
	}
	r->seg_bytes = cfg->seg_bytes;
	r->flow_bytes = cfg->flow_bytes;
	/* Twice what full buffers would need: room for holes, not for 1-byte segments. */
	r->dir_segs_max =
		(uint32_t)(((uint64_t)cfg->flow_bytes + cfg->seg_bytes - 1) / cfg->seg_bytes * 2);
	*out = r;
	return 0;
}

void tcp_reasm_destroy(struct tcp_reasm *r)
{
	if (!r)
		return;
	pool_fini(&r->pool);
	pool_fini(&r->sides);
	free(r);
}

/* ---- side slots ---- */

static inline uint32_t tcp_reasm_side_slot(const struct tcp_reasm_pair *tp)
{
	return tp->aux & TCP_REASM_AUX_SIDE;
}

/* A direction's side state: slot 0's zeroes when the pair has no slot (read only, then). */
static inline struct tcp_reasm_xdir *tcp_reasm_x(const struct tcp_reasm *r,
						 const struct tcp_reasm_pair *tp, unsigned int dir)
{
	struct tcp_reasm_side *s = pool_at(&r->sides, tcp_reasm_side_slot(tp));

	return &s->dir[dir];
}

/* Gives tp a side slot if it has none; false when the pool is empty (counted). */
static bool tcp_reasm_side_take(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
{
	struct tcp_reasm_side *s;

	if (tcp_reasm_side_slot(tp))
		return true;
	s = pool_get(&r->sides);
	if (!s) {
		r->st.side_cap_hits++;
		return false;
	}
	memset(s, 0, sizeof(*s));
	tp->aux |= pool_index(&r->sides, s);
	r->st.sides_in_use++;
	return true;
}

/* The slot goes back once neither direction buffers, owes a gap or holds. */
static void tcp_reasm_side_settle(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
{
	const struct tcp_reasm_xdir *a, *b;

	if (!tcp_reasm_side_slot(tp))
		return;
	a = tcp_reasm_x(r, tp, 0);
	b = tcp_reasm_x(r, tp, 1);
	if ((a->ooo_head | b->ooo_head | a->pending_gap | b->pending_gap) ||
	    ((tp->dir[0].flags | tp->dir[1].flags) & TCP_REASM_F_HOLD))
		return;
	pool_put(&r->sides, pool_at(&r->sides, tcp_reasm_side_slot(tp)));
	tp->aux &= ~TCP_REASM_AUX_SIDE;
	r->st.sides_in_use--;
}

/* ---- buffer lists ---- */

static inline struct tcp_reasm_seg *tcp_reasm_seg(const struct tcp_reasm *r, uint32_t idx)
{
	return pool_at(&r->pool, idx - 1);
}

static inline uint32_t tcp_reasm_seg_end(const struct tcp_reasm_seg *s)
{
	return s->seq + s->len;
}

static void tcp_reasm_free_head(struct tcp_reasm *r, struct tcp_reasm_xdir *x)
{
	struct tcp_reasm_seg *s = tcp_reasm_seg(r, x->ooo_head);

	x->ooo_head = s->next;
	x->ooo_bytes -= s->len;
	r->st.buffered_now -= s->len;
	r->st.segs_in_use--;
	pool_put(&r->pool, s);
}

static void tcp_reasm_free_dir(struct tcp_reasm *r, struct tcp_reasm_xdir *x)
{
	for (uint32_t n = 0; x->ooo_head && n < r->pool.n; n++)
		tcp_reasm_free_head(r, x);
}

/* Buffers handed out by the previous call on this pair may go now. */
static void tcp_reasm_reap_slow(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
{
	for (unsigned int i = 0; i < 2; i++) {
		const struct tcp_reasm_dir *d = &tp->dir[i];
		struct tcp_reasm_xdir *x = tcp_reasm_x(r, tp, i);

		if (!x->ooo_head)
			continue;
		if (d->flags & TCP_REASM_F_EOF_SENT) {
			tcp_reasm_free_dir(r, x);
			continue;
		}
		for (uint32_t n = 0; x->ooo_head && n < r->pool.n; n++) {
			if (!seq_leq(tcp_reasm_seg_end(tcp_reasm_seg(r, x->ooo_head)), d->next_seq))
				break;
			tcp_reasm_free_head(r, x);
		}
	}
}

static inline void tcp_reasm_reap(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
{
	if (tcp_reasm_side_slot(tp))
		tcp_reasm_reap_slow(r, tp);
}

static uint32_t tcp_reasm_dir_segs(const struct tcp_reasm *r, const struct tcp_reasm_xdir *x)
{
	uint32_t n = 0;

	for (uint32_t i = x->ooo_head; i && n < r->pool.n; i = tcp_reasm_seg(r, i)->next)
		n++;
	return n;
}

struct tcp_reasm_plan {
	uint64_t bytes; /* new bytes, not buffered yet */
	uint32_t segs;	/* buffers they need */
};

/* Copies [pos, pos + n) of the segment at p (which starts at seq) after buffer *left. */
static void tcp_reasm_fill(struct tcp_reasm *r, struct tcp_reasm_xdir *x, uint32_t *left,
			   uint32_t pos, uint32_t n, const uint8_t *src,
			   struct tcp_reasm_plan *plan, bool commit)
{
	struct tcp_reasm_seg *l = *left ? tcp_reasm_seg(r, *left) : NULL;

	plan->bytes += n;
	/*
	 * Pack into the tail of the buffer just before: runs of small segments
	 * share buffers. Not when these bytes acknowledge more of the peer: they
	 * may have to wait longer than the buffer's (EHLO and MAIL both held
	 * before the greeting: EHLO waits for the greeting, MAIL for the EHLO
	 * reply, which itself waits for EHLO).
	 */
	if (l && tcp_reasm_seg_end(l) == pos && l->len < r->seg_bytes &&
	    !seq_lt(l->ack, r->seg_ack)) {
		uint32_t k = r->seg_bytes - l->len < n ? r->seg_bytes - l->len : n;

		if (commit) {
			memcpy(l->data + l->len, src, k);
			l->len += k;
		}
		src += k;
		pos += k;
		n -= k;
	}
	while (n) {
		uint32_t k = n < r->seg_bytes ? n : r->seg_bytes;
		struct tcp_reasm_seg *s;
		uint32_t *link;

		plan->segs++;
		if (commit) {
			s = pool_get(&r->pool); /* the plan checked there are enough */
			s->seq = pos;
			s->len = k;
			s->ack = r->seg_ack;
			memcpy(s->data, src, k);
			link = *left ? &tcp_reasm_seg(r, *left)->next : &x->ooo_head;
			s->next = *link;
			*link = pool_index(&r->pool, s) + 1;
			*left = *link;
		}
		src += k;
		pos += k;
		n -= k;
	}
}

/*
 * Walks the holes that [seq, seq + len) fills between buffered segments:
 * plans (commit false) or copies (commit true). Bytes already buffered are
 * not copied again: the first copy wins.
 */
static void tcp_reasm_walk(struct tcp_reasm *r, struct tcp_reasm_xdir *x, uint32_t seq,
			   const uint8_t *p, uint32_t len, struct tcp_reasm_plan *plan, bool commit)
{
	uint32_t end = seq + len, pos = seq, left = 0, c = x->ooo_head;
	uint32_t guard = r->pool.n;

	while (c && guard-- && seq_leq(tcp_reasm_seg_end(tcp_reasm_seg(r, c)), seq)) {
		left = c;
		c = tcp_reasm_seg(r, c)->next;
	}
	while (seq_lt(pos, end) && guard--) {
		const struct tcp_reasm_seg *cs = c ? tcp_reasm_seg(r, c) : NULL;
		uint32_t hole_end = cs && seq_lt(cs->seq, end) ? cs->seq : end;

		if (seq_lt(pos, hole_end))
			tcp_reasm_fill(r, x, &left, pos, hole_end - pos, p + (pos - seq), plan,
				       commit);
		if (!cs || !seq_lt(cs->seq, end))
			break;
		if (seq_lt(pos, tcp_reasm_seg_end(cs)))
			pos = tcp_reasm_seg_end(cs);
		left = c;
		c = cs->next;
	}
}

/* ---- per-direction state ---- */

static inline bool tcp_reasm_fin_reached(const struct tcp_reasm_dir *d)
{
	return (d->flags & TCP_REASM_F_FIN) && seq_leq(d->fin_seq, d->next_seq);
}

/* Where the peer's delivered stream ends, its FIN's sequence number included. */
static inline uint32_t tcp_reasm_delivered_end(const struct tcp_reasm_dir *o)
{
	return o->next_seq + (tcp_reasm_fin_reached(o) ? 1u : 0u);
}

/* The peer can still deliver: started, not ended, not reset, not flushed. */
static inline bool tcp_reasm_peer_live(const struct tcp_reasm_dir *d, const struct tcp_reasm_dir *o)
{
	return (o->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_EOF_SENT | TCP_REASM_F_RST)) ==
		       TCP_REASM_F_STARTED &&
	       !((d->flags | o->flags) & TCP_REASM_F_FLUSH);
}

/*
 * d began with its SYN and acknowledges, but nothing of the peer has come:
 * its SYN-ACK and greeting are behind, on another queue (two-queue AF_XDP
 * runs: the client's EHLO and MAIL before the SYN-ACK, the banner lost to
 * the parser). d waits for the peer to start, until its own FIN (a tap that
 * shows one direction only must not hold a session to its idle expiry), the
 * hold budget or the caps.
 */
static inline bool tcp_reasm_peer_late(const struct tcp_reasm_dir *d, const struct tcp_reasm_dir *o)
{
	return !(o->flags & TCP_REASM_F_STARTED) &&
	       (d->flags & (TCP_REASM_F_SYN | TCP_REASM_F_FIN | TCP_REASM_F_RST |
			    TCP_REASM_F_FLUSH)) == TCP_REASM_F_SYN &&
	       !(d->xflags & TCP_REASM_X_NO_LATE);
}

/* Bytes of d acknowledging peer bytes up to need must wait: the peer is late or behind. */
static bool tcp_reasm_must_wait(const struct tcp_reasm_dir *d, const struct tcp_reasm_dir *o,
				uint32_t need)
{
	return tcp_reasm_peer_late(d, o) ||
	       (tcp_reasm_peer_live(d, o) && seq_lt(tcp_reasm_delivered_end(o), need));
}

/* d's bytes that acknowledge peer bytes up to need, which are not out yet: d waits. */
static bool tcp_reasm_held(const struct tcp_reasm_dir *d, const struct tcp_reasm_dir *o,
			   uint32_t need)
{
	return (d->flags & TCP_REASM_F_HOLD) && tcp_reasm_must_wait(d, o, need);
}

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

/* d gives up on the bytes before to: returns gap plus them, saturated. */
static uint32_t tcp_reasm_skip(struct tcp_reasm *r, struct tcp_reasm_dir *d, uint32_t gap,
			       uint32_t to)
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

static enum tcp_reasm_status tcp_reasm_store(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
					     unsigned int di, uint32_t seq, const uint8_t *p,
					     uint32_t len)
{
	struct tcp_reasm_xdir *x = tcp_reasm_x(r, tp, di);
	struct tcp_reasm_plan plan = {0};

	r->st.ooo_segments++;
	tcp_reasm_walk(r, x, seq, p, len, &plan, false);
	if (plan.bytes < len)
		r->st.overlaps++;
	if (plan.bytes == 0) {
		r->view.tp = NULL; /* all of it is buffered already */
		return TCP_REASM_NO_DATA;
	}
	if (x->ooo_bytes + plan.bytes > r->flow_bytes ||
	    tcp_reasm_dir_segs(r, x) + plan.segs > r->dir_segs_max) {
		r->st.flow_cap_hits++;
	} else if (plan.segs > r->pool.n_free || !tcp_reasm_side_take(r, tp)) {
		r->st.total_cap_hits++; /* no segments, or no side slot to list them in */
	} else {
		struct tcp_reasm_plan done = {0};

		x = tcp_reasm_x(r, tp, di);
		tcp_reasm_walk(r, x, seq, p, len, &done, true);
		x->ooo_bytes += (uint32_t)done.bytes;
		r->st.buffered_now += done.bytes;
		r->st.bytes_buffered += done.bytes;
		r->st.segs_in_use += done.segs;
		r->view.tp = NULL;
		return TCP_REASM_BUFFERED;
	}
	/* Not kept: stop waiting for what is missing before it and deliver it from the packet. */
	r->view.force = true;
	return TCP_REASM_CAPPED;
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

static bool tcp_reasm_dir_ready(const struct tcp_reasm *r, const struct tcp_reasm_pair *tp,
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

static bool tcp_reasm_pair_ready(const struct tcp_reasm *r, const struct tcp_reasm_pair *tp)
{
	return tcp_reasm_dir_ready(r, tp, 0) || tcp_reasm_dir_ready(r, tp, 1);
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
		if (r->view.tp == tp)
			return tcp_reasm_next_fast(r, tp, out) || tcp_reasm_next_slow(r, tp, out);
		if (tcp_reasm_dir_idle(r, tp, 0, NULL) && tcp_reasm_dir_idle(r, tp, 1, NULL))
			return false;
	}
	return tcp_reasm_next_slow(r, tp, out);
}

/* ---- the pair ---- */

/*
 * Buffers, gaps owed and holds of both directions are dropped and the side
 * slot goes back; from now on the pair is only followed (bypassed pairs
 * never read a hold, so clearing F_HOLD changes nothing they do).
 */
static void tcp_reasm_stop(struct tcp_reasm *r, struct tcp_reasm_pair *tp, bool count_bypassed)
{
	for (unsigned int i = 0; i < 2; i++) {
		if (tcp_reasm_side_slot(tp)) {
			struct tcp_reasm_xdir *x = tcp_reasm_x(r, tp, i);

			if (count_bypassed)
				r->st.bypassed_bytes += x->ooo_bytes;
			tcp_reasm_free_dir(r, x);
			x->pending_gap = 0;
		}
		tp->dir[i].flags &= (uint8_t)~TCP_REASM_F_HOLD;
	}
	tcp_reasm_side_settle(r, tp);
	tp->aux |= TCP_REASM_AUX_BYPASS;
	if (r->view.tp == tp)
		r->view.tp = NULL;
}

void tcp_reasm_pair_fini(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
{
	/* finished: whatever still arrives is only followed, never kept */
	tcp_reasm_stop(r, tp, false);
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

/* Out of line, like next_slow. */
__attribute__((noinline)) static enum tcp_reasm_status tcp_reasm_add_slow(struct tcp_reasm *r,
									  struct tcp_reasm_pair *tp,
									  unsigned int di,
									  const struct pkt_meta *m)
{
	enum tcp_reasm_status st = tcp_reasm_add_any(r, tp, di, m);

	tcp_reasm_side_settle(r, tp);
	return st;
}

enum tcp_reasm_status tcp_reasm_add(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
				    enum flow_dir dir, const struct pkt_meta *m)
{
	unsigned int di = dir & 1;
	struct tcp_reasm_dir *d = &tp->dir[di];
	const struct tcp_reasm_dir *o = &tp->dir[!di];

	/* An earlier packet's view that was not drained: its frame may be gone. */
	r->view.tp = NULL;
	/* The usual segment: next in line, nothing held, buffered or owed
	 * (no side slot), not bypassed, its ACK tells nothing new (the peer
	 * bytes it acknowledges are out already, or the peer is not awaited). */
	if (m->payload_len && m->seq == d->next_seq && !tp->aux &&
	    !(m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_FIN | PKT_TCP_RST)) &&
	    (d->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_FIN)) == TCP_REASM_F_STARTED &&
	    (!(m->tcp_flags & PKT_TCP_ACK) ||
	     ((o->flags & (TCP_REASM_F_STARTED | TCP_REASM_F_EOF_SENT)) == TCP_REASM_F_STARTED
		      ? !seq_lt(o->next_seq, m->ack)
		      : !tcp_reasm_peer_late(d, o)))) {
		r->st.segments++;
		d->flags |= TCP_REASM_F_HAS_DATA;
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

void tcp_reasm_flush(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
{
	tcp_reasm_reap(r, tp);
	for (unsigned int i = 0; i < 2; i++)
		if (tp->dir[i].flags & TCP_REASM_F_STARTED)
			tp->dir[i].flags |= TCP_REASM_F_FLUSH;
	tcp_reasm_side_settle(r, tp);
}

void tcp_reasm_bypass(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
{
	tcp_reasm_stop(r, tp, true);
	for (unsigned int i = 0; i < 2; i++)
		if (tp->dir[i].flags & TCP_REASM_F_FIN)
			tp->dir[i].flags |= TCP_REASM_F_EOF_SENT;
}

bool tcp_reasm_is_bypassed(const struct tcp_reasm_pair *tp)
{
	return tp->aux & TCP_REASM_AUX_BYPASS;
}

uint32_t tcp_reasm_buffered(const struct tcp_reasm *r, const struct tcp_reasm_pair *tp,
			    enum flow_dir dir)
{
	return tcp_reasm_x(r, tp, dir & 1)->ooo_bytes;
}

bool tcp_reasm_is_closed(const struct tcp_reasm_pair *tp)
{
	uint8_t a = tp->dir[0].flags, b = tp->dir[1].flags;
	bool a_done = a & TCP_REASM_F_EOF_SENT, b_done = b & TCP_REASM_F_EOF_SENT;

	if ((a | b) & TCP_REASM_F_RST)
		return true;
	/* A direction the capture never showed does not hold the other one open. */
	return (a_done || !(a & TCP_REASM_F_STARTED)) && (b_done || !(b & TCP_REASM_F_STARTED)) &&
	       (a_done || b_done);
}

const struct tcp_reasm_stats *tcp_reasm_stats(const struct tcp_reasm *r)
{
	return &r->st;
}

size_t tcp_reasm_mem_bytes(const struct tcp_reasm *r)
{
	return sizeof(*r) + pool_bytes(&r->pool) + pool_bytes(&r->sides);
}
