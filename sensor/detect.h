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
	DETECT_P_COUNT = 0,   /* non-negative integer */
	DETECT_P_RATIO = 1,   /* 0..1 */
	DETECT_P_SECONDS = 2, /* a duration; YAML accepts 90, 90s, 10m, 2h, 1d */
	DETECT_P_FACTOR = 3,  /* a multiplier, > 0 */
};

struct detect_param {
	const char *name;
	uint8_t type; /* enum detect_param_type */
	double def, min, max;
	const char *help;
};

struct detect_def {
	enum alert_kind kind;
	uint8_t severity;    /* default enum alert_severity */
	const char *summary; /* one line: what it means */
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
	uint64_t hosts; /* gauge */
	uint64_t hosts_evicted;
	uint64_t accounts; /* gauge */
	uint64_t accounts_evicted;
	uint64_t servers_learned; /* home hosts seen answering SMTP */
	uint64_t alerts;	  /* new alerts (seq 0) */
	uint64_t alerts_by_kind[ALERT_KIND_COUNT];
	uint64_t alerts_suppressed; /* rate-limited repeats folded into updates */
	/* additions below */
	uint64_t alerts_updated;       /* update records emitted (seq > 0) */
	uint64_t alert_states_evicted; /* oldest alert identities dropped (final state emitted) */
	uint64_t evidence_evicted;     /* example/flow records dropped before firing */
	uint64_t domains_learned;      /* domains learned as hosted by a home server */
	uint64_t domains_evicted;
	uint64_t relay_pending;		/* gauge: accepted recipients waiting for a copy */
	uint64_t relay_pending_evicted; /* dropped before relay_window: table full */
	uint64_t relay_copies;		/* accepted recipients seen leaving again */
	uint64_t sketches_reclaimed;	/* HLL sketches taken back when the pool was empty */
	uint64_t events;
	uint64_t bad_events;  /* short or inconsistent records: dropped */
	uint64_t late_events; /* older than their window: not counted */
	uint64_t host_bytes;  /* memory per host entry, index included */
	uint64_t account_bytes;
	uint64_t mem_bytes; /* everything allocated at create */
};

/* cfg must outlive the engine. Tables are sized from cfg->limits. */
int detect_engine_create(const struct config *cfg, detect_emit_fn *emit, void *arg,
			 struct detect_engine **out);
void detect_engine_destroy(struct detect_engine *de);

/* One worker event, in packet-time order. */
void detect_engine_event(struct detect_engine *de, const struct event_hdr *e);
/* Time passes (packet time): windows slide, baselines update, deferred checks run. */
void detect_engine_tick(struct detect_engine *de, uint64_t now_ns);
/* Per-source counters from the XDP pre-filter (live AF_XDP): fan-out evidence
 * that still works when sessions are encrypted or user space is overloaded. */
void detect_engine_src_counters(struct detect_engine *de, uint8_t family, const union pkt_addr *src,
				uint64_t smtp_syns, uint64_t flows, uint64_t pkts, uint64_t bytes,
				uint64_t ts_ns);

/* End of a run: emit the final state of every alert that changed since it
 * was last emitted (so alerts.json ends with the final counts). */
void detect_engine_flush(struct detect_engine *de);

const struct detect_stats *detect_engine_stats(const struct detect_engine *de);

/* What the report and the periodic host summaries read. */
struct detect_host_summary {
	union pkt_addr addr;
	uint8_t family;
	bool home;
	bool mail_server; /* configured, or learned from its banners */
	uint32_t kinds;	  /* bit per enum alert_kind that fired */
	uint64_t first_ns, last_ns;
	double score; /* ranking: SPRT score plus fired kinds by severity */
	double sprt;  /* the SPRT log-likelihood ratio (>= 0) */
	uint32_t sprt_crossings;
	uint32_t sessions_out, sessions_in, msgs, rcpts, rcpts_rejected;
	uint32_t auth_ok, auth_fail, alerts;
	uint32_t xdp_syns, xdp_flows;
	uint32_t blocklist_replies; /* transactions, each once */
	uint32_t sig_hits;	    /* content signatures at or above min_severity */
	uint32_t bounces;	    /* null-sender messages to addresses it last sent as */
	/* Estimates (exact for a handful): the most seen within a detector's
	 * window, since first seen. Servers: foreign MX it reached on port 25
	 * (home hosts that are not mail servers) or servers that refused to
	 * relay for it, the larger. Recipient domains: as a client, accepted
	 * domains new to its recent set; as a home server, foreign domains it
	 * accepted from foreign clients. */
	uint32_t distinct_servers, distinct_rcpt_domains;
};

struct detect_account_summary {
	char name[64];
	const char *type; /* "user" or "mailbox" */
	uint8_t family;
	union pkt_addr server, source;
	uint32_t kinds;
	uint64_t first_ns, last_ns;
	double score; /* fired kinds by severity */
	uint32_t auth_ok, msgs, rcpts, bounces;
};

/* Walk the tables: *cursor = 0 to start; false at the end. Any order. */
bool detect_engine_host_next(const struct detect_engine *de, uint32_t *cursor,
			     struct detect_host_summary *out);
bool detect_engine_account_next(const struct detect_engine *de, uint32_t *cursor,
				struct detect_account_summary *out);
/* The latest state of every alert still held (at most a few thousand). */
bool detect_engine_alert_next(const struct detect_engine *de, uint32_t *cursor,
			      const struct alert **out);
/* A window for people: "90s", "10m", "1h", "2d". */
const char *detect_span_str(uint32_t secs, char *buf, size_t cap);
/* False when home_net is empty: then no host is home and the detectors
 * that need one (open_relay, direct_mx_bot, blocklisted, spoofed_home_domain,
 * bounce_storm by server) stay quiet; the report says so. */
bool detect_engine_home_configured(const struct detect_engine *de);

#endif /* RELAYWATCH_SENSOR_DETECT_H */
