// SPDX-License-Identifier: BSD-3-Clause
#include "common/strarena.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int strarena_create(const uint32_t slots[STRARENA_CLASSES], uint32_t entries, struct strarena **out)
{
	struct strarena *a;
	size_t len = 0;
	uint32_t tab_n = 0;

	for (int c = 0; c < STRARENA_CLASSES; c++) {
		if (slots[c] >= STRARENA_IDX_MASK)
			return -EINVAL;
		len += (size_t)slots[c] * (size_t)(c + 1) * STRARENA_GRAIN;
	}
	if (entries > (STRARENA_SHARED >> 1))
		return -EINVAL;
	if (entries)
		for (tab_n = STRARENA_BUCKET; tab_n < entries; tab_n <<= 1)
			;
	_Static_assert(sizeof(struct strarena_bucket) == 64, "a bucket is one cache line");
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (tab_n) {
		/* Touched now: every lookup may land in any bucket. */
		a->tab = aligned_alloc(64, (size_t)tab_n / STRARENA_BUCKET * sizeof(*a->tab));
		if (!a->tab) {
			free(a);
			return -ENOMEM;
		}
		memset(a->tab, 0, (size_t)tab_n / STRARENA_BUCKET * sizeof(*a->tab));
		a->tab_n = tab_n;
		a->tab_mask = tab_n / STRARENA_BUCKET - 1;
	}
	if (len) {
		/* Not touched here: a slot's page becomes resident when a value first lands in it.
		 */
		a->map =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a->map == MAP_FAILED) {
			free(a->tab);
			free(a);
			return -ENOMEM;
		}
		a->map_len = len;
	}
	len = 0;
	for (int c = 0; c < STRARENA_CLASSES; c++) {
		a->c[c].mem = a->map + len;
		a->c[c].size = (uint32_t)(c + 1) * STRARENA_GRAIN;
		a->c[c].n = slots[c];
		len += (size_t)slots[c] * a->c[c].size;
	}
	*out = a;
	return 0;
}

void strarena_destroy(struct strarena *a)
{
	if (!a)
		return;
	if (a->map_len)
		munmap(a->map, a->map_len);
	free(a->tab);
	free(a);
}

static struct strarena_class *strarena_class_of(struct strarena *a, uint32_t own)
{
	return &a->c[((own >> STRARENA_LEN_SHIFT) - 1) / STRARENA_GRAIN];
}

static uint8_t *strarena_bytes(struct strarena *a, uint32_t own)
{
	struct strarena_class *k = strarena_class_of(a, own);

	return k->mem + (size_t)((own & STRARENA_IDX_MASK) - 1) * k->size;
}

/* The slot of a private handle goes back. */
static void strarena_free(struct strarena *a, uint32_t own)
{
	struct strarena_class *k = strarena_class_of(a, own);

	memcpy(strarena_bytes(a, own), &k->free_head, sizeof(k->free_head));
	k->free_head = own & STRARENA_IDX_MASK;
	a->st.held_bytes -= k->size;
}

static inline void strarena_put_inl(struct strarena *a, uint32_t *h)
{
	struct strarena_bucket *b;
	uint32_t e;

	if (!*h)
		return;
	if (!(*h & STRARENA_SHARED)) {
		strarena_free(a, *h);
	} else {
		e = (*h & ~STRARENA_SHARED) - 1;
		b = &a->tab[e / STRARENA_BUCKET];
		e %= STRARENA_BUCKET;
		if (--b->e[e].refs == 0) {
			strarena_free(a, b->e[e].h);
			b->e[e] = (struct strarena_entry){0};
		}
	}
	*h = 0;
}

/* A new slot holding the n bytes at p (1 <= n <= STRARENA_MAX): its private handle, 0 if none. */
static uint32_t strarena_alloc(struct strarena *a, const void *p, size_t n)
{
	uint32_t c = (uint32_t)(n - 1) / STRARENA_GRAIN, idx, own;
	struct strarena_class *k = &a->c[c];

	if (k->free_head) {
		idx = k->free_head;
		memcpy(&k->free_head, k->mem + (size_t)(idx - 1) * k->size, sizeof(k->free_head));
	} else if (k->bump < k->n) {
		idx = ++k->bump;
		a->st.touched_bytes += k->size;
	} else {
		a->st.exhausted++;
		return 0;
	}
	own = (uint32_t)n << STRARENA_LEN_SHIFT | idx;
	a->st.held_bytes += k->size;
	memcpy(strarena_bytes(a, own), p, n);
	return own;
}

