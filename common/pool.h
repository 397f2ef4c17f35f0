/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pool: fixed number of fixed-size objects carved from one allocation made
 * at start (flow sessions, transactions, reassembly segments). get/put are
 * O(1) through a stack of free indexes. Owned by one thread; no locks.
 * Memory is touched at init so the data path never page-faults on it.
 * pool_init_nodump() keeps the objects out of core dumps (common/nodump.h),
 * for pools that hold packet or stream bytes.
 */
#ifndef RELAYWATCH_COMMON_POOL_H
#define RELAYWATCH_COMMON_POOL_H

#include <stddef.h>
#include <stdint.h>

struct pool {
	uint8_t *mem;
	uint32_t *free_idx;
	uint32_t n_free;
	uint32_t n;
	size_t obj_size;    /* rounded up to 16 bytes */
	uint64_t exhausted; /* get() calls that found the pool empty */
	size_t map_len;	    /* pool_init_nodump: bytes mapped for mem, else 0 */
};

int pool_init(struct pool *p, uint32_t n, size_t obj_size);
/* The same, objects in memory that core dumps leave out. */
int pool_init_nodump(struct pool *p, uint32_t n, size_t obj_size);
void pool_fini(struct pool *p);

/* NULL when empty (counted in p->exhausted). The object is not cleared. */
static inline void *pool_get(struct pool *p)
{
	if (p->n_free == 0) {
		p->exhausted++;
		return NULL;
	}
	return p->mem + (size_t)p->free_idx[--p->n_free] * p->obj_size;
}

static inline uint32_t pool_index(const struct pool *p, const void *obj)
{
	return (uint32_t)(((const uint8_t *)obj - p->mem) / p->obj_size);
}

static inline void *pool_at(const struct pool *p, uint32_t idx)
{
	return p->mem + (size_t)idx * p->obj_size;
}

static inline void pool_put(struct pool *p, void *obj)
{
	if (obj)
		p->free_idx[p->n_free++] = pool_index(p, obj);
}

static inline uint32_t pool_in_use(const struct pool *p)
{
	return p->n - p->n_free;
}

static inline size_t pool_bytes(const struct pool *p)
{
	return (size_t)p->n * (p->obj_size + sizeof(uint32_t));
}

#endif /* RELAYWATCH_COMMON_POOL_H */
