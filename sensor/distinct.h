/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * distinct: "how many different X in the last S seconds" for table entries
 * (servers a host talked to, user names it tried, sources of an account).
 * Small sets are exact: up to DISTINCT_SPARSE 32-bit item hashes with the
 * time each was last seen, so the window slides per item. A set that
 * outgrows them moves to a pair of HyperLogLog sketches (hll.h) taken from a
 * shared pool: the current and the previous half-span, whose union covers
 * between S/2 and S of history. The pool is bounded; when it is empty the
 * least recently updated pair is taken back (its owner restarts sparse) and
 * counted. 40 bytes per counter; 2 KiB per pooled pair.
 * Detector thread only.
 */
#ifndef RELAYWATCH_SENSOR_DISTINCT_H
#define RELAYWATCH_SENSOR_DISTINCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISTINCT_SPARSE 6

struct distinct {
	uint32_t dense;		     /* pool slot + 1, 0: sparse */
	uint32_t h[DISTINCT_SPARSE]; /* item hashes, 0: empty */
	uint16_t t[DISTINCT_SPARSE]; /* last seen, in span/64 ticks, mod 2^16 */
};

struct distinct_pool_stats {
	uint64_t promoted;  /* sets that outgrew the sparse form */
	uint64_t reclaimed; /* sketches taken back from their owner (pool empty) */
	uint64_t in_use;    /* gauge */
	uint64_t capacity;
};

struct distinct_pool;

int distinct_pool_create(uint32_t n_sketches, struct distinct_pool **out);
void distinct_pool_destroy(struct distinct_pool *p);
const struct distinct_pool_stats *distinct_pool_stats(const struct distinct_pool *p);
size_t distinct_pool_mem_bytes(const struct distinct_pool *p);

/* Add the item with this 64-bit hash, seen at now_ns, to a set whose window
 * is span_s seconds. True when the item was not yet in the window (for a
 * sketch: when a register grew). d must not move while it holds a sketch. */
bool distinct_add(struct distinct *d, struct distinct_pool *p, uint32_t span_s, uint64_t now_ns,
		  uint64_t hash);
uint32_t distinct_count(const struct distinct *d, const struct distinct_pool *p, uint32_t span_s,
			uint64_t now_ns);
/* Give back the sketch, if any (the owner is being evicted or cleared). */
void distinct_release(struct distinct *d, struct distinct_pool *p);

#endif /* RELAYWATCH_SENSOR_DISTINCT_H */
