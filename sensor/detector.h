/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * detector: the one thread that consumes every worker's events. It merges
 * the per-worker rings in packet-time order (a worker's watermark says how
 * far its output is complete), keeps all per-host and per-account state,
 * runs the detectors and hands transactions and alerts to the outputs that
 * main wired in (exporters sit above sensor/, so they come in as ops).
 *
 * Owns: host/account state and alert rate limiting. Detector thread only,
 * except detector_stop() and detector_stats_read().
 */
#ifndef RELAYWATCH_SENSOR_DETECTOR_H
#define RELAYWATCH_SENSOR_DETECTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/msgring.h"
#include "sensor/event.h"

#define DETECTOR_MAX_INPUTS 64

struct alert;

/* Where results go. Any callback may be NULL. Called on the detector thread. */
struct detector_output {
	void *arg;
	void (*tx)(void *arg, const struct smtp_tx *tx);
	void (*event)(void *arg, const struct event_hdr *e);
	void (*alert)(void *arg, const struct alert *a);
	/* Roughly every 100 ms of wall time and once at the end: flush, summaries. */
	void (*tick)(void *arg, uint64_t now_ns, bool final);
};

/* One producer: a worker's ring and how far its output is complete. */
struct detector_input {
	struct msgring *ring;
	uint64_t (*watermark)(void *arg);
	bool (*done)(void *arg);
	void *arg;
};

struct detector_cfg {
	uint32_t max_hold_ms; /* longest wait for a lagging worker before going on (default 50) */
};

/* All uint64_t: published with stats.h. */
struct detector_stats {
	uint64_t events;
	uint64_t events_by_type[EV_TYPE_COUNT];
	uint64_t transactions;
	uint64_t out_of_order;	/* events older than the last one processed */
	uint64_t hold_timeouts; /* gave up waiting for a lagging worker */
	uint64_t bad_events;	/* malformed records (never expected) */
	uint64_t alerts;
	uint64_t last_ts_ns; /* packet time of the last event */
};

struct detector;

void detector_cfg_default(struct detector_cfg *cfg);
int detector_create(const struct detector_cfg *cfg, const struct detector_output *out,
		    struct detector **outp);
void detector_destroy(struct detector *d);
int detector_add_input(struct detector *d, const struct detector_input *in);

/* Thread body: runs until every input is done and drained, or detector_stop(). */
int detector_run(struct detector *d);
/* Any thread: stop after draining what is already queued. */
void detector_stop(struct detector *d);
void detector_stats_read(struct detector *d, struct detector_stats *out);

#endif /* RELAYWATCH_SENSOR_DETECTOR_H */
