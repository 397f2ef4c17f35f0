/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_reasm internals shared by tcp_reasm.c (create, destroy, the pair's end
 * and queries), tcp_reasm_add.c (a segment arriving), tcp_reasm_ooo.c (side
 * slots and the out-of-order buffers) and tcp_reasm_next.c (handing out).
 * Not for other modules; how the parts fit is told at the top of
 * tcp_reasm.c. What two files' per-packet paths both call stays static
 * inline here: tcp_reasm_add() and tcp_reasm_next() run for every packet.
 */
#ifndef RELAYWATCH_DATAPLANE_TCP_REASM_INT_H
#define RELAYWATCH_DATAPLANE_TCP_REASM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/pool.h"
#include "dataplane/tcp_reasm.h"

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

/* ---- side slots and buffers (tcp_reasm_ooo.c) ---- */

bool tcp_reasm_side_take(struct tcp_reasm *r, struct tcp_reasm_pair *tp);
void tcp_reasm_free_dir(struct tcp_reasm *r, struct tcp_reasm_xdir *x);
void tcp_reasm_reap_slow(struct tcp_reasm *r, struct tcp_reasm_pair *tp);
enum tcp_reasm_status tcp_reasm_store(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
				      unsigned int di, uint32_t seq, const uint8_t *p,
				      uint32_t len);

/* ---- handing out (tcp_reasm_next.c) ---- */

uint32_t tcp_reasm_skip(struct tcp_reasm *r, struct tcp_reasm_dir *d, uint32_t gap, uint32_t to);
bool tcp_reasm_dir_ready(const struct tcp_reasm *r, const struct tcp_reasm_pair *tp,
			 unsigned int dir);
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

/* The slot goes back once neither direction buffers, owes a gap or holds. */
static inline void tcp_reasm_side_settle(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
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

static inline void tcp_reasm_reap(struct tcp_reasm *r, struct tcp_reasm_pair *tp)
{
	if (tcp_reasm_side_slot(tp))
		tcp_reasm_reap_slow(r, tp);
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
static inline bool tcp_reasm_must_wait(const struct tcp_reasm_dir *d, const struct tcp_reasm_dir *o,
				       uint32_t need)
{
	return tcp_reasm_peer_late(d, o) ||
	       (tcp_reasm_peer_live(d, o) && seq_lt(tcp_reasm_delivered_end(o), need));
}

/* d's bytes that acknowledge peer bytes up to need, which are not out yet: d waits. */
static inline bool tcp_reasm_held(const struct tcp_reasm_dir *d, const struct tcp_reasm_dir *o,
				  uint32_t need)
{
	return (d->flags & TCP_REASM_F_HOLD) && tcp_reasm_must_wait(d, o, need);
}

static inline bool tcp_reasm_pair_ready(const struct tcp_reasm *r, const struct tcp_reasm_pair *tp)
{
	return tcp_reasm_dir_ready(r, tp, 0) || tcp_reasm_dir_ready(r, tp, 1);
}

#endif
