/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_reasm: per-direction TCP stream reassembly for one worker.
 *
 * In-order payload is handed out as a view into the packet (no copy). A
 * segment that arrives ahead of a hole is copied into fixed-size buffer
 * segments taken from a pool made at create time, within a per-flow and a
 * per-worker byte cap. Retransmissions are dropped, overlaps trimmed (the
 * first copy wins). Holes become gaps reported to the consumer when the cap
 * is hit, when the peer acknowledges data we never saw (capture loss), or at
 * flush (flow end). Streams picked up mid-connection start at the first
 * segment seen. Bytes that acknowledge peer bytes not delivered yet (the two
 * directions came through different queues or tap ports and crossed) are
 * held back until those peer bytes are out, so a reply never reaches the
 * parser before the command it answers.
 *
 * The state a direction needs only while it buffers, holds or owes a gap
 * (the "side": buffer list, bytes held, pending gap, hold ACK) lives in a
 * bounded pool of side slots made at create time, one per pair that needs
 * it, returned when both directions have drained: the pair embedded in every
 * flow entry keeps only what the in-order path reads. An empty side pool
 * acts as the worker cap does (a counted cap hit, a hold given up).
 *
 * Use: tcp_reasm_add() for each segment, then tcp_reasm_next() until false;
 * chunk pointers are valid until the next add/next/flush call on that pair.
 * Reassembly never calls up: the worker pulls and hands bytes to L7.
 *
 * Owns: the segment pool and its bytes. One instance per worker thread.
 */
#ifndef RELAYWATCH_DATAPLANE_TCP_REASM_H
#define RELAYWATCH_DATAPLANE_TCP_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/pkt.h"

struct tcp_reasm_cfg {
	uint32_t flow_bytes;  /* out-of-order bytes buffered per direction (default 64 KiB) */
	uint64_t total_bytes; /* out-of-order bytes buffered per worker (default 64 MiB) */
	uint32_t seg_bytes;   /* size of one buffer segment (default 2048) */
	uint32_t side_slots;  /* pairs buffering or holding at once (0: one per segment) */
};

/* All uint64_t: published with stats.h. */
struct tcp_reasm_stats {
	uint64_t segments;	 /* segments with payload */
	uint64_t bytes_in_order; /* delivered straight from the packet */
	uint64_t bytes_buffered; /* copied because they arrived early */
	uint64_t ooo_segments;
	uint64_t retransmits; /* entirely already delivered */
	uint64_t overlaps;    /* partly already delivered or buffered */
	uint64_t gaps;
	uint64_t gap_bytes;
	uint64_t flow_cap_hits;	 /* per-direction cap forced a gap */
	uint64_t total_cap_hits; /* worker cap forced a gap */
	uint64_t midstream;	 /* directions started without a SYN */
	uint64_t bypassed_bytes; /* payload skipped for bypassed pairs */
	uint64_t buffered_now;	 /* gauge: bytes held now */
	uint64_t segs_in_use;	 /* gauge: buffer segments held now */
	uint64_t held_segments;	 /* in-order bytes held back for the peer's to go first */
	uint64_t holds_given_up; /* the peer's bytes never came within the hold budget */
	uint64_t side_cap_hits;	 /* no side slot free: buffering or holding refused */
	uint64_t sides_in_use;	 /* gauge: side slots held now */
};

enum tcp_reasm_status {
	TCP_REASM_OK = 0,	/* data (or a state change) is ready: call next() */
	TCP_REASM_NO_DATA = 1,	/* nothing new (pure ACK, retransmission, bypassed) */
	TCP_REASM_BUFFERED = 2, /* early segment kept for later */
	TCP_REASM_CAPPED = 3,	/* early segment could not be kept (counted) */
	TCP_REASM_PASSED = 4,	/* tcp_reasm_add_pass(): consumed, m's payload is next */
};

/*
 * Per-direction state, embedded in struct flow: what the in-order path reads.
 * Packed to 10 bytes (no tail padding: it is in every flow entry); x86 and
 * arm64 read the unaligned next_seq of dir[1] with plain loads.
 */
