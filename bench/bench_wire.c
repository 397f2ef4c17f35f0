// SPDX-License-Identifier: BSD-3-Clause
#include "bench/bench_wire.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "sensor/config.h"
#include "sensor/detect.h"
#include "sensor/detector.h"
#include "sensor/plan.h"

const char *const bench_stage_names[BENCH_STAGE_COUNT] = {
	"decode", "+flow", "+reasm", "+smtp", "+sigs", "+detector",
};

/* ---- stand-in L7 for the stages below SMTP ---- */

static char bench_sess_token;

static const void *bench_l7_arena(void *ctx, size_t *bytes)
{
	*bytes = sizeof(bench_sess_token);
	return &bench_sess_token;
}

static void *bench_l7_decline(void *ctx, const struct flow *f, uint64_t ts_ns)
{
	return NULL;
}

static void *bench_l7_accept(void *ctx, const struct flow *f, uint64_t ts_ns)
{
	return &bench_sess_token;
}

static enum l7_verdict bench_l7_data(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
				     const uint8_t *p, uint32_t n, uint64_t ts_ns)
{
	return L7_CONTINUE;
}

static enum l7_verdict bench_l7_gap(void *ctx, void *sess, const struct flow *f, enum flow_dir dir,
				    uint32_t len, uint64_t ts_ns)
{
	return L7_CONTINUE;
}

/* +flow: every flow is looked up, L7 declines it (reassembly then follows FIN/RST only). */
static const struct l7_ops bench_l7_flow_ops = {
	.sess_arena = bench_l7_arena,
	.open = bench_l7_decline,
	.data = bench_l7_data,
	.gap = bench_l7_gap,
};

/* +reasm: every byte is reassembled and handed up, and nobody reads it. */
static const struct l7_ops bench_l7_reasm_ops = {
	.sess_arena = bench_l7_arena,
	.open = bench_l7_accept,
	.data = bench_l7_data,
	.gap = bench_l7_gap,
};

/* ---- consumers ---- */

static uint64_t bench_watermark(void *arg)
{
	return worker_watermark(((struct bench_lane *)arg)->w);
}

static bool bench_done(void *arg)
{
	return worker_is_done(((struct bench_lane *)arg)->w);
}

