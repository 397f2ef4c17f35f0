/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * prom: Prometheus text exposition (format 0.0.4) written to a FILE: HELP and
 * TYPE once per family, counters named <name>_total, label values and HELP
 * text escaped, invalid name characters replaced by '_'. Values in base units
 * (seconds, bytes). Also a fixed-bucket histogram that any thread may observe
 * into (relaxed atomics) while one writer renders it. A struct prom belongs
 * to the thread rendering one scrape.
 */
#ifndef RELAYWATCH_COMMON_PROM_H
#define RELAYWATCH_COMMON_PROM_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define PROM_NAME_MAX	  128
#define PROM_HIST_BUCKETS 24

enum prom_type {
	PROM_COUNTER = 0,
	PROM_GAUGE = 1,
	PROM_HISTOGRAM = 2,
};

struct prom_label {
	const char *name;
	const char *value;
};

struct prom {
	FILE *f;
	enum prom_type type;
	char family[PROM_NAME_MAX]; /* as written, with _total for counters */
	int err;		    /* first write error, -EIO */
};

/* Upper bounds in base units, ascending; +Inf is implicit. */
struct prom_hist {
	const double *bounds;
	unsigned int n_bounds;				/* <= PROM_HIST_BUCKETS */
	_Atomic uint64_t counts[PROM_HIST_BUCKETS + 1]; /* per bucket, not cumulative */
	_Atomic uint64_t sum_nano;			/* sum of observations * 1e9 */
};

void prom_init(struct prom *p, FILE *f);

/* Starts a family: HELP and TYPE lines. A counter's name gets _total unless it has it. */
void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help);

/* One sample of the current (counter or gauge) family. */
void prom_sample(struct prom *p, const struct prom_label *labels, unsigned int n_labels, double v);

/* The current histogram family: _bucket{le=...} (cumulative), _sum and _count. */
void prom_hist_write(struct prom *p, const struct prom_label *labels, unsigned int n_labels,
		     const struct prom_hist *h);

/* Family and one unlabelled sample in one call. */
void prom_counter(struct prom *p, const char *name, const char *help, uint64_t v);
void prom_gauge(struct prom *p, const char *name, const char *help, double v);

/* 0, or -EIO when a write failed. */
int prom_finish(struct prom *p);

void prom_hist_init(struct prom_hist *h, const double *bounds, unsigned int n_bounds);
void prom_hist_observe(struct prom_hist *h, double v);

/* Value text as Prometheus parses it: integers exact, NaN, +Inf, -Inf. */
void prom_format_value(double v, char *buf, size_t cap);

#endif /* RELAYWATCH_COMMON_PROM_H */
