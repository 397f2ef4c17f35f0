/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lru: a bounded hash table of fixed-size entries with least-recently-used
 * eviction, the one shape every detector table has (hosts, accounts,
 * pending relays, learned domains, evidence, alert states, HLL sketches).
 * Owns one array of entries, its links and a bucket index, all made at
 * lru_init(); nothing is allocated afterwards. When full, lru_add() evicts
 * the least recently touched entry (after calling on_evict) and counts it.
 * One owner thread (the detector); not thread-safe.
 */
#ifndef RELAYWATCH_SENSOR_LRU_H
#define RELAYWATCH_SENSOR_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called on an entry about to be evicted or deleted, before it is cleared. */
typedef void lru_evict_fn(void *arg, void *ent);
/* Does this entry hold that key? */
typedef bool lru_eq_fn(const void *ent, const void *key);

/* Sits just before each entry, so a lookup reads one cache line, not two. */
struct lru_link {
	uint32_t chain;	     /* next entry in the bucket, index + 1; LRU_FREE when unused */
	uint32_t prev, next; /* recency list, index + 1; 0 ends it */
	uint32_t hash;
	uint32_t touched; /* caller's clock at the last move to the front */
	uint32_t pad;
};

#define LRU_FREE UINT32_MAX

struct lru {
	uint8_t *slot;	  /* cap slots of slot_size: link, then entry */
	uint32_t *bucket; /* index + 1 of the first entry, 0: empty */
	size_t ent_size, slot_size;
	uint32_t cap, mask;
	uint32_t count;	     /* entries in use */
	uint32_t high;	     /* slots ever handed out (the rest were never touched) */
	uint32_t head, tail; /* most and least recently used, index + 1 */
	uint32_t free_list;  /* deleted slots, chained through link.next, index + 1 */
	uint64_t evicted;
	lru_evict_fn *on_evict;
	void *arg;
};

/* ent_size bytes per entry, cap entries (>= 1). Memory is calloc'd, so
 * pages of slots never used stay untouched. 0 or -ENOMEM / -EINVAL. */
int lru_init(struct lru *t, uint32_t cap, size_t ent_size, lru_evict_fn *on_evict, void *arg);
void lru_fini(struct lru *t);

/* The entry with this hash for which eq(ent, key) holds (eq NULL: hash alone). */
void *lru_find(struct lru *t, uint32_t hash, lru_eq_fn *eq, const void *key);
/* A zeroed entry, most recently used; evicts the oldest when full. */
void *lru_add(struct lru *t, uint32_t hash, bool *evicted);
void lru_touch(struct lru *t, void *ent);
/* Move to the front unless already moved at this `now` (any clock, e.g.
 * seconds): recency is then exact to one tick, and a burst of events for
 * one entry costs one list move, not one per event. */
void lru_touch_at(struct lru *t, void *ent, uint32_t now);
/* Remove (on_evict is called, not counted as an eviction). */
void lru_del(struct lru *t, void *ent);
void *lru_oldest(const struct lru *t);
void *lru_newer(const struct lru *t, const void *ent);

uint32_t lru_index(const struct lru *t, const void *ent);
/* Entry at a slot, NULL when the slot is not in use; slots run 0 .. high-1. */
void *lru_at(const struct lru *t, uint32_t idx);
/* Bytes per entry including its link and its share of the index. */
size_t lru_entry_bytes(const struct lru *t);
size_t lru_mem_bytes(const struct lru *t);

#endif /* RELAYWATCH_SENSOR_LRU_H */
