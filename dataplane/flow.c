// SPDX-License-Identifier: BSD-3-Clause
/*
 * Layout: a fixed array of struct flow plus a bucketized hash index. A bucket
 * is one cache line holding 10 slots of {16-bit signature, flow index + 1};
 * a lookup reads the home bucket, compares signatures with one SIMD compare
 * and reads a flow only on a signature match, so a miss costs one cache line.
 * A full bucket spills into the next one; each bucket counts the entries that
 * spilled past it (F14's overflow count), so lookups stop early and deletes
 * need no tombstones.
 *
 * Least-recently-seen order is kept in three intrusive lists (closed,
 * embryonic, established) through lru_prev/lru_next, so expiry only looks at
 * list heads and eviction can prefer flows that never carried payload.
 * Free slots are chained through lru_next.
 *
 * The parts: this file (create, destroy, keys, the hash index, lookups and
 * new flows), flow_lru.c (the lists, release, expiry, flush), flow_uid.c (a
 * flow's ends and its uid); flow_int.h is what they share.
 */
#include "dataplane/flow.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/clock.h"
#include "dataplane/flow_int.h"

/* One per tracked connection, and most of the memory a tracked SMTP flow
 * costs before DATA (bench's memory line): at 104 bytes a full default table
 * (256 Ki flows) is 26 MiB plus its index. 108 would gain nothing: the
 * table is rounded up to whole huge pages. */
_Static_assert(sizeof(struct flow) <= 104, "struct flow grew: per-flow memory is budgeted");
_Static_assert(sizeof(struct flow_key) == 40, "flow_key is hashed and compared as 5 words");
_Static_assert(offsetof(struct flow_key, lo_port) == 32 &&
		       offsetof(struct flow_key, hi_port) == 34 &&
		       offsetof(struct flow_key, vlan) == 36 &&
		       offsetof(struct flow_key, family) == 38,
	       "flow_key_tail() builds the last word in this layout");
_Static_assert(offsetof(struct flow, first_ns) == sizeof(struct flow_key) &&
		       offsetof(struct flow, l7) ==
			       offsetof(struct flow, tcp) + sizeof(struct tcp_reasm_pair) &&
		       sizeof(struct flow) == offsetof(struct flow, l7) + sizeof(uint32_t),
	       "flow_init() clears first_ns..tcp and sets tcp and l7 itself: nothing else");

void flow_table_cfg_default(struct flow_table_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = 1u << 18;
	cfg->idle_timeout_ms = 300 * 1000;
	cfg->embryonic_timeout_ms = 30 * 1000;
	cfg->closed_timeout_ms = 5 * 1000;
	cfg->vlan_in_key = true;
}

/*
 * Large arrays get transparent huge pages, so random lookups miss the TLB far
 * less; only when rounding up to whole huge pages wastes at most 1/8.
 */
static void *flow_alloc(size_t *bytes)
{
	size_t huge = (*bytes + FLOW_HUGE_PAGE - 1) & ~((size_t)FLOW_HUGE_PAGE - 1);
	size_t align = huge - *bytes <= *bytes / 8 ? FLOW_HUGE_PAGE : 64;
	void *p;

	*bytes = (*bytes + align - 1) & ~(align - 1);
	p = aligned_alloc(align, *bytes);
	if (!p)
		return NULL;
	if (align == FLOW_HUGE_PAGE)
		(void)madvise(p, *bytes, MADV_HUGEPAGE);
	memset(p, 0, *bytes); /* touch now: the data path must not page-fault */
	return p;
}

static unsigned int flow_grain_shift(const uint64_t timeout_ns[FLOW_LIST_N])
{
	uint64_t grain = UINT64_MAX;
	unsigned int shift = 0;

	for (unsigned int l = 0; l < FLOW_LIST_N; l++)
		if (timeout_ns[l] / 8 < grain)
			grain = timeout_ns[l] / 8;
	while (shift < 30 && (2ull << shift) <= grain)
		shift++;
	return shift;
}

