/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * msgring: single-producer single-consumer ring of variable-length records
 * (worker → detector events). The producer reserves space, writes the record
 * in place and commits; the consumer peeks the oldest record and releases
 * it. Records are 8-byte aligned and never wrap: a record that does not fit
 * before the end of the buffer is preceded by a padding marker. Fixed size,
 * allocated once; a full ring makes reserve() return NULL and the caller
 * decides whether to count a drop or wait.
 */
#ifndef RELAYWATCH_COMMON_MSGRING_H
#define RELAYWATCH_COMMON_MSGRING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct msgring;

/* bytes is rounded up to a power of two, at least 4 KiB. */
int msgring_create(size_t bytes, struct msgring **out);
void msgring_destroy(struct msgring *mr);

/* Producer. Returns a pointer to len writable bytes, or NULL when full or when
 * len is larger than a quarter of the ring. */
void *msgring_reserve(struct msgring *mr, uint32_t len);
/* Publishes the record returned by the last reserve(). */
void msgring_commit(struct msgring *mr);

/* Consumer. Returns the oldest record and its length, or NULL when empty. */
const void *msgring_peek(struct msgring *mr, uint32_t *len);
void msgring_release(struct msgring *mr);

size_t msgring_capacity(const struct msgring *mr);
size_t msgring_used(struct msgring *mr);

#endif /* RELAYWATCH_COMMON_MSGRING_H */