struct __attribute__((packed, aligned(2))) tcp_reasm_dir {
	uint32_t next_seq; /* next byte owed to the consumer */
	uint32_t fin_seq;  /* sequence number of the FIN, when F_FIN */
	uint8_t flags;	   /* TCP_REASM_F_* */
	uint8_t xflags;	   /* private to tcp_reasm*.c */
};

#define TCP_REASM_F_STARTED  0x01 /* next_seq is valid */
#define TCP_REASM_F_SYN	     0x02 /* saw the SYN: stream start is exact */
#define TCP_REASM_F_FIN	     0x04 /* saw a FIN */
#define TCP_REASM_F_RST	     0x08 /* saw a RST */
#define TCP_REASM_F_EOF_SENT 0x10 /* the fin chunk was handed out */
#define TCP_REASM_F_HAS_DATA 0x20 /* some payload was seen */

/*
 * In every flow entry: 24 bytes (flow.c budgets struct flow). aux is
 * private to the tcp_reasm*.c files: the side slot (0: none) and the bypass bit, in one
 * word so that the in-order path tests both with one compare.
 */
struct tcp_reasm_pair {
	struct tcp_reasm_dir dir[2]; /* indexed by enum flow_dir */
	uint32_t aux;
};

struct tcp_reasm_chunk {
	const uint8_t *ptr; /* NULL when the chunk only reports a gap or the end */
	uint32_t len;
	uint32_t gap; /* bytes missing just before ptr */
	uint8_t dir;  /* enum flow_dir */
	bool fin;     /* the stream in this direction ended after this chunk */
	bool last;    /* nothing else is ready: the next tcp_reasm_next() would say false */
};

struct tcp_reasm;

void tcp_reasm_cfg_default(struct tcp_reasm_cfg *cfg);
int tcp_reasm_create(const struct tcp_reasm_cfg *cfg, struct tcp_reasm **out);
void tcp_reasm_destroy(struct tcp_reasm *r);

/* Inline: it runs for every new flow. */
static inline void tcp_reasm_pair_init(struct tcp_reasm_pair *tp)
{
	memset(tp, 0, sizeof(*tp));
}
/* Returns buffered segments to the pool. */
void tcp_reasm_pair_fini(struct tcp_reasm *r, struct tcp_reasm_pair *tp);

enum tcp_reasm_status tcp_reasm_add(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
				    enum flow_dir dir, const struct pkt_meta *m);
bool tcp_reasm_next(struct tcp_reasm *r, struct tcp_reasm_pair *tp, struct tcp_reasm_chunk *out);
/*
 * tcp_reasm_add(), except for most segments of a connection: next in line,
 * with nothing buffered, held or owed in the pair, nothing for the other
 * direction to hand out and no new ACK to act on. Such a segment is counted
 * and consumed as tcp_reasm_add() and the one tcp_reasm_next() chunk after
 * it (its whole payload, marked last) would, and the caller hands
 * m->payload on itself: TCP_REASM_PASSED.
 */
enum tcp_reasm_status tcp_reasm_add_pass(struct tcp_reasm *r, struct tcp_reasm_pair *tp,
					 enum flow_dir dir, const struct pkt_meta *m);
/* Stop waiting for holes: everything buffered becomes deliverable, with gaps. */
void tcp_reasm_flush(struct tcp_reasm *r, struct tcp_reasm_pair *tp);
/* Deliver nothing more for this pair; buffered bytes are freed. */
void tcp_reasm_bypass(struct tcp_reasm *r, struct tcp_reasm_pair *tp);

/* Follows sequence numbers only and delivers nothing (tcp_reasm_bypass, pair_fini). */
bool tcp_reasm_is_bypassed(const struct tcp_reasm_pair *tp);
/* Out-of-order bytes buffered in one direction of tp. */
uint32_t tcp_reasm_buffered(const struct tcp_reasm *r, const struct tcp_reasm_pair *tp,
			    enum flow_dir dir);
/* Both directions finished (FIN each way) or either side reset. */
bool tcp_reasm_is_closed(const struct tcp_reasm_pair *tp);
const struct tcp_reasm_stats *tcp_reasm_stats(const struct tcp_reasm *r);
size_t tcp_reasm_mem_bytes(const struct tcp_reasm *r);

#endif /* RELAYWATCH_DATAPLANE_TCP_REASM_H */
