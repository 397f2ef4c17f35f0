/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow internals shared by flow.c (create, destroy, keys, the hash index,
 * lookups and new flows), flow_lru.c (the least-recently-seen lists,
 * release, expiry, flush) and flow_uid.c (a flow's ends and its uid). Not
 * for other modules; the layout is told at the top of flow.c. The list
 * helpers a lookup calls stay static inline here: lookups run for every
 * packet.
 */
#ifndef RELAYWATCH_DATAPLANE_FLOW_INT_H
#define RELAYWATCH_DATAPLANE_FLOW_INT_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/flow.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define FLOW_BUCKET_SLOTS   10
#define FLOW_BUCKET_LOAD    5 /* flows per bucket when the table is full */
#define FLOW_MAX_CAPACITY   (1u << 28)
#define FLOW_OVERFLOW_STUCK UINT16_MAX /* saturated: never decremented again */
#define FLOW_HUGE_PAGE	    (2u << 20)
#define FLOW_INDEX_SEED	    0x9e3779b97f4a7c15ull /* when getrandom() fails */
#define FLOW_HASH_KEYS	    6

enum flow_list {
	FLOW_LIST_CLOSED = 0,
	FLOW_LIST_EMBRYONIC = 1,
	FLOW_LIST_ESTABLISHED = 2,
	FLOW_LIST_N = 3,
};

struct flow_bucket {
	uint16_t sig[FLOW_BUCKET_SLOTS]; /* 0: empty slot */
	uint16_t overflow;		 /* entries homed here or before, stored after */
	uint16_t pad;
	uint32_t idx[FLOW_BUCKET_SLOTS]; /* flow index + 1 */
};
_Static_assert(sizeof(struct flow_bucket) == 64, "a bucket is one cache line");

struct flow_lru {
	uint32_t head, tail; /* flow index + 1, 0: empty */
};

struct flow_table {
	struct flow *flows;
	struct flow_bucket *buckets;
	size_t flows_bytes, buckets_bytes; /* as allocated */
	uint32_t capacity;
	uint32_t n_buckets;
	uint32_t n_fresh;	       /* slots [n_fresh, capacity) were never used */
	uint32_t free_head;	       /* released slots, chained through lru_next */
	uint64_t hkey[FLOW_HASH_KEYS]; /* secret: see flow_hash() */
	uint64_t timeout_ns[FLOW_LIST_N];
	unsigned int grain_shift; /* log2 of the LRU time grain */
	struct flow_lru lru[FLOW_LIST_N];
	uint64_t vlan_mask; /* keeps the VLAN id in the key's last word, or drops it */
	const uint8_t *server_ports;
	flow_release_fn *release;
	void *release_arg;
	struct flow_stats st;
};

/*
 * The order of a key's two ends: the lower address (as a big-endian number,
 * which is memcmp's order) first, or the lower port between equal
 * addresses. True when end a comes first. One definition for the packet
 * path and flow_uid_of_ends(), whose uids must be the flow's.
 */
static inline bool flow_end_is_lo(const union pkt_addr *a, uint16_t a_port, const union pkt_addr *b,
				  uint16_t b_port)
{
	unsigned __int128 x, y;

	/*
	 * Equal first halves (every IPv4 pair: both ::ffff:0:0/96 and so both
	 * zero here) leave the second halves to decide: half the loads and
	 * swaps of the 128-bit compare, some ten instructions a packet.
	 */
	if (__builtin_expect(a->q[0] == b->q[0], 1)) {
		uint64_t lx = be64toh(a->q[1]), ly = be64toh(b->q[1]);

		return (lx < ly) | ((lx == ly) & (a_port <= b_port));
	}
	x = (unsigned __int128)be64toh(a->q[0]) << 64 | be64toh(a->q[1]);
	y = (unsigned __int128)be64toh(b->q[0]) << 64 | be64toh(b->q[1]);

	return (x < y) | ((x == y) & (a_port <= b_port));
}

/* 64x64 -> 128-bit product with its halves folded: every input bit moves the result. */
static inline uint64_t flow_mix(uint64_t a, uint64_t b)
{
	unsigned __int128 p = (unsigned __int128)a * b;

	return (uint64_t)p ^ (uint64_t)(p >> 64);
}

/*
 * The key is five fixed words, so a keyed multiply-fold (wyhash's step, what
 * XXH3 does per 16 bytes) on each address and once more with the ports gives
 * a well-spread index hash in three multiplies; XXH3's general path cost
 * about 50 instructions per packet for the same 40 bytes.
 */
static inline uint64_t flow_hash(const struct flow_table *ft, const struct flow_kw *k)
{
	const uint64_t *key = ft->hkey;

	return flow_mix(flow_mix(k->lo0 ^ key[0], k->lo1 ^ key[1]) ^ k->tail ^ key[4],
			flow_mix(k->hi0 ^ key[2], k->hi1 ^ key[3]) ^ key[5]);
}

/* Word i of a stored key; single words, not an array, so nothing lands on the stack. */
static inline uint64_t flow_key_word(const struct flow_key *a, unsigned int i)
{
	uint64_t x;

	memcpy(&x, (const char *)a + i * sizeof(x), sizeof(x));
	return x;
}

/* A stored key against k, word by word: the reference for flow_key_eq(). */
static inline bool flow_key_eq_words(const struct flow_key *a, const struct flow_kw *k)
{
	return ((flow_key_word(a, 0) ^ k->lo0) | (flow_key_word(a, 1) ^ k->lo1) |
		(flow_key_word(a, 2) ^ k->hi0) | (flow_key_word(a, 3) ^ k->hi1) |
		(flow_key_word(a, 4) ^ k->tail)) == 0;
}

/*
 * With SSE2 the addresses compare as two 16-byte vectors read from memory,
 * so the probe keeps no key words in general registers: it saved and
 * restored six of them for the usual hit, a single candidate.
 */
static inline bool flow_key_eq(const struct flow_key *a, const struct flow_kw *k)
{
#if defined(__SSE2__)
	__m128i x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)a),
				  _mm_loadu_si128((const __m128i *)(const void *)&k->lo0));
	__m128i y = _mm_xor_si128(
		_mm_loadu_si128((const __m128i *)(const void *)((const char *)a + 16)),
		_mm_loadu_si128((const __m128i *)(const void *)&k->hi0));

	return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(x, y), _mm_setzero_si128())) ==
		       0xffff &&
	       flow_key_word(a, 4) == k->tail;
