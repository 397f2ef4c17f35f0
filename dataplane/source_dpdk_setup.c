// SPDX-License-Identifier: BSD-3-Clause
/*
 * source_dpdk set-up, on the control thread: the EAL from the arguments after
 * "--", then every port in basicfwd's order: info_get -> RSS hash types and
 * offloads masked by what the port has (differences logged, as l3fwd does) ->
 * configure (no TX queue) -> adjust_nb_rx_tx_desc -> mempools, one per NUMA
 * socket, sized for descriptors, what the consumer may hold and the per-lcore
 * caches -> RX queues on the port's socket -> start -> promiscuous. See
 * source_dpdk.c for the queue map and the frame life.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf_dyn.h>
#include <rte_memory.h>
#include <rte_mempool.h>

#include "common/log.h"
#include "common/nodump.h"
#include "dataplane/source_dpdk_int.h"
#include "dataplane/steer.h"

/* The repeated 0x6d5a Toeplitz key: swapping source and destination (addresses
 * and ports, both multiples of 16 bits) shifts the key by a whole period, so
 * both directions of a connection hash alike. */
static uint8_t dpdk_key[DPDK_RSS_KEY_MAX];

static int dpdk_eal_init(struct dpdk_src *d, const struct source_cfg *cfg, struct errbuf *eb)
{
	cpu_set_t saved;
	bool have_saved;

	if (cfg->eal_argc <= 0) {
		/* A test or an embedding program may have initialised the EAL itself. */
		if (rte_lcore_count() > 0)
			return 0;
		return errbuf_set(eb, -EINVAL,
				  "--dpdk: the EAL arguments follow \"--\" (e.g. -l 0-1 --no-huge "
				  "-m 512 --no-pci --vdev net_pcap0,rx_pcap=FILE)");
	}
	d->eal_argv = calloc((size_t)cfg->eal_argc + 2, sizeof(*d->eal_argv));
	if (!d->eal_argv)
		return -ENOMEM;
	d->eal_argv[0] = (char *)"relaywatch";
	memcpy(d->eal_argv + 1, cfg->eal_argv, (size_t)cfg->eal_argc * sizeof(*d->eal_argv));
	have_saved = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;
	if (rte_eal_init(cfg->eal_argc + 1, d->eal_argv) < 0)
		return errbuf_set(eb, rte_errno ? -rte_errno : -EINVAL,
				  "dpdk: EAL initialisation failed: %s (arguments after \"--\")",
				  rte_strerror(rte_errno));
	d->eal_owned = true;
	/* rte_eal_init() pinned this thread to the main lcore, and every thread made
	 * later would inherit that: only the pollers belong on the -l cores. */
	if (have_saved)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	return 0;
}

static void dpdk_lcores(struct dpdk_src *d)
{
	unsigned int lc;

	RTE_LCORE_FOREACH_WORKER(lc)
	{
		int cpu = rte_lcore_to_cpu_id((int)lc);

		if (cpu >= 0 && d->n_cpu < RTE_DIM(d->cpu))
			d->cpu[d->n_cpu++] = (uint16_t)cpu;
	}
}

/* net_pcap reading files only (rx_pcap=, no interface): a replay, not a live port. */
static bool dpdk_is_replay(const struct dpdk_port *p)
{
	const struct rte_devargs *da = rte_dev_devargs(p->info.device);
	const char *a = da ? da->args : NULL;
	bool files = false;

	if (!a || strcmp(p->info.driver_name, "net_pcap") != 0)
		return false;
	while (*a) {
		size_t n = strcspn(a, ",");

		if (strncmp(a, "rx_pcap=", 8) == 0)
			files = true;
		else if (strncmp(a, "rx_iface", 8) == 0 || strncmp(a, "iface=", 6) == 0)
			return false;
		a += n + (a[n] == ',');
	}
	return files;
}

