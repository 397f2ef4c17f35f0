// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench_source_dpdk: packets per second through the DPDK source alone, per
 * queue: each reader thread loops rx_burst() + release() and does nothing
 * else, so the figure is the ceiling the source puts on a worker, not the
 * sensor's rate (bench_pipeline measures that).
 *
 *   null   net_null (64-byte frames, no copy) with N RSS queues, one reader
 *          per queue: the driver's mbuf allocation, our pkt views, the free.
 *   pcap   net_pcap with infinite_rx over a capture (the driver replays it
 *          from memory, copying each frame into a fresh mbuf), one queue,
 *          read directly and then through steer.c to N readers: the
 *          difference is what software distribution costs per packet
 *          (decode for the hash, SPSC ring, release from another thread).
 *          The decode and hash steer.c adds are also timed inside the one
 *          reader thread, which a busy machine cannot disturb: process CPU
 *          time per packet is printed beside every rate.
 *
 *   bench_source_dpdk [-q N] [-s secs] [-r runs] [-m null|pcap|all] [capture.pcap] -- EAL...
 *
 * EAL example: --lcores 0@0,1@0,2@1 --no-huge -m 1024 --no-pci --no-shconf
 * (the source pins queue i's reader to the i-th worker lcore's CPU).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_lcore.h>

#include "common/clock.h"
#include "common/hash.h"
#include "dataplane/decode.h"
#include "dataplane/source.h"
#include "dataplane/steer.h"

#define BENCH_BURST   32
#define BENCH_MAX_RUN 16

struct reader {
	struct source *s;
	uint16_t q;
	bool pick; /* also do steer.c's per-packet pick: decode + symmetric hash */
	bool init; /* call the source's thread_init (the DPDK source itself) */
	int cpu;   /* steer.c's readers: away from the steering thread's CPU */
	_Atomic bool *stop;
	pthread_t t;
	uint64_t pkts;
	uint64_t sink; /* keeps the pick from being optimised away */
};

/* What steer.c does per packet to choose a worker, timed inside one thread. */
static uint64_t steer_like_pick(const struct pkt *p)
{
	static __thread struct decode_cfg dc;
	static __thread bool dc_init;
	struct decode_stats ds = {0};
	struct pkt_meta m;

	if (!dc_init) {
		decode_cfg_default(&dc);
		dc_init = true;
	}
	if (decode_pkt(&dc, p, &m, &ds) != DECODE_OK)
		return 0;
	return hash_sym_tuple(m.src.b, m.sport, m.dst.b, m.dport, 0);
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct pkt p[BENCH_BURST];
	uint64_t n = 0, sink = 0;

	if (r->init && r->s->ops->thread_init)
		r->s->ops->thread_init(r->s, r->q); /* the DPDK source pins its pollers itself */
	if (r->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(r->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!atomic_load_explicit(r->stop, memory_order_relaxed)) {
		uint16_t k = r->s->ops->rx_burst(r->s, r->q, p, BENCH_BURST);

		for (uint16_t i = 0; r->pick && i < k; i++)
			sink += steer_like_pick(&p[i]);
		if (k)
			r->s->ops->release(r->s, r->q, p, k);
		else
			sched_yield(); /* a busy machine: spinning on nothing would count as cost */
		n += k;
	}
	r->pkts = n;
	r->sink = sink;
	return NULL;
}

/* n readers on queues 0..n-1 of s for secs seconds; per-queue Mpps into mpps[]. */
static uint64_t cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * NS_PER_SEC + (uint64_t)t.tv_nsec;
}

/* mpps[0..n): per-queue rate; mpps[n]: CPU time of the whole process per packet (ns),
 * which counts the steering thread and any spinning on an empty ring too. */
