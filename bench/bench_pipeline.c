// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench_pipeline: the whole sensor pipeline over a capture preloaded in
 * memory, per stage, as medians of several runs. The capture is split per
 * worker by the symmetric flow hash at load (source_pcap preload), then each
 * worker thread, pinned to its own CPU, feeds its share through
 * worker_process_burst() in bursts of WORKER_BURST and worker_finish(). The
 * stages are switched on one at a time (bench_wire.h): decode; +flow;
 * +reasm; +smtp (rings drained by a thread that reads nothing); +sigs;
 * +detector (the detector thread running the detection engine). A stage's
 * cost is the difference of per-packet worker time to the stage before.
 *
 * In the same run: the decoded message bodies, binary attachments included,
 * are taken out once (bench_body.h) and timed through raw hs_scan of the body
 * rules alone and through memcpy, and the pipeline is compared to both (the
 * sensor itself decodes and scans only the text parts). Output: a table for
 * people and one JSON line (prefix "JSON ").
 *
 *   bench_pipeline [-w workers] [-r runs] [-s stages] [--rules path] capture.pcap
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_body.h"
#include "bench/bench_hs.h"
#include "bench/bench_wire.h"
#include "common/clock.h"
#include "common/jsonw.h"
#include "common/stats.h"
#include "sensor/config.h"
#include "sensor/sigs.h"

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

struct bench_lane_thread {
	pthread_t th;
	struct worker *w;
	struct pkt *pkts;
	size_t n;
	int cpu;
	bool started;
	_Atomic bool *go;
	uint64_t t0, t1;
	double cpu_secs;
};

/* ---- capture ---- */

static void bench_manifest(struct bench_cap *cap, const char *path)
{
	char mpath[4096], key[64], val[64];
	FILE *f;

	snprintf(mpath, sizeof(mpath), "%s.manifest", path);
	f = fopen(mpath, "r");
	if (!f)
		return;
	while (fscanf(f, "%63s %63s", key, val) == 2) {
		if (strcmp(key, "smtp_sessions") == 0)
			cap->exp_sessions = strtoull(val, NULL, 10);
		else if (strcmp(key, "smtp_messages") == 0)
			cap->exp_messages = strtoull(val, NULL, 10);
		else if (strcmp(key, "profile") == 0)
			snprintf(cap->profile, sizeof(cap->profile), "%s", val);
	}
	fclose(f);
}

/*
 * Each queue's frames copied into a buffer of its own, in arrival order, as a
 * NIC with RSS writes a queue's frames into that queue's buffers. Views into
 * the one preloaded file interleave the queues: two workers would each fetch
 * cache lines half filled with the other's frames, out of the order the
 * hardware prefetcher follows, and the 2-worker figures would measure that.
 */
static int bench_cap_own_frames(struct bench_cap *cap, uint16_t q)
{
	size_t bytes = 0;
	uint8_t *p;

	for (size_t i = 0; i < cap->n[q]; i++)
		bytes += cap->q[q][i].len;
	cap->frames[q] = p = malloc(bytes ? bytes : 1);
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < cap->n[q]; i++) {
		memcpy(p, cap->q[q][i].data, cap->q[q][i].len);
		cap->q[q][i].data = p;
		p += cap->q[q][i].len;
	}
	return 0;
}

/* Preload through source_pcap and keep every queue's packet views. */
static int bench_cap_load(struct bench_cap *cap, const struct bench_opts *o)
{
	struct source_cfg sc = {
		.kind = SOURCE_PCAP, .path = o->path, .preload = true, .n_queues = o->workers};
	struct errbuf eb = {""};
	int err;

	err = source_open(&sc, &cap->src, &eb);
	if (err) {
		fprintf(stderr, "%s\n", eb.msg);
		return err;
	}
	for (uint16_t q = 0; q < o->workers; q++) {
		size_t cap_n = 1024;
		uint16_t got;

		cap->q[q] = malloc(cap_n * sizeof(struct pkt));
		while (cap->q[q] &&
		       (got = cap->src->ops->rx_burst(cap->src, q, cap->q[q] + cap->n[q], 256))) {
			for (uint16_t i = 0; i < got; i++)
				cap->wire_bytes += cap->q[q][cap->n[q] + i].wire_len;
			cap->n[q] += got;
			if (cap->n[q] + 256 > cap_n) {
				cap_n *= 2;
				cap->q[q] = realloc(cap->q[q], cap_n * sizeof(struct pkt));
			}
		}
		if (!cap->q[q] || bench_cap_own_frames(cap, q))
			return -ENOMEM;
		cap->pkts += cap->n[q];
	}
	bench_manifest(cap, o->path);
	return 0;
}

