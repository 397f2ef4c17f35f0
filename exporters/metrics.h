/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics: the sensor's Prometheus /metrics (text format 0.0.4, every name
 * relaywatch_*) on common/httpd, 127.0.0.1 unless told otherwise. Owns the
 * HTTP server and a registry of what a scrape reads; a scrape runs on the
 * httpd thread and only reads what the others publish: worker, SMTP,
 * source, detector and exporter counters (stats.h mirrors, relaxed atomics),
 * plus what the detector thread hands over in metrics_detector_*() (engine
 * counters, the top-N hosts, signature matches) and the main thread in
 * metrics_xdp(). Workers and the detector never wait for a scrape; the one
 * lock (the top-N snapshot) is only ever try-locked by the detector.
 */
#ifndef RELAYWATCH_EXPORTERS_METRICS_H
#define RELAYWATCH_EXPORTERS_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/errbuf.h"
#include "common/msgring.h"
#include "dataplane/source.h"
#include "dataplane/worker.h"
#include "exporters/export_json.h"
#include "sensor/config.h"
#include "sensor/detect.h"
#include "sensor/detector.h"
#include "sensor/event.h"
#include "sensor/plan.h"
#include "sensor/sigs.h"
#include "sensor/smtp_session.h"

#define METRICS_TOP_N	     10	  /* relaywatch_top_host_score: the only per-IP series */
#define METRICS_MAX_SIGS     512  /* signature ids with a series of their own; then "other" */
#define METRICS_TOP_PERIOD_S 15	  /* a new top-N walk at most this often (wall time) */
#define METRICS_TOP_SLICE    4096 /* hosts looked at per detector tick */

struct export_pb;
struct metrics;

/* What the registry reads. Every pointer may be NULL (that part is left out)
 * and must outlive the metrics object. */
struct metrics_cfg {
	const struct config *cfg; /* limits; privacy.pseudonymize_ips for the top-N */
	const struct plan *plan;  /* the sizes the tables were made with */
	struct source *src;	  /* the capture */
	struct source *steer;	  /* software distribution over workers, or NULL */
	struct detector *det;
	struct sigs *sigs;
	struct export_pb *pb;	/* the collector client */
	const char *mode;	/* "pcap", "afxdp", "dpdk": a build_info label */
	uint64_t start_real_ns; /* wall clock */
};

int metrics_create(const struct metrics_cfg *cfg, struct metrics **out, struct errbuf *eb);
/* Stops the server first. NULL is fine. */
void metrics_destroy(struct metrics *m);

/* Set-up, before metrics_serve(): one call per worker, in worker order. */
int metrics_add_worker(struct metrics *m, struct worker *w, struct smtp_ctx *smtp,
		       struct msgring *ring);
/* Starts the HTTP server (GET /metrics) on "HOST:PORT", ":PORT" or port 0. */
int metrics_serve(struct metrics *m, const char *listen, struct errbuf *eb);
uint16_t metrics_port(const struct metrics *m);

/* Detector thread: counts signature matches by id. */
void metrics_detector_event(struct metrics *m, const struct event_hdr *e);
/*
 * Detector thread, from its tick: publishes the engine's counters and the
 * JSON log's (js may be NULL), and walks the host table a slice per tick for
 * the top-N by score. final: finish the walk now and publish it.
 */
void metrics_detector_tick(struct metrics *m, const struct detect_engine *de,
			   const struct export_json_stats *js, bool final);

/* Main thread, live AF_XDP: the pre-filter's per-verdict totals. */
void metrics_xdp(struct metrics *m, const char *const *names, const uint64_t *pkts,
		 const uint64_t *bytes, unsigned int n);
/* Main thread: the input has ended (relaywatch_capture_finished becomes 1). */
void metrics_input_done(struct metrics *m);

/* The whole exposition, as a scrape returns it; 0 or -EIO. One caller at a
 * time (the HTTP thread once serving). */
int metrics_write(struct metrics *m, FILE *f);

#endif /* RELAYWATCH_EXPORTERS_METRICS_H */
