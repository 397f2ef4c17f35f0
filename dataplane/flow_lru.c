// SPDX-License-Identifier: BSD-3-Clause
/*
 * flow: the least-recently-seen lists (closed, embryonic, established),
 * release (the owner's last look, the index entry, the list links), expiry
 * from the list heads on packet time, and flush. The layout is told at the
 * top of flow.c.
 */
#include "dataplane/flow_int.h"

static void flow_index_remove(struct flow_table *ft, uint32_t idx)
{
	uint32_t b = flow_home(ft, (uint32_t)flow_hash_of(ft, flow_at(ft, idx)));

	for (uint32_t n = 0; n < ft->n_buckets; n++) {
		struct flow_bucket *bk = &ft->buckets[b];

		for (unsigned int s = 0; s < FLOW_BUCKET_SLOTS; s++) {
			if (bk->idx[s] != idx)
				continue;
			bk->sig[s] = 0;
			bk->idx[s] = 0;
			return;
		}
		if (bk->overflow != FLOW_OVERFLOW_STUCK)
			bk->overflow--;
		b = flow_bucket_next(ft, b);
	}
}

/* ---- least-recently-seen lists ---- */

/* The list is found from the heads, not from flow state, so state may change first. */
void flow_lru_unlink(struct flow_table *ft, uint32_t idx)
{
	struct flow *f = flow_at(ft, idx);

	if (f->lru_prev) {
		flow_at(ft, f->lru_prev)->lru_next = f->lru_next;
	} else {
		for (unsigned int l = 0; l < FLOW_LIST_N; l++)
			if (ft->lru[l].head == idx)
				ft->lru[l].head = f->lru_next;
	}
	if (f->lru_next) {
		flow_at(ft, f->lru_next)->lru_prev = f->lru_prev;
	} else {
		for (unsigned int l = 0; l < FLOW_LIST_N; l++)
			if (ft->lru[l].tail == idx)
				ft->lru[l].tail = f->lru_prev;
	}
	f->lru_prev = 0;
	f->lru_next = 0;
}

static enum flow_end flow_closed_reason(const struct flow *f)
{
	return ((f->tcp.dir[0].flags | f->tcp.dir[1].flags) & TCP_REASM_F_RST) ? FLOW_END_RST
									       : FLOW_END_FIN;
}

/* The owner's last look at a flow that leaves (or is reused). */
void flow_owner_release(struct flow_table *ft, struct flow *f, enum flow_end why, uint64_t now_ns)
{
	if (ft->release)
		ft->release(ft->release_arg, f, why, now_ns);
	if (flow_seen_dirs(f) != 3)
		ft->st.one_sided++;
}

/* The owner sees the flow first, then the slot goes back to the free chain. */
void flow_release(struct flow_table *ft, uint32_t idx, enum flow_end why, uint64_t now_ns)
{
	struct flow *f = flow_at(ft, idx);

	flow_owner_release(ft, f, why, now_ns);
	flow_index_remove(ft, idx);
	flow_lru_unlink(ft, idx);
	f->flags &= (uint8_t)~FLOW_F_CLOSED;
	f->lru_next = ft->free_head;
	ft->free_head = idx;
	ft->st.active--;
}

static inline bool flow_expired(const struct flow_table *ft, enum flow_list l, uint64_t now_ns)
{
	uint32_t idx = ft->lru[l].head;
	uint64_t last;

	if (!idx)
		return false;
	last = flow_at(ft, idx)->last_ns;
	/* packet time may step back a little (two tap ports): that is age 0 */
	return now_ns > last && now_ns - last >= ft->timeout_ns[l];
}

unsigned int flow_expire(struct flow_table *ft, uint64_t now_ns, unsigned int budget)
{
	unsigned int n = 0;

	for (unsigned int l = 0; l < FLOW_LIST_N; l++) {
		while (n < budget && flow_expired(ft, l, now_ns)) {
			uint32_t idx = ft->lru[l].head;
			bool closed = l == FLOW_LIST_CLOSED;

			flow_release(ft, idx,
				     closed ? flow_closed_reason(flow_at(ft, idx)) : FLOW_END_IDLE,
				     now_ns);
			if (closed)
				ft->st.expired_closed++;
			else
				ft->st.expired_idle++;
			n++;
		}
	}
	return n;
}

void flow_mark_closed(struct flow_table *ft, struct flow *f)
{
	uint32_t idx = (uint32_t)(f - ft->flows) + 1;

	if (f->flags & FLOW_F_CLOSED)
		return;
	f->flags |= FLOW_F_CLOSED;
	flow_lru_unlink(ft, idx);
	flow_lru_push(ft, FLOW_LIST_CLOSED, idx);
}

/*
 * Every flow leaves, so the owner sees each one (in list order, as expiry
 * would) and the lists and free chain are reset whole instead of unlinked
 * flow by flow (two neighbour writes each). The index entries still go one
 * by one: clearing the whole index would sweep a big, mostly empty table.
 */
void flow_flush_all(struct flow_table *ft, uint64_t now_ns)
{
	for (unsigned int l = 0; l < FLOW_LIST_N; l++) {
		uint32_t idx = ft->lru[l].head;

		for (uint32_t n = 0; idx && n < ft->capacity; n++) {
			struct flow *f = flow_at(ft, idx);

			flow_owner_release(ft, f, FLOW_END_SHUTDOWN, now_ns);
			flow_index_remove(ft, idx);
			idx = f->lru_next;
			f->flags &= (uint8_t)~FLOW_F_CLOSED;
			f->lru_prev = 0;
			f->lru_next = 0;
		}
		ft->lru[l].head = 0;
		ft->lru[l].tail = 0;
	}
	ft->free_head = 0;
	ft->n_fresh = 0;
	ft->st.active = 0;
}