/* splitmix64 steps from a fixed seed, when the kernel gives no randomness. */
static void flow_hash_keys(uint64_t key[FLOW_HASH_KEYS])
{
	uint64_t x = FLOW_INDEX_SEED;

	if (getrandom(key, FLOW_HASH_KEYS * sizeof(key[0]), GRND_NONBLOCK) ==
	    (ssize_t)(FLOW_HASH_KEYS * sizeof(key[0])))
		return;
	for (unsigned int i = 0; i < FLOW_HASH_KEYS; i++) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		key[i] = z ^ (z >> 31);
	}
}

int flow_table_create(const struct flow_table_cfg *cfg, struct flow_table **out)
{
	struct flow_table_cfg def;
	struct flow_table *ft;

	flow_table_cfg_default(&def);
	if (!cfg || cfg->capacity == 0 || cfg->capacity > FLOW_MAX_CAPACITY)
		return -EINVAL;
	ft = calloc(1, sizeof(*ft));
	if (!ft)
		return -ENOMEM;
	ft->capacity = cfg->capacity;
	ft->n_buckets = (cfg->capacity + FLOW_BUCKET_LOAD - 1) / FLOW_BUCKET_LOAD;
	ft->flows_bytes = (size_t)ft->capacity * sizeof(struct flow);
	ft->buckets_bytes = (size_t)ft->n_buckets * sizeof(struct flow_bucket);
	ft->flows = flow_alloc(&ft->flows_bytes);
	ft->buckets = flow_alloc(&ft->buckets_bytes);
	if (!ft->flows || !ft->buckets) {
		flow_table_destroy(ft);
		return -ENOMEM;
	}
	/* Secret index keys keep crafted tuples from piling into one bucket.
	 * A timeout left at 0 means the default, never "expire at once". */
	flow_hash_keys(ft->hkey);
	ft->timeout_ns[FLOW_LIST_CLOSED] =
		(uint64_t)(cfg->closed_timeout_ms ?: def.closed_timeout_ms) * NS_PER_MSEC;
	ft->timeout_ns[FLOW_LIST_EMBRYONIC] =
		(uint64_t)(cfg->embryonic_timeout_ms ?: def.embryonic_timeout_ms) * NS_PER_MSEC;
	ft->timeout_ns[FLOW_LIST_ESTABLISHED] =
		(uint64_t)(cfg->idle_timeout_ms ?: def.idle_timeout_ms) * NS_PER_MSEC;
	ft->grain_shift = flow_grain_shift(ft->timeout_ns);
	ft->vlan_mask = cfg->vlan_in_key ? UINT64_MAX : 0;
	ft->server_ports = cfg->server_ports;
	ft->release = cfg->release;
	ft->release_arg = cfg->release_arg;
	*out = ft;
	return 0;
}

void flow_table_destroy(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->flows);
	free(ft->buckets);
	ft->flows = NULL;
	ft->buckets = NULL;
	free(ft);
}

/* ---- keys and the hash index ---- */

/* lo_port, hi_port, vlan, family, pad as the last word of struct flow_key. */
static inline uint64_t flow_key_tail(uint16_t lo_port, uint16_t hi_port, uint16_t vlan,
				     uint8_t family)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return lo_port | (uint64_t)hi_port << 16 | (uint64_t)vlan << 32 | (uint64_t)family << 48;
#else
	return (uint64_t)lo_port << 48 | (uint64_t)hi_port << 32 | (uint64_t)vlan << 16 |
	       (uint64_t)family << 8;
#endif
}

/*
 * Fills the canonical key of m; returns whether the sender is key.lo. The
 * addresses compare as 128-bit big-endian numbers (memcmp order) and the
 * halves are picked with selects, so there is no data-dependent branch.
 */
static inline bool flow_key_make(const struct flow_table *ft, const struct pkt_meta *m,
				 struct flow_kw *k)
{
	bool src_lo = flow_end_is_lo(&m->src, m->sport, &m->dst, m->dport);
	const union pkt_addr *lo = src_lo ? &m->src : &m->dst;
	const union pkt_addr *hi = src_lo ? &m->dst : &m->src;
	uint16_t lo_port = src_lo ? m->sport : m->dport;
	uint16_t hi_port = src_lo ? m->dport : m->sport;

	k->lo0 = lo->q[0];
	k->lo1 = lo->q[1];
	k->hi0 = hi->q[0];
	k->hi1 = hi->q[1];
	k->tail = flow_key_tail(lo_port, hi_port, m->vlan & (uint16_t)ft->vlan_mask, m->family);
	return src_lo;
}

