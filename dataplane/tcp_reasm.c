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
 *
 * The parts: this file (create, destroy, the end of a pair, queries),
 * tcp_reasm_add.c (a segment arriving: the in-order fast path, SYN, ACK,
 * FIN, holds), tcp_reasm_ooo.c (side slots and the out-of-order buffers),
 * tcp_reasm_next.c (handing chunks out, gaps); tcp_reasm_int.h is what they
 * share.
 */
#include "dataplane/tcp_reasm.h"

#include <errno.h>
#include <stdlib.h>

#include "common/pool.h"
#include "dataplane/tcp_reasm_int.h"

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
