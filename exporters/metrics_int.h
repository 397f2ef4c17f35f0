/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics_int: the registry shared by metrics.c (life cycle, what the
 * detector and main threads publish, HTTP) and metrics_text.c (the
 * exposition). Not for other modules. Field comments say which thread
 * writes; the scrape (httpd thread) only reads, with relaxed loads except
 * where an acquire pairs with a release store named here.
 */
#ifndef RELAYWATCH_EXPORTERS_METRICS_INT_H
#define RELAYWATCH_EXPORTERS_METRICS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "common/httpd.h"
#include "common/stats.h"
#include "exporters/metrics.h"
#include "sensor/privacy.h"

#define METRICS_MAX_XDP	 16
#define METRICS_HOST_MAX 48

struct metrics_top {
	char host[METRICS_HOST_MAX];
	double score;
};

struct metrics_worker {
	struct worker *w;
	struct smtp_ctx *smtp;
	struct msgring *ring;
};

/* Detector thread only: the top-N walk in progress. */
struct metrics_walk {
	struct metrics_top cand[METRICS_TOP_N];
	unsigned int n;
	uint32_t cursor;
	bool active;
	bool pending;	  /* finished, not yet handed over (lock was busy) */
	uint64_t next_ns; /* monotonic: start of the next walk */
};

struct metrics {
	struct metrics_cfg cfg;
	struct privacy *privacy; /* pseudonymize_ips: top-N hosts as pseudonyms */
	struct httpd *httpd;
	uint16_t n_workers; /* fixed before metrics_serve() */
	struct metrics_worker wk[SOURCE_MAX_QUEUES];

	/* detector thread */
	STATS_MIRROR(detect_stats);
	STATS_MIRROR(export_json_stats);
	_Atomic bool engine_seen; /* release: the mirror above holds a publish */
	_Atomic bool json_seen;
	uint32_t sig_id[METRICS_MAX_SIGS]; /* entry i is written once, before n_sigs > i */
	_Atomic uint64_t sig_count[METRICS_MAX_SIGS];
	_Atomic uint32_t n_sigs;    /* release */
	_Atomic uint64_t sig_other; /* ids past METRICS_MAX_SIGS */
	struct metrics_walk walk;
	pthread_mutex_t top_lock;	       /* detector: trylock only */
	struct metrics_top top[METRICS_TOP_N]; /* under top_lock */
	unsigned int n_top;

	/* main thread */
	const char *xdp_names[METRICS_MAX_XDP]; /* set before n_xdp is */
	_Atomic uint64_t xdp_pkts[METRICS_MAX_XDP];
	_Atomic uint64_t xdp_bytes[METRICS_MAX_XDP];
	_Atomic unsigned int n_xdp; /* release */
	_Atomic bool input_done;

	/* the scrape's own copies (httpd thread) */
	struct worker_stats ws[SOURCE_MAX_QUEUES];
	struct smtp_stats ss[SOURCE_MAX_QUEUES];
	struct smtp_stats ss_sum;
	struct source_stats src;
	struct source_stats steer;
};

#endif /* RELAYWATCH_EXPORTERS_METRICS_INT_H */
