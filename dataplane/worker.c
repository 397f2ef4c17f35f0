// SPDX-License-Identifier: BSD-3-Clause
#include "dataplane/worker.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"

#define WORKER_HOUSEKEEP_EVERY 16    /* bursts between expiry and counter publishing */
#define WORKER_EXPIRE_BUDGET   64    /* flows expired per housekeeping round */
#define WORKER_IDLE_SPINS      64    /* empty polls spent spinning, then yielding */
#define WORKER_IDLE_YIELDS     256   /* empty polls before napping (idle_sleep) */
#define WORKER_IDLE_NAP_MIN_NS 50000 /* the first nap, doubled at each empty poll after */
/* A steering or AF_XDP ring of 4096 frames fills in ~410 us at 10 Mpps: the
 * longest nap, plus the kernel's timer slack (50 us), stays well within. */
#define WORKER_IDLE_NAP_MAX_NS 200000
/* Live and idle, housekeeping this often: about what 1024 empty polls took
 * with fixed 50 us naps. Offline, every WORKER_IDLE_HOUSEKEEP_POLLS. */
#define WORKER_IDLE_HOUSEKEEP_NS    (50 * NS_PER_MSEC)
#define WORKER_IDLE_HOUSEKEEP_POLLS 1024

/* A decoded packet waiting between the burst's stages (worker_process_burst). */
struct worker_slot {
	struct pkt_meta m;
	struct flow_prep fp; /* set only when tracked */
	bool tracked;	     /* on a port someone asked for */
};

struct worker {
	struct worker_cfg cfg;
	/* A flow's f->l7 is its session's offset in the L7 arena plus one:
	 * the session is at l7_base + f->l7 (l7_base is the arena's start - 1). */
	uintptr_t l7_base;
	size_t l7_bytes;
	struct flow_table *flows;
	struct tcp_reasm *reasm;
	uint64_t now_ns; /* packet time of the latest packet */
	struct worker_stats st;
	/* Made with the worker: none on the packet path. One more than a burst:
	 * stage 2 prefetches the next slot's payload without testing for the
	 * last (the spare's pointer is stale or NULL: a prefetch never faults). */
	struct worker_slot slot[WORKER_BURST + 1];
	_Atomic uint64_t watermark;
	_Atomic bool done;
	_Alignas(64) _Atomic uint64_t pub[sizeof(struct worker_stats) / sizeof(uint64_t)];
};

_Static_assert(sizeof(struct worker_stats) % sizeof(uint64_t) == 0,
	       "worker_stats must be made of uint64_t");

static bool worker_port_is_server(const struct worker *w, uint16_t port)
{
	return w->cfg.server_ports && (w->cfg.server_ports[port >> 3] & (1u << (port & 7)));
}

static inline void *worker_sess(const struct worker *w, const struct flow *f)
{
	return (void *)(w->l7_base + f->l7);
}

/* Stop asking for payload: L7 is done with this flow or never wanted it. */
static void worker_stop_payload(struct worker *w, struct flow *f, enum flow_l7_state state)
{
	tcp_reasm_bypass(w->reasm, &f->tcp);
	f->l7_state = (uint8_t)state;
}

/* L7 said it is done with the flow (v is not L7_CONTINUE). */
static void worker_l7_done(struct worker *w, struct flow *f, enum l7_verdict v)
{
	if (v == L7_RELEASED)
		f->l7 = 0; /* gone: close() must not see it */
	worker_stop_payload(w, f, FLOW_L7_BYPASS);
}

/* Pull everything reassembly can deliver and hand it to L7. */
static void worker_drain(struct worker *w, struct flow *f, uint64_t ts_ns)
{
	const struct l7_ops *l7 = w->cfg.l7;
	struct tcp_reasm_chunk c;
	enum l7_verdict v;

	while (f->l7_state == FLOW_L7_ACTIVE && tcp_reasm_next(w->reasm, &f->tcp, &c)) {
		enum flow_dir dir = (enum flow_dir)c.dir;
		void *sess = worker_sess(w, f);

		v = L7_CONTINUE;
		if (c.gap)
			v = l7->gap(w->cfg.l7_ctx, sess, f, dir, c.gap, ts_ns);
		if (v == L7_CONTINUE && c.len)
			v = l7->data(w->cfg.l7_ctx, sess, f, dir, c.ptr, c.len, ts_ns);
		if (v == L7_CONTINUE && c.fin && l7->eof)
			l7->eof(w->cfg.l7_ctx, sess, f, dir, ts_ns);
		if (v != L7_CONTINUE)
			worker_l7_done(w, f, v);
		else if (c.last)
			break; /* asking again would only be told there is nothing */
	}
}

