/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * detect: the detector registry and the detection engine.
 *
 * The registry (detect_defs.c) names every detector, its default severity
 * and its numeric parameters with defaults and bounds: config.c validates
 * the YAML against it and the README documents it from the same table.
 *
 * The engine owns all per-host (IP) and per-account (AUTH user, mailbox)
 * state: sliding windows, distinct counters, rate baselines, learned mail
 * servers and the domains they receive for, and a sequential score per
 * host. It is fed events in packet-time order by the detector thread, runs
 * each detector (detect_<kind>.c), rate-limits alerts per host and kind and
 * hands them to emit(). Tables are bounded; the least recently seen entry
 * is evicted and counted. Detector thread only.
 */
#ifndef RELAYWATCH_SENSOR_DETECT_H
#define RELAYWATCH_SENSOR_DETECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sensor/alert.h"
#include "sensor/event.h"

#define DETECT_MAX_PARAMS 6

enum detect_param_type {
	DETECT_P_COUNT = 0,	/* non-negative integer */
	DETECT_P_RATIO = 1,	/* 0..1 */
	DETECT_P_SECONDS = 2,	/* a duration; YAML accepts 90, 90s, 10m, 2h, 1d */
	DETECT_P_FACTOR = 3,	/* a multiplier, > 0 */
};

struct detect_param {
	const char *name;
	uint8_t type;		/* enum detect_param_type */
	double def, min, max;
	const char *help;
};

struct detect_def {
	enum alert_kind kind;
	uint8_t severity;	/* default enum alert_severity */
	const char *summary;	/* one line: what it means */
	unsigned int n_params;
	struct detect_param params[DETECT_MAX_PARAMS];
};

/* Indexed by enum alert_kind. */
extern const struct detect_def detect_defs[ALERT_KIND_COUNT];

/* Configured values of one detector, params[] in the order of its def. */
struct detect_cfg {
	bool enabled;
	uint8_t severity;
	double p[DETECT_MAX_PARAMS];
};

void detect_cfg_default(struct detect_cfg cfg[ALERT_KIND_COUNT]);
/* -1 when the detector has no such parameter. */
int detect_param_index(enum alert_kind kind, const char *name);
/* Value of a named parameter; cfg is the array indexed by kind. The name
 * must exist (a programming error otherwise). */
double detect_param(const struct detect_cfg *cfg, enum alert_kind kind, const char *name);

/* ---- engine ---- */

struct config;
struct detect_engine;

typedef void detect_emit_fn(void *arg, const struct alert *a);

/* All uint64_t: published with stats.h. */
struct detect_stats {
	uint64_t hosts;			/* gauge */
	uint64_t hosts_evicted;
	uint64_t accounts;		/* gauge */
	uint64_t accounts_evicted;
	uint64_t servers_learned;	/* home hosts seen answering SMTP */
	uint64_t alerts;
	uint64_t alerts_by_kind[ALERT_KIND_COUNT];
	uint64_t alerts_suppressed;	/* rate-limited repeats folded into updates */
};

int detect_engine_create(const struct config *cfg, detect_emit_fn *emit, void *arg,
			 struct detect_engine **out);
void detect_engine_destroy(struct detect_engine *de);

/* One worker event, in packet-time order. */
void detect_engine_event(struct detect_engine *de, const struct event_hdr *e);
/* Time passes (packet time): windows slide, baselines update, deferred checks run. */
void detect_engine_tick(struct detect_engine *de, uint64_t now_ns);
/* Per-source counters from the XDP pre-filter (live AF_XDP): fan-out evidence
 * that still works when sessions are encrypted or user space is overloaded. */
void detect_engine_src_counters(struct detect_engine *de, uint8_t family,
				const union pkt_addr *src, uint64_t smtp_syns, uint64_t flows,
				uint64_t pkts, uint64_t bytes, uint64_t ts_ns);

const struct detect_stats *detect_engine_stats(const struct detect_engine *de);

#endif /* RELAYWATCH_SENSOR_DETECT_H */
