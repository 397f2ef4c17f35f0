/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * source: packet sources behind one ops table (pcap file, AF_XDP, DPDK).
 * A source has n_queues receive queues; each queue is polled by exactly one
 * worker thread, which receives a burst of pkt views, processes them and
 * releases them. A source that cannot promise that both directions of a
 * connection arrive on the same queue says so (symmetric = false); then
 * steer.h spreads packets over workers with a software symmetric hash.
 *
 * Owns: the backend's frames, buffers and OS resources until close().
 */
#ifndef RELAYWATCH_DATAPLANE_SOURCE_H
#define RELAYWATCH_DATAPLANE_SOURCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "dataplane/pkt.h"

enum source_kind {
	SOURCE_PCAP = 0,
	SOURCE_AFXDP = 1,
	SOURCE_DPDK = 2,
};

enum source_xdp_mode {
	SOURCE_XDP_AUTO = 0,
	SOURCE_XDP_NATIVE = 1,
	SOURCE_XDP_GENERIC = 2,
};

enum source_bind {
	SOURCE_BIND_AUTO = 0,
	SOURCE_BIND_ZEROCOPY = 1,
	SOURCE_BIND_COPY = 2,
};

#define SOURCE_MAX_QUEUES 64
#define SOURCE_MAX_PORTS  16

struct source_cfg {
	enum source_kind kind;
	uint16_t n_queues; /* queues wanted (live) */
	/* Live: at_eof() once every queue has been empty this long (replays, tests); 0: never. */
	uint32_t exit_idle_ms;
	/* pcap */
	const char *path;
	bool preload; /* read the whole file into memory at open */
	/* AF_XDP */
	const char *iface;
	enum source_xdp_mode xdp_mode;
	enum source_bind bind;
	bool busy_poll;
	const uint16_t *ports; /* SMTP ports for the XDP pre-filter */
	uint16_t n_ports;
	uint32_t frames_per_queue; /* UMEM frames */
	/* DPDK */
	int eal_argc;
	char **eal_argv;
	uint16_t n_workers; /* lcores that will poll */
};

/* One receive queue, for backends that count per queue (DPDK, AF_XDP). */
struct source_queue_stats {
	uint16_t port;	/* backend port id */
	uint16_t queue; /* queue on that port */
	uint64_t pkts;	/* handed to the caller */
	uint64_t bytes;
	uint64_t nic_pkts;   /* as the driver counts them (q_ipackets), 0 if unknown */
	uint64_t nic_errors; /* q_errors */
	/* this queue's share of source_stats' drops, where the backend knows it (AF_XDP) */
	uint64_t nic_missed;
	uint64_t ring_full;
	uint64_t fill_empty;
};

/* Every place a packet can be lost before a worker sees it, plus totals. */
struct source_stats {
	uint64_t pkts;
	uint64_t bytes;
	uint64_t nic_missed; /* NIC / kernel dropped: rx ring full, imissed */
	uint64_t nic_errors;
	uint64_t ring_full;	  /* AF_XDP rx ring full, DPDK rx_nombuf */
	uint64_t fill_empty;	  /* AF_XDP fill queue empty */
	uint64_t no_socket;	  /* XDP pre-filter: SMTP on a queue without a socket (passed) */
	uint64_t steer_full;	  /* software distribution ring full */
	uint64_t snapped;	  /* frames captured shorter than on the wire */
	uint64_t file_bytes_read; /* pcap: progress */
	uint64_t file_bytes_total;
	uint64_t multiseg_copied;  /* DPDK: chained mbufs linearised into one buffer */
	uint64_t multiseg_dropped; /* DPDK: chained mbufs dropped (too big, no buffer free) */
	uint16_t n_q;		   /* entries in q[]; 0 when the backend has no per-queue view */
	struct source_queue_stats q[SOURCE_MAX_QUEUES];
};

struct source;

struct source_ops {
	const char *name;
	int (*open)(const struct source_cfg *cfg, struct source **out, struct errbuf *eb);
	/* Called once by each worker thread before its first rx_burst (DPDK
	 * registers the thread, AF_XDP may set busy-poll options). May be NULL. */
	int (*thread_init)(struct source *s, uint16_t queue);
	uint16_t (*rx_burst)(struct source *s, uint16_t queue, struct pkt *pkts, uint16_t n);
	void (*release)(struct source *s, uint16_t queue, struct pkt *pkts, uint16_t n);
	/* true once the queue will never return packets again (end of file) */
	bool (*at_eof)(struct source *s, uint16_t queue);
	void (*stats)(struct source *s, struct source_stats *out);
	/* A read error that ended the input early (truncated file), else NULL. */
	const char *(*last_error)(struct source *s);
	void (*close)(struct source *s);
};

/* Every backend's struct starts with this. */
struct source {
	const struct source_ops *ops;
	uint16_t n_queues;
	bool symmetric;		 /* both directions of a flow land on one queue */
	bool live;		 /* packets are lost if not read in time */
	bool release_any_thread; /* release() may run on another thread than rx_burst() */
	/* close() needs set-up's privileges (DPDK's net_af_xdp detaches its own XDP
	 * program): the process must not drop root. */
	bool close_needs_root;
	const char *desc; /* for logs: file name, interface, port list */
};

int source_open(const struct source_cfg *cfg, struct source **out, struct errbuf *eb);
void source_close(struct source *s);
const char *source_kind_name(enum source_kind kind);
/* Registry: NULL when that backend was not built. */
const struct source_ops *source_ops_for(enum source_kind kind);

#endif /* RELAYWATCH_DATAPLANE_SOURCE_H */