static inline uint64_t strarena_load8(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* n bytes at x and y equal? Short values: words (the last one overlapping), no call. */
static inline bool strarena_same(const uint8_t *x, const uint8_t *y, size_t n)
{
	size_t i;

	if (n < 8) {
		for (i = 0; i < n; i++)
			if (x[i] != y[i])
				return false;
		return true;
	}
	for (i = 0; i + 8 < n; i += 8)
		if (strarena_load8(x + i) != strarena_load8(y + i))
			return false;
	return strarena_load8(x + n - 8) == strarena_load8(y + n - 8);
}

static inline bool strarena_equal(struct strarena *a, uint32_t own, const void *p, size_t n)
{
	return (own >> STRARENA_LEN_SHIFT) == n && strarena_same(strarena_bytes(a, own), p, n);
}

/*
 * The table's hash: words from the start, the middle and the end of the
 * value (for n < 8, its bytes), multiplied and mixed. Cheaper than a hash
 * of every byte, which is what a value that is copied at every reply can
 * afford; values that differ only between those words meet in one bucket
 * with one tag at worst, and the compare tells them apart.
 */
static inline uint64_t strarena_hash(const uint8_t *p, size_t n)
{
	uint64_t x;

	if (n >= 8) {
		x = strarena_load8(p) * 0x9E3779B97F4A7C15ull;
		x ^= strarena_load8(p + n / 2 - 4) * 0xC2B2AE3D27D4EB4Full;
		x ^= strarena_load8(p + n - 8) * 0x165667B19E3779F9ull;
	} else {
		uint32_t lo, hi;

		if (n >= 4) {
			memcpy(&lo, p, 4);
			memcpy(&hi, p + n - 4, 4);
		} else {
			lo = p[0] | (uint32_t)p[n / 2] << 8 | (uint32_t)p[n - 1] << 16;
			hi = 0;
		}
		x = ((uint64_t)hi << 32 | lo) * 0x9E3779B97F4A7C15ull;
	}
	x ^= n;
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	return x ^ (x >> 32);
}

/* The entry of bucket b that holds the n bytes at p (-1: none). */
static inline int strarena_find(struct strarena *a, const struct strarena_bucket *b, uint16_t tag,
				const void *p, size_t n)
{
	for (int i = 0; i < STRARENA_BUCKET; i++)
		if (b->e[i].tag == tag && b->e[i].refs != UINT16_MAX &&
		    strarena_equal(a, b->e[i].h, p, n))
			return i;
	return -1;
}

/* A free entry of bucket b (-1: none). */
static int strarena_room(const struct strarena_bucket *b)
{
	for (int i = 0; i < STRARENA_BUCKET; i++)
		if (!b->e[i].tag)
			return i;
	return -1;
}

size_t strarena_set(struct strarena *a, uint32_t *h, const void *p, size_t n)
{
	struct strarena_bucket *b;
	uint64_t x;
	uint32_t own, e;
	uint16_t tag;
	int i;

	if (n > STRARENA_MAX)
		n = STRARENA_MAX;
	if (!n) {
		strarena_put_inl(a, h);
		return 0;
	}
	if (!a->tab) {
		strarena_put_inl(a, h);
		goto alone;
	}
	x = strarena_hash(p, n);
	tag = (uint16_t)(x >> 48) | 1;
	b = &a->tab[x & a->tab_mask];
	e = (uint32_t)(b - a->tab) * STRARENA_BUCKET;
	i = strarena_find(a, b, tag, p, n);
	if (i >= 0) {
		b->e[i].refs++;
		a->st.shared++;
		strarena_put_inl(a, h);
		*h = STRARENA_SHARED | (e + (uint32_t)i + 1);
		return n;
	}
	/* Its old value goes first: its slot or entry may be what the new one takes. */
	strarena_put_inl(a, h);
	i = strarena_room(b);
	if (i >= 0) {
		own = strarena_alloc(a, p, n);
		if (!own)
			return 0;
		b->e[i] = (struct strarena_entry){.tag = tag, .refs = 1, .h = own};
		*h = STRARENA_SHARED | (e + (uint32_t)i + 1);
		return n;
	}
	a->st.unshared++;

alone:
	*h = strarena_alloc(a, p, n);
	return *h ? n : 0;
}

void strarena_put(struct strarena *a, uint32_t *h)
{
	strarena_put_inl(a, h);
}

const struct strarena_stats *strarena_stats(const struct strarena *a)
{
	return &a->st;
}

size_t strarena_mem_bytes(const struct strarena *a)
{
	return sizeof(*a) + a->map_len + strarena_table_bytes(a);
}

size_t strarena_table_bytes(const struct strarena *a)
{
	return (size_t)a->tab_n / STRARENA_BUCKET * sizeof(*a->tab);
}