static inline void flow_key_store(struct flow_key *a, const struct flow_kw *k)
{
	char *p = (char *)a;

	_Static_assert(sizeof(*k) == sizeof(*a), "the key is five words");
	memcpy(p, &k->lo0, 8);
	memcpy(p + 8, &k->lo1, 8);
	memcpy(p + 16, &k->hi0, 8);
	memcpy(p + 24, &k->hi1, 8);
	memcpy(p + 32, &k->tail, 8);
}

static inline uint16_t flow_sig(uint64_t h)
{
	uint16_t s = (uint16_t)(h >> 48);

	return s ? s : 1;
}

/* Bit 2*i is set when slot i holds sig (two bits per 16-bit lane is what SSE2 gives). */
static inline uint32_t flow_bucket_match(const struct flow_bucket *bk, uint16_t sig)
{
#if defined(__SSE2__)
	__m128i s = _mm_set1_epi16((short)sig);
	__m128i lo = _mm_load_si128((const __m128i *)(const void *)bk->sig);
	__m128i hi = _mm_load_si128((const __m128i *)(const void *)&bk->sig[8]);
	uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi16(lo, s)) |
		     (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi16(hi, s)) << 16;

	return m & 0x55555u; /* one bit per lane, lanes past the slots dropped */
#else
	uint32_t m = 0;

	for (unsigned int i = 0; i < FLOW_BUCKET_SLOTS; i++)
		m |= (uint32_t)(bk->sig[i] == sig) << (2 * i);
	return m;
#endif
}

/* Flow index + 1 of k among bucket bk's slots in m (its flow_bucket_match()), 0 when none. */
static inline uint32_t flow_bucket_find(const struct flow_table *ft, const struct flow_bucket *bk,
					uint32_t m, const struct flow_kw *k)
{
	for (; m; m &= m - 1) {
		uint32_t idx = bk->idx[__builtin_ctz(m) >> 1];

		if (flow_key_eq(&ft->flows[idx - 1].key, k))
			return idx;
	}
	return 0;
}

/*
 * k is not in its home bucket b: the buckets its spilled entries reach, as
 * far as each one's overflow count says anything spilled past it.
 */
static uint32_t flow_find_spilled(const struct flow_table *ft, const struct flow_kw *k,
				  uint16_t sig, uint32_t b)
{
	for (uint32_t n = 1; ft->buckets[b].overflow && n < ft->n_buckets; n++) {
		const struct flow_bucket *bk;
		uint32_t idx;

		b = flow_bucket_next(ft, b);
		bk = &ft->buckets[b];
		idx = flow_bucket_find(ft, bk, flow_bucket_match(bk, sig), k);
		if (idx)
			return idx;
	}
	return 0;
}

static inline uint32_t flow_find(const struct flow_table *ft, const struct flow_kw *k, uint64_t h)
{
	uint32_t b = flow_home(ft, (uint32_t)h);
	const struct flow_bucket *bk = &ft->buckets[b];
	uint32_t idx = flow_bucket_find(ft, bk, flow_bucket_match(bk, flow_sig(h)), k);

	return idx ? idx : flow_find_spilled(ft, k, flow_sig(h), b);
}

static void flow_index_insert(struct flow_table *ft, uint32_t idx, uint64_t h)
{
	uint32_t b = flow_home(ft, (uint32_t)h);

	/* Slots outnumber flows, so a free slot exists within n_buckets steps. */
	for (uint32_t n = 0; n < ft->n_buckets; n++) {
		struct flow_bucket *bk = &ft->buckets[b];

		uint32_t empty = flow_bucket_match(bk, 0); /* sig 0: empty slot */

		if (empty) {
			unsigned int s = (unsigned int)__builtin_ctz(empty) >> 1;

			bk->sig[s] = flow_sig(h);
			bk->idx[s] = idx;
			return;
		}
		if (bk->overflow != FLOW_OVERFLOW_STUCK)
			bk->overflow++;
		b = flow_bucket_next(ft, b);
	}
}

/* ---- flow life cycle ---- */

static inline bool flow_port_is_server(const struct flow_table *ft, uint16_t port)
{
	return ft->server_ports && (ft->server_ports[port >> 3] & (1u << (port & 7)));
}

