/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_pipeline internals shared by bench_pipeline.c (the capture, the
 * runs, the bodies, the stages, main) and bench_report.c (memory, the table
 * for people, the checks, the JSON line). Only these two files include it.
 */
#ifndef RELAYWATCH_BENCH_BENCH_PIPELINE_INT_H
#define RELAYWATCH_BENCH_BENCH_PIPELINE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/bench_wire.h"

#define BENCH_MAX_RUNS	64
#define BENCH_MIN_FLOWS 1024 /* the bounds config.c puts on flows_per_worker */
#define BENCH_MAX_FLOWS (1u << 24)

struct bench_opts {
	const char *path;
	const char *rules;
	const char *label;
	uint16_t workers;
	unsigned int runs;
	unsigned int stages; /* bit per enum bench_stage */
	bool no_bodies;	     /* skip the hs_scan / memcpy comparison */
	uint32_t flows;	     /* flow table capacity per worker, 0: the configuration's */
};

/* The capture, preloaded and split per worker queue. */
struct bench_cap {
	struct source *src;
	struct pkt *q[BENCH_MAX_WORKERS];
	size_t n[BENCH_MAX_WORKERS];
	uint8_t *frames[BENCH_MAX_WORKERS]; /* each queue's frames, back to back */
	uint64_t pkts, wire_bytes;
	uint64_t exp_sessions, exp_messages; /* from the generator's manifest */
	char profile[64];
};

/* One run of one stage, all workers together. */
struct bench_run {
	double lane_secs;    /* sum over workers of their loop time */
	double cpu_secs;     /* sum of the worker threads' CPU time */
	double max_cpu_secs; /* the busiest worker's CPU time: what N workers wait for */
	/* max_cpu_secs of the fastest run. Time a hypervisor takes without reporting it as
	 * steal still counts as thread CPU time, and it only ever adds: the fastest of
	 * several runs is the closest to what the work costs on a dedicated core. */
	double best_max_cpu_secs;
	double wall_secs; /* first start to the last worker or consumer done */
	struct worker_stats ws;
	struct smtp_stats ss;
	uint64_t events, events_dropped, alerts;
	uint64_t str_sessions, str_held_bytes; /* smtp_ctx_str_held(), all workers */
};

struct bench_stage_result {
	bool done;
	struct bench_run med; /* lane/cpu/wall are medians; counters from the last run */
};

struct bench_bodies_result {
	uint64_t bytes, text_bytes, msgs, matches;
	double hs_secs, memcpy_secs; /* medians */
};

struct bench_mem {
	size_t flow_entry;	    /* sizeof(struct flow) */
	double flow_table_per_flow; /* table and index over capacity */
	size_t smtp_session;	    /* one idle session */
	double smtp_strings;	    /* its strings in the arena per session, at the fullest */
	long peak_rss_kb;
	long preload_rss_kb;
	size_t worker_mem; /* worker + SMTP ctx + ring, one worker */
};

struct bench_report {
	const struct bench_opts *o;
	const struct bench_cap *cap;
	const struct bench_stage_result *res;
	const struct bench_bodies_result *bodies;
	const struct bench_mem *mem;
};

/* ---- report (bench_report.c) ---- */

void bench_measure_mem(struct bench_mem *m, const struct bench_stage_result *res);
long bench_rss_kb(void);
void bench_print_table(const struct bench_opts *o, const struct bench_cap *cap,
		       const struct bench_stage_result *res);
void bench_print_checks(const struct bench_cap *cap, const struct bench_stage_result *res,
			const struct bench_mem *m);
void bench_print_bodies(const struct bench_cap *cap, const struct bench_stage_result *res,
			const struct bench_bodies_result *b);
void bench_print_summary(const struct bench_report *rp);
void bench_print_json(const struct bench_report *rp);

#endif
