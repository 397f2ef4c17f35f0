/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_wire: the sensor's pipeline put together for one benchmark run, the
 * way sensor/main.c wires it (settings from plan_from_config() of the default
 * config: event ring, SMTP context and worker per queue; the detector thread
 * consuming every ring), with the stages after decode switched on one by
 * one so their costs can be told apart. The caller drives the workers with
 * worker_process_burst() from threads it pins; the consumer (a drain thread,
 * or the real detector with the detection engine) runs on its own thread.
 *
 * Owns: every worker, SMTP context, ring, the consumer thread and the
 * detection engine of one run. Created and destroyed by the control thread.
 */
#ifndef RELAYWATCH_BENCH_BENCH_WIRE_H
#define RELAYWATCH_BENCH_BENCH_WIRE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/msgring.h"
#include "dataplane/worker.h"
#include "sensor/event.h"
#include "sensor/plan.h"
#include "sensor/smtp_session.h"

#define BENCH_MAX_WORKERS 64

/* Cumulative: each stage runs everything before it too. */
enum bench_stage {
	BENCH_DECODE = 0, /* decode, then every packet is "other port" */
	BENCH_FLOW = 1,	  /* + flow table; L7 declines every flow */
	BENCH_REASM = 2,  /* + TCP reassembly into an L7 that reads nothing */
	BENCH_SMTP = 3,	  /* + the SMTP parser, no signatures; rings drained */
	BENCH_SIGS = 4,	  /* + Hyperscan signatures; rings drained */
	BENCH_DETECT = 5, /* + the detector thread running the detection engine */
	BENCH_STAGE_COUNT
};

struct config;
struct detector;
struct detect_engine;
struct sigs;

struct bench_wire_cfg {
	enum bench_stage stage;
	uint16_t n_workers;
	struct source *src;	     /* for worker_cfg only: the bench drives the workers */
	const struct config *config; /* ports, any-port, limits: config_init() defaults */
	struct sigs *sigs;	     /* loaded rules, used from BENCH_SIGS on */
	const struct l7_ops *l7;     /* BENCH_REASM only: this L7 instead of the stand-in */
	void *l7_ctx;
};

struct bench_lane {
	struct worker *w;
	struct smtp_ctx *smtp; /* NULL below BENCH_SMTP */
	struct msgring *ring;
	struct event_sink sink;
};

struct bench_wire {
	struct bench_wire_cfg cfg;
	struct plan plan; /* the config as component settings, as main makes it */
	struct bench_lane lane[BENCH_MAX_WORKERS];
	_Atomic bool stop;
	_Atomic bool abort_events;
	struct detector *det;
	struct detect_engine *de;
	pthread_t consumer;
	bool consumer_started;
	uint64_t consumed; /* events the consumer took (drain) */
	uint64_t alerts;
	uint64_t consumer_done_ns; /* monotonic time the consumer finished */
};

extern const char *const bench_stage_names[BENCH_STAGE_COUNT];

int bench_wire_create(const struct bench_wire_cfg *cfg, struct bench_wire **out);
/* Starts the drain or detector thread (stages from BENCH_SMTP on). */
int bench_wire_start(struct bench_wire *bw);
/* Waits for the consumer; call after every worker_finish(). */
void bench_wire_join(struct bench_wire *bw);
void bench_wire_destroy(struct bench_wire *bw);

#endif /* RELAYWATCH_BENCH_BENCH_WIRE_H */