/* The L7 session ends with the flow's TCP connection or with the flow entry. */
static void worker_close_l7(struct worker *w, struct flow *f, enum flow_end why, uint64_t now_ns)
{
	if (f->l7_state == FLOW_L7_ACTIVE) {
		/* Whatever is still held behind a hole goes up before the end. */
		tcp_reasm_flush(w->reasm, &f->tcp);
		worker_drain(w, f, now_ns);
	}
	if (f->l7 && w->cfg.l7->close)
		w->cfg.l7->close(w->cfg.l7_ctx, worker_sess(w, f), f, why, now_ns);
	f->l7 = 0;
	tcp_reasm_pair_fini(w->reasm, &f->tcp);
	/* no further payload for this flow entry */
	f->l7_state = FLOW_L7_IGNORED;
}

/* flow_release_fn: the flow table is about to drop f. */
static void worker_release_flow(void *arg, struct flow *f, enum flow_end why, uint64_t now_ns)
{
	worker_close_l7(arg, f, why, now_ns);
}

/*
 * Payload for L7 (a flow's first opens its session). True when it was the
 * usual segment, passed straight to L7, which goes on: that changed no flag
 * tcp_reasm_is_closed() reads.
 */
static bool worker_feed_payload(struct worker *w, struct flow *f, enum flow_dir dir,
				const struct pkt_meta *m)
{
	enum tcp_reasm_status st;
	enum l7_verdict v;

	if (f->l7_state == FLOW_L7_NONE) {
		void *sess = w->cfg.l7->open(w->cfg.l7_ctx, f, m->ts_ns);

		if (sess) {
			/* l7.h: in the arena, so the offset + 1 is in [1, UINT32_MAX] */
			assert((uintptr_t)sess - w->l7_base - 1 < w->l7_bytes);
			f->l7 = (uint32_t)((uintptr_t)sess - w->l7_base);
			f->l7_state = FLOW_L7_ACTIVE;
		} else {
			worker_stop_payload(w, f, FLOW_L7_IGNORED);
		}
	}
	if (f->l7_state == FLOW_L7_IGNORED)
		w->st.l7_ignored_pkts++;
	else if (f->l7_state == FLOW_L7_BYPASS)
		w->st.l7_bypassed_pkts++;

	st = tcp_reasm_add_pass(w->reasm, &f->tcp, dir, m);
	if (st == TCP_REASM_OK)
		worker_drain(w, f, m->ts_ns);
	if (st != TCP_REASM_PASSED)
		return false;
	/* The usual segment, whose payload is the one chunk (only an active
	 * flow's pair is not bypassed). */
	assert(f->l7_state == FLOW_L7_ACTIVE);
	v = w->cfg.l7->data(w->cfg.l7_ctx, worker_sess(w, f), f, dir, m->payload, m->payload_len,
			    m->ts_ns);
	if (v == L7_CONTINUE)
		return true;
	worker_l7_done(w, f, v); /* the bypass marks FINs sent */
	return false;
}

static void worker_feed_tcp(struct worker *w, struct flow *f, enum flow_dir dir,
			    const struct pkt_meta *m)
{
	/* Bypassed pairs still follow FIN/RST so the flow ends on time. */
	if (m->payload_len) {
		if (worker_feed_payload(w, f, dir, m))
			return;
	} else if (tcp_reasm_add(w->reasm, &f->tcp, dir, m) == TCP_REASM_OK) {
		worker_drain(w, f, m->ts_ns);
	} else if (!(m->tcp_flags & (PKT_TCP_FIN | PKT_TCP_RST))) {
		/* Without payload, FIN or RST, and with nothing made ready to
		 * hand out, no flag moved toward an end (a SYN only starts). */
		return;
	}

	if (tcp_reasm_is_closed(&f->tcp)) {
		worker_close_l7(w, f,
				(f->tcp.dir[0].flags | f->tcp.dir[1].flags) & TCP_REASM_F_RST
					? FLOW_END_RST
					: FLOW_END_FIN,
				m->ts_ns);
		flow_mark_closed(w->flows, f);
	}
}

/*
 * Stage 1: decode the burst and prefetch every tracked packet's flow bucket,
 * so that on a big table the bucket misses of the burst overlap instead of
 * each stalling stage 2 in turn. Returns the number of slots filled.
 */
