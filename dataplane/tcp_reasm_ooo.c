// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm: side slots (what a direction keeps only while it buffers,
 * holds or owes a gap) and the out-of-order buffers, copied into pool
 * segments in a per-direction list sorted by sequence number, the first
 * copy winning. The module is described at the top of tcp_reasm.c.
 */
#include "dataplane/tcp_reasm_int.h"

#include <string.h>

/* ---- side slots ---- */

/* Gives tp a side slot if it has none; false when the pool is empty (counted). */
bool tcp_reasm_side_take(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
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

/* ---- buffer lists ---- */

static void tcp_reasm_free_head(struct tcp_reasm *r, struct tcp_reasm_xdir *x)
{
	struct tcp_reasm_seg *s = tcp_reasm_seg(r, x->ooo_head);

	x->ooo_head = s->next;
	x->ooo_bytes -= s->len;
	r->st.buffered_now -= s->len;
	r->st.segs_in_use--;
	pool_put(&r->pool, s);
}

void tcp_reasm_free_dir(struct tcp_reasm *r, struct tcp_reasm_xdir *x)
{
	for (uint32_t n = 0; x->ooo_head && n < r->pool.n; n++)
		tcp_reasm_free_head(r, x);
}

/* Buffers handed out by the previous call on this pair may go now. */
void tcp_reasm_reap_slow(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
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

enum tcp_reasm_status tcp_reasm_store(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
				      unsigned int di, uint32_t seq, const uint8_t *p, uint32_t len)
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
