/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats: single-writer counters published to readers on other threads
 * without locks. A stats struct made only of uint64_t fields is kept private
 * by its owner (plain increments on the hot path) and copied to an _Atomic
 * mirror at housekeeping time with relaxed stores; readers load the mirror
 * relaxed. A reader may see fields from two publishes: fine for counters.
 */
#ifndef RELAYWATCH_COMMON_STATS_H
#define RELAYWATCH_COMMON_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

static inline void stats_publish(_Atomic uint64_t *dst, const void *src, size_t bytes)
{
	const uint64_t *s = src;

	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		atomic_store_explicit(&dst[i], s[i], memory_order_relaxed);
}

static inline void stats_read(void *dst, _Atomic uint64_t *src, size_t bytes)
{
	uint64_t *d = dst;

	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		d[i] = atomic_load_explicit(&src[i], memory_order_relaxed);
}

/* dst += src, field by field, for summing per-worker copies. */
static inline void stats_add(void *dst, const void *src, size_t bytes)
{
	uint64_t *d = dst;
	const uint64_t *s = src;

	for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
		d[i] += s[i];
}

#define STATS_MIRROR(type) _Atomic uint64_t mirror_##type[sizeof(struct type) / sizeof(uint64_t)]

#endif /* RELAYWATCH_COMMON_STATS_H */
