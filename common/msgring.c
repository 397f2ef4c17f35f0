// SPDX-License-Identifier: BSD-3-Clause
#include "common/msgring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MSG_HDR	  8u
#define MSG_PAD	  0x80000000u /* length word of a padding marker */
#define ALIGN8(x) (((x) + 7u) & ~7u)

struct msgring {
	_Alignas(64) _Atomic uint64_t head; /* bytes ever produced */
	uint64_t pending;		    /* producer: head after the reserved record */
	uint64_t cached_tail;
	_Alignas(64) _Atomic uint64_t tail; /* bytes ever consumed */
	uint64_t cached_head;
	_Alignas(64) uint64_t size;
	uint8_t *buf;
};

int msgring_create(size_t bytes, struct msgring **out)
{
	struct msgring *mr;
	uint64_t size = 4096;

	if (bytes > (1ull << 34))
		return -EINVAL;
	while (size < bytes)
		size <<= 1;
	mr = aligned_alloc(64, sizeof(*mr));
	if (!mr)
		return -ENOMEM;
	memset(mr, 0, sizeof(*mr));
	mr->buf = aligned_alloc(64, size);
	if (!mr->buf) {
		free(mr);
		return -ENOMEM;
	}
	/* Touch every page now so the data path never takes a page fault here. */
	memset(mr->buf, 0, size);
	mr->size = size;
	*out = mr;
	return 0;
}

void msgring_destroy(struct msgring *mr)
{
	if (!mr)
		return;
	free(mr->buf);
	free(mr);
}

static uint64_t free_bytes(struct msgring *mr, uint64_t head)
{
	uint64_t free_b = mr->size - (head - mr->cached_tail);

	return free_b;
}

void *msgring_reserve(struct msgring *mr, uint32_t len)
{
	uint64_t head = atomic_load_explicit(&mr->head, memory_order_relaxed);
	uint64_t need = MSG_HDR + ALIGN8((uint64_t)len);
	uint64_t off = head & (mr->size - 1);
	uint64_t to_end = mr->size - off;
	uint64_t total = need <= to_end ? need : to_end + need;
	uint32_t *hdr;

	if (need > mr->size / 4)
		return NULL;
	if (free_bytes(mr, head) < total) {
		mr->cached_tail = atomic_load_explicit(&mr->tail, memory_order_acquire);
		if (free_bytes(mr, head) < total)
			return NULL;
	}
	if (need > to_end) {
		/* Not enough room before the end: mark the rest as padding. */
		hdr = (uint32_t *)(mr->buf + off);
		hdr[0] = MSG_PAD;
		hdr[1] = (uint32_t)to_end;
		head += to_end;
		off = 0;
		/* The padding becomes visible with the record's commit. */
	}
	hdr = (uint32_t *)(mr->buf + off);
	hdr[0] = len;
	hdr[1] = 0;
	mr->pending = head + need;
	return mr->buf + off + MSG_HDR;
}

void msgring_commit(struct msgring *mr)
{
	atomic_store_explicit(&mr->head, mr->pending, memory_order_release);
}

const void *msgring_peek(struct msgring *mr, uint32_t *len)
{
	uint64_t tail = atomic_load_explicit(&mr->tail, memory_order_relaxed);
	const uint32_t *hdr;

	for (;;) {
		if (tail == mr->cached_head) {
			mr->cached_head = atomic_load_explicit(&mr->head, memory_order_acquire);
			if (tail == mr->cached_head)
				return NULL;
		}
		hdr = (const uint32_t *)(mr->buf + (tail & (mr->size - 1)));
		if (hdr[0] != MSG_PAD)
			break;
		tail += hdr[1];
		atomic_store_explicit(&mr->tail, tail, memory_order_release);
	}
	*len = hdr[0];
	return hdr + 2;
}

void msgring_release(struct msgring *mr)
{
	uint64_t tail = atomic_load_explicit(&mr->tail, memory_order_relaxed);
	const uint32_t *hdr = (const uint32_t *)(mr->buf + (tail & (mr->size - 1)));

	tail += MSG_HDR + ALIGN8((uint64_t)hdr[0]);
	atomic_store_explicit(&mr->tail, tail, memory_order_release);
}

size_t msgring_capacity(const struct msgring *mr)
{
	return mr->size;
}

size_t msgring_used(struct msgring *mr)
{
	return atomic_load_explicit(&mr->head, memory_order_acquire) -
	       atomic_load_explicit(&mr->tail, memory_order_acquire);
}