/* Who opened the connection, from the first packet we see of it (flow.h). */
static bool flow_client_is_src(const struct flow_table *ft, const struct pkt_meta *m)
{
	uint8_t sa = m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK);
	bool src_srv, dst_srv;

	if (sa == PKT_TCP_SYN)
		return true;
	if (sa == (PKT_TCP_SYN | PKT_TCP_ACK))
		return false;
	src_srv = flow_port_is_server(ft, m->sport);
	dst_srv = flow_port_is_server(ft, m->dport);
	if (src_srv != dst_srv)
		return dst_srv;
	return m->sport >= m->dport;
}

/*
 * Everything but the key (the caller's: a reused flow keeps its own) starts
 * at zero. Only the fields between the key and the reassembly state are
 * cleared here, since tcp_reasm_pair_init() clears its own: clearing the whole
 * entry first cost 30 instructions per new flow.
 */
static inline void flow_init(struct flow_table *ft, struct flow *f, const struct pkt_meta *m,
			     bool src_lo)
{
	memset(&f->first_ns, 0, offsetof(struct flow, tcp) - offsetof(struct flow, first_ns));
	f->l7 = 0;
	f->first_ns = m->ts_ns;
	f->last_ns = m->ts_ns;
	f->flags = flow_client_is_src(ft, m) == src_lo ? FLOW_F_CLIENT_LO : 0;
	tcp_reasm_pair_init(&f->tcp);
	ft->st.created++;
	if (!(m->tcp_flags & PKT_TCP_SYN))
		ft->st.midstream++;
}

/*
 * A free slot; when full, the least recently seen flow goes: a closed one
 * (only absorbing stragglers), else one that never carried payload (what a
 * SYN flood makes), else the oldest established one.
 */
static uint32_t flow_slot_get(struct flow_table *ft, uint64_t now_ns)
{
	uint32_t idx;

	if (!ft->free_head && ft->n_fresh == ft->capacity)
		flow_expire(ft, now_ns, 1);
	if (ft->free_head) {
		idx = ft->free_head;
		ft->free_head = flow_at(ft, idx)->lru_next;
		return idx;
	}
	if (ft->n_fresh < ft->capacity)
		return ++ft->n_fresh;
	for (unsigned int l = 0; l < FLOW_LIST_N; l++) {
		idx = ft->lru[l].head;
		if (!idx)
			continue;
		flow_release(ft, idx, FLOW_END_EVICTED, now_ns);
		ft->st.evicted++;
		ft->free_head = flow_at(ft, idx)->lru_next;
		return idx;
	}
	return 0; /* unreachable: a full table has flows on its lists */
}

/* Returns the new flow's index + 1: the caller need not divide by the entry size. */
static inline uint32_t flow_add(struct flow_table *ft, const struct flow_kw *k, uint64_t h,
				const struct pkt_meta *m, bool src_lo)
{
	uint32_t idx = flow_slot_get(ft, m->ts_ns);
	struct flow *f = flow_at(ft, idx);

	flow_key_store(&f->key, k);
	flow_init(ft, f, m, src_lo);
	flow_index_insert(ft, idx, h);
	flow_lru_push(ft, FLOW_LIST_EMBRYONIC, idx);
	ft->st.active++;
	return idx;
}

/* A new connection on the key of a finished one: same slot, same index entry. */
static void flow_reuse(struct flow_table *ft, uint32_t idx, const struct pkt_meta *m, bool src_lo)
{
	struct flow *f = flow_at(ft, idx);

	flow_owner_release(ft, f, FLOW_END_REUSED, m->ts_ns);
	ft->st.reused++;
	flow_lru_unlink(ft, idx);
	flow_init(ft, f, m, src_lo);
	flow_lru_push(ft, FLOW_LIST_EMBRYONIC, idx);
}

/* The low word of a payload counter wrapped: carry, or stay at FLOW_BYTES_MAX. */
static __attribute__((noinline, cold)) void flow_bytes_carry(struct flow *f, enum flow_dir dir)
{
	if (f->bytes_hi[dir] == UINT8_MAX)
		f->bytes_lo[dir] = UINT32_MAX;
	else
		f->bytes_hi[dir]++;
}