static uint16_t worker_prepare(struct worker *w, const struct pkt *pkts, uint16_t n)
{
	struct worker_slot *s = w->slot;

	w->st.pkts += n;
	for (uint16_t i = 0; i < n; i++) {
		/* The next frame's headers are what decode reads first. */
		if (i + 1 < n)
			__builtin_prefetch(pkts[i + 1].data);
		w->st.bytes += pkts[i].wire_len;
		if (decode_pkt(&w->cfg.decode, &pkts[i], &s->m, &w->st.decode) != DECODE_OK)
			continue; /* counted by reason in decode */
		s->tracked = w->cfg.any_port || worker_port_is_server(w, s->m.dport) ||
			     worker_port_is_server(w, s->m.sport);
		if (s->tracked)
			flow_prepare(w->flows, &s->m, &s->fp);
		s++;
	}
	return (uint16_t)(s - w->slot);
}

/* Stage 2, in packet order: flow, reassembly and L7 for one decoded packet. */
static void worker_handle_pkt(struct worker *w, const struct worker_slot *s)
{
	enum flow_dir dir;
	struct flow *f;

	if (s->m.ts_ns > w->now_ns)
		w->now_ns = s->m.ts_ns;
	if (!s->tracked) {
		w->st.other_port++;
		return;
	}

	/*
	 * Only a SYN or payload can start anything: a bare ACK, FIN or RST of a
	 * connection we do not track (long-lived flows of other protocols, the
	 * tail of an evicted one, backscatter) would only churn the table.
	 */
	f = flow_lookup_or_start_prepared(w->flows, &s->m, &s->fp, &dir);
	if (!f) {
		w->st.no_flow_pkts++;
		return;
	}
	if (flow_is_closed(f)) {
		w->st.after_close_pkts++;
		return;
	}
	worker_feed_tcp(w, f, dir, &s->m);
}

static void worker_publish(struct worker *w)
{
	w->st.flow = *flow_table_stats(w->flows);
	w->st.reasm = *tcp_reasm_stats(w->reasm);
	w->st.last_ts_ns = w->now_ns;
	stats_publish(w->pub, &w->st, sizeof(w->st));
	/* Everything L7 emitted up to now_ns is committed before this store. */
	atomic_store_explicit(&w->watermark, w->now_ns, memory_order_release);
}

static void worker_housekeep(struct worker *w)
{
	flow_expire(w->flows, w->now_ns, WORKER_EXPIRE_BUDGET);
	if (w->cfg.l7->housekeep)
		w->cfg.l7->housekeep(w->cfg.l7_ctx, w->now_ns);
	worker_publish(w);
}

void worker_process_burst(struct worker *w, struct pkt *pkts, uint16_t n)
{
	/* A caller's burst longer than the slots goes through in slot-sized parts. */
	for (uint32_t i = 0; i < n; i += WORKER_BURST) {
		uint16_t part = (uint16_t)(n - i < WORKER_BURST ? n - i : WORKER_BURST);
		const struct worker_slot *s = w->slot, *end = s + worker_prepare(w, pkts + i, part);

		for (; s < end; s++) {
			/* Decode only read headers: the next payload is what L7 reads next. */
			__builtin_prefetch(s[1].m.payload);
			worker_handle_pkt(w, s);
		}
	}
	w->st.bursts++;
	if (w->st.bursts % WORKER_HOUSEKEEP_EVERY == 0)
		worker_housekeep(w);
}