static int dpdk_plan_port(struct dpdk_port *p, uint16_t want, struct errbuf *eb)
{
	const struct rte_eth_dev_info *in = &p->info;
	int ret, socket;

	ret = rte_eth_dev_info_get(p->id, &p->info);
	if (ret)
		return errbuf_set(eb, ret, "dpdk: port %u: info_get: %s", p->id,
				  rte_strerror(-ret));
	if (rte_eth_dev_get_name_by_port(p->id, p->name) != 0)
		snprintf(p->name, sizeof(p->name), "port%u", p->id);
	if (want > 1 && in->max_rx_queues > 1 && (in->flow_type_rss_offloads & DPDK_RSS_HF)) {
		p->rss = true;
		p->sym_key = true;
		p->nq = want < in->max_rx_queues ? want : in->max_rx_queues;
	} else {
		/* Without RSS a vdev's queues are separate inputs (one per rx_pcap,
		 * ring or qpair): read every one. A NIC has none yet: one. */
		p->nq = in->nb_rx_queues ? in->nb_rx_queues : 1;
		if (in->max_rx_queues && p->nq > in->max_rx_queues)
			p->nq = in->max_rx_queues;
	}
	socket = rte_eth_dev_socket_id(p->id);
	p->socket = socket >= 0 && socket < DPDK_SOCKETS ? socket : 0;
	p->replay = dpdk_is_replay(p);
	return 0;
}

/* A --vdev the EAL could not probe (a bad file name, a missing interface) would
 * silently leave one direction of a tap out: refuse to start instead. */
static int dpdk_check_vdevs(const struct dpdk_src *d, struct errbuf *eb)
{
	unsigned int asked = 0, got = 0;

	for (int i = 1; d->eal_argv && d->eal_argv[i]; i++)
		asked += strcmp(d->eal_argv[i], "--vdev") == 0 ||
			 strncmp(d->eal_argv[i], "--vdev=", 7) == 0;
	for (uint16_t i = 0; i < d->n_ports; i++) {
		const struct rte_bus *bus = rte_dev_bus(d->port[i].info.device);

		got += bus && strcmp(rte_bus_name(bus), "vdev") == 0;
	}
	if (got < asked)
		return errbuf_set(eb, -ENODEV,
				  "dpdk: %u --vdev given, %u probed (see the EAL's messages above)",
				  asked, got);
	return 0;
}

/* Source queue i reads RX queue i (ports in id order, each port's queues in
 * order); a replay has one source queue that merges every RX queue by time. */
static void dpdk_map_queues(struct dpdk_src *d)
{
	bool replay = true;

	for (uint16_t i = 0; i < d->n_ports; i++)
		replay &= d->port[i].replay;
	if (replay && d->n_rxq > 1) {
		d->base.n_queues = 1;
		d->q[0].first = 0;
		d->q[0].n_rxq = d->n_rxq;
		return;
	}
	d->base.n_queues = d->n_rxq;
	for (uint16_t i = 0; i < d->n_rxq; i++) {
		d->q[i].first = i;
		d->q[i].n_rxq = 1;
	}
}

static int dpdk_plan(struct dpdk_src *d, const struct source_cfg *cfg, struct errbuf *eb)
{
	unsigned int lcores = rte_lcore_count();
	uint16_t id, workers, want, nq = 0;
	int err;

	RTE_ETH_FOREACH_DEV(id)
	{
		if (d->n_ports == SOURCE_MAX_PORTS)
			return errbuf_set(eb, -E2BIG, "dpdk: more than %u ports", SOURCE_MAX_PORTS);
		d->port[d->n_ports++].id = id;
	}
	/* Every --vdev failed to probe: say that, not "give --vdev". */
	if (!d->n_ports && dpdk_check_vdevs(d, eb))
		return -ENODEV;
	if (!d->n_ports)
		return errbuf_set(eb, -ENODEV,
				  "dpdk: the EAL found no port (give --vdev, or bind "
				  "a NIC to a DPDK driver)");
	/* Without --workers, one worker per worker lcore of the -l list. */
	workers = cfg->n_workers ? cfg->n_workers : (uint16_t)(lcores > 1 ? lcores - 1 : 1);
	want = (uint16_t)((workers + d->n_ports - 1) / d->n_ports);
	for (uint16_t i = 0; i < d->n_ports; i++) {
		struct dpdk_port *p = &d->port[i];

		err = dpdk_plan_port(p, want, eb);
		if (err)
			return err;
		if (nq + p->nq > SOURCE_MAX_QUEUES)
			return errbuf_set(eb, -E2BIG, "dpdk: more than %u RX queues over all ports",
					  SOURCE_MAX_QUEUES);
		p->first_q = nq;
		nq += p->nq;
	}
	err = dpdk_check_vdevs(d, eb);
	if (err)
		return err;
	d->n_rxq = nq;
	dpdk_map_queues(d);
	/* main's default is one worker per queue */
	d->n_workers = cfg->n_workers ? cfg->n_workers : d->base.n_queues;
	return 0;
}

