// SPDX-License-Identifier: BSD-3-Clause
#include "common/nodump.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t nodump_round(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return len ? (len + pg - 1) & ~(pg - 1) : pg;
}

/*
 * A mapping of our own rather than malloc: MADV_DONTDUMP marks whole pages,
 * and a heap page shared with other objects would hide them too (or, freed
 * back to the heap, keep hiding whatever malloc puts there next).
 */
void *nodump_alloc(size_t len)
{
	size_t n = nodump_round(len);
	void *p;

	if (len > SIZE_MAX / 2) {
		errno = ENOMEM;
		return NULL;
	}
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, n, MADV_DONTDUMP) != 0) {
		int err = errno;

		munmap(p, n);
		errno = err;
		return NULL;
	}
	return p;
}

/* mremap keeps the mapping's flags, VM_DONTDUMP with them. */
void *nodump_grow(void *p, size_t old_len, size_t new_len)
{
	void *np;

	if (!p)
		return nodump_alloc(new_len);
	if (new_len > SIZE_MAX / 2) {
		errno = ENOMEM;
		return NULL;
	}
	np = mremap(p, nodump_round(old_len), nodump_round(new_len), MREMAP_MAYMOVE);
	return np == MAP_FAILED ? NULL : np;
}

void nodump_free(void *p, size_t len)
{
	if (p)
		munmap(p, nodump_round(len));
}

int nodump_mark(void *p, size_t len, size_t pg)
{
	uintptr_t lo, hi;

	if (!pg)
		pg = (size_t)sysconf(_SC_PAGESIZE);
	lo = ((uintptr_t)p + pg - 1) & ~(uintptr_t)(pg - 1);
	hi = ((uintptr_t)p + len) & ~(uintptr_t)(pg - 1);
	if (hi <= lo)
		return 0;
	return madvise((void *)lo, hi - lo, MADV_DONTDUMP) == 0 ? 0 : -errno;
}
