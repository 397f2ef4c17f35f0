/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * strarena: short strings (at most STRARENA_MAX bytes) held in slots of a few
 * size classes, 8 bytes apart, so a value costs what it needs rather than
 * its cap. A value is named by a 32-bit handle (0: none); its length is kept
 * by the owner. Each class is a fixed number of slots made at create time:
 * a free slot holds the index of the next free one, and slots never used
 * are handed out in order, so pages the values never reach are never
 * touched (one mapping, no prefault: resident memory follows use). No
 * allocation after create. An empty class is counted and the value is not
 * stored (the owner sees 0 bytes kept). Owned by one thread; no locks.
 */
#ifndef RELAYWATCH_COMMON_STRARENA_H
#define RELAYWATCH_COMMON_STRARENA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define STRARENA_GRAIN	 8
#define STRARENA_CLASSES 9 /* slots of 8, 16, .. 72 bytes */
#define STRARENA_MAX	 (STRARENA_GRAIN * STRARENA_CLASSES)

struct strarena_stats {
	uint64_t exhausted;	/* values not stored: their class was empty */
	uint64_t held_bytes;	/* gauge: bytes of the slots in use */
	uint64_t touched_bytes; /* high-water: bytes of slots ever handed out */
};

/* A handle: class in the top bits, slot index + 1 below. */
#define STRARENA_IDX_BITS 27
#define STRARENA_IDX_MASK ((1u << STRARENA_IDX_BITS) - 1)

struct strarena_class {
	uint8_t *mem;
	uint32_t size;	    /* bytes per slot */
	uint32_t n;	    /* slots */
	uint32_t bump;	    /* slots handed out at least once */
	uint32_t free_head; /* first free slot + 1 (0: none); a free slot holds the next */
};

/* Inline for the per-reply update of a session's last reply. */
struct strarena {
	struct strarena_class c[STRARENA_CLASSES];
	struct strarena_stats st;
	uint8_t *map;
	size_t map_len;
};

/* slots[c]: slots of class c ((c + 1) * STRARENA_GRAIN bytes). */
int strarena_create(const uint32_t slots[STRARENA_CLASSES], struct strarena **out);
void strarena_destroy(struct strarena *a);

/* Out of line: a value that needs a bigger slot than it has (or a first one). */
size_t strarena_set_new(struct strarena *a, uint32_t *h, const void *p, size_t n);

static inline uint8_t *strarena_slot(const struct strarena *a, uint32_t h)
{
	const struct strarena_class *k = &a->c[h >> STRARENA_IDX_BITS];

	return k->mem + (size_t)((h & STRARENA_IDX_MASK) - 1) * k->size;
}

/* Bytes of the slot h holds (0 for none): what the value costs. */
static inline size_t strarena_slot_bytes(uint32_t h)
{
	return h ? ((h >> STRARENA_IDX_BITS) + 1) * STRARENA_GRAIN : 0;
}

/* The slot goes back; *h becomes 0. */
void strarena_put(struct strarena *a, uint32_t *h);

/*
 * *h takes the n bytes at p (n <= STRARENA_MAX, more is cut), in place when
 * its slot is big enough (a value that changes, like a last reply, keeps the
 * biggest slot it needed rather than moving at every change), else in the
 * smallest slot that holds it (the old one goes back). n == 0 gives the slot
 * back. Returns n, or 0 when that class is empty (counted; *h is then 0).
 */
static inline size_t strarena_set(struct strarena *a, uint32_t *h, const void *p, size_t n)
{
	if (n && n <= strarena_slot_bytes(*h)) {
		memcpy(strarena_slot(a, *h), p, n);
		return n;
	}
	return strarena_set_new(a, h, p, n);
}

/* The bytes of h; NULL for 0. Valid until h is set or put. */
static inline const char *strarena_get(const struct strarena *a, uint32_t h)
{
	return h ? (const char *)strarena_slot(a, h) : NULL;
}

const struct strarena_stats *strarena_stats(const struct strarena *a);
/* Bytes reserved (address space; resident only as far as touched_bytes). */
size_t strarena_mem_bytes(const struct strarena *a);

#endif /* RELAYWATCH_COMMON_STRARENA_H */