/* Both directions of a connection reach the same source queue. */
static bool dpdk_symmetric(const struct dpdk_src *d)
{
	const struct dpdk_port *p = &d->port[0];

	return d->base.n_queues == 1 || (d->n_ports == 1 && p->rss && p->sym_key);
}

static void dpdk_log_mask(uint16_t id, const char *what, uint64_t want, uint64_t have)
{
	if ((want & have) != want)
		log_info("dpdk: port %u: %s 0x%" PRIx64 " asked, 0x%" PRIx64
			 " supported: using 0x%" PRIx64,
			 id, what, want, have, want & have);
}

/* basicfwd's order, part 1: configure (no TX queue if the driver lets us), descriptors. */
static int dpdk_port_configure(struct dpdk_port *p, uint8_t *key, uint8_t key_len,
			       struct errbuf *eb)
{
	struct rte_eth_conf *c = &p->conf;
	int ret;

	if (p->rss) {
		c->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		c->rx_adv_conf.rss_conf.rss_key = key;
		c->rx_adv_conf.rss_conf.rss_key_len = key_len;
		c->rx_adv_conf.rss_conf.rss_hf = DPDK_RSS_HF & p->info.flow_type_rss_offloads;
		dpdk_log_mask(p->id, "RSS hash types", DPDK_RSS_HF, p->info.flow_type_rss_offloads);
	}
	c->rxmode.offloads = DPDK_RX_OFFLOADS & p->info.rx_offload_capa;
	dpdk_log_mask(p->id, "RX offloads", DPDK_RX_OFFLOADS, p->info.rx_offload_capa);
	/* A tap must take jumbo frames too: scattered, then linearised on receive. */
	if ((c->rxmode.offloads & RTE_ETH_RX_OFFLOAD_SCATTER) && p->info.max_mtu > RTE_ETHER_MTU)
		c->rxmode.mtu = RTE_MIN(p->info.max_mtu, DPDK_MAX_MTU);
	ret = rte_eth_dev_configure(p->id, p->nq, 0, c);
	if (ret < 0 && rte_eth_dev_configure(p->id, p->nq, 1, c) == 0) {
		ret = 0;
		p->n_tx = 1;
		log_info("dpdk: port %u: the driver refuses 0 TX queues; one is set up, never used",
			 p->id);
	}
	if (ret < 0)
		return errbuf_set(eb, ret, "dpdk: port %u (%s): configure %u RX queues: %s", p->id,
				  p->name, p->nq, rte_strerror(-ret));
	p->configured = true;
	p->nb_rxd = DPDK_RX_DESC;
	p->nb_txd = DPDK_TX_DESC;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &p->nb_rxd, &p->nb_txd);
	if (ret < 0)
		return errbuf_set(eb, ret, "dpdk: port %u: descriptors: %s", p->id,
				  rte_strerror(-ret));
	return 0;
}

static int dpdk_configure_all(struct dpdk_src *d, struct errbuf *eb)
{
	int err;

	for (size_t i = 0; i < sizeof(dpdk_key); i++)
		dpdk_key[i] = (i & 1) ? 0x5a : 0x6d;
	for (uint16_t i = 0; i < d->n_ports; i++) {
		struct dpdk_port *p = &d->port[i];
		uint8_t len = p->info.hash_key_size ? p->info.hash_key_size : 40;

		if (p->rss && len > sizeof(dpdk_key)) {
			log_warn("dpdk: port %u: %u-byte RSS key: not symmetric", p->id, len);
			p->sym_key = false;
		}
		err = dpdk_port_configure(p, dpdk_key, len, eb);
		if (err)
			return err;
	}
	return 0;
}

