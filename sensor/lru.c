// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/lru.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HDR sizeof(struct lru_link)

static inline struct lru_link *link_at(const struct lru *t, uint32_t i)
{
	return (struct lru_link *)(t->slot + (size_t)i * t->slot_size);
}

static inline void *ent_at(const struct lru *t, uint32_t i)
{
	return t->slot + (size_t)i * t->slot_size + HDR;
}

uint32_t lru_index(const struct lru *t, const void *ent)
{
	return (uint32_t)(((const uint8_t *)ent - HDR - t->slot) / t->slot_size);
}

void *lru_at(const struct lru *t, uint32_t idx)
{
	if (idx >= t->high || link_at(t, idx)->chain == LRU_FREE)
		return NULL;
	return ent_at(t, idx);
}

int lru_init(struct lru *t, uint32_t cap, size_t ent_size, lru_evict_fn *on_evict, void *arg)
{
	uint32_t nb = 1;

	memset(t, 0, sizeof(*t));
	if (cap == 0 || ent_size == 0 || cap > (1u << 30))
		return -EINVAL;
	/* Two buckets per entry keeps chains at about one entry. */
	while (nb < cap * 2u)
		nb <<= 1;
	/* Entries keep 8-byte alignment after the 24-byte link. */
	t->slot_size = (HDR + ent_size + 7) & ~(size_t)7;
	t->slot = calloc(cap, t->slot_size);
	t->bucket = calloc(nb, sizeof(*t->bucket));
	if (!t->slot || !t->bucket) {
		lru_fini(t);
		return -ENOMEM;
	}
	t->ent_size = ent_size;
	t->cap = cap;
	t->mask = nb - 1;
	t->on_evict = on_evict;
	t->arg = arg;
	return 0;
}

void lru_fini(struct lru *t)
{
	free(t->slot);
	free(t->bucket);
	memset(t, 0, sizeof(*t));
}

void *lru_find(struct lru *t, uint32_t hash, lru_eq_fn *eq, const void *key)
{
	uint32_t i = t->bucket[hash & t->mask];

	/* Chains are short and a chain never holds more than cap entries. */
	for (uint32_t n = 0; i && n < t->cap; n++) {
		struct lru_link *l = link_at(t, i - 1);

		if (l->hash == hash && (!eq || eq(ent_at(t, i - 1), key)))
			return ent_at(t, i - 1);
		i = l->chain;
	}
	return NULL;
}

static void list_unlink(struct lru *t, uint32_t i)
{
	struct lru_link *l = link_at(t, i);

	if (l->prev)
		link_at(t, l->prev - 1)->next = l->next;
	else
		t->head = l->next;
	if (l->next)
		link_at(t, l->next - 1)->prev = l->prev;
	else
		t->tail = l->prev;
	l->prev = l->next = 0;
}

static void list_push_head(struct lru *t, uint32_t i)
{
	struct lru_link *l = link_at(t, i);

	l->prev = 0;
	l->next = t->head;
	if (t->head)
		link_at(t, t->head - 1)->prev = i + 1;
	t->head = i + 1;
	if (!t->tail)
		t->tail = i + 1;
}

static void chain_unlink(struct lru *t, uint32_t i)
{
	uint32_t *pp = &t->bucket[link_at(t, i)->hash & t->mask];

	for (uint32_t n = 0; *pp && n < t->cap; n++) {
		if (*pp == i + 1) {
			*pp = link_at(t, i)->chain;
			return;
		}
		pp = &link_at(t, *pp - 1)->chain;
	}
}

/* Take slot i out of every list and hand it back cleared. */
static void slot_release(struct lru *t, uint32_t i)
{
	if (t->on_evict)
		t->on_evict(t->arg, ent_at(t, i));
	chain_unlink(t, i);
	list_unlink(t, i);
	memset(ent_at(t, i), 0, t->ent_size);
	link_at(t, i)->chain = LRU_FREE;
	t->count--;
}

void *lru_add(struct lru *t, uint32_t hash, bool *evicted)
{
	uint32_t i;

	if (evicted)
		*evicted = false;
	if (t->free_list) {
		i = t->free_list - 1;
		t->free_list = link_at(t, i)->next;
		link_at(t, i)->next = 0;
	} else if (t->high < t->cap) {
		i = t->high++;
	} else {
		i = t->tail - 1;
		slot_release(t, i);
		t->evicted++;
		if (evicted)
			*evicted = true;
	}
	link_at(t, i)->hash = hash;
	link_at(t, i)->touched = 0;
	link_at(t, i)->chain = t->bucket[hash & t->mask];
	t->bucket[hash & t->mask] = i + 1;
	list_push_head(t, i);
	t->count++;
	return ent_at(t, i);
}

void lru_touch(struct lru *t, void *ent)
{
	uint32_t i = lru_index(t, ent);

	if (t->head == i + 1)
		return;
	list_unlink(t, i);
	list_push_head(t, i);
}

void lru_touch_at(struct lru *t, void *ent, uint32_t now)
{
	struct lru_link *l = link_at(t, lru_index(t, ent));

	if (l->touched == now)
		return;
	l->touched = now;
	lru_touch(t, ent);
}

void lru_del(struct lru *t, void *ent)
{
	uint32_t i = lru_index(t, ent);

	if (link_at(t, i)->chain == LRU_FREE)
		return;
	slot_release(t, i);
	link_at(t, i)->next = t->free_list;
	t->free_list = i + 1;
}

void *lru_oldest(const struct lru *t)
{
	return t->tail ? ent_at(t, t->tail - 1) : NULL;
}

void *lru_newer(const struct lru *t, const void *ent)
{
	uint32_t p = link_at(t, lru_index(t, ent))->prev;

	return p ? ent_at(t, p - 1) : NULL;
}

size_t lru_entry_bytes(const struct lru *t)
{
	return t->slot_size + (size_t)(t->mask + 1) * sizeof(uint32_t) / t->cap;
}

size_t lru_mem_bytes(const struct lru *t)
{
	return (size_t)t->cap * t->slot_size + (size_t)(t->mask + 1) * sizeof(uint32_t);
}