static void worker_pin(struct worker *w)
{
	cpu_set_t set;
	int err;

	if (w->cfg.cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(w->cfg.cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err)
		log_warn("worker %u: cannot pin to cpu %d: %s", w->cfg.id, w->cfg.cpu,
			 strerror(err));
}

/*
 * Nothing came for a while: spin, yield, then nap. sched_yield() alone is
 * not enough on a small host: two yielding workers stay runnable forever,
 * and postfix next to them stalled for 30 s at a time in the AF_XDP tests.
 * The nap doubles up to WORKER_IDLE_NAP_MAX_NS while the link stays quiet
 * and starts over at the first packet: fixed 50 us naps woke an idle
 * AF_XDP worker 8 200 times a second, these 3 600. Without idle_sleep (offline, busy polling,
 * DPDK lcores) the worker only spins and yields.
 */
static void worker_backoff_cfg(const struct worker *w, struct backoff_cfg *c)
{
	*c = (struct backoff_cfg){
		.spins = WORKER_IDLE_SPINS,
		.yields = WORKER_IDLE_YIELDS,
		.nap_min_ns = w->cfg.idle_sleep ? WORKER_IDLE_NAP_MIN_NS : 0,
		.nap_max_ns = WORKER_IDLE_NAP_MAX_NS,
	};
}

/*
 * Housekeeping while no packet comes (expiry and L7 still take the packet
 * time, w->now_ns). Live: by the monotonic clock, so a longer nap cannot
 * hold it back. Offline the capture's clock stands still while the reader
 * catches up and the worker never naps: every WORKER_IDLE_HOUSEKEEP_POLLS
 * empty polls in a row, as always.
 */
static bool worker_idle_housekeep_due(const struct worker *w, uint32_t idle, uint64_t *next_ns)
{
	if (!w->cfg.src->live)
		return idle % WORKER_IDLE_HOUSEKEEP_POLLS == 0;
	return backoff_due(next_ns, clock_mono_ns(), WORKER_IDLE_HOUSEKEEP_NS);
}

int worker_run(struct worker *w)
{
	struct source *src = w->cfg.src;
	struct pkt burst[WORKER_BURST];
	struct backoff_cfg bc;
	struct backoff bo = {0};
	uint64_t housekeep_ns = 0; /* live: when idle housekeeping is due next */
	uint32_t idle = 0;
	int err;

	worker_backoff_cfg(w, &bc);

	worker_pin(w);
	if (src->ops->thread_init) {
		err = src->ops->thread_init(src, w->cfg.queue);
		if (err)
			return err;
	}
	if (w->cfg.l7->thread_init) {
		err = w->cfg.l7->thread_init(w->cfg.l7_ctx);
		if (err)
			return err;
	}
	while (!atomic_load_explicit(w->cfg.stop, memory_order_relaxed)) {
		uint16_t n = src->ops->rx_burst(src, w->cfg.queue, burst, WORKER_BURST);

		if (n) {
			worker_process_burst(w, burst, n);
			/* L7 saw views into these frames; only now may they be reused. */
			src->ops->release(src, w->cfg.queue, burst, n);
			idle = 0;
			backoff_reset(&bo);
			continue;
		}
		if (src->ops->at_eof(src, w->cfg.queue))
			break; /* offline capture finished */
		/* Quiet: keep expiring and publishing, then back off. */
		if (worker_idle_housekeep_due(w, ++idle, &housekeep_ns))
			worker_housekeep(w);
		backoff_wait(&bo, &bc);
	}
	worker_finish(w);
	if (w->cfg.l7->thread_fini)
		w->cfg.l7->thread_fini(w->cfg.l7_ctx);
	return 0;
}

void worker_finish(struct worker *w)
{
	flow_flush_all(w->flows, w->now_ns);
	if (w->cfg.l7->housekeep)
		w->cfg.l7->housekeep(w->cfg.l7_ctx, w->now_ns);
	worker_publish(w);
	atomic_store_explicit(&w->done, true, memory_order_release);
}

int worker_create(const struct worker_cfg *cfg, struct worker **out)
{
	struct flow_table_cfg fcfg = cfg->flow;
	struct worker *w;
	int err;

	const void *arena;
	size_t arena_bytes = 0;

	if (!cfg->l7 || !cfg->l7->open || !cfg->l7->data || !cfg->l7->gap || !cfg->l7->sess_arena ||
	    !cfg->stop)
		return -EINVAL;
	arena = cfg->l7->sess_arena(cfg->l7_ctx, &arena_bytes);
	if (!arena || arena_bytes > UINT32_MAX)
		return -EINVAL; /* a session's offset + 1 must fit f->l7 */
	w = aligned_alloc(64, sizeof(*w));
	if (!w)
		return -ENOMEM;
	memset(w, 0, sizeof(*w));
	w->cfg = *cfg;
	w->l7_base = (uintptr_t)arena - 1;
	w->l7_bytes = arena_bytes;

	fcfg.release = worker_release_flow;
	fcfg.release_arg = w;
	fcfg.server_ports = cfg->server_ports;
	err = flow_table_create(&fcfg, &w->flows);
	if (err)
		goto err_free;
	err = tcp_reasm_create(&cfg->reasm, &w->reasm);
	if (err)
		goto err_destroy_flows;
	*out = w;
	return 0;

err_destroy_flows:
	flow_table_destroy(w->flows);
err_free:
	free(w);
	return err;
}

void worker_destroy(struct worker *w)
{
	if (!w)
		return;
	tcp_reasm_destroy(w->reasm);
	flow_table_destroy(w->flows);
	free(w);
}

void worker_stats_read(struct worker *w, struct worker_stats *out)
{
	stats_read(out, w->pub, sizeof(*out));
}

uint64_t worker_watermark(struct worker *w)
{
	return atomic_load_explicit(&w->watermark, memory_order_acquire);
}

bool worker_is_done(struct worker *w)
{
	return atomic_load_explicit(&w->done, memory_order_acquire);
}

uint16_t worker_id(const struct worker *w)
{
	return w->cfg.id;
}

size_t worker_mem_bytes(const struct worker *w)
{
	return sizeof(*w) + flow_table_mem_bytes(w->flows) + tcp_reasm_mem_bytes(w->reasm);
}
