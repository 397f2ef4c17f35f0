/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aggregate: every sensor's alerts and host summaries merged per host and
 * per account, scored and ranked. Per host: the kinds that fired (alerts,
 * incidents, worst severity, first/last seen, latest message and evidence),
 * which sensors saw it, the accounts involved, and the HostSummary counters
 * summed over sensors and runs, so a host no single sensor alerted on still
 * ranks when its evidence is spread over several taps.
 *
 * The combined score (aggregate_host_score):
 *   W   worst severity weight among its alerts: info 1, low 2, medium 4,
 *       high 8, critical 16 (the sensor's own weights)
 * + 2 * log2(1 + incidents)          how often (raised alerts, not updates)
 * + 2 * (kinds - 1)                  independent detectors agree
 * + 4 * (sensors - 1)                independent taps agree (a sensor counts
 *                                    when it alerted or its summary has evidence)
 * + E, the summary evidence, capped at 12 so that counters alone never
 *   outrank a critical alert:
 *       2 * log2(1 + blocklist_replies) + 2 * log2(1 + signature_hits)
 *     + log2(1 + auth_failure) + log2(1 + bounces_received) / 2
 *     + 4 * rcpt_rejected / recipients * min(1, recipients / 20)
 *     + (home, not a mail server) max(0, log2(1 + distinct_servers) - 1)
 * Accounts: W + 2 log2(1 + incidents) + 2 (kinds - 1) + 4 (sensors - 1)
 * + 2 log2(source hosts).
 *
 * Builds a result owned by the caller; reads one store connection.
 */
#ifndef RELAYWATCH_COLLECTOR_AGGREGATE_H
#define RELAYWATCH_COLLECTOR_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/store.h"

#define AGG_MAX_KINDS	32
#define AGG_MAX_NAMES	16 /* sensors or accounts listed per host */
#define AGG_SUMMARY_CAP 12.0

struct agg_kind {
	char kind[40];
	char severity[16]; /* the worst seen */
	double weight;
	uint64_t alerts;	    /* alert frames, updates included */
	uint64_t incidents;	    /* alerts raised (sensor seq 0), at least 1 */
	uint64_t first_ns, last_ns; /* sensor time */
	char *message;		    /* of the latest alert */
	char *evidence_json;
	char *evidence_text;
	char *sensor; /* that sent the latest */
};

struct agg_names {
	unsigned int n; /* distinct names seen (may exceed what is kept) */
	char *name[AGG_MAX_NAMES];
};

struct agg_host {
	char host[64];
	double score;
	double weight;	      /* W */
	double summary_score; /* E */
	uint64_t alerts, incidents;
	uint64_t first_ns, last_ns;
	unsigned int n_kinds;
	struct agg_kind *kinds;	   /* NULL when no alert */
	struct agg_names sensors;  /* alerted or reported */
	struct agg_names evidence; /* sensors with an alert or summary evidence */
	struct agg_names accounts; /* named in its alerts */
	/* HostSummary, summed over sensors and runs (distinct_* : the largest) */
	bool has_summary, home, mail_server;
	uint64_t c[STORE_SUM_COUNT];
	double sensor_score; /* the highest score a sensor gave it */
	uint64_t summaries;  /* summary rows merged */
};

struct agg_account {
	char account[160];
	double score;
	double weight;
	uint64_t alerts, incidents;
	uint64_t first_ns, last_ns;
	unsigned int n_kinds;
	struct agg_kind *kinds;
	struct agg_names hosts;
	struct agg_names sensors;
};

struct agg_result {
	uint64_t generated_ns; /* wall clock */
	size_t n_hosts;	       /* ranked, filtered, cut to top */
	struct agg_host *hosts;
	size_t n_accounts;
	struct agg_account *accounts;
	size_t hosts_seen; /* before the min_score filter */
};

struct agg_opts {
	const char *host;  /* only this host (and its accounts) */
	uint64_t since_ns; /* evidence from this sensor time on */
	double min_score;  /* hosts and accounts below are left out */
	unsigned int top;  /* 0: all */
};

int aggregate_build(struct store *st, const struct agg_opts *o, struct agg_result **out);
void aggregate_free(struct agg_result *r);

double aggregate_severity_weight(const char *severity);
/* The formulas above, on a host whose counts are filled in. */
double aggregate_summary_score(const struct agg_host *h);
double aggregate_host_score(const struct agg_host *h);
double aggregate_account_score(const struct agg_account *a);

#endif /* RELAYWATCH_COLLECTOR_AGGREGATE_H */
