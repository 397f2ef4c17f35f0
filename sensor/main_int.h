/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main_int: the composition root's state, shared by main.c (run, threads,
 * control loop, summary, teardown), main_config.c (defaults < file < command
 * line), main_setup.c (source, workers, signatures, privileges), main_output.c
 * (the detector thread's outputs: JSON, collector export, /metrics) and
 * main_xdp.c (the XDP pre-filter's counters). Nothing else includes it. The
 * main thread owns struct sensor; the detector thread reads it through the
 * output callbacks once started.
 */
#ifndef RELAYWATCH_SENSOR_MAIN_INT_H
#define RELAYWATCH_SENSOR_MAIN_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "dataplane/source.h"
#include "dataplane/source_afxdp.h"
#include "sensor/cli.h"
#include "sensor/config.h"
#include "sensor/event.h"
#include "sensor/plan.h"

#define ALERT_LINE_MAX (64 * 1024)

struct alert;
struct detect_engine;
struct detector;
struct export_json;
struct export_pb;
struct metrics;
struct msgring;
struct privacy;
struct sigs;
struct smtp_ctx;
struct worker;

struct sensor_worker {
	struct sensor *s;
	struct worker *w;
	struct smtp_ctx *smtp;
	struct msgring *ring;
	struct event_sink sink;
	pthread_t thread;
	bool started;
	int rc;
};

struct sensor {
	struct cli_opts opts;
	struct config cfg; /* defaults < --config FILE < command line */
	struct plan plan;  /* cfg as component settings */
	uint8_t server_ports[8192];
	uint8_t smtp_ports[8192];
	uint8_t tls_ports[8192];
	struct source *src;	/* what workers read: the capture or the steer layer */
	struct source *raw_src; /* the capture itself when steered */
	uint16_t n_workers;
	struct sensor_worker wk[SOURCE_MAX_QUEUES];
	struct detector *det;
	pthread_t det_thread;
	bool det_started;
	struct export_json *json;
	struct detect_engine *de;      /* detector thread only, once started */
	struct sigs *sigs;	       /* reloaded on SIGHUP by the main thread */
	_Atomic bool report_requested; /* SIGUSR1: the detector thread writes the report */
	char *alert_line;	       /* detector thread's formatting buffer */
	struct export_pb *pb;	       /* --collector: protobuf frames over TLS */
	struct privacy *privacy;       /* privacy.*: the key's HMAC state; NULL: off */
	const struct privacy *ips;     /* privacy.pseudonymize_ips: outputs show pseudonyms */
	struct metrics *metrics;       /* --metrics: Prometheus /metrics */
	_Atomic bool stop;
	_Atomic bool abort_events;
	uint64_t start_ns;
	/* live AF_XDP: the pre-filter's counters, read by the main thread */
	struct xdp_loader_totals xdp;
	uint64_t xdp_next_ns;  /* monotonic time of the next read */
	uint64_t xdp_since_ns; /* sources seen since this wall time are reported */
	uint64_t xdp_sources;  /* per-source records read so far */
	/* main thread → detector thread: per-source counters (struct xdp_loader_src) */
	struct msgring *xdp_ring;
	uint64_t xdp_src_dropped; /* records that did not fit: read again next time */
	bool xdp_ring_full;	  /* this read lost some: keep xdp_since_ns */
};

/* main_config.c; returns a sysexits code (EX_CONFIG, EX_USAGE, ...), 0 when done. */
int main_setup_config(struct sensor *s, struct errbuf *eb);

/* main_setup.c */
int main_setup_source(struct sensor *s, struct errbuf *eb);
int main_setup_worker(struct sensor *s, uint16_t i, struct errbuf *eb);
int main_setup_detection(struct sensor *s, struct errbuf *eb);
void main_reload_sigs(struct sensor *s);
int main_drop_privileges(struct sensor *s, struct errbuf *eb);

/* main_output.c */
void main_emit_alert(void *arg, const struct alert *a);
int main_setup_outputs(struct sensor *s, struct errbuf *eb);
int main_setup_export(struct sensor *s, struct errbuf *eb);
int main_finish_export(struct sensor *s);
int main_setup_metrics(struct sensor *s, struct errbuf *eb);
void main_linger_metrics(struct sensor *s);

/* main_xdp.c */
void main_drain_xdp_sources(struct sensor *s);
void main_poll_xdp(struct sensor *s, bool force);
int main_setup_xdp_sources(struct sensor *s, struct errbuf *eb);

#endif /* RELAYWATCH_SENSOR_MAIN_INT_H */