/* Off the workers' CPUs when there is one to spare (one worker on two CPUs). */
static void bench_pin_consumer(const struct bench_wire *bw)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if (ncpu <= bw->cfg.n_workers)
		return;
	CPU_ZERO(&set);
	CPU_SET((int)ncpu - 1, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Takes events as fast as they come and looks at nothing: the data path alone. */
static void *bench_drain_thread(void *arg)
{
	struct bench_wire *bw = arg;
	unsigned int idle = 0;
	bool all_done = false;

	bench_pin_consumer(bw);
	while (!all_done) {
		unsigned int got = 0;

		all_done = true;
		for (uint16_t i = 0; i < bw->cfg.n_workers; i++) {
			struct bench_lane *l = &bw->lane[i];
			bool done = worker_is_done(l->w);
			uint32_t len;

			while (msgring_peek(l->ring, &len)) {
				msgring_release(l->ring);
				got++;
			}
			all_done &= done && !msgring_peek(l->ring, &len);
		}
		bw->consumed += got;
		idle = got ? 0 : idle + 1;
		if (idle > 64)
			nanosleep(&(struct timespec){.tv_nsec = 50000}, NULL);
		else if (idle)
			sched_yield();
	}
	bw->consumer_done_ns = clock_mono_ns();
	return NULL;
}

static void bench_alert(void *arg, const struct alert *a)
{
	((struct bench_wire *)arg)->alerts++;
}

static void bench_det_event(void *arg, const struct event_hdr *e)
{
	detect_engine_event(((struct bench_wire *)arg)->de, e);
}

static void bench_det_tick(void *arg, uint64_t now_ns, bool final)
{
	struct bench_wire *bw = arg;

	detect_engine_tick(bw->de, now_ns);
	if (final)
		detect_engine_flush(bw->de);
}

static void *bench_detector_thread(void *arg)
{
	struct bench_wire *bw = arg;

	bench_pin_consumer(bw);
	detector_run(bw->det);
	bw->consumer_done_ns = clock_mono_ns();
	return NULL;
}

/* The detector as main builds it, with the detection engine behind its event output. */
static int bench_wire_detector(struct bench_wire *bw)
{
	struct detector_output out = {
		.arg = bw,
		.event = bench_det_event,
		.tick = bench_det_tick,
	};
	struct detector_cfg dc;
	int err;

	err = detect_engine_create(bw->cfg.config, bench_alert, bw, &bw->de);
	if (err)
		return err;
	detector_cfg_default(&dc);
	err = detector_create(&dc, &out, &bw->det);
	for (uint16_t i = 0; !err && i < bw->cfg.n_workers; i++) {
		struct detector_input in = {
			.ring = bw->lane[i].ring,
			.watermark = bench_watermark,
			.done = bench_done,
			.arg = &bw->lane[i],
		};

		err = detector_add_input(bw->det, &in);
	}
	return err;
}

/* ---- workers ---- */

/* One worker with its ring and SMTP context, as sensor/main_setup.c's main_setup_worker(). */
static int bench_wire_lane(struct bench_wire *bw, uint16_t i)
{
	const struct plan *p = &bw->plan;
	struct bench_lane *l = &bw->lane[i];
	enum bench_stage stage = bw->cfg.stage;
	struct smtp_cfg sc = p->smtp;
	struct worker_cfg wc = {0};
	int err;

	err = msgring_create(p->event_ring_bytes, &l->ring);
	if (err)
		return err;
	l->sink.ring = l->ring;
	l->sink.worker = i;
	l->sink.wait_when_full = true; /* offline, as main with a file */
	l->sink.abort = &bw->abort_events;
	sc.sigs = stage >= BENCH_SIGS ? bw->cfg.sigs : NULL;
	if (stage >= BENCH_SMTP) {
		err = smtp_ctx_create(&sc, &l->sink, &l->smtp);
		if (err)
			return err;
	}
	wc.id = i;
	wc.src = bw->cfg.src;
	wc.queue = i;
	wc.cpu = -1; /* the bench pins its own threads */
	wc.decode = p->decode;
	wc.flow = p->flow;
	wc.reasm = p->reasm;
	wc.l7 = stage >= BENCH_SMTP    ? &smtp_l7_ops
		: stage == BENCH_REASM ? &bench_l7_reasm_ops
				       : &bench_l7_flow_ops;
	wc.l7_ctx = l->smtp;
	if (stage == BENCH_REASM && bw->cfg.l7) {
		wc.l7 = bw->cfg.l7;
		wc.l7_ctx = bw->cfg.l7_ctx;
	}
	/* decode only: no port is ours, so every packet stops right after decode */
	wc.server_ports = stage == BENCH_DECODE ? NULL : p->server_ports;
	wc.any_port = stage != BENCH_DECODE && sc.detect_any_port;
	wc.stop = &bw->stop;
	return worker_create(&wc, &l->w);
}

int bench_wire_create(const struct bench_wire_cfg *cfg, struct bench_wire **out)
{
	struct bench_wire *bw;
	int err = 0;

	if (cfg->n_workers == 0 || cfg->n_workers > BENCH_MAX_WORKERS)
		return -EINVAL;
	bw = calloc(1, sizeof(*bw));
	if (!bw)
		return -ENOMEM;
	bw->cfg = *cfg;
	/* a live tap's sizes: the bench stands for one, not for -r's capture-bound tables */
	plan_from_config(cfg->config, &bw->plan);
	for (uint16_t i = 0; !err && i < cfg->n_workers; i++)
		err = bench_wire_lane(bw, i);
	if (!err && cfg->stage == BENCH_DETECT)
		err = bench_wire_detector(bw);
	if (err) {
		bench_wire_destroy(bw);
		return err;
	}
	*out = bw;
	return 0;
}

int bench_wire_start(struct bench_wire *bw)
{
	int err;

	if (bw->cfg.stage < BENCH_SMTP)
		return 0;
	err = pthread_create(
		&bw->consumer, NULL,
		bw->cfg.stage == BENCH_DETECT ? bench_detector_thread : bench_drain_thread, bw);
	if (err)
		return -err;
	bw->consumer_started = true;
	return 0;
}

void bench_wire_join(struct bench_wire *bw)
{
	if (bw->consumer_started)
		pthread_join(bw->consumer, NULL);
	bw->consumer_started = false;
}

void bench_wire_destroy(struct bench_wire *bw)
{
	if (!bw)
		return;
	atomic_store(&bw->abort_events, true);
	if (bw->det)
		detector_stop(bw->det);
	bench_wire_join(bw);
	for (uint16_t i = 0; i < bw->cfg.n_workers; i++) {
		worker_destroy(bw->lane[i].w);
		smtp_ctx_destroy(bw->lane[i].smtp);
		msgring_destroy(bw->lane[i].ring);
	}
	detector_destroy(bw->det);
	detect_engine_destroy(bw->de);
	free(bw);
}