static inline void flow_bytes_add(struct flow *f, enum flow_dir dir, uint32_t len)
{
	if (__builtin_expect(__builtin_add_overflow(f->bytes_lo[dir], len, &f->bytes_lo[dir]), 0))
		flow_bytes_carry(f, dir);
}

static inline void flow_account(struct flow *f, const struct pkt_meta *m, enum flow_dir dir)
{
	if (m->ts_ns > f->last_ns)
		f->last_ns = m->ts_ns;
	flow_bytes_add(f, dir, m->payload_len);
	f->flags |= (uint8_t)(FLOW_F_SEEN << dir);
	if (m->tcp_flags & PKT_TCP_SYN)
		f->flags |= FLOW_F_SYN;
}

/* Which way a packet whose sender is (or is not) key.lo goes in f. */
static inline enum flow_dir flow_dir_of(const struct flow *f, bool src_lo)
{
	return src_lo == (bool)(f->flags & FLOW_F_CLIENT_LO) ? FLOW_DIR_TO_SERVER
							     : FLOW_DIR_TO_CLIENT;
}

/* The part of a lookup that runs once the index has answered: idx is the flow
 * of p's key, or 0 to add one. Any flow; flow_hit() is the usual one's. */
static __attribute__((noinline)) struct flow *flow_settle(struct flow_table *ft,
							  const struct pkt_meta *m,
							  const struct flow_prep *p, uint32_t idx,
							  enum flow_dir *dir)
{
	enum flow_list was;
	uint64_t was_ns;
	struct flow *f;

	if (!idx) {
		idx = flow_add(ft, &p->k, p->hash, m, p->src_lo);
		f = flow_at(ft, idx);
	} else {
		f = flow_at(ft, idx);
		if ((f->flags & FLOW_F_CLOSED) &&
		    (m->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_RST)) == PKT_TCP_SYN)
			flow_reuse(ft, idx, m, p->src_lo);
	}
	*dir = flow_dir_of(f, p->src_lo);
	was = flow_list_of(f);
	was_ns = f->last_ns;
	flow_account(f, m, *dir);
	flow_lru_touch(ft, f, idx, was, was_ns);
	return f;
}

/* A flow seen again in a later grain, or whose list changed: most recent, last. */
static __attribute__((noinline)) void flow_lru_move(struct flow_table *ft, uint32_t idx,
						    enum flow_list l)
{
	flow_lru_unlink(ft, idx);
	flow_lru_push(ft, l, idx);
}

/*
 * flow_settle() for a flow found and not closed (every packet of a live
 * connection), with what it works out twice done once: the list after the
 * packet follows from the one before (a payload makes the flow established;
 * the counters saturate, so they never come back to zero), the flags are
 * written once, and the LRU move is out of line. Same answer, same lists.
 */
static inline struct flow *flow_hit(struct flow_table *ft, const struct pkt_meta *m,
				    const struct flow_prep *p, uint32_t idx, enum flow_dir *dir)
{
	struct flow *f = flow_at(ft, idx);
	uint8_t fl = f->flags;
	uint64_t was_ns = f->last_ns, now_ns;
	enum flow_list was, l;
	enum flow_dir d;

	if (__builtin_expect(fl & FLOW_F_CLOSED, 0))
		return flow_settle(ft, m, p, idx, dir);
	d = flow_dir_of(f, p->src_lo);
	*dir = d;
	was = flow_list_open(f);
	l = m->payload_len ? FLOW_LIST_ESTABLISHED : was;
	now_ns = m->ts_ns > was_ns ? m->ts_ns : was_ns;
	f->last_ns = now_ns;
	flow_bytes_add(f, d, m->payload_len);
	f->flags = (uint8_t)(fl | FLOW_F_SEEN << d | (m->tcp_flags & PKT_TCP_SYN ? FLOW_F_SYN : 0));
	if (ft->lru[l].tail != idx &&
	    (l != was || (now_ns >> ft->grain_shift) != (was_ns >> ft->grain_shift)))
		flow_lru_move(ft, idx, l);
	return f;
}

/*
 * The two ways on from the home bucket are out of line, so the lookup itself
 * saves no registers and spills nothing for them (the probe loop holds the
 * whole key): a new flow (flow_settle() with no index), and the probe of a
 * bucket that holds the signature (match) or spilled entries past it. A flow
 * found in its home bucket (the usual packet) is settled right there; one
 * found past it (flow_get_far()) is rare.
 */
