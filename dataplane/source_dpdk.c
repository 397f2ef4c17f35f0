// SPDX-License-Identifier: BSD-3-Clause
/*
 * DPDK source: every ethdev port the EAL probed (PCI NICs, or vdevs such as
 * net_pcap, net_af_packet, net_af_xdp, net_ring, net_null), receive only.
 *
 * Queues: ports in port-id order, each port's RX queues in order; source
 * queue = the port's first source queue + its queue id. A port with usable
 * RSS gets one queue per worker it serves (workers shared out over the
 * ports), hashed with the repeated 0x6d5a Toeplitz key, which gives both
 * directions of a connection the same hash (DPDK 22.11 has no
 * rss_conf.algorithm, so symmetry must come from the key). A port without
 * RSS keeps the queues its driver was created with (rx_pcap files, rings,
 * af_packet qpairs), at least one. The source is symmetric only with one
 * port whose traffic sits in one queue or is spread by the symmetric key;
 * several ports are never symmetric (a tap brings each direction on its own
 * port), so main distributes through steer.c.
 *
 * No TX queue is configured: the sensor never transmits. A driver that
 * refuses zero TX queues gets one that is never used (logged).
 *
 * Frames: pkt views into mbuf data, opaque = the mbuf. A chained mbuf
 * (jumbo frame, scattered RX, net_pcap reading a frame larger than one mbuf)
 * is copied into one mbuf of a per-socket jumbo pool and the chain freed, so
 * the copy lives exactly as long as any mbuf and release() stays one free.
 * Frames above 65535 bytes, or no jumbo mbuf free on a live port, are
 * dropped and counted (multiseg_dropped); a replay waits for a jumbo mbuf by
 * returning the rest of the burst on the next call.
 *
 * Time: net_pcap puts the capture time in the mbuf timestamp dynfield, in
 * microseconds (libpcap reads files at microsecond precision); other drivers'
 * dynfield units are device clock ticks, so every other packet gets the
 * wall clock read once per burst.
 *
 * Threads: rx_burst() for a queue runs on one thread, registered with the EAL
 * by thread_init() and pinned to a worker lcore of the -l list when there is
 * one. release() may run on any thread (mempools are thread-safe); a thread
 * that releases before it registered is registered then, once, so frees use a
 * per-lcore mempool cache. A port that only replays files (net_pcap rx_pcap)
 * loses nothing when read late, so such a source is not live: steer.c waits
 * instead of dropping, and its pools are sized for everything steer can hold.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include "common/clock.h"
#include "common/log.h"
#include "dataplane/source_dpdk_int.h"

static __thread bool dpdk_thread_tried; /* this thread asked the EAL for an lcore id */

static inline void ctr_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline uint64_t ctr_get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- receive path (one thread per source queue) ---- */

enum dpdk_lin {
	DPDK_LIN_OK = 0,
	DPDK_LIN_DROP = 1,
	DPDK_LIN_LATER = 2,
};

/* Copy a chain into one jumbo mbuf; *mp becomes that mbuf. */
static enum dpdk_lin dpdk_linearise(struct dpdk_src *d, struct dpdk_rxq *r, struct rte_mbuf **mp)
{
	struct rte_mbuf *m = *mp, *j;

	if (!r->jumbo || m->pkt_len > r->jumbo_room)
		goto drop;
	j = rte_pktmbuf_alloc(r->jumbo);
	if (!j) {
		if (!d->base.live)
			return DPDK_LIN_LATER;
		goto drop;
	}
	j->data_off = 0; /* the whole room: headroom is of no use to a reader */
	if (!rte_pktmbuf_read(m, 0, m->pkt_len, rte_pktmbuf_mtod(j, void *))) {
		rte_pktmbuf_free(j);
		goto drop;
	}
	j->data_len = (uint16_t)m->pkt_len;
	j->pkt_len = m->pkt_len;
	j->port = m->port;
	rte_pktmbuf_free(m);
	*mp = j;
	ctr_add(&r->copied, 1);
	return DPDK_LIN_OK;
drop:
	rte_pktmbuf_free(m);
	ctr_add(&r->dropped, 1);
	return DPDK_LIN_DROP;
}

static inline uint64_t dpdk_ts(const struct dpdk_src *d, const struct dpdk_rxq *r,
			       const struct rte_mbuf *m, uint64_t now)
{
	if (r->ts_us && (m->ol_flags & d->ts_flag))
		return *RTE_MBUF_DYNFIELD(m, d->ts_off, const rte_mbuf_timestamp_t *) * 1000;
	return now;
}

/* The next frame of an RX queue; asks the port at most once per call (*polled). */
static inline struct rte_mbuf *rxq_peek(struct dpdk_rxq *r, uint16_t want, bool *polled)
{
	if (r->pos == r->n) {
		if (*polled)
			return NULL;
		*polled = true;
		r->pos = 0;
		r->n = rte_eth_rx_burst(r->port, r->qid, r->mb, want);
		if (!r->n)
			return NULL;
	}
	return r->mb[r->pos];
}

