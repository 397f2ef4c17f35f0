/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * strarena: short strings (at most STRARENA_MAX bytes) held in slots of
 * size classes STRARENA_GRAIN bytes apart, so a value costs what it needs
 * rather than its cap, and equal values share one slot. A value is named by a 32-bit
 * handle (0: none) that also says its length. Each class is a fixed number
 * of slots made at create time: a free slot holds the index of the next free
 * one, and slots never used are handed out in order, so pages the values
 * never reach are never touched (one mapping, no prefault: resident memory
 * follows use).
 *
 * Sharing: most values repeat (a server's banner in all its sessions, a
 * bot's HELO, the same few replies), so an interning table made at create
 * time maps a value's hash to the slot that holds it, with a count of the
 * handles naming it: buckets of 8 entries, one cache line each, found by
 * the hash. A value whose bucket is full, or whose entry's count is at its
 * limit, gets a private slot as without the table. No allocation after
 * create. An empty class is counted and the value is not stored (the owner
 * sees 0 bytes kept). Owned by one thread; no locks.
 */
#ifndef RELAYWATCH_COMMON_STRARENA_H
#define RELAYWATCH_COMMON_STRARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * 4 bytes apart: a value wastes 1.5 bytes on average rather than 3.5 (bench,
 * bytes per session at the fullest: syn-flood 72.0 -> 67.4, mixed-isp 53.2
 * -> 50.2: HELOs of 24-25 and banners of 29-30 bytes, most of them unique).
 * A free slot holds a 4-byte index, so 4 is the least grain.
 */
#define STRARENA_GRAIN	 4
#define STRARENA_CLASSES 18 /* slots of 4, 8, .. 72 bytes */
#define STRARENA_MAX	 (STRARENA_GRAIN * STRARENA_CLASSES)
#define STRARENA_BUCKET	 8 /* table entries per bucket: 64 bytes, one cache line */

_Static_assert(STRARENA_GRAIN >= sizeof(uint32_t) && STRARENA_MAX < 128,
	       "a free slot holds the next one's index; a handle's length has 7 bits");

struct strarena_stats {
	uint64_t exhausted;	/* values not stored: their class was empty */
	uint64_t held_bytes;	/* gauge: bytes of the slots in use (a shared one once) */
	uint64_t touched_bytes; /* high-water: bytes of slots ever handed out */
	uint64_t shared;	/* values that found an equal one in the table */
	uint64_t unshared;	/* values kept apart: bucket full or count at its limit */
};

/*
 * A handle. Private (bit 31 clear): the value's length in bits 24..30, its
 * slot's index + 1 below (the class follows from the length). Shared (bit
 * 31 set): the table entry's index + 1; the entry holds a private handle.
 */
#define STRARENA_SHARED	   0x80000000u
#define STRARENA_LEN_SHIFT 24
#define STRARENA_IDX_MASK  ((1u << STRARENA_LEN_SHIFT) - 1)

struct strarena_class {
	uint8_t *mem;
	uint32_t size;	    /* bytes per slot */
	uint32_t n;	    /* slots */
	uint32_t bump;	    /* slots handed out at least once */
	uint32_t free_head; /* first free slot + 1 (0: none); a free slot holds the next */
};

/*
 * An entry of the table: tag, count and handle in one 8-byte word, so a
 * lookup reads each candidate's tag and handle together (callgrind,
 * short-spam: cheaper than tags, counts and handles in three arrays, whose
 * lane test cost more than the eight compares it saves). 8 entries make a
 * bucket, one cache line.
 */
struct strarena_entry {
	uint16_t tag;  /* hash bits the bucket index does not use, | 1; 0: free */
	uint16_t refs; /* handles naming the entry */
	uint32_t h;    /* private handle of the slot holding the value */
};

struct strarena_bucket {
	struct strarena_entry e[STRARENA_BUCKET];
};

_Static_assert(sizeof(struct strarena_entry) == 8, "an entry is one word: a bucket, one line");

/* Inline for the reads. */
struct strarena {
	struct strarena_class c[STRARENA_CLASSES];
	struct strarena_stats st;
	struct strarena_bucket *tab; /* NULL: no sharing */
	uint32_t tab_mask;	     /* buckets - 1 */
	uint32_t tab_n;		     /* entries */
	uint8_t *map;
	size_t map_len;
};

/*
 * slots[c]: slots of class c ((c + 1) * STRARENA_GRAIN bytes). entries: of
 * the interning table, rounded up to a power of two of at least one bucket;
 * 0 makes none (every value private).
 */
int strarena_create(const uint32_t slots[STRARENA_CLASSES], uint32_t entries,
		    struct strarena **out);
void strarena_destroy(struct strarena *a);

/* The private handle behind h (shared or not). */
static inline uint32_t strarena_own(const struct strarena *a, uint32_t h)
{
	uint32_t e = (h & ~STRARENA_SHARED) - 1;

	return (h & STRARENA_SHARED) ? a->tab[e / STRARENA_BUCKET].e[e % STRARENA_BUCKET].h : h;
}

/* Length of the value h names (0 for none). */
static inline size_t strarena_len(const struct strarena *a, uint32_t h)
{
	return h ? strarena_own(a, h) >> STRARENA_LEN_SHIFT : 0;
}

/* The bytes of h; NULL for 0. Valid until h is set or put. */
static inline const char *strarena_get(const struct strarena *a, uint32_t h)
{
	const struct strarena_class *k;
	uint32_t o;

	if (!h)
		return NULL;
	o = strarena_own(a, h);
	k = &a->c[((o >> STRARENA_LEN_SHIFT) - 1) / STRARENA_GRAIN];
	return (const char *)k->mem + (size_t)((o & STRARENA_IDX_MASK) - 1) * k->size;
}

/* The value goes (the slot when no other handle names it); *h becomes 0. */
void strarena_put(struct strarena *a, uint32_t *h);

/*
 * *h takes the n bytes at p (n <= STRARENA_MAX, more is cut): a handle an
 * equal value in the table already has, else a new slot (in the table when
 * its bucket has room); what *h named before goes. An equal value costs a
 * compare, nothing else. n == 0 puts *h. Returns n, or 0 when no slot was
 * to be had (counted; *h is then 0).
 */
size_t strarena_set(struct strarena *a, uint32_t *h, const void *p, size_t n);

const struct strarena_stats *strarena_stats(const struct strarena *a);
/* Bytes reserved (address space; resident only as far as touched_bytes). */
size_t strarena_mem_bytes(const struct strarena *a);
/* Bytes of the interning table (made and touched at create). */
size_t strarena_table_bytes(const struct strarena *a);

#endif /* RELAYWATCH_COMMON_STRARENA_H */