/* Every mbuf that can be out at once on one socket: RX descriptors, what the
 * consumer holds (steer.c's rings when it distributes), per-thread caches. */
static uint64_t dpdk_pool_need(const struct dpdk_src *d, int socket, uint64_t *min)
{
	bool steered = !dpdk_symmetric(d) || d->base.n_queues < d->n_workers;
	uint64_t hold = steered ? (uint64_t)d->n_workers * STEER_RING_FRAMES + DPDK_MAX_BURST
				: 2 * DPDK_MAX_BURST;
	uint64_t threads = rte_lcore_count() + d->base.n_queues + d->n_workers;
	uint64_t caches = threads * DPDK_MBUF_CACHE * 3 / 2;
	uint64_t n = 0, least = 0;

	for (uint16_t i = 0; i < d->n_ports; i++) {
		const struct dpdk_port *p = &d->port[i];

		if (p->socket != socket)
			continue;
		n += (uint64_t)p->nq * (p->nb_rxd + hold);
		least += (uint64_t)p->nq * (p->nb_rxd + 2 * DPDK_MAX_BURST);
	}
	*min = least ? least + caches : 0;
	return n ? n + caches : 0;
}

/*
 * mbufs hold the packets, SMTP AUTH credentials among them: their memory is
 * left out of core dumps (whole pages of the segment's page size only: a
 * hugepage VMA cannot be split elsewhere). EAL memory is dumpable otherwise.
 */
static void dpdk_pool_nodump(struct rte_mempool *mp, void *opaque, struct rte_mempool_memhdr *mh,
			     unsigned int idx)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(mh->addr);
	unsigned int *failed = opaque;

	(void)mp;
	(void)idx;
	if (nodump_mark(mh->addr, mh->len, msl ? msl->page_sz : 0))
		(*failed)++;
}

static struct rte_mempool *dpdk_pool_make(const char *what, int socket, uint64_t n, uint64_t least,
					  unsigned int cache, uint16_t room)
{
	static _Atomic unsigned int seq; /* pool names must be unique in the process */
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	/* A power of two minus one fills the mempool's ring best. */
	n = rte_align64pow2(n + 1) - 1;
	if (n > DPDK_POOL_MAX - 1)
		n = DPDK_POOL_MAX - 1;
	for (;;) {
		snprintf(name, sizeof(name), "rw%u_%s%d", atomic_fetch_add(&seq, 1), what, socket);
		mp = rte_pktmbuf_pool_create(name, (unsigned int)n, cache, 0, room, socket);
		if (mp) {
			unsigned int failed = 0;

			rte_mempool_mem_iter(mp, dpdk_pool_nodump, &failed);
			if (failed)
				log_warn("dpdk: %s mbufs: %u memory chunks stay in core dumps",
					 what, failed);
		}
		if (mp || rte_errno != ENOMEM || n / 2 < least)
			return mp;
		log_warn("dpdk: no memory for %" PRIu64 " %s mbufs on socket %d; trying %" PRIu64
			 " (give the EAL more with -m)",
			 n, what, socket, n / 2);
		n /= 2;
	}
}

/* The largest frame a port on this socket can hand us, when it exceeds one mbuf. */
static uint16_t dpdk_jumbo_room(const struct dpdk_src *d, int socket)
{
	uint32_t room = 0;

	for (uint16_t i = 0; i < d->n_ports; i++) {
		const struct dpdk_port *p = &d->port[i];

		if (p->socket == socket && p->info.max_rx_pktlen > room)
			room = p->info.max_rx_pktlen;
	}
	if (room <= RTE_MBUF_DEFAULT_DATAROOM)
		return 0;
	return room > DPDK_JUMBO_ROOM ? DPDK_JUMBO_ROOM : (uint16_t)room;
}

