// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/nodump.h"

#define SIGS_DEFAULT_STREAMS 1024

/* ---- the worker ---- */

void sigs_worker_cfg_default(struct sigs_worker_cfg *cfg)
{
	cfg->max_streams = SIGS_DEFAULT_STREAMS;
}

/* Grow the worker's scratch so it also serves every database of set. */
static int sigs_scratch_add(hs_scratch_t **scratch, const struct sigs_set *set)
{
	for (unsigned int i = 0; set && i < EV_SCOPE_COUNT; i++) {
		if (set->db[i].db && hs_alloc_scratch(set->db[i].db, scratch) != HS_SUCCESS)
			return -ENOMEM;
		if (set->db[i].base && hs_alloc_scratch(set->db[i].base, scratch) != HS_SUCCESS)
			return -ENOMEM;
		if (set->db[i].mid && hs_alloc_scratch(set->db[i].mid, scratch) != HS_SUCCESS)
			return -ENOMEM;
	}
	return 0;
}

static void sigs_slot_close(struct sigs_stream *sl)
{
	if (sl->hs)
		hs_close_stream(sl->hs, NULL, NULL, NULL);
	sl->hs = NULL;
	sl->set = NULL;
}

/* Open a stream on cur for every stale slot and put it in the free stack. */
static int sigs_pool_fill(struct sigs_worker *w)
{
	const hs_database_t *db = w->cur ? w->cur->db[EV_SCOPE_BODY].db : NULL;

	for (uint32_t i = 0; db && w->n_stale && i < w->n_slots; i++) {
		struct sigs_stream *sl = &w->slots[i];

		if (sl->state != SLOT_STALE)
			continue;
		sigs_slot_close(sl);
		if (hs_open_stream(db, 0, &sl->hs) != HS_SUCCESS) {
			sl->hs = NULL;
			return -ENOMEM;
		}
		sl->set = w->cur;
		sl->state = SLOT_IDLE;
		w->free_idx[w->n_free++] = i;
		w->n_stale--;
	}
	return 0;
}

/* A second set arrived while bodies still ran on the first: cut those bodies. */
static void sigs_cut_old(struct sigs_worker *w)
{
	for (uint32_t i = 0; i < w->n_slots; i++) {
		struct sigs_stream *sl = &w->slots[i];

		if (sl->set != w->old)
			continue;
		sigs_slot_close(sl);
		if (sl->state == SLOT_OPEN) {
			sl->state = SLOT_CUT;
			w->st.streams_cut++;
		}
	}
	w->open_old = 0;
	sigs_put(w->old);
	w->old = NULL;
}

/* Every body on old has closed: let it go and shrink the scratch to cur. */
static void sigs_drop_old(struct sigs_worker *w)
{
	hs_scratch_t *fresh = NULL;

	for (uint32_t i = 0; i < w->n_slots; i++)
		if (w->slots[i].set == w->old)
			sigs_slot_close(&w->slots[i]);
	sigs_put(w->old);
	w->old = NULL;
	if (sigs_scratch_add(&fresh, w->cur) == 0 && fresh) {
		hs_free_scratch(w->scratch);
		w->scratch = fresh;
	} else {
		hs_free_scratch(fresh);
	}
}

static int sigs_switch(struct sigs_worker *w)
{
	struct sigs_set *nset = sigs_acquire(w->s);

	if (!nset || nset == w->cur) {
		sigs_put(nset);
		return -EAGAIN;
	}
	if (w->old)
		sigs_cut_old(w);
	if (sigs_scratch_add(&w->scratch, nset)) {
		sigs_put(nset);
		w->st.switch_failed++;
		return -ENOMEM;
	}
	/* Idle streams belong to the outgoing set: reopen them on the new one. */
	for (uint32_t i = 0; i < w->n_free; i++)
		w->slots[w->free_idx[i]].state = SLOT_STALE;
	w->n_stale += w->n_free;
	w->n_free = 0;
	w->open_old = (uint32_t)w->st.streams_open;
	for (uint32_t i = 0; i < w->n_slots; i++)
		if (w->slots[i].state == SLOT_CUT)
			w->open_old--;
	w->old = w->cur;
	w->cur = nset;
	/* The verdicts and rule indexes of the old set mean nothing for the new one. */
	memset(w->verdict, 0, SIGS_VERDICT_SLOTS * sizeof(*w->verdict));
	w->st.generation = nset->generation;
	w->st.switches++;
	return 0;
}

bool sigs_worker_housekeep(struct sigs_worker *w)
{
	bool switched = false;

	if (atomic_load_explicit(&w->s->generation, memory_order_acquire) != w->st.generation)
		switched = sigs_switch(w) == 0;
	if (w->n_stale && sigs_pool_fill(w))
		w->st.switch_failed++;
	if (w->old && w->open_old == 0)
		sigs_drop_old(w);
	return switched;
}

int sigs_worker_create(struct sigs *s, const struct sigs_worker_cfg *cfg, struct sigs_worker **out)
{
	struct sigs_worker *w = calloc(1, sizeof(*w));
	uint32_t n = cfg && cfg->max_streams ? cfg->max_streams : SIGS_DEFAULT_STREAMS;

	if (!w)
		return -ENOMEM;
	w->s = s;
	w->slots = calloc(n, sizeof(*w->slots));
	w->free_idx = calloc(n, sizeof(*w->free_idx));
	w->verdict = nodump_alloc(SIGS_VERDICT_SLOTS * sizeof(*w->verdict));
	w->n_slots = n;
	w->n_stale = n;
	w->cur = sigs_acquire(s);
	w->st.generation = w->cur ? w->cur->generation : 0;
	if (!w->slots || !w->free_idx || !w->verdict || sigs_scratch_add(&w->scratch, w->cur) ||
	    sigs_pool_fill(w)) {
		sigs_worker_destroy(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

void sigs_worker_destroy(struct sigs_worker *w)
{
	if (!w)
		return;
	for (uint32_t i = 0; w->slots && i < w->n_slots; i++)
		sigs_slot_close(&w->slots[i]);
	hs_free_scratch(w->scratch);
	sigs_put(w->old);
	sigs_put(w->cur);
	free(w->slots);
	free(w->free_idx);
	nodump_free(w->verdict, SIGS_VERDICT_SLOTS * sizeof(*w->verdict));
	free(w);
}

void sigs_worker_stats(const struct sigs_worker *w, struct sigs_worker_stats *out)
{
	size_t sz = 0;

	*out = w->st;
	if (w->scratch && hs_scratch_size(w->scratch, &sz) == HS_SUCCESS)
		out->scratch_bytes = sz;
	if (w->cur)
		out->stream_pool_bytes = (uint64_t)w->cur->info.stream_bytes * w->n_slots;
}
