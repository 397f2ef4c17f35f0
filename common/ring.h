/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ring: single-producer single-consumer ring of fixed-size elements (packet
 * descriptors, pointers). C11 acquire/release on two indexes, each on its own
 * cache line, with cached copies of the other side's index so that the common
 * case touches no shared line. One producer thread, one consumer thread.
 */
#ifndef RELAYWATCH_COMMON_RING_H
#define RELAYWATCH_COMMON_RING_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

struct ring {
	/* producer side */
	_Alignas(64) _Atomic uint32_t head;
	uint32_t cached_tail;
	/* consumer side */
	_Alignas(64) _Atomic uint32_t tail;
	uint32_t cached_head;
	/* read-only after create */
	_Alignas(64) uint32_t mask;
	uint32_t elem_size;
	uint8_t *slots;
};

/* n_elems is rounded up to a power of two. */
int ring_create(uint32_t n_elems, uint32_t elem_size, struct ring **out);
void ring_destroy(struct ring *r);

static inline uint32_t ring_capacity(const struct ring *r)
{
	return r->mask + 1;
}

/* Copies up to n elements in; returns how many fit. Never blocks. */
static inline uint32_t ring_enqueue_burst(struct ring *r, const void *elems, uint32_t n)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t free_slots = ring_capacity(r) - (head - r->cached_tail);
	const uint8_t *src = elems;

	if (free_slots < n) {
		r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		free_slots = ring_capacity(r) - (head - r->cached_tail);
		if (n > free_slots)
			n = free_slots;
	}
	for (uint32_t i = 0; i < n; i++)
		memcpy(r->slots + (size_t)((head + i) & r->mask) * r->elem_size,
		       src + (size_t)i * r->elem_size, r->elem_size);
	atomic_store_explicit(&r->head, head + n, memory_order_release);
	return n;
}

/* Copies up to n elements out; returns how many there were. */
static inline uint32_t ring_dequeue_burst(struct ring *r, void *elems, uint32_t n)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t avail = r->cached_head - tail;
	uint8_t *dst = elems;

	if (avail < n) {
		r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
		avail = r->cached_head - tail;
		if (n > avail)
			n = avail;
	}
	for (uint32_t i = 0; i < n; i++)
		memcpy(dst + (size_t)i * r->elem_size,
		       r->slots + (size_t)((tail + i) & r->mask) * r->elem_size, r->elem_size);
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return n;
}

/* Approximate from any thread; exact from either end. */
static inline uint32_t ring_count(struct ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) -
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}

#endif /* RELAYWATCH_COMMON_RING_H */