/* Hand out r's head frame as *p; false when it must wait for a jumbo mbuf. */
static bool dpdk_take(struct dpdk_src *d, struct dpdk_rxq *r, uint16_t q, uint64_t ts,
		      struct pkt *p, uint16_t *out)
{
	struct rte_mbuf *m = r->mb[r->pos];

	if (unlikely(m->nb_segs > 1)) {
		enum dpdk_lin v = dpdk_linearise(d, r, &m);

		if (v == DPDK_LIN_LATER)
			return false;
		r->pos++;
		if (v == DPDK_LIN_DROP)
			return true;
	} else {
		r->pos++;
	}
	p->data = rte_pktmbuf_mtod(m, const uint8_t *);
	p->len = m->data_len;
	p->wire_len = m->pkt_len;
	p->ts_ns = ts;
	p->opaque = (uint64_t)(uintptr_t)m;
	p->link = PKT_LINK_ETHERNET;
	p->port = r->port;
	p->hash = 0; /* an RSS hash is not the software hash steer.c would compare */
	p->rxq = q;
	ctr_add(&r->pkts, 1);
	ctr_add(&r->bytes, m->pkt_len);
	(*out)++;
	return true;
}

static uint16_t dpdk_rx_one(struct dpdk_src *d, struct dpdk_rxq *r, uint16_t q, struct pkt *pkts,
			    uint16_t n)
{
	struct rte_mbuf *m = NULL;
	uint16_t out = 0;
	bool polled = false;
	uint64_t now;

	if (!rxq_peek(r, n, &polled))
		return 0;
	now = clock_real_ns(); /* vDSO: one read per burst for frames without a time stamp */
	while (out < n && (m = rxq_peek(r, n, &polled)))
		if (!dpdk_take(d, r, q, dpdk_ts(d, r, m, now), &pkts[out], &out))
			break;
	return out;
}

/* A replay: every file's next frame competes, the earliest goes first, as in -r. */
static uint16_t dpdk_rx_merge(struct dpdk_src *d, const struct dpdk_queue *dq, uint16_t q,
			      struct pkt *pkts, uint16_t n)
{
	bool polled[SOURCE_MAX_QUEUES] = {false};
	uint64_t now = clock_real_ns();
	uint16_t out = 0;

	while (out < n) {
		struct dpdk_rxq *best = NULL;
		uint64_t best_ts = UINT64_MAX;

		for (uint16_t i = 0; i < dq->n_rxq; i++) {
			struct dpdk_rxq *r = &d->rxq[dq->first + i];
			struct rte_mbuf *m = rxq_peek(r, DPDK_MAX_BURST, &polled[i]);
			uint64_t ts = m ? dpdk_ts(d, r, m, now) : UINT64_MAX;

			if (ts < best_ts) {
				best = r;
				best_ts = ts;
			}
		}
		if (!best || !dpdk_take(d, best, q, best_ts, &pkts[out], &out))
			break;
	}
	return out;
}

/* Keep the idle clock for at_eof(): written only when emptiness changes. */
static void dpdk_note_empty(struct dpdk_queue *dq, bool empty)
{
	if (empty && !dq->empty_since) {
		dq->empty_since = clock_mono_ns();
		atomic_store_explicit(&dq->empty_ns, dq->empty_since, memory_order_relaxed);
	} else if (!empty && dq->empty_since) {
		dq->empty_since = 0;
		atomic_store_explicit(&dq->empty_ns, 0, memory_order_relaxed);
	}
}

static uint16_t dpdk_rx(struct source *s, uint16_t q, struct pkt *pkts, uint16_t n)
{
	struct dpdk_src *d = (struct dpdk_src *)s;
	struct dpdk_queue *dq = &d->q[q];
	uint16_t got;

	if (n > DPDK_MAX_BURST)
		n = DPDK_MAX_BURST;
	if (dq->n_rxq == 1)
		got = dpdk_rx_one(d, &d->rxq[dq->first], q, pkts, n);
	else
		got = dpdk_rx_merge(d, dq, q, pkts, n);
	dpdk_note_empty(dq, got == 0);
	return got;
}

/* Once per thread: an lcore id gives this thread its own mempool cache. */
static void dpdk_thread_register(void)
{
	if (dpdk_thread_tried || rte_lcore_id() != LCORE_ID_ANY)
		return;
	dpdk_thread_tried = true;
	if (rte_thread_register() != 0)
		log_warn("dpdk: cannot register a thread with the EAL (%s): its mbuf frees "
			 "bypass the per-lcore cache",
			 rte_strerror(rte_errno));
}

static void dpdk_release(struct source *s, uint16_t q, struct pkt *pkts, uint16_t n)
{
	struct rte_mbuf *mb[DPDK_MAX_BURST];

	if (unlikely(!dpdk_thread_tried))
		dpdk_thread_register();
	while (n) {
		uint16_t k = n < DPDK_MAX_BURST ? n : DPDK_MAX_BURST;

		for (uint16_t i = 0; i < k; i++)
			mb[i] = (struct rte_mbuf *)(uintptr_t)pkts[i].opaque;
		rte_pktmbuf_free_bulk(mb, k);
		pkts += k;
		n -= k;
	}
}

