/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * source_dpdk internals: the source's state, shared by source_dpdk.c (receive
 * path, counters, ops table) and source_dpdk_setup.c (EAL, port set-up in
 * basicfwd's order, mempools). Set up and torn down on the control thread;
 * each dpdk_queue and its dpdk_rxq are then touched by their poller only.
 */
#ifndef RELAYWATCH_DATAPLANE_SOURCE_DPDK_INT_H
#define RELAYWATCH_DATAPLANE_SOURCE_DPDK_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "common/errbuf.h"
#include "dataplane/source.h"

#define DPDK_MAX_BURST	 64
#define DPDK_RX_DESC	 1024 /* asked for; adjust_nb_rx_tx_desc() has the last word */
#define DPDK_TX_DESC	 64   /* only for drivers that insist on a TX queue */
#define DPDK_MBUF_CACHE	 256
#define DPDK_POOL_MAX	 (1u << 20) /* mbufs per socket */
#define DPDK_JUMBO_N	 511	    /* chained frames linearised and not yet released */
#define DPDK_JUMBO_CACHE 16
#define DPDK_JUMBO_ROOM	 UINT16_MAX /* data room is a uint16_t: the largest frame we copy */
#define DPDK_MAX_MTU	 9600
#define DPDK_RSS_KEY_MAX 128
#define DPDK_RSS_HF	 (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP)
#define DPDK_RX_OFFLOADS RTE_ETH_RX_OFFLOAD_SCATTER
#define DPDK_SOCKETS	 RTE_MAX_NUMA_NODES

struct dpdk_port {
	uint16_t id;
	uint16_t nq;	  /* RX queues */
	uint16_t first_q; /* index in dpdk_src.rxq of RX queue 0 */
	uint16_t nb_rxd, nb_txd;
	uint16_t n_tx; /* 0, or 1 unused queue when the driver wants one */
	int socket;    /* pool index: the port's NUMA socket, 0 when unknown */
	bool rss;      /* several queues spread by RSS */
	bool sym_key;  /* the driver reports our symmetric key back (or cannot say) */
	bool replay;   /* net_pcap reading files: nothing is lost when read late */
	bool ts_us;    /* the timestamp dynfield holds microseconds since the epoch */
	bool configured, started;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	char name[RTE_DEV_NAME_MAX_LEN];
};

/* One RX queue of one port; touched only by the thread polling its source queue. */
struct dpdk_rxq {
	uint16_t port, qid;
	bool ts_us;
	uint16_t jumbo_room;
	struct rte_mempool *jumbo;
	uint16_t pos, n; /* received, not handed out yet: mb[pos..n) */
	struct rte_mbuf *mb[DPDK_MAX_BURST];
	/* single writer, relaxed load + store; read by stats() */
	_Atomic uint64_t pkts, bytes, copied, dropped;
} __rte_cache_aligned;

/* One source queue: one RX queue, or all RX queues of a replay merged by time. */
struct dpdk_queue {
	uint16_t first, n_rxq; /* rxq[first .. first + n_rxq) */
	uint64_t empty_since;  /* poller's copy of empty_ns */
	_Atomic uint64_t
		empty_ns; /* monotonic time of the first empty poll in a row, 0: not empty */
} __rte_cache_aligned;

struct dpdk_src {
	struct source base;
	bool eal_owned; /* we initialised the EAL: close() cleans it up */
	char **eal_argv;
	uint16_t n_ports;
	uint16_t n_rxq;
	uint16_t n_workers; /* what the pools are sized for */
	uint64_t idle_ns;
	int ts_off; /* timestamp dynfield offset, -1: none */
	uint64_t ts_flag;
	uint16_t n_cpu; /* CPUs of the EAL worker lcores, for pinning pollers */
	uint16_t cpu[RTE_MAX_LCORE];
	struct rte_mempool *pool[DPDK_SOCKETS];
	struct rte_mempool *jumbo[DPDK_SOCKETS];
	uint16_t jumbo_room[DPDK_SOCKETS];
	struct dpdk_port port[SOURCE_MAX_PORTS];
	struct dpdk_rxq rxq[SOURCE_MAX_QUEUES];
	struct dpdk_queue q[SOURCE_MAX_QUEUES];
	char desc[256];
};

extern const struct source_ops source_dpdk_ops;

/* EAL (unless already up), ports planned, configured and started, pools made,
 * queues mapped; d->base filled. On error the caller calls close. */
int source_dpdk_setup_open(struct dpdk_src *d, const struct source_cfg *cfg, struct errbuf *eb);
/* Stops and closes the ports, frees the pools, cleans up the EAL if ours. */
void source_dpdk_setup_close(struct dpdk_src *d);

#endif /* RELAYWATCH_DATAPLANE_SOURCE_DPDK_INT_H */
