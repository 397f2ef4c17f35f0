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
#include "bench/bench_pipeline_int.h"

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