#else
	return flow_key_eq_words(a, k);
#endif
}

/* The hash of a stored flow's key: made again when the flow leaves the
 * index rather than kept in every entry (4 bytes a flow). */
static inline uint64_t flow_hash_of(const struct flow_table *ft, const struct flow *f)
{
	struct flow_kw k = {
		.lo0 = flow_key_word(&f->key, 0),
		.lo1 = flow_key_word(&f->key, 1),
		.hi0 = flow_key_word(&f->key, 2),
		.hi1 = flow_key_word(&f->key, 3),
		.tail = flow_key_word(&f->key, 4),
	};

	return flow_hash(ft, &k);
}

/* Low 32 bits pick the bucket, the top 16 are the signature. */
static inline uint32_t flow_home(const struct flow_table *ft, uint32_t h32)
{
	return (uint32_t)(((uint64_t)h32 * ft->n_buckets) >> 32);
}

static inline uint32_t flow_bucket_next(const struct flow_table *ft, uint32_t b)
{
	return b + 1 == ft->n_buckets ? 0 : b + 1;
}

/* ---- least-recently-seen lists, release (flow_lru.c) ---- */

void flow_lru_unlink(struct flow_table *ft, uint32_t idx);
void flow_owner_release(struct flow_table *ft, struct flow *f, enum flow_end why, uint64_t now_ns);
void flow_release(struct flow_table *ft, uint32_t idx, enum flow_end why, uint64_t now_ns);

static inline struct flow *flow_at(const struct flow_table *ft, uint32_t idx)
{
	return &ft->flows[idx - 1];
}

/* The list of a flow known not to be closed: established once either way
 * has carried a byte. A caller that has tested the flags already calls this,
 * not flow_list_of(): a store between the two (flow_hit()'s *dir) may alias
 * the flow, so the compiler would load and test the flags again. */
static inline enum flow_list flow_list_open(const struct flow *f)
{
	uint64_t lo;
	uint16_t hi;

	/* both directions' counters as two loads */
	memcpy(&lo, f->bytes_lo, sizeof(lo));
	memcpy(&hi, f->bytes_hi, sizeof(hi));
	return (lo | hi) ? FLOW_LIST_ESTABLISHED : FLOW_LIST_EMBRYONIC;
}

static inline enum flow_list flow_list_of(const struct flow *f)
{
	if (f->flags & FLOW_F_CLOSED)
		return FLOW_LIST_CLOSED;
	return flow_list_open(f);
}

static inline void flow_lru_push(struct flow_table *ft, enum flow_list l, uint32_t idx)
{
	struct flow *f = flow_at(ft, idx);

	f->lru_prev = ft->lru[l].tail;
	f->lru_next = 0;
	if (ft->lru[l].tail)
		flow_at(ft, ft->lru[l].tail)->lru_next = idx;
	else
		ft->lru[l].head = idx;
	ft->lru[l].tail = idx;
}

/*
 * Most recently seen goes last, and a flow whose state changed moves list.
 * Relinking writes two neighbours, which are cache misses in a big table, so
 * a flow seen again within the same time grain (1/8 of the shortest timeout)
 * stays where it is: list order is least-recently-seen to within a grain.
 */
static inline void flow_lru_touch(struct flow_table *ft, const struct flow *f, uint32_t idx,
				  enum flow_list was, uint64_t was_ns)
{
	enum flow_list l = flow_list_of(f);

	if (ft->lru[l].tail == idx ||
	    (l == was && (f->last_ns >> ft->grain_shift) == (was_ns >> ft->grain_shift)))
		return;
	flow_lru_unlink(ft, idx);
	flow_lru_push(ft, l, idx);
}

#endif
