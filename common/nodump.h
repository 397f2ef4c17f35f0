/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nodump: page-granular anonymous memory that core dumps leave out
 * (madvise MADV_DONTDUMP), for buffers that hold raw packet or stream bytes,
 * where SMTP AUTH credentials pass. Owns nothing itself: the caller frees
 * what it got. Any thread; set-up time only (every call is a syscall).
 */
#ifndef RELAYWATCH_COMMON_NODUMP_H
#define RELAYWATCH_COMMON_NODUMP_H

#include <stddef.h>

/* len rounded up to whole pages, zero-filled; NULL with errno set on failure. */
void *nodump_alloc(size_t len);
/* Resize (the mapping may move, bytes are kept); NULL with errno set, p intact. */
void *nodump_grow(void *p, size_t old_len, size_t new_len);
/* len as given to nodump_alloc/nodump_grow; NULL is a no-op. */
void nodump_free(void *p, size_t len);
/*
 * Memory mapped by someone else (a DPDK mempool): the whole pages of page
 * size pg (0: the system's) inside [p, p + len) only, so that nothing
 * sharing a page at either end is hidden. 0 or -errno.
 */
int nodump_mark(void *p, size_t len, size_t pg);

#endif /* RELAYWATCH_COMMON_NODUMP_H */
