// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/host.h"

#include <string.h>

#include "common/hash.h"

#define NS	  1000000000ull
#define HOST_SEED 0x3c6ef372fe94f82bull

static void host_evict(void *arg, void *ent)
{
	struct host_table *t = arg;
	struct host *h = ent;

	for (int i = 0; i < HOST_D_COUNT; i++)
		distinct_release(&h->d[i], t->pool);
}

int host_table_init(struct host_table *t, uint32_t capacity, struct distinct_pool *pool)
{
	memset(t->recent, 0, sizeof(t->recent));
	t->pool = pool;
	return lru_init(&t->lru, capacity, sizeof(struct host), host_evict, t);
}

void host_table_fini(struct host_table *t)
{
	/* The sketches go with the pool; nothing else to give back. */
	lru_fini(&t->lru);
}

static bool host_eq(const void *ent, const void *key)
{
	return memcmp(((const struct host *)ent)->addr.b, key, 16) == 0;
}

static uint32_t addr_hash(const union pkt_addr *a)
{
	return (uint32_t)hash_bytes(a->b, 16, HOST_SEED);
}

/* The host in the recent slot for this hash, if it is that host. */
static struct host *recent_hit(struct host_table *t, uint32_t hash, const union pkt_addr *a)
{
	uint32_t i = t->recent[hash % HOST_RECENT];
	struct host *h = i ? lru_at(&t->lru, i - 1) : NULL;

	return h && host_eq(h, a->b) ? h : NULL;
}

struct host *host_find(struct host_table *t, uint8_t family, const union pkt_addr *a)
{
	uint32_t hash = addr_hash(a);
	struct host *h = recent_hit(t, hash, a);

	(void)family; /* IPv4 is stored mapped: the address alone is the key */
	return h ? h : lru_find(&t->lru, hash, host_eq, a->b);
}

struct host *host_get(struct host_table *t, uint8_t family, const union pkt_addr *a,
		      uint64_t now_ns, bool *created)
{
	uint32_t hash = addr_hash(a);
	uint32_t now = (uint32_t)(now_ns / NS);
	struct host *h = recent_hit(t, hash, a);

	*created = false;
	if (!h)
		h = lru_find(&t->lru, hash, host_eq, a->b);
	if (h) {
		lru_touch_at(&t->lru, h, now);
	} else {
		h = lru_add(&t->lru, hash, NULL);
		h->addr = *a;
		h->family = family;
		h->first_s = now;
		*created = true;
	}
	t->recent[hash % HOST_RECENT] = lru_index(&t->lru, h) + 1;
	if ((int32_t)(now - h->last_s) > 0)
		h->last_s = now;
	return h;
}

bool host_note_domain(struct host *h, uint64_t dom_hash)
{
	/* 64-bit Bloom filter, two bits per domain, cleared when half full:
	 * remembers roughly the last 20 domains, which is what "usual" means
	 * for a sender. */
	uint64_t m = (1ull << (dom_hash & 63)) | (1ull << ((dom_hash >> 6) & 63));
	bool fresh = (h->dom_bloom & m) != m;

	if (fresh && __builtin_popcountll(h->dom_bloom) >= 32)
		h->dom_bloom = 0;
	h->dom_bloom |= m;
	return fresh;
}
