/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report: the relay report over the store: hosts ranked by the combined
 * score (aggregate.h) with their evidence, then accounts; as a terminal
 * table, as one JSON document with stable field names, or as one
 * self-contained HTML page (report_html.c: inline CSS, an inline SVG
 * timeline per host, no external reference of any kind). Reads one store
 * connection; the caller's thread.
 */
#ifndef RELAYWATCH_COLLECTOR_REPORT_H
#define RELAYWATCH_COLLECTOR_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "collector/aggregate.h"
#include "collector/store.h"
#include "common/jsonw.h"

enum report_format {
	REPORT_TABLE = 0,
	REPORT_JSON = 1,
	REPORT_HTML = 2,
};

struct report_opts {
	double min_score; /* hosts and accounts below are left out */
	unsigned int top; /* 0: all */
	uint64_t since_ns;
	unsigned int charts;  /* HTML: hosts with a timeline; 0: 50 */
	const char *base_url; /* HTML: link target for hosts ("" none) */
};

#define REPORT_FORMULA                                                                             \
	"severity_weight + 2*log2(1+incidents) + 2*(kinds-1) + 4*(sensors-1) + summary"            \
	" (summary evidence, at most 12)"

int report_parse_format(const char *s, enum report_format *out);

/* Aggregates and writes the report. 0 or -errno. */
int report_write(FILE *f, struct store *st, enum report_format fmt, const struct report_opts *o);

/* The JSON document of a built aggregation (also what /api/hosts serves). */
void report_json(struct jsonw *w, const struct agg_result *r, const struct report_opts *o);
void report_json_host(struct jsonw *w, const struct agg_host *h, unsigned int rank);
void report_json_account(struct jsonw *w, const struct agg_account *a, unsigned int rank);

void report_table(FILE *f, const struct agg_result *r, const struct report_opts *o);
int report_html(FILE *f, struct store *st, const struct agg_result *r, const struct report_opts *o);

#endif /* RELAYWATCH_COLLECTOR_REPORT_H */
