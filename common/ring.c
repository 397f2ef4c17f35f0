// SPDX-License-Identifier: BSD-3-Clause
#include "common/ring.h"

#include <errno.h>
#include <stdlib.h>

int ring_create(uint32_t n_elems, uint32_t elem_size, struct ring **out)
{
	struct ring *r;
	uint32_t cap = 1;

	if (n_elems == 0 || n_elems > (1u << 30) || elem_size == 0)
		return -EINVAL;
	while (cap < n_elems)
		cap <<= 1;
	r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	r->slots = calloc(cap, elem_size);
	if (!r->slots) {
		free(r);
		return -ENOMEM;
	}
	r->mask = cap - 1;
	r->elem_size = elem_size;
	*out = r;
	return 0;
}

void ring_destroy(struct ring *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}
