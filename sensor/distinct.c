// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/distinct.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/hll.h"
#include "sensor/lru.h"

#define NS	       1000000000ull
#define TICKS_PER_SPAN 64

struct dense_pair {
	struct hll cur, prev; /* this half-span and the one before */
	uint32_t epoch;	      /* half-span number of cur */
	struct distinct *owner;
};

struct distinct_pool {
	struct lru lru;
	struct distinct_pool_stats st;
};

static void dense_evict(void *arg, void *ent)
{
	struct distinct_pool *p = arg;
	struct dense_pair *dp = ent;

	if (dp->owner)
		dp->owner->dense = 0;
	p->st.in_use--;
}

int distinct_pool_create(uint32_t n_sketches, struct distinct_pool **out)
{
	struct distinct_pool *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	err = lru_init(&p->lru, n_sketches ? n_sketches : 1, sizeof(struct dense_pair), dense_evict,
		       p);
	if (err) {
		free(p);
		return err;
	}
	p->st.capacity = p->lru.cap;
	*out = p;
	return 0;
}

void distinct_pool_destroy(struct distinct_pool *p)
{
	if (!p)
		return;
	lru_fini(&p->lru);
	free(p);
}

const struct distinct_pool_stats *distinct_pool_stats(const struct distinct_pool *p)
{
	return &p->st;
}

size_t distinct_pool_mem_bytes(const struct distinct_pool *p)
{
	return sizeof(*p) + lru_mem_bytes(&p->lru);
}

/* The sketch sees 32-bit item hashes spread again over 64 bits (splitmix64),
 * so items moved from the sparse form and items added later agree. */
static uint64_t spread(uint32_t h)
{
	uint64_t z = (uint64_t)h + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t tick_unit(uint32_t span_s)
{
	return span_s >= TICKS_PER_SPAN ? span_s / TICKS_PER_SPAN : 1;
}

static int32_t window_ticks(uint32_t span_s)
{
	uint32_t u = tick_unit(span_s);

	return (int32_t)((span_s + u - 1) / u);
}

static uint16_t now_tick(uint32_t span_s, uint64_t now_ns)
{
	return (uint16_t)(now_ns / NS / tick_unit(span_s));
}

static uint32_t epoch_of(uint32_t span_s, uint64_t now_ns)
{
	uint32_t half = span_s >= 2 ? span_s / 2 : 1;

	return (uint32_t)(now_ns / NS / half);
}

static bool sparse_fresh(uint16_t t, uint16_t now, int32_t wt)
{
	/* Signed: an item stamped a little in the future (late events) is fresh. */
	return (int16_t)(uint16_t)(now - t) < wt;
}

static struct dense_pair *pair_of(const struct distinct *d, const struct distinct_pool *p)
{
	return d->dense ? lru_at(&p->lru, d->dense - 1) : NULL;
}

static void pair_rotate(struct dense_pair *dp, uint32_t epoch)
{
	if ((int32_t)(epoch - dp->epoch) <= 0)
		return;
	if (epoch - dp->epoch == 1)
		dp->prev = dp->cur;
	else
		hll_clear(&dp->prev);
	hll_clear(&dp->cur);
	dp->epoch = epoch;
}

static bool pair_add(struct dense_pair *dp, uint32_t epoch, uint32_t h32)
{
	pair_rotate(dp, epoch);
	if (epoch == dp->epoch)
		return hll_add_hash(&dp->cur, spread(h32));
	if (epoch + 1 == dp->epoch)
		return hll_add_hash(&dp->prev, spread(h32));
	return false;
}

/* Move the sparse items into a sketch pair from the pool. */
static struct dense_pair *promote(struct distinct *d, struct distinct_pool *p, uint32_t span_s,
				  uint64_t now_ns)
{
	uint16_t now = now_tick(span_s, now_ns);
	int32_t wt = window_ticks(span_s);
	struct dense_pair *dp;
	bool evicted;

	dp = lru_add(&p->lru, (uint32_t)(uintptr_t)d, &evicted);
	if (evicted)
		p->st.reclaimed++;
	p->st.in_use++;
	p->st.promoted++;
	dp->owner = d;
	dp->epoch = epoch_of(span_s, now_ns);
	for (int i = 0; i < DISTINCT_SPARSE; i++)
		if (d->h[i] && sparse_fresh(d->t[i], now, wt))
			hll_add_hash(&dp->cur, spread(d->h[i]));
	memset(d->h, 0, sizeof(d->h));
	memset(d->t, 0, sizeof(d->t));
	d->dense = lru_index(&p->lru, dp) + 1;
	return dp;
}

bool distinct_add(struct distinct *d, struct distinct_pool *p, uint32_t span_s, uint64_t now_ns,
		  uint64_t hash)
{
	uint32_t h32 = (uint32_t)(hash >> 32) ? (uint32_t)(hash >> 32) : 1;
	uint16_t now = now_tick(span_s, now_ns);
	int32_t wt = window_ticks(span_s);
	struct dense_pair *dp = pair_of(d, p);
	int slot = -1;

	if (dp) {
		lru_touch(&p->lru, dp);
		return pair_add(dp, epoch_of(span_s, now_ns), h32);
	}
	for (int i = 0; i < DISTINCT_SPARSE; i++) {
		if (d->h[i] == h32) {
			bool fresh = sparse_fresh(d->t[i], now, wt);

			if ((int16_t)(uint16_t)(now - d->t[i]) > 0)
				d->t[i] = now;
			return !fresh;
		}
		if (slot < 0 && (!d->h[i] || !sparse_fresh(d->t[i], now, wt)))
			slot = i;
	}
	if (slot >= 0) {
		d->h[slot] = h32;
		d->t[slot] = now;
		return true;
	}
	dp = promote(d, p, span_s, now_ns);
	pair_add(dp, epoch_of(span_s, now_ns), h32);
	return true;
}

uint32_t distinct_count(const struct distinct *d, const struct distinct_pool *p, uint32_t span_s,
			uint64_t now_ns)
{
	const struct dense_pair *dp = pair_of(d, p);
	uint16_t now = now_tick(span_s, now_ns);
	int32_t wt = window_ticks(span_s);
	uint32_t n = 0, epoch;
	double est;

	if (!dp) {
		for (int i = 0; i < DISTINCT_SPARSE; i++)
			n += d->h[i] && sparse_fresh(d->t[i], now, wt);
		return n;
	}
	epoch = epoch_of(span_s, now_ns);
	if ((int32_t)(epoch - dp->epoch) > 1)
		return 0;
	if (epoch - dp->epoch == 1)
		est = hll_estimate(&dp->cur);
	else
		est = hll_estimate_union(&dp->cur, &dp->prev);
	return (uint32_t)(est + 0.5);
}

void distinct_release(struct distinct *d, struct distinct_pool *p)
{
	struct dense_pair *dp = pair_of(d, p);

	if (dp)
		lru_del(&p->lru, dp);
	memset(d, 0, sizeof(*d));
}
