// SPDX-License-Identifier: BSD-3-Clause
#include "common/pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/nodump.h"

static int pool_setup(struct pool *p, uint32_t n, size_t obj_size, bool nodump)
{
	size_t bytes;

	memset(p, 0, sizeof(*p));
	if (n == 0 || obj_size == 0)
		return -EINVAL;
	obj_size = (obj_size + 15) & ~(size_t)15;
	if ((size_t)n > SIZE_MAX / obj_size)
		return -EINVAL;
	bytes = ((size_t)n * obj_size + 63) & ~(size_t)63;
	p->mem = nodump ? nodump_alloc(bytes) : aligned_alloc(64, bytes);
	p->map_len = nodump && p->mem ? bytes : 0;
	p->free_idx = malloc((size_t)n * sizeof(uint32_t));
	if (!p->mem || !p->free_idx) {
		pool_fini(p);
		return -ENOMEM;
	}
	memset(p->mem, 0, (size_t)n * obj_size);
	/* Lowest index on top: objects are handed out in address order at first. */
	for (uint32_t i = 0; i < n; i++)
		p->free_idx[i] = n - 1 - i;
	p->n = n;
	p->n_free = n;
	p->obj_size = obj_size;
	return 0;
}

int pool_init(struct pool *p, uint32_t n, size_t obj_size)
{
	return pool_setup(p, n, obj_size, false);
}

int pool_init_nodump(struct pool *p, uint32_t n, size_t obj_size)
{
	return pool_setup(p, n, obj_size, true);
}

void pool_fini(struct pool *p)
{
	if (!p)
		return;
	if (p->map_len)
		nodump_free(p->mem, p->map_len);
	else
		free(p->mem);
	free(p->free_idx);
	memset(p, 0, sizeof(*p));
}