static int dpdk_pools_create(struct dpdk_src *d, struct errbuf *eb)
{
	for (int s = 0; s < DPDK_SOCKETS; s++) {
		uint64_t least, n = dpdk_pool_need(d, s, &least);
		uint16_t room = dpdk_jumbo_room(d, s);

		if (!n)
			continue;
		d->pool[s] = dpdk_pool_make("mb", s, n, least, DPDK_MBUF_CACHE,
					    RTE_MBUF_DEFAULT_BUF_SIZE);
		if (!d->pool[s])
			return errbuf_set(eb, -ENOMEM,
					  "dpdk: no memory for %" PRIu64 " mbufs on socket %d: %s "
					  "(give the EAL more with -m)",
					  least, s, rte_strerror(rte_errno));
		if (!room)
			continue;
		d->jumbo[s] =
			dpdk_pool_make("jb", s, DPDK_JUMBO_N, DPDK_JUMBO_N, DPDK_JUMBO_CACHE, room);
		d->jumbo_room[s] = room;
		if (!d->jumbo[s])
			log_warn("dpdk: no memory for jumbo mbufs on socket %d: chained frames "
				 "will be dropped and counted",
				 s);
	}
	return 0;
}

/* Our key read back, or the driver cannot say (it accepted it at configure). */
static bool dpdk_rss_key_is_ours(const struct dpdk_port *p)
{
	uint8_t got[DPDK_RSS_KEY_MAX];
	struct rte_eth_rss_conf rc = {.rss_key = got, .rss_key_len = sizeof(got)};
	uint8_t len = p->info.hash_key_size ? p->info.hash_key_size : 40;
	int ret = rte_eth_dev_rss_hash_conf_get(p->id, &rc);

	if (ret == -ENOTSUP)
		return true;
	if (ret || len > sizeof(got))
		return false;
	for (uint8_t i = 0; i < len; i++)
		if (got[i] != ((i & 1) ? 0x5a : 0x6d))
			return false;
	return true;
}

/* Some drivers take the key only through hash_update, not at configure. */
static bool dpdk_rss_key_update(const struct dpdk_port *p)
{
	struct rte_eth_rss_conf rc = p->conf.rx_adv_conf.rss_conf;

	return rte_eth_dev_rss_hash_update(p->id, &rc) == 0 && dpdk_rss_key_is_ours(p);
}

/* basicfwd's order, part 2: RX queues on the port's socket, start, promiscuous. */
static int dpdk_port_start(struct dpdk_src *d, struct dpdk_port *p, struct errbuf *eb)
{
	struct rte_eth_rxconf rxc = p->info.default_rxconf;
	int socket = rte_eth_dev_socket_id(p->id);
	int ret;

	rxc.offloads = p->conf.rxmode.offloads;
	for (uint16_t q = 0; q < p->nq; q++) {
		ret = rte_eth_rx_queue_setup(p->id, q, p->nb_rxd, (unsigned int)socket, &rxc,
					     d->pool[p->socket]);
		if (ret < 0)
			return errbuf_set(eb, ret, "dpdk: port %u: RX queue %u: %s", p->id, q,
					  rte_strerror(-ret));
	}
	if (p->n_tx) {
		ret = rte_eth_tx_queue_setup(p->id, 0, p->nb_txd, (unsigned int)socket, NULL);
		if (ret < 0)
			return errbuf_set(eb, ret, "dpdk: port %u: TX queue: %s", p->id,
					  rte_strerror(-ret));
	}
	ret = rte_eth_dev_start(p->id);
	if (ret < 0)
		return errbuf_set(eb, ret, "dpdk: port %u (%s): start: %s", p->id, p->name,
				  rte_strerror(-ret));
	p->started = true;
	ret = rte_eth_promiscuous_enable(p->id);
	if (ret)
		log_warn("dpdk: port %u: promiscuous mode: %s (frames for other MAC addresses "
			 "may be filtered)",
			 p->id, rte_strerror(-ret));
	if (p->rss && p->sym_key && !dpdk_rss_key_is_ours(p) && !dpdk_rss_key_update(p)) {
		log_warn("dpdk: port %u: the driver does not use the symmetric RSS key: "
			 "flows are spread in software",
			 p->id);
		p->sym_key = false;
	}
	return 0;
}

