// SPDX-License-Identifier: BSD-3-Clause
#include "common/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pool_init(struct pool *p, uint32_t n, size_t obj_size)
{
	memset(p, 0, sizeof(*p));
	if (n == 0 || obj_size == 0)
		return -EINVAL;
	obj_size = (obj_size + 15) & ~(size_t)15;
	if ((size_t)n > SIZE_MAX / obj_size)
		return -EINVAL;
	p->mem = aligned_alloc(64, ((size_t)n * obj_size + 63) & ~(size_t)63);
	p->free_idx = malloc((size_t)n * sizeof(uint32_t));
	if (!p->mem || !p->free_idx) {
		free(p->mem);
		free(p->free_idx);
		p->mem = NULL;
		p->free_idx = NULL;
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

void pool_fini(struct pool *p)
{
	if (!p)
		return;
	free(p->mem);
	free(p->free_idx);
	memset(p, 0, sizeof(*p));
}
