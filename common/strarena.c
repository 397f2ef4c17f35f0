// SPDX-License-Identifier: BSD-3-Clause
#include "common/strarena.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int strarena_create(const uint32_t slots[STRARENA_CLASSES], struct strarena **out)
{
	struct strarena *a;
	size_t len = 0;

	for (int c = 0; c < STRARENA_CLASSES; c++) {
		if (slots[c] >= STRARENA_IDX_MASK)
			return -EINVAL;
		len += (size_t)slots[c] * (size_t)(c + 1) * STRARENA_GRAIN;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (len) {
		/* Not touched here: a slot's page becomes resident when a value first lands in it.
		 */
		a->map =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a->map == MAP_FAILED) {
			free(a);
			return -ENOMEM;
		}
		a->map_len = len;
	}
	len = 0;
	for (int c = 0; c < STRARENA_CLASSES; c++) {
		a->c[c].mem = a->map + len;
		a->c[c].size = (uint32_t)(c + 1) * STRARENA_GRAIN;
		a->c[c].n = slots[c];
		len += (size_t)slots[c] * a->c[c].size;
	}
	*out = a;
	return 0;
}

void strarena_destroy(struct strarena *a)
{
	if (!a)
		return;
	if (a->map_len)
		munmap(a->map, a->map_len);
	free(a);
}

void strarena_put(struct strarena *a, uint32_t *h)
{
	struct strarena_class *k;
	uint8_t *slot;

	if (!*h)
		return;
	k = &a->c[*h >> STRARENA_IDX_BITS];
	slot = strarena_slot(a, *h);
	memcpy(slot, &k->free_head, sizeof(k->free_head));
	k->free_head = *h & STRARENA_IDX_MASK;
	a->st.held_bytes -= k->size;
	*h = 0;
}

size_t strarena_set_new(struct strarena *a, uint32_t *h, const void *p, size_t n)
{
	uint32_t c, idx;
	struct strarena_class *k;

	if (n > STRARENA_MAX)
		n = STRARENA_MAX;
	if (!n) {
		strarena_put(a, h);
		return 0;
	}
	if (n <= strarena_slot_bytes(*h)) {
		memcpy(strarena_slot(a, *h), p, n);
		return n;
	}
	c = (uint32_t)(n - 1) / STRARENA_GRAIN;
	strarena_put(a, h);
	k = &a->c[c];
	if (k->free_head) {
		idx = k->free_head;
		memcpy(&k->free_head, k->mem + (size_t)(idx - 1) * k->size, sizeof(k->free_head));
	} else if (k->bump < k->n) {
		idx = ++k->bump;
		a->st.touched_bytes += k->size;
	} else {
		a->st.exhausted++;
		return 0;
	}
	*h = c << STRARENA_IDX_BITS | idx;
	a->st.held_bytes += k->size;
	memcpy(strarena_slot(a, *h), p, n);
	return n;
}

const struct strarena_stats *strarena_stats(const struct strarena *a)
{
	return &a->st;
}

size_t strarena_mem_bytes(const struct strarena *a)
{
	return sizeof(*a) + a->map_len;
}