/* After start: the drivers have registered their dynamic fields by now. */
static void dpdk_queues_init(struct dpdk_src *d)
{
	int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);

	d->ts_off = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	if (d->ts_off >= 0 && bit >= 0)
		d->ts_flag = 1ull << bit;
	for (uint16_t i = 0; i < d->n_ports; i++) {
		struct dpdk_port *p = &d->port[i];

		/* Only net_pcap's unit is known (pcap header time, microseconds). */
		p->ts_us = d->ts_flag && strcmp(p->info.driver_name, "net_pcap") == 0;
		for (uint16_t q = 0; q < p->nq; q++) {
			struct dpdk_rxq *r = &d->rxq[p->first_q + q];

			r->port = p->id;
			r->qid = q;
			r->ts_us = p->ts_us;
			r->jumbo = d->jumbo[p->socket];
			r->jumbo_room = d->jumbo_room[p->socket];
		}
	}
}

static void dpdk_describe(struct dpdk_src *d)
{
	size_t off = 0;
	bool replay = true;

	for (uint16_t i = 0; i < d->n_ports; i++) {
		const struct dpdk_port *p = &d->port[i];
		int n;

		replay &= p->replay;
		/* Its XDP program comes off in rte_eth_dev_close(): CAP_NET_ADMIN and more. */
		if (strcmp(p->info.driver_name, "net_af_xdp") == 0)
			d->base.close_needs_root = true;
		log_info("dpdk: port %u %s (%s): %u RX queue%s%s, %u descriptors, socket %d%s",
			 p->id, p->name, p->info.driver_name, p->nq, p->nq == 1 ? "" : "s",
			 p->rss ? (p->sym_key ? ", symmetric RSS" : ", RSS") : "", p->nb_rxd,
			 rte_eth_dev_socket_id(p->id), p->ts_us ? ", pcap time stamps" : "");
		n = snprintf(d->desc + off, sizeof(d->desc) - off, "%s%s",
			     i ? "," : "dpdk:", p->name);
		if (n > 0 && (size_t)n < sizeof(d->desc) - off)
			off += (size_t)n;
	}
	d->base.desc = d->desc;
	d->base.live = !replay;
	d->base.symmetric = dpdk_symmetric(d);
	d->base.release_any_thread = true;
}

int source_dpdk_setup_open(struct dpdk_src *d, const struct source_cfg *cfg, struct errbuf *eb)
{
	int err;

	err = dpdk_eal_init(d, cfg, eb);
	if (!err)
		err = dpdk_plan(d, cfg, eb);
	if (!err)
		err = dpdk_configure_all(d, eb);
	if (!err)
		err = dpdk_pools_create(d, eb);
	for (uint16_t i = 0; i < d->n_ports && !err; i++)
		err = dpdk_port_start(d, &d->port[i], eb);
	if (err)
		return err;
	dpdk_lcores(d);
	dpdk_queues_init(d);
	dpdk_describe(d);
	return 0;
}

void source_dpdk_setup_close(struct dpdk_src *d)
{
	for (uint16_t i = 0; i < d->n_ports; i++) {
		struct dpdk_port *p = &d->port[i];

		if (p->started && rte_eth_dev_stop(p->id) != 0)
			log_warn("dpdk: port %u: stop failed", p->id);
		if (p->configured)
			rte_eth_dev_close(p->id);
		p->started = p->configured = false;
	}
	for (int i = 0; i < DPDK_SOCKETS; i++) {
		rte_mempool_free(d->pool[i]);
		rte_mempool_free(d->jumbo[i]);
		d->pool[i] = d->jumbo[i] = NULL;
	}
	if (d->eal_owned)
		rte_eal_cleanup();
	d->eal_owned = false;
	free(d->eal_argv);
	d->eal_argv = NULL;
}
