/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker: the per-queue loop, and the only place that knows the order of the
 * stages: receive a burst → decode → flow → TCP reassembly → L7 → release.
 * Shared nothing: a worker owns its flow table, its reassembly pool and the
 * L7 context handed to it; it reads one source queue. Time is packet time.
 *
 * Counters are kept privately and published every few bursts (stats.h), so
 * other threads read them without locks.
 */
#ifndef RELAYWATCH_DATAPLANE_WORKER_H
#define RELAYWATCH_DATAPLANE_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/stats.h"
#include "dataplane/decode.h"
#include "dataplane/flow.h"
#include "dataplane/l7.h"
#include "dataplane/source.h"
#include "dataplane/tcp_reasm.h"

#define WORKER_BURST 32

struct worker_cfg {
	uint16_t id;
	struct source *src;
	uint16_t queue;
	int cpu; /* pin to this CPU; -1: leave to the scheduler */
	struct decode_cfg decode;
	struct flow_table_cfg flow; /* release callback is the worker's own */
	struct tcp_reasm_cfg reasm;
	const struct l7_ops *l7;
	void *l7_ctx;
	const uint8_t *server_ports; /* 65536-bit map of the application's ports */
	bool any_port;		     /* also track flows on other ports (content detection) */
	/* A live source whose rx_burst never blocks (software steering rings):
	 * sleep after a quiet spell instead of spinning, so a sensor idle on a
	 * shared host leaves the CPUs to the mail servers next to it. Off for
	 * busy polling and DPDK lcores, which own their cores. */
	bool idle_sleep;
	_Atomic bool *stop; /* set by the control thread */
};

/* All uint64_t: published with stats.h. */
struct worker_stats {
	uint64_t bursts;
	uint64_t pkts;
	uint64_t bytes;		   /* wire bytes */
	uint64_t other_port;	   /* TCP on ports nobody asked for */
	uint64_t l7_bypassed_pkts; /* payload not looked at after L7 bypass */
	uint64_t l7_ignored_pkts;  /* flows L7 declined */
	uint64_t after_close_pkts; /* stragglers of closed flows */
	uint64_t no_flow_pkts;	   /* no SYN, no payload, no flow: nothing to track */
	uint64_t last_ts_ns;	   /* packet time of the last packet seen */
	struct decode_stats decode;
	struct flow_stats flow;
	struct tcp_reasm_stats reasm;
};

struct worker;

int worker_create(const struct worker_cfg *cfg, struct worker **out);
void worker_destroy(struct worker *w);

/* Loops until *stop or end of input, then releases every flow; returns 0. */
int worker_run(struct worker *w);
/* Process one burst of packets the caller received (benchmarks, tests). */
void worker_process_burst(struct worker *w, struct pkt *pkts, uint16_t n);
/* Releases every flow as FLOW_END_SHUTDOWN and publishes counters. */
void worker_finish(struct worker *w);

/* Any thread. */
void worker_stats_read(struct worker *w, struct worker_stats *out);
/* Packet time up to which this worker's L7 output is complete: events it
 * emits later carry later times (up to capture jitter). */
uint64_t worker_watermark(struct worker *w);
/* True once worker_run() has returned and everything it emitted is out. */
bool worker_is_done(struct worker *w);
uint16_t worker_id(const struct worker *w);
size_t worker_mem_bytes(const struct worker *w);

#endif /* RELAYWATCH_DATAPLANE_WORKER_H */
