/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * summary: the end-of-run account of a sensor run: packets, bytes, flows,
 * SMTP sessions and transactions, and every drop by reason, summed over
 * workers. Printed for a human on stderr and written as DIR/stats.json for
 * tests and scripts. Also the progress line shown during a long -r run.
 */
#ifndef RELAYWATCH_SENSOR_SUMMARY_H
#define RELAYWATCH_SENSOR_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dataplane/source.h"
#include "dataplane/worker.h"
#include "sensor/detect.h"
#include "sensor/detector.h"
#include "sensor/smtp_session.h"

#define SUMMARY_MAX_XDP 16

struct summary {
	struct source_stats src;
	struct worker_stats wk; /* summed over workers */
	struct smtp_stats smtp; /* summed over workers */
	struct detector_stats det;
	struct detect_stats de; /* the detection engine's tables */
	uint64_t events_dropped;
	uint16_t n_workers;
	uint64_t per_worker_pkts[SOURCE_MAX_QUEUES];
	uint64_t per_worker_flows[SOURCE_MAX_QUEUES];
	uint64_t per_worker_one_sided[SOURCE_MAX_QUEUES]; /* a flow split over workers shows here */
	/* Live AF_XDP: the XDP pre-filter's packets per verdict/reason (n_xdp = 0 otherwise). */
	uint16_t n_xdp;
	const char *xdp_names[SUMMARY_MAX_XDP];
	uint64_t xdp_pkts[SUMMARY_MAX_XDP];
	double wall_secs;
	size_t mem_bytes;     /* tables and pools made at start */
	size_t flow_bytes;    /* one flow entry with its share of the index */
	size_t session_bytes; /* one idle SMTP session */
};

void summary_print(FILE *f, const struct summary *s);
/* Writes path (JSON object); 0 or -errno. */
int summary_write_json(const char *path, const struct summary *s);

/* "\r 45.2% 123.4/270.1 MB  85.3 MB/s  ETA 0:02" on a terminal. */
void summary_progress(FILE *f, uint64_t done, uint64_t total, double secs);

#endif /* RELAYWATCH_SENSOR_SUMMARY_H */