static void bench_cap_free(struct bench_cap *cap)
{
	for (uint16_t q = 0; q < BENCH_MAX_WORKERS; q++) {
		free(cap->q[q]);
		free(cap->frames[q]);
	}
	source_close(cap->src);
}

/* ---- one run ---- */

static double bench_thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *bench_lane_main(void *arg)
{
	struct bench_lane_thread *lt = arg;
	cpu_set_t set;
	double c0;

	CPU_ZERO(&set);
	CPU_SET(lt->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (!atomic_load_explicit(lt->go, memory_order_acquire))
		;
	c0 = bench_thread_cpu();
	lt->t0 = clock_mono_ns();
	for (size_t i = 0; i < lt->n; i += WORKER_BURST) {
		size_t k = lt->n - i < WORKER_BURST ? lt->n - i : WORKER_BURST;

		worker_process_burst(lt->w, lt->pkts + i, (uint16_t)k);
	}
	worker_finish(lt->w);
	lt->t1 = clock_mono_ns();
	lt->cpu_secs = bench_thread_cpu() - c0;
	return NULL;
}

static void bench_collect(struct bench_wire *bw, uint16_t n, struct bench_run *r)
{
	memset(&r->ws, 0, sizeof(r->ws));
	memset(&r->ss, 0, sizeof(r->ss));
	r->events = r->events_dropped = 0;
	r->str_sessions = r->str_held_bytes = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct worker_stats ws;
		struct smtp_stats ss;

		worker_stats_read(bw->lane[i].w, &ws);
		stats_add(&r->ws, &ws, sizeof(ws));
		if (bw->lane[i].smtp) {
			uint64_t sn, sb;

			smtp_ctx_stats_read(bw->lane[i].smtp, &ss);
			stats_add(&r->ss, &ss, sizeof(ss));
			smtp_ctx_str_held(bw->lane[i].smtp, &sn, &sb);
			r->str_sessions += sn;
			r->str_held_bytes += sb;
		}
		r->events += bw->lane[i].sink.emitted;
		r->events_dropped += bw->lane[i].sink.dropped;
	}
	r->alerts = bw->alerts;
}

/* Workers start together on their CPUs; time runs until the last worker and consumer end. */
static int bench_run_once(const struct bench_wire_cfg *wc, const struct bench_cap *cap,
			  struct bench_run *r)
{
	struct bench_lane_thread lt[BENCH_MAX_WORKERS] = {0};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	_Atomic bool go = false;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	struct bench_wire *bw;
	int err;

	err = bench_wire_create(wc, &bw);
	if (!err)
		err = bench_wire_start(bw);
	for (uint16_t i = 0; !err && i < wc->n_workers; i++) {
		lt[i] = (struct bench_lane_thread){
			.w = bw->lane[i].w,
			.pkts = cap->q[i],
			.n = cap->n[i],
			.cpu = (int)(i % (ncpu > 0 ? ncpu : 1)),
			.go = &go,
		};
		err = -pthread_create(&lt[i].th, NULL, bench_lane_main, &lt[i]);
		lt[i].started = !err;
	}
	atomic_store_explicit(&go, true, memory_order_release);
	memset(r, 0, sizeof(*r));
	for (uint16_t i = 0; i < wc->n_workers; i++) {
		if (!lt[i].started)
			continue;
		pthread_join(lt[i].th, NULL);
		t0 = lt[i].t0 < t0 ? lt[i].t0 : t0;
		t1 = lt[i].t1 > t1 ? lt[i].t1 : t1;
		r->lane_secs += (double)(lt[i].t1 - lt[i].t0) / 1e9;
		r->cpu_secs += lt[i].cpu_secs;
		if (lt[i].cpu_secs > r->max_cpu_secs)
			r->max_cpu_secs = lt[i].cpu_secs;
	}
	if (bw) {
		bench_wire_join(bw);
		if (bw->consumer_done_ns > t1)
			t1 = bw->consumer_done_ns;
		r->wall_secs = (double)(t1 - t0) / 1e9;
		bench_collect(bw, wc->n_workers, r);
	}
	bench_wire_destroy(bw);
	return err;
}