static int run_readers(struct source *s, uint16_t n, bool init, bool pick, int steer_cpu,
		       double secs, double *mpps)
{
	struct reader r[SOURCE_MAX_QUEUES];
	struct timespec ts = {.tv_sec = (time_t)secs,
			      .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
	_Atomic bool stop = false;
	uint64_t t0, t1, c0, total = 0;

	for (uint16_t i = 0; i < n; i++) {
		r[i] = (struct reader){
			.s = s, .q = i, .init = init, .pick = pick, .stop = &stop, .cpu = -1};
		if (!init)
			r[i].cpu = (int)((steer_cpu + 1 + i) %
					 (unsigned int)sysconf(_SC_NPROCESSORS_ONLN));
		if (pthread_create(&r[i].t, NULL, reader_main, &r[i]) != 0)
			return -errno;
	}
	t0 = clock_mono_ns();
	c0 = cpu_ns();
	nanosleep(&ts, NULL);
	atomic_store(&stop, true);
	for (uint16_t i = 0; i < n; i++)
		pthread_join(r[i].t, NULL);
	t1 = clock_mono_ns();
	for (uint16_t i = 0; i < n; i++) {
		mpps[i] = (double)r[i].pkts / ((double)(t1 - t0) / 1e3);
		total += r[i].pkts;
	}
	mpps[n] = total ? (double)(cpu_ns() - c0) / (double)total : 0;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over runs of each queue's rate, and of the sum. */
static void report(const char *what, double mpps[][SOURCE_MAX_QUEUES + 1], unsigned int runs,
		   uint16_t n)
{
	double col[BENCH_MAX_RUN], tot[BENCH_MAX_RUN];

	printf("%-34s", what);
	for (unsigned int k = 0; k < runs; k++) {
		tot[k] = 0;
		for (uint16_t i = 0; i < n; i++)
			tot[k] += mpps[k][i];
	}
	for (uint16_t i = 0; i < n; i++) {
		for (unsigned int k = 0; k < runs; k++)
			col[k] = mpps[k][i];
		qsort(col, runs, sizeof(col[0]), cmp_double);
		printf("  q%u %6.2f", i, col[runs / 2]);
	}
	qsort(tot, runs, sizeof(tot[0]), cmp_double);
	for (unsigned int k = 0; k < runs; k++)
		col[k] = mpps[k][n];
	qsort(col, runs, sizeof(col[0]), cmp_double);
	printf("  total %6.2f Mpps  cpu %6.1f ns/pkt\n", tot[runs / 2], col[runs / 2]);
}

static int open_source(uint16_t workers, struct source **s)
{
	struct source_cfg cfg = {.kind = SOURCE_DPDK, .n_workers = workers};
	struct errbuf eb = {""};
	int err = source_open(&cfg, s, &eb);

	if (err)
		fprintf(stderr, "bench_source_dpdk: %s\n", eb.msg);
	return err;
}

static int bench_null(uint16_t nq, double secs, unsigned int runs)
{
	static double mpps[BENCH_MAX_RUN][SOURCE_MAX_QUEUES + 1];
	char what[64];
	struct source *s;

	if (rte_vdev_init("net_null0", "size=64,copy=0") != 0 || open_source(nq, &s) != 0)
		return 1;
	for (unsigned int k = 0; k < runs; k++)
		if (run_readers(s, s->n_queues, true, false, 0, secs, mpps[k]) != 0)
			return 1;
	snprintf(what, sizeof(what), "net_null 64 B, %u RSS queue%s", s->n_queues,
		 s->n_queues == 1 ? "" : "s");
	report(what, mpps, runs, s->n_queues);
	source_close(s);
	rte_vdev_uninit("net_null0");
	return 0;
}

static int bench_pcap(const char *path, uint16_t nq, double secs, unsigned int runs)
{
	static double mpps[BENCH_MAX_RUN][SOURCE_MAX_QUEUES + 1];
	struct errbuf eb = {""};
	struct source *s, *st;
	char args[4096], what[64];

	/* The source pins queue 0's poller (here steer.c's thread) to the first worker lcore. */
	unsigned int lc = rte_get_next_lcore(-1, 1, 0);
	int steer_cpu = lc < RTE_MAX_LCORE ? rte_lcore_to_cpu_id((int)lc) : 0;

	snprintf(args, sizeof(args), "rx_pcap=%s,infinite_rx=1", path);
	/* Sized as main sizes it for nq workers: its pool covers what steer.c's rings hold. */
	if (rte_vdev_init("net_pcap0", args) != 0 || open_source(nq < 2 ? 2 : nq, &s) != 0)
		return 1;
	for (unsigned int k = 0; k < runs; k++)
		if (run_readers(s, 1, true, false, 0, secs, mpps[k]) != 0)
			return 1;
	report("net_pcap replay, 1 queue, direct", mpps, runs, 1);
	for (unsigned int k = 0; k < runs; k++)
		if (run_readers(s, 1, true, true, 0, secs, mpps[k]) != 0)
			return 1;
	report("  same + steer's decode and hash", mpps, runs, 1);
	for (uint16_t w = 1; w <= nq; w++) {
		if (steer_open(s, w, &st, &eb) != 0) {
			fprintf(stderr, "bench_source_dpdk: %s\n", eb.msg);
			return 1;
		}
		for (unsigned int k = 0; k < runs; k++)
			if (run_readers(st, w, false, false, steer_cpu, secs, mpps[k]) != 0)
				return 1;
		source_close(st); /* stops the steering thread, returns its frames */
		snprintf(what, sizeof(what), "net_pcap replay, steered to %u", w);
		report(what, mpps, runs, w);
	}
	source_close(s);
	rte_vdev_uninit("net_pcap0");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = "all", *path = NULL;
	unsigned int runs = 3;
	uint16_t nq = 2;
	double secs = 2;
	int c, rc = 0;

	while ((c = getopt(argc, argv, "+q:s:r:m:")) != -1) {
		switch (c) {
		case 'q':
			nq = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			secs = strtod(optarg, NULL);
			break;
		case 'r':
			runs = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			mode = optarg;
			break;
		default:
			return 2;
		}
	}
	/* getopt ate "--" only when no capture came before it */
	if (strcmp(argv[optind - 1], "--") == 0)
		optind--;
	else if (optind < argc)
		path = argv[optind++];
	if (optind >= argc || strcmp(argv[optind], "--") != 0 || !nq || nq > SOURCE_MAX_QUEUES ||
	    !runs || runs > BENCH_MAX_RUN || secs <= 0) {
		fprintf(stderr,
			"usage: %s [-q N] [-s secs] [-r runs] [-m null|pcap|all] "
			"[capture.pcap] -- EAL-ARGS...\n",
			argv[0]);
		return 2;
	}
	argv[optind] = argv[0]; /* the EAL wants a program name first */
	if (rte_eal_init(argc - optind, argv + optind) < 0) {
		fprintf(stderr, "bench_source_dpdk: EAL did not start\n");
		return 1;
	}
	printf("median of %u runs of %.1f s; readers only receive and release\n", runs, secs);
	if (strcmp(mode, "pcap") != 0)
		rc |= bench_null(nq, secs, runs);
	if (strcmp(mode, "null") != 0 && path)
		rc |= bench_pcap(path, nq, secs, runs);
	rte_eal_cleanup();
	return rc;
}