/* Replays and tests: the input has ended once every queue stayed empty long enough. */
static bool dpdk_at_eof(struct source *s, uint16_t q)
{
	struct dpdk_src *d = (struct dpdk_src *)s;
	const struct dpdk_queue *dq = &d->q[q];
	uint64_t now;

	if (!d->idle_ns)
		return false;
	for (uint16_t i = dq->first; i < dq->first + dq->n_rxq; i++)
		if (d->rxq[i].pos < d->rxq[i].n)
			return false; /* a frame waits for a jumbo mbuf */
	now = clock_mono_ns();
	for (uint16_t i = 0; i < d->base.n_queues; i++) {
		uint64_t e = ctr_get(&d->q[i].empty_ns);

		if (!e || now - e < d->idle_ns)
			return false;
	}
	return true;
}

static int dpdk_thread_init(struct source *s, uint16_t q)
{
	struct dpdk_src *d = (struct dpdk_src *)s;
	cpu_set_t set;
	int err;

	dpdk_thread_register();
	if (!d->n_cpu)
		return 0;
	/* The -l list names the cores meant for polling: queue q polls on the q-th one. */
	CPU_ZERO(&set);
	CPU_SET(d->cpu[q % d->n_cpu], &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err)
		log_warn("dpdk: queue %u: cannot pin to cpu %u: %s", q, d->cpu[q % d->n_cpu],
			 strerror(err));
	return 0;
}

/* ---- counters and end ---- */

static void dpdk_port_stats(const struct dpdk_port *p, struct source_stats *out)
{
	struct rte_eth_stats st;

	if (!p->started || rte_eth_stats_get(p->id, &st) != 0)
		return;
	out->nic_missed += st.imissed;
	out->nic_errors += st.ierrors;
	out->ring_full += st.rx_nombuf;
	for (uint16_t i = 0; i < p->nq && i < RTE_ETHDEV_QUEUE_STAT_CNTRS; i++) {
		out->q[p->first_q + i].nic_pkts = st.q_ipackets[i];
		out->q[p->first_q + i].nic_errors = st.q_errors[i];
	}
}

static void dpdk_stats(struct source *s, struct source_stats *out)
{
	struct dpdk_src *d = (struct dpdk_src *)s;

	memset(out, 0, sizeof(*out));
	out->n_q = d->n_rxq; /* per port queue, also when a replay merges them */
	for (uint16_t i = 0; i < d->n_rxq; i++) {
		struct dpdk_rxq *r = &d->rxq[i];
		struct source_queue_stats *qs = &out->q[i];

		qs->port = r->port;
		qs->queue = r->qid;
		qs->pkts = ctr_get(&r->pkts);
		qs->bytes = ctr_get(&r->bytes);
		out->pkts += qs->pkts;
		out->bytes += qs->bytes;
		out->multiseg_copied += ctr_get(&r->copied);
		out->multiseg_dropped += ctr_get(&r->dropped);
	}
	for (uint16_t i = 0; i < d->n_ports; i++)
		dpdk_port_stats(&d->port[i], out);
}

static const char *dpdk_last_error(struct source *s)
{
	return NULL;
}

static void dpdk_close(struct source *s)
{
	struct dpdk_src *d = (struct dpdk_src *)s;

	if (!d)
		return;
	for (uint16_t i = 0; i < d->n_rxq; i++) {
		struct dpdk_rxq *r = &d->rxq[i];

		if (r->pos < r->n)
			rte_pktmbuf_free_bulk(r->mb + r->pos, r->n - r->pos);
		r->pos = r->n = 0;
	}
	source_dpdk_setup_close(d);
	free(d);
}

static int dpdk_open(const struct source_cfg *cfg, struct source **out, struct errbuf *eb)
{
	struct dpdk_src *d;
	int err;

	d = aligned_alloc(RTE_CACHE_LINE_SIZE, sizeof(*d));
	if (!d)
		return -ENOMEM;
	memset(d, 0, sizeof(*d));
	d->base.ops = &source_dpdk_ops;
	d->base.live = true;
	d->ts_off = -1;
	d->idle_ns = (uint64_t)cfg->exit_idle_ms * NS_PER_MSEC;
	err = source_dpdk_setup_open(d, cfg, eb);
	if (err) {
		dpdk_close(&d->base);
		return err;
	}
	*out = &d->base;
	return 0;
}

const struct source_ops source_dpdk_ops = {
	.name = "dpdk",
	.open = dpdk_open,
	.thread_init = dpdk_thread_init,
	.rx_burst = dpdk_rx,
	.release = dpdk_release,
	.at_eof = dpdk_at_eof,
	.stats = dpdk_stats,
	.last_error = dpdk_last_error,
	.close = dpdk_close,
};