static __attribute__((noinline)) struct flow *flow_get_far(struct flow_table *ft,
							   const struct pkt_meta *m,
							   const struct flow_prep *p,
							   enum flow_dir *dir, bool may_add)
{
	uint32_t idx = flow_find_spilled(ft, &p->k, p->sig, p->home);

	if (!idx && !may_add)
		return NULL;
	return flow_settle(ft, m, p, idx, dir);
}

static inline __attribute__((always_inline)) struct flow *
flow_get_probe(struct flow_table *ft, const struct pkt_meta *m, const struct flow_prep *p,
	       uint32_t match, enum flow_dir *dir, bool may_add)
{
	uint32_t idx = flow_bucket_find(ft, &ft->buckets[p->home], match, &p->k);

	if (__builtin_expect(idx != 0, 1))
		return flow_hit(ft, m, p, idx, dir);
	return flow_get_far(ft, m, p, dir, may_add);
}

/*
 * A key whose signature is not in its home bucket, with nothing spilled past
 * it, is absent: that answer (every stray ACK of a flood, every new flow)
 * takes one SIMD compare here.
 */
static inline struct flow *flow_get(struct flow_table *ft, const struct pkt_meta *m,
				    const struct flow_prep *p, enum flow_dir *dir, bool may_add)
{
	const struct flow_bucket *bk = &ft->buckets[p->home];
	uint32_t match = flow_bucket_match(bk, p->sig);

	if (match || bk->overflow)
		return flow_get_probe(ft, m, p, match, dir, may_add);
	if (!may_add)
		return NULL;
	return flow_settle(ft, m, p, 0, dir);
}

static inline void flow_prep_make(const struct flow_table *ft, const struct pkt_meta *m,
				  struct flow_prep *p)
{
	p->src_lo = flow_key_make(ft, m, &p->k);
	p->hash = flow_hash(ft, &p->k);
	p->home = flow_home(ft, (uint32_t)p->hash);
	p->sig = flow_sig(p->hash);
}

static inline bool flow_may_start(const struct pkt_meta *m)
{
	return m->payload_len || (m->tcp_flags & PKT_TCP_SYN);
}

struct flow *flow_lookup_or_add(struct flow_table *ft, const struct pkt_meta *m, enum flow_dir *dir)
{
	struct flow_prep p;

	flow_prep_make(ft, m, &p);
	return flow_get(ft, m, &p, dir, true);
}

struct flow *flow_lookup_or_start(struct flow_table *ft, const struct pkt_meta *m,
				  enum flow_dir *dir)
{
	struct flow_prep p;

	flow_prep_make(ft, m, &p);
	return flow_get(ft, m, &p, dir, flow_may_start(m));
}

/*
 * Only the home bucket is fetched ahead: its address is a function of the
 * hash alone, whereas which flow entry it leads to is only known once the
 * bucket has arrived, and earlier packets of the burst may still change it.
 */
void flow_prepare(const struct flow_table *ft, const struct pkt_meta *m, struct flow_prep *p)
{
	flow_prep_make(ft, m, p);
	__builtin_prefetch(&ft->buckets[p->home]);
}

struct flow *flow_lookup_or_start_prepared(struct flow_table *ft, const struct pkt_meta *m,
					   const struct flow_prep *p, enum flow_dir *dir)
{
	return flow_get(ft, m, p, dir, flow_may_start(m));
}

struct flow *flow_lookup(struct flow_table *ft, const struct pkt_meta *m, enum flow_dir *dir)
{
	struct flow_prep p;
	uint32_t idx;
	struct flow *f;

	flow_prep_make(ft, m, &p);
	idx = flow_find(ft, &p.k, p.hash);
	if (!idx)
		return NULL;
	f = flow_at(ft, idx);
	*dir = flow_dir_of(f, p.src_lo);
	return f;
}

const struct flow_stats *flow_table_stats(const struct flow_table *ft)
{
	return &ft->st;
}

uint32_t flow_table_capacity(const struct flow_table *ft)
{
	return ft->capacity;
}

size_t flow_table_mem_bytes(const struct flow_table *ft)
{
	return sizeof(*ft) + ft->flows_bytes + ft->buckets_bytes;
}