/* ---- bodies, hs_scan, memcpy ---- */

struct bench_bodies_result {
	uint64_t bytes, text_bytes, msgs, matches;
	double hs_secs, memcpy_secs; /* medians */
};

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double bench_min(const double *v, unsigned int n)
{
	double m = v[0];

	for (unsigned int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static double bench_median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One pass per queue with the body extractor as L7; not timed. */
static int bench_extract(const struct bench_wire_cfg *base, const struct bench_cap *cap,
			 uint16_t workers, struct bench_bodies *b)
{
	struct bench_wire_cfg wc = *base;
	struct bench_wire *bw;
	int err;

	wc.stage = BENCH_REASM;
	wc.l7 = &bench_body_ops;
	wc.l7_ctx = b;
	wc.n_workers = workers;
	err = bench_wire_create(&wc, &bw);
	if (err)
		return err;
	for (uint16_t q = 0; q < workers; q++) {
		for (size_t i = 0; i < cap->n[q]; i += WORKER_BURST) {
			size_t k = cap->n[q] - i < WORKER_BURST ? cap->n[q] - i : WORKER_BURST;

			worker_process_burst(bw->lane[q].w, cap->q[q] + i, (uint16_t)k);
		}
		worker_finish(bw->lane[q].w);
	}
	bench_wire_destroy(bw);
	return b->failed ? -ENOMEM : 0;
}

static void bench_time_bodies(const struct bench_bodies *b, const char *rules, unsigned int runs,
			      struct bench_bodies_result *out)
{
	double hs[BENCH_MAX_RUNS], mc[BENCH_MAX_RUNS];
	hs_database_t *db = bench_hs_body_db(rules);
	hs_scratch_t *scratch = NULL;
	uint8_t *dst = malloc(b->len ? b->len : 1);

	out->bytes = b->len;
	out->text_bytes = b->text_bytes;
	out->msgs = b->n_msgs;
	if (!db || !dst || hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
		fprintf(stderr, "bench: no body database or no memory: no hs_scan figure\n");
		goto out;
	}
	memset(dst, 0, b->len);
	/* thread CPU time, like the workers: the machine may be shared */
	for (unsigned int r = 0; r < runs; r++) {
		double c0 = bench_thread_cpu();
		uint64_t m = 0;

		bench_hs_scan_msgs(db, scratch, b->buf, b->msg_end, b->n_msgs, &m);
		hs[r] = bench_thread_cpu() - c0;
		out->matches = m;
		c0 = bench_thread_cpu();
		memcpy(dst, b->buf, b->len);
		__asm__ volatile("" : : "r"(dst) : "memory");
		mc[r] = bench_thread_cpu() - c0;
	}
	out->hs_secs = bench_median(hs, runs);
	out->memcpy_secs = bench_median(mc, runs);
out:
	hs_free_scratch(scratch);
	hs_free_database(db);
	free(dst);
}

/* ---- stages ---- */

/* Runs outer, stages inner, so a noisy moment hits every stage alike. */
static int bench_stages(const struct bench_opts *o, const struct bench_wire_cfg *base,
			const struct bench_cap *cap, struct bench_stage_result *res)
{
	double lane[BENCH_STAGE_COUNT][BENCH_MAX_RUNS], cpu[BENCH_STAGE_COUNT][BENCH_MAX_RUNS];
	double wall[BENCH_STAGE_COUNT][BENCH_MAX_RUNS], busiest[BENCH_STAGE_COUNT][BENCH_MAX_RUNS];
	int err;

	for (unsigned int r = 0; r < o->runs; r++) {
		for (int s = 0; s < BENCH_STAGE_COUNT; s++) {
			struct bench_wire_cfg wc = *base;
			struct bench_run run;

			if (!(o->stages & (1u << s)))
				continue;
			wc.stage = (enum bench_stage)s;
			err = bench_run_once(&wc, cap, &run);
			if (err) {
				fprintf(stderr, "bench: %s: %s\n", bench_stage_names[s],
					strerror(-err));
				return err;
			}
			lane[s][r] = run.lane_secs;
			cpu[s][r] = run.cpu_secs;
			wall[s][r] = run.wall_secs;
			busiest[s][r] = run.max_cpu_secs;
			res[s].med = run;
			res[s].done = true;
		}
	}
	for (int s = 0; s < BENCH_STAGE_COUNT; s++) {
		if (!res[s].done)
			continue;
		res[s].med.lane_secs = bench_median(lane[s], o->runs);
		res[s].med.cpu_secs = bench_median(cpu[s], o->runs);
		res[s].med.wall_secs = bench_median(wall[s], o->runs);
		res[s].med.max_cpu_secs = bench_median(busiest[s], o->runs);
		res[s].med.best_max_cpu_secs = bench_min(busiest[s], o->runs);
	}
	return 0;
}

/* ---- report ---- */

struct bench_mem {
	size_t flow_entry;	    /* sizeof(struct flow) */
	double flow_table_per_flow; /* table and index over capacity */
	size_t smtp_session;	    /* one idle session */
	double smtp_strings;	    /* its strings in the arena per session, at the fullest */
	long peak_rss_kb;
	long preload_rss_kb;
	size_t worker_mem; /* worker + SMTP ctx + ring, one worker */
};

/*
 * A session's HELO, banner and last reply live in the worker's string arena,
 * in slots as big as each value needs, equal values of all sessions in one
 * slot. What a session costs there is measured on the capture when the
 * session pool was at its fullest (smtp_ctx_str_held(), sampled as each
 * session ends): the bytes of the arena's slots in use then, a shared value
 * counted once, plus those sessions' share of the interning table (made for
 * max_sessions), over the sessions in use then (the fullest SMTP stage run).
 */
static void bench_measure_mem(struct bench_mem *m, const struct bench_stage_result *res)
{
	struct flow_table_cfg fc;
	struct flow_table *ft;

	for (int s = BENCH_SMTP; s < BENCH_STAGE_COUNT; s++)
		if (res[s].done && res[s].med.str_sessions)
			m->smtp_strings =
				(double)res[s].med.str_held_bytes / res[s].med.str_sessions;

	flow_table_cfg_default(&fc);
	m->flow_entry = sizeof(struct flow);
	m->smtp_session = smtp_session_size();
	if (flow_table_create(&fc, &ft) == 0) {
		m->flow_table_per_flow = (double)flow_table_mem_bytes(ft) / flow_table_capacity(ft);
		flow_table_destroy(ft);
	}
}

/* Bytes per tracked SMTP flow before DATA: flow entry and index, idle session, its strings. */
static double bench_per_flow(const struct bench_mem *m)
{
	return m->flow_table_per_flow + (double)m->smtp_session + m->smtp_strings;
}

static long bench_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static double bench_gbps(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes * 8 / secs / 1e9 : 0;
}

/* The fullest stage measured (the last one run); NULL when none was. */
static const struct bench_run *bench_fullest(const struct bench_stage_result *res)
{
	const struct bench_run *r = NULL;

	for (int s = 0; s < BENCH_STAGE_COUNT; s++)
		if (res[s].done)
			r = &res[s].med;
	return r;
}

/*
 * How N workers share the work, by CPU time: the busiest worker is what the
 * run waits for. sum/max is the speedup over one worker at the per-packet
 * cost these workers had; with the one-worker run's CPU time (run_bench.sh)
 * it gives the scaling without the time other processes of this system take
 * (a hypervisor's steal time still counts where it is not reported).
 */
static void bench_print_balance(const struct bench_opts *o, const struct bench_stage_result *res)
{
	const struct bench_run *r = bench_fullest(res);

	if (o->workers < 2)
		return;
	if (!r || r->max_cpu_secs <= 0)
		return;
	printf("balance: the busiest of %u workers ran %.1f%% of their CPU time (even: %.1f%%); "
	       "sum/max %.2f; the busiest worker %.6f s (median), %.6f s (fastest run)\n",
	       o->workers, 100 * r->max_cpu_secs / r->cpu_secs, 100.0 / o->workers,
	       r->cpu_secs / r->max_cpu_secs, r->max_cpu_secs, r->best_max_cpu_secs);
}

static void bench_print_table(const struct bench_opts *o, const struct bench_cap *cap,
			      const struct bench_stage_result *res)
{
	double prev = 0;

	printf("%-10s %9s %9s %11s %12s %12s %9s %10s\n", "stage", "ns/pkt", "Mpps/core",
	       "Gbit/s/core", "sessions/s", "stage ns/pkt", "cpu/wall", "aggr Gb/s");
	for (int s = 0; s < BENCH_STAGE_COUNT; s++) {
		const struct bench_run *r = &res[s].med;
		double ns = r->cpu_secs * 1e9 / (double)(cap->pkts ? cap->pkts : 1);

		if (!res[s].done)
			continue;
		printf("%-10s %9.1f %9.3f %11.3f %12.0f %+12.1f %9.2f %10.3f\n",
		       bench_stage_names[s], ns, cap->pkts / r->cpu_secs / 1e6,
		       bench_gbps(cap->wire_bytes, r->cpu_secs),
		       s >= BENCH_SMTP ? r->ss.sessions / r->cpu_secs : 0, prev ? ns - prev : ns,
		       r->lane_secs > 0 ? r->cpu_secs / r->lane_secs : 0,
		       bench_gbps(cap->wire_bytes, r->wall_secs));
		prev = ns;
	}
	printf("method: each stage adds one part of the pipeline to the row above (decode: every\n"
	       "  packet stops after decode; +flow: flow table, L7 declines the flow; +reasm: "
	       "bytes\n"
	       "  reassembled and handed to an L7 that reads nothing; +smtp: the SMTP parser, "
	       "events\n"
	       "  drained unread; +sigs: with the Hyperscan rules; +detector: the detector thread\n"
	       "  runs the detection engine). 'stage ns/pkt' is the difference to the row above.\n"
	       "  Per-core figures divide by the CPU time of the %u worker threads (each pinned "
	       "to\n"
	       "  a CPU; CLOCK_THREAD_CPUTIME_ID), so time lost to other processes on a shared\n"
	       "  machine does not count; cpu/wall shows how much of their wall time they ran.\n"
	       "  'aggr' divides by wall time until the last worker and the consumer are done.\n"
	       "  Medians of %u runs.\n",
	       o->workers, o->runs);
	bench_print_balance(o, res);
}

static void bench_print_checks(const struct bench_cap *cap, const struct bench_stage_result *res,
			       const struct bench_mem *m)
{
	int top = -1;

	for (int s = 0; s < BENCH_STAGE_COUNT; s++)
		if (res[s].done && s >= BENCH_SMTP)
			top = s;
	if (top >= 0) {
		const struct bench_run *r = &res[top].med;

		printf("parsed (%s): %lu SMTP sessions (capture holds %lu), %lu messages (holds "
		       "%lu),"
		       " %lu transactions, %lu events (%lu dropped), %lu alerts\n",
		       bench_stage_names[top], (unsigned long)r->ss.sessions,
		       (unsigned long)cap->exp_sessions, (unsigned long)r->ss.messages,
		       (unsigned long)cap->exp_messages, (unsigned long)r->ss.transactions,
		       (unsigned long)r->events, (unsigned long)r->events_dropped,
		       (unsigned long)r->alerts);
		printf("cuts: flows evicted %lu, SMTP sessions without a slot %lu, reassembly caps "
		       "%lu+%lu, gaps %lu, decode drops see relaywatch -r\n",
		       (unsigned long)r->ws.flow.evicted, (unsigned long)r->ss.sessions_no_slot,
		       (unsigned long)r->ws.reasm.flow_cap_hits,
		       (unsigned long)r->ws.reasm.total_cap_hits, (unsigned long)r->ws.reasm.gaps);
	}
	printf("memory: flow entry %zu B, flow table %.0f B per flow (index included), idle SMTP "
	       "session %zu B, its strings %.1f B (arena, shared values once, at the fullest): "
	       "%.0f B per "
	       "tracked SMTP flow before DATA\n",
	       m->flow_entry, m->flow_table_per_flow, m->smtp_session, m->smtp_strings,
	       bench_per_flow(m));
	printf("peak RSS %.1f MiB (capture preloaded: %.1f MiB)\n", m->peak_rss_kb / 1024.0,
	       m->preload_rss_kb / 1024.0);
}

static void bench_print_bodies(const struct bench_cap *cap, const struct bench_stage_result *res,
			       const struct bench_bodies_result *b)
{
	int top = res[BENCH_DETECT].done ? BENCH_DETECT : res[BENCH_SIGS].done ? BENCH_SIGS : -1;
	double secs = top >= 0 ? res[top].med.cpu_secs : 0;

	if (!b->bytes || !b->hs_secs) {
		printf("bodies: none decoded in this capture: no hs_scan / memcpy comparison\n");
		return;
	}
	printf("bodies: %.1f MiB decoded in %lu messages, attachments included (%.1f MiB text "
	       "parts, all the sensor's body rules read); raw hs_scan of the body rules over all "
	       "of it %.3f Gbit/s (%lu matches), memcpy %.3f Gbit/s\n",
	       b->bytes / 1048576.0, (unsigned long)b->msgs, b->text_bytes / 1048576.0,
	       bench_gbps(b->bytes, b->hs_secs), (unsigned long)b->matches,
	       bench_gbps(b->bytes, b->memcpy_secs));
	if (top >= 0)
		printf("pipeline (%s, per core) over the same body bytes: %.3f Gbit/s = %.3f x raw "
		       "hs_scan, %.4f x memcpy\n",
		       bench_stage_names[top], bench_gbps(b->bytes, secs), b->hs_secs / secs,
		       b->memcpy_secs / secs);
}

struct bench_report {
	const struct bench_opts *o;
	const struct bench_cap *cap;
	const struct bench_stage_result *res;
	const struct bench_bodies_result *bodies;
	const struct bench_mem *mem;
};

static void bench_json_stages(struct jsonw *w, const struct bench_report *rp)
{
	jsonw_key(w, "stages");
	jsonw_arr_open(w);
	for (int s = 0; s < BENCH_STAGE_COUNT; s++) {
		const struct bench_run *r = &rp->res[s].med;

		if (!rp->res[s].done)
			continue;
		jsonw_obj_open(w);
		jsonw_kv_cstr(w, "stage", bench_stage_names[s]);
		jsonw_kv_double(w, "ns_per_pkt", r->cpu_secs * 1e9 / rp->cap->pkts, 2);
		jsonw_kv_double(w, "mpps_per_core", rp->cap->pkts / r->cpu_secs / 1e6, 4);
		jsonw_kv_double(w, "gbps_per_core", bench_gbps(rp->cap->wire_bytes, r->cpu_secs),
				4);
		jsonw_kv_double(w, "gbps_aggregate", bench_gbps(rp->cap->wire_bytes, r->wall_secs),
				4);
		jsonw_kv_double(w, "sessions_per_s_per_core", r->ss.sessions / r->cpu_secs, 1);
		jsonw_kv_double(w, "cpu_per_wall", r->cpu_secs / r->lane_secs, 3);
		jsonw_kv_double(w, "cpu_secs", r->cpu_secs, 6);
		jsonw_kv_double(w, "max_worker_cpu_secs", r->max_cpu_secs, 6);
		jsonw_kv_double(w, "max_worker_cpu_secs_fastest", r->best_max_cpu_secs, 6);
		jsonw_kv_u64(w, "smtp_sessions", r->ss.sessions);
		jsonw_kv_u64(w, "messages", r->ss.messages);
		jsonw_kv_u64(w, "events_dropped", r->events_dropped);
		jsonw_kv_u64(w, "flows_evicted", r->ws.flow.evicted);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

/* One line per run for run_bench.sh's table: the fullest stage measured. */
static void bench_print_summary(const struct bench_report *rp)
{
	const struct bench_bodies_result *b = rp->bodies;
	const struct bench_run *r = bench_fullest(rp->res);
	double secs;

	if (!r)
		return;
	secs = r->cpu_secs;
	printf("summary %-10s w=%u %7.3f Mpps/core %7.3f Gbit/s/core %9.0f sessions/s/core "
	       "aggr %6.3f Gbit/s  x hs_scan %.3f  x memcpy %.4f  %4.0f B/flow  RSS %5.0f MiB  "
	       "busiest worker %.6f s fastest %.6f s\n",
	       rp->o->label ? rp->o->label : rp->cap->profile, rp->o->workers,
	       rp->cap->pkts / secs / 1e6, bench_gbps(rp->cap->wire_bytes, secs),
	       r->ss.sessions / secs, bench_gbps(rp->cap->wire_bytes, r->wall_secs),
	       b->bytes ? b->hs_secs / secs : 0, b->bytes ? b->memcpy_secs / secs : 0,
	       bench_per_flow(rp->mem), rp->mem->peak_rss_kb / 1024.0, r->max_cpu_secs,
	       r->best_max_cpu_secs);
}

static void bench_print_json(const struct bench_report *rp)
{
	static char buf[16384];
	const struct bench_bodies_result *b = rp->bodies;
	int top = rp->res[BENCH_DETECT].done ? BENCH_DETECT : BENCH_SIGS;
	double secs = rp->res[top].med.cpu_secs;
	struct jsonw w;

	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_open(&w);
	jsonw_kv_cstr(&w, "capture", rp->o->path);
	jsonw_kv_cstr(&w, "profile", rp->o->label ? rp->o->label : rp->cap->profile);
	jsonw_kv_u64(&w, "workers", rp->o->workers);
	jsonw_kv_u64(&w, "runs", rp->o->runs);
	jsonw_kv_u64(&w, "packets", rp->cap->pkts);
	jsonw_kv_u64(&w, "wire_bytes", rp->cap->wire_bytes);
	bench_json_stages(&w, rp);
	jsonw_kv_u64(&w, "body_bytes", b->bytes);
	jsonw_kv_double(&w, "hs_scan_gbps", bench_gbps(b->bytes, b->hs_secs), 4);
	jsonw_kv_double(&w, "memcpy_gbps", bench_gbps(b->bytes, b->memcpy_secs), 4);
	jsonw_kv_double(&w, "ratio_to_hs_scan", b->hs_secs && secs ? b->hs_secs / secs : 0, 4);
	jsonw_kv_double(&w, "ratio_to_memcpy", b->memcpy_secs && secs ? b->memcpy_secs / secs : 0,
			5);
	jsonw_kv_double(&w, "bytes_per_flow_before_data", bench_per_flow(rp->mem), 0);
	jsonw_kv_double(&w, "smtp_string_bytes_per_session", rp->mem->smtp_strings, 1);
	jsonw_kv_u64(&w, "peak_rss_kb", (uint64_t)rp->mem->peak_rss_kb);
	jsonw_kv_u64(&w, "expected_smtp_sessions", rp->cap->exp_sessions);
	jsonw_obj_close(&w);
	if (jsonw_finish_line(&w) > 0)
		printf("JSON %s", buf);
}

/* ---- main ---- */

static int bench_parse_stages(const char *s, unsigned int *mask)
{
	char list[256], *save = NULL;

	if (strcmp(s, "all") == 0) {
		*mask = (1u << BENCH_STAGE_COUNT) - 1;
		return 0;
	}
	snprintf(list, sizeof(list), "%s", s);
	*mask = 0;
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int found = -1;

		for (int i = 0; i < BENCH_STAGE_COUNT; i++)
			if (strcmp(t, bench_stage_names[i] + (bench_stage_names[i][0] == '+')) == 0)
				found = i;
		if (found < 0)
			return -EINVAL;
		*mask |= 1u << found;
	}
	return *mask ? 0 : -EINVAL;
}

static void bench_usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"usage: %s [-w WORKERS] [-r RUNS] [-s STAGES] [--rules PATH] [--label NAME]\n"
		"          [--no-bodies] [--flows N] CAPTURE.pcap\n"
		"STAGES: all (default) or a list of decode,flow,reasm,smtp,sigs,detector\n"
		"--flows: flow table capacity per worker (limits.flows_per_worker), so a\n"
		"  small capture can run the table full\n",
		argv0);
}

static int bench_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
		{"workers", required_argument, NULL, 'w'},
		{"runs", required_argument, NULL, 'r'},
		{"stages", required_argument, NULL, 's'},
		{"rules", required_argument, NULL, 'R'},
		{"label", required_argument, NULL, 'l'},
		{"no-bodies", no_argument, NULL, 'B'},
		{"flows", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned long v;
	char *end;
	int c;

	*o = (struct bench_opts){
		.rules = "rules", .workers = 1, .runs = 5, .stages = (1u << BENCH_STAGE_COUNT) - 1};
	while ((c = getopt_long(argc, argv, "w:r:s:h", opts, NULL)) != -1) {
		v = (c == 'w' || c == 'r' || c == 'f') ? strtoul(optarg, &end, 10) : 0;
		if ((c == 'w' && (*end || v == 0 || v > BENCH_MAX_WORKERS)) ||
		    (c == 'r' && (*end || v == 0 || v > BENCH_MAX_RUNS)) ||
		    (c == 'f' && (*end || v < BENCH_MIN_FLOWS || v > BENCH_MAX_FLOWS)) ||
		    (c == 's' && bench_parse_stages(optarg, &o->stages)) || c == 'h' || c == '?')
			return -EINVAL;
		if (c == 'w')
			o->workers = (uint16_t)v;
		else if (c == 'r')
			o->runs = (unsigned int)v;
		else if (c == 'R')
			o->rules = optarg;
		else if (c == 'l')
			o->label = optarg;
		else if (c == 'B')
			o->no_bodies = true;
		else if (c == 'f')
			o->flows = (uint32_t)v;
	}
	if (optind != argc - 1)
		return -EINVAL;
	o->path = argv[optind];
	return 0;
}

static int bench_setup(const struct bench_opts *o, struct bench_wire_cfg *wc, struct config *cfg)
{
	const char *paths[1] = {o->rules};
	struct errbuf eb = {""};
	int err;

	err = config_init(cfg);
	if (err)
		return err;
	if (o->flows)
		cfg->limits.flows_per_worker = o->flows;
	err = sigs_create(&wc->sigs);
	/* compiling is slow under valgrind: only when a stage uses the rules */
	if (!err && (o->stages >> BENCH_SIGS))
		err = sigs_load(wc->sigs, paths, 1, &eb);
	if (err) {
		fprintf(stderr, "bench: rules %s: %s\n", o->rules, eb.msg);
		return err;
	}
	wc->n_workers = o->workers;
	wc->config = cfg;
	return 0;
}

static void bench_header(const struct bench_opts *o, const struct bench_cap *cap)
{
	printf("capture %s (%s): %lu packets, %.1f MiB on the wire, %.0f B per frame\n", o->path,
	       o->label		 ? o->label
	       : cap->profile[0] ? cap->profile
				 : "?",
	       (unsigned long)cap->pkts, cap->wire_bytes / 1048576.0,
	       cap->pkts ? (double)cap->wire_bytes / cap->pkts : 0.0);
	printf("workers %u (pinned to CPUs 0..%u), %u runs per stage, rules %s\n", o->workers,
	       o->workers - 1, o->runs, o->rules);
	for (uint16_t q = 0; o->workers > 1 && q < o->workers; q++)
		printf("  queue %u: %zu packets\n", q, cap->n[q]);
}

int main(int argc, char **argv)
{
	static struct bench_stage_result res[BENCH_STAGE_COUNT];
	static struct bench_cap cap;
	struct bench_bodies_result br = {0};
	struct bench_bodies bodies = {0};
	struct bench_wire_cfg wc = {0};
	struct bench_mem mem = {0};
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct bench_opts o;
	int err;

	if (bench_args(argc, argv, &o) || !cfg) {
		bench_usage(stderr, argv[0]);
		return 2;
	}
	err = bench_cap_load(&cap, &o);
	if (!err)
		err = bench_setup(&o, &wc, cfg);
	if (err)
		return 1;
	wc.src = cap.src;
	mem.preload_rss_kb = bench_rss_kb();
	bench_header(&o, &cap);
	if (!o.no_bodies && bench_extract(&wc, &cap, o.workers, &bodies) == 0)
		bench_time_bodies(&bodies, o.rules, o.runs, &br);
	bench_bodies_fini(&bodies);
	if (bench_stages(&o, &wc, &cap, res))
		return 1;
	bench_measure_mem(&mem, res);
	mem.peak_rss_kb = bench_rss_kb();
	bench_print_table(&o, &cap, res);
	bench_print_checks(&cap, res, &mem);
	bench_print_bodies(&cap, res, &br);
	bench_print_summary(&(struct bench_report){&o, &cap, res, &br, &mem});
	bench_print_json(&(struct bench_report){&o, &cap, res, &br, &mem});
	sigs_destroy(wc.sigs);
	config_fini(cfg);
	free(cfg);
	bench_cap_free(&cap);
	return 0;
}
