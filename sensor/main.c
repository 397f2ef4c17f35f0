// SPDX-License-Identifier: BSD-3-Clause
/*
 * relaywatch: the sensor's composition root. The only file that includes
 * from every layer and the only one that exits. It parses the command line,
 * opens the packet source, makes one worker (with its SMTP context and event
 * ring) per queue, the detector thread and the outputs, runs them, handles
 * signals and progress on the main thread, and prints the summary.
 */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/msgring.h"
#include "common/stats.h"
#include "dataplane/source.h"
#include "dataplane/source_afxdp.h"
#include "dataplane/steer.h"
#include "dataplane/worker.h"
#include "exporters/alert_json.h"
#include "exporters/export_json.h"
#include "exporters/export_pb.h"
#include "exporters/metrics.h"
#include "sensor/cli.h"
#include "dataplane/source_pcap.h"
#include "sensor/config.h"
#include "sensor/detect.h"
#include "sensor/detector.h"
#include "sensor/event.h"
#include "sensor/plan.h"
#include "sensor/report.h"
#include "sensor/sigs.h"
#include "sensor/privacy.h"
#include "sensor/privdrop.h"
#include "sensor/sandbox.h"
#include "sensor/smtp_session.h"
#include "sensor/summary.h"

#define XDP_POLL_NS (1000 * 1000 * 1000ull) /* XDP counter maps read once a second */
/* Per-source XDP records on their way to the detector thread: a full map
 * (65536 sources) of one read fits. */
#define XDP_SRC_RING_BYTES (8u << 20)
#define XDP_SRC_DRAIN_MAX  (1u << 17) /* records handled per detector tick */

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

static void *worker_thread(void *arg)
{
	struct sensor_worker *sw = arg;

	sw->rc = worker_run(sw->w);
	return NULL;
}

static void *detector_thread(void *arg)
{
	struct sensor *s = arg;

	detector_run(s->det);
	return NULL;
}

static uint64_t input_watermark(void *arg)
{
	return worker_watermark(((struct sensor_worker *)arg)->w);
}

static bool input_done(void *arg)
{
	return worker_is_done(((struct sensor_worker *)arg)->w);
}

/* ---- outputs (detector thread) ---- */

static void out_tx(void *arg, const struct smtp_tx *tx)
{
	struct sensor *s = arg;

	if (s->json)
		export_json_tx(s->json, tx);
	if (s->pb && s->cfg.collector.archive)
		export_pb_tx(s->pb, tx);
}

#define ALERT_LINE_MAX (64 * 1024)

/* The detection engine's emit(): every alert and update, on the detector thread. */
static void emit_alert(void *arg, const struct alert *a)
{
	struct sensor *s = arg;
	long n;

	if (s->json) {
		n = alert_json_format(a, s->ips, s->alert_line, ALERT_LINE_MAX);
		if (n > 0)
			export_json_alert_line(s->json, s->alert_line, (size_t)n);
	}
	if (s->pb)
		export_pb_alert(s->pb, a);
}

static void out_event(void *arg, const struct event_hdr *e)
{
	struct sensor *s = arg;

	detect_engine_event(s->de, e);
	if (s->metrics)
		metrics_detector_event(s->metrics, e);
}

/* The XDP pre-filter's per-source counters (poll_xdp, main thread) reach the
 * engine here, on the thread that owns it. */
static void drain_xdp_sources(struct sensor *s)
{
	const struct xdp_loader_src *src;
	union pkt_addr addr;
	uint32_t len;

	for (uint32_t i = 0; i < XDP_SRC_DRAIN_MAX && s->xdp_ring; i++) {
		src = msgring_peek(s->xdp_ring, &len);
		if (!src)
			break;
		if (len == sizeof(*src)) {
			memcpy(addr.b, src->addr, sizeof(addr.b));
			detect_engine_src_counters(s->de, src->family, &addr, src->smtp_syns,
						   src->flows, src->pkts, src->bytes, src->last_ns);
		}
		msgring_release(s->xdp_ring);
	}
}

static void out_tick(void *arg, uint64_t now_ns, bool final)
{
	struct sensor *s = arg;

	drain_xdp_sources(s);
	detect_engine_tick(s->de, now_ns);
	if (final)
		detect_engine_flush(s->de); /* alerts whose counts moved since they fired */
	if (s->pb)
		export_pb_summary_tick(s->pb, s->de, now_ns, s->cfg.collector.summary_interval_s,
				       final);
	if (atomic_exchange(&s->report_requested, false) && s->cfg.report != CONFIG_REPORT_NONE) {
		report_write(stdout, s->de, s->cfg.report, 20, s->ips);
		fflush(stdout);
	}
	if (s->json && final)
		export_json_flush(s->json);
	if (s->metrics)
		metrics_detector_tick(s->metrics, s->de,
				      s->json ? export_json_stats(s->json) : NULL, final);
}

/* ---- set-up ---- */

/* --home-net is repeatable and each takes a comma-separated list. */
static int cli_home_nets(struct sensor *s, struct errbuf *eb)
{
	struct config *c = &s->cfg;

	netset_fini(&c->home_net);
	netset_init(&c->home_net);
	for (unsigned int i = 0; i < s->opts.n_home_nets; i++) {
		const char *p = s->opts.home_nets[i];

		while (*p) {
			char tok[128];
			size_t n = strcspn(p, ",");
			int err;

			if (n == 0 || n >= sizeof(tok))
				return errbuf_set(eb, -EINVAL, "--home-net: bad entry in '%s'",
						  s->opts.home_nets[i]);
			memcpy(tok, p, n);
			tok[n] = '\0';
			err = netset_add_cidr(&c->home_net, tok, eb);
			if (err)
				return errbuf_set(eb, err, "--home-net: %s", eb->msg);
			p += n + (p[n] == ',');
		}
	}
	netset_finish(&c->home_net);
	return 0;
}

/* --collector, --tls-*, --collector-plaintext, --sensor-id, --spool and
 * --archive override the file's collector: section. */
static int apply_cli_collector(struct sensor *s, struct errbuf *eb)
{
	struct config_collector *c = &s->cfg.collector;
	const struct cli_opts *o = &s->opts;
	const struct {
		const char *opt, *arg;
		char *field;
		size_t cap;
	} strs[] = {
		{"--collector", o->collector, c->address, sizeof(c->address)},
		{"--tls-cert", o->tls_cert, c->tls_cert, sizeof(c->tls_cert)},
		{"--tls-key", o->tls_key, c->tls_key, sizeof(c->tls_key)},
		{"--tls-ca", o->tls_ca, c->tls_ca, sizeof(c->tls_ca)},
		{"--sensor-id", o->sensor_id, c->sensor_id, sizeof(c->sensor_id)},
		{"--spool", o->spool_dir, c->spool_dir, sizeof(c->spool_dir)},
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i].arg &&
		    snprintf(strs[i].field, strs[i].cap, "%s", strs[i].arg) >= (int)strs[i].cap)
			return errbuf_set(eb, -EINVAL, "%s: too long", strs[i].opt);
	if (o->collector_plaintext)
		c->tls_cert[0] = c->tls_key[0] = c->tls_ca[0] = '\0';
	if (o->collector_plaintext || o->tls_cert)
		c->plaintext = o->collector_plaintext;
	if (o->archive)
		c->archive = true;
	return 0;
}

/* The command line overrides the file for the options it has. */
static int apply_cli(struct sensor *s, struct errbuf *eb)
{
	struct config *c = &s->cfg;
	const struct cli_opts *o = &s->opts;
	int err;

	if (o->n_home_nets && (err = cli_home_nets(s, eb)))
		return err;
	if (o->ports_arg && (err = cli_parse_ports(o->ports_arg, NULL, c->smtp_ports,
						   &c->n_smtp_ports, CONFIG_MAX_PORTS, eb)))
		return errbuf_set(eb, err, "--smtp-ports: %s", eb->msg);
	if (o->tls_ports_arg && (err = cli_parse_ports(o->tls_ports_arg, NULL, c->tls_ports,
						       &c->n_tls_ports, CONFIG_MAX_PORTS, eb)))
		return errbuf_set(eb, err, "--tls-ports: %s", eb->msg);
	if (o->any_port >= 0)
		c->detect_any_port = o->any_port;
	if (o->workers)
		c->workers = o->workers;
	if (o->log_dir)
		snprintf(c->log_dir, sizeof(c->log_dir), "%s", o->log_dir);
	if (o->report_given)
		c->report = (enum config_report)o->report;
	if (o->user)
		snprintf(c->live.user, sizeof(c->live.user), "%s", o->user);
	return apply_cli_collector(s, eb);
}

/* The file's live: section where the command line left the default (--user
 * was copied into cfg by apply_cli, so the file's user applies without it). */
static void setup_live_opts(struct sensor *s)
{
	const struct config_live *l = &s->cfg.live;

	if (!s->opts.queues)
		s->opts.queues = l->queues;
	if (s->opts.xdp_mode == SOURCE_XDP_AUTO)
		s->opts.xdp_mode = l->xdp_mode;
	if (s->opts.bind == SOURCE_BIND_AUTO)
		s->opts.bind = l->bind;
	s->opts.busy_poll = s->opts.busy_poll || l->busy_poll;
	s->opts.user = l->user[0] ? l->user : NULL;
	if (l->group[0] && s->opts.user)
		log_warn("live.group '%s': the sensor takes %s's primary group and no other",
			 l->group, s->opts.user);
}

/* Returns a sysexits code: the file's errors are EX_CONFIG, the command line's EX_USAGE. */
static int setup_config(struct sensor *s, struct errbuf *eb)
{
	int err;

	if (config_init(&s->cfg) != 0)
		return errbuf_set(eb, EX_OSERR, "no memory for the configuration");
	if (s->opts.config_file && config_load(&s->cfg, s->opts.config_file, eb) != 0)
		return EX_CONFIG;
	if (apply_cli(s, eb) != 0)
		return EX_USAGE;
	err = config_validate(&s->cfg, eb);
	if (err)
		return EX_CONFIG;
	/* The live sources and steer read these from opts. */
	s->opts.workers = s->cfg.workers;
	s->opts.log_dir = s->cfg.log_dir[0] ? s->cfg.log_dir : NULL;
	setup_live_opts(s);

	plan_from_config(&s->cfg, &s->plan);
	if (s->opts.mode == SOURCE_PCAP)
		plan_bound_by_capture(&s->plan, source_pcap_size_hint(s->opts.read_file));
	memcpy(s->smtp_ports, s->plan.smtp_ports, sizeof(s->smtp_ports));
	memcpy(s->tls_ports, s->plan.tls_ports, sizeof(s->tls_ports));
	memcpy(s->server_ports, s->plan.server_ports, sizeof(s->server_ports));
	return 0;
}

/* AF_XDP: the pre-filter redirects every port the workers parse (SMTP and TLS). */
static int setup_afxdp_cfg(struct sensor *s, struct source_cfg *sc, uint16_t *ports,
			   struct errbuf *eb)
{
	uint16_t n = 0;

	for (uint32_t p = 0; p < 65536; p++) {
		if (!(s->server_ports[p >> 3] & (1u << (p & 7))))
			continue;
		if (n == SOURCE_MAX_PORTS)
			return errbuf_set(eb, -E2BIG,
					  "--afxdp: the XDP pre-filter takes at most %u "
					  "SMTP and TLS ports",
					  SOURCE_MAX_PORTS);
		ports[n++] = (uint16_t)p;
	}
	sc->iface = s->opts.iface;
	sc->xdp_mode = s->opts.xdp_mode;
	sc->bind = s->opts.bind;
	sc->busy_poll = s->opts.busy_poll;
	sc->ports = ports;
	sc->n_ports = n;
	sc->n_queues = s->opts.queues ? s->opts.queues : 1;
	return 0;
}

/* DPDK: the EAL arguments come from after "--"; the source plans its RX queues for
 * the workers asked for (without --workers: one per worker lcore of -l). */
static void setup_dpdk_cfg(struct sensor *s, struct source_cfg *sc)
{
	sc->eal_argc = s->opts.eal_argc;
	sc->eal_argv = s->opts.eal_argv;
	sc->n_workers = s->opts.workers;
	sc->exit_idle_ms = s->opts.exit_idle_ms;
}

static int setup_source(struct sensor *s, struct errbuf *eb)
{
	uint16_t ports[SOURCE_MAX_PORTS];
	struct source_cfg sc = {0};
	int err;

	s->n_workers = s->opts.workers ? s->opts.workers : 1;
	sc.kind = s->opts.mode;
	sc.path = s->opts.read_file;
	sc.preload = s->opts.preload;
	/* A preloaded file is split per worker by flow at load time. */
	sc.n_queues = s->opts.preload ? s->n_workers : 1;
	if (sc.kind == SOURCE_AFXDP) {
		err = setup_afxdp_cfg(s, &sc, ports, eb);
		if (err)
			return err;
		/* One worker per RX queue unless told otherwise. */
		s->n_workers = s->opts.workers ? s->opts.workers : sc.n_queues;
	}
	if (sc.kind == SOURCE_DPDK)
		setup_dpdk_cfg(s, &sc);
	err = source_open(&sc, &s->raw_src, eb);
	if (err)
		return err;
	if (sc.kind == SOURCE_DPDK && !s->opts.workers)
		s->n_workers = s->raw_src->n_queues; /* one worker per queue */
	s->src = s->raw_src;
	if (s->src->n_queues < s->n_workers || !s->src->symmetric) {
		/* More workers than the source has symmetric queues: spread in software. */
		err = steer_open(s->raw_src, s->n_workers, &s->src, eb);
		if (err) {
			/* A live source holds the interface (XDP attached): give it back now. */
			source_close(s->raw_src);
			s->raw_src = s->src = NULL;
			return err;
		}
	}
	return 0;
}

static int setup_worker(struct sensor *s, uint16_t i, struct errbuf *eb)
{
	struct sensor_worker *sw = &s->wk[i];
	struct worker_cfg wc = {0};
	struct smtp_cfg sc = s->plan.smtp;
	int err;

	sw->s = s;
	err = msgring_create(s->plan.event_ring_bytes, &sw->ring);
	if (err)
		return errbuf_set(eb, err, "worker %u: no memory for the event ring", i);
	sw->sink.ring = sw->ring;
	sw->sink.worker = i;
	sw->sink.wait_when_full = !s->src->live;
	sw->sink.abort = &s->abort_events;

	err = smtp_ctx_create(&sc, &sw->sink, &sw->smtp);
	if (err)
		return errbuf_set(eb, err, "worker %u: SMTP context: %s", i, strerror(-err));

	wc.id = i;
	wc.src = s->src;
	wc.queue = i;
	wc.cpu = -1;
	wc.decode = s->plan.decode;
	wc.flow = s->plan.flow;
	wc.reasm = s->plan.reasm;
	wc.l7 = &smtp_l7_ops;
	wc.l7_ctx = sw->smtp;
	wc.server_ports = s->server_ports;
	wc.any_port = sc.detect_any_port;
	/* DPDK lcores and --busy-poll spin on purpose; a file waits for nobody. */
	wc.idle_sleep = s->src->live && !s->opts.busy_poll && s->opts.mode != SOURCE_DPDK;
	wc.stop = &s->stop;
	err = worker_create(&wc, &sw->w);
	if (err)
		return errbuf_set(eb, err, "worker %u: %s", i, strerror(-err));
	return 0;
}

/* Installed rules, or the source tree's when running from a build directory. */
static const char *default_rules_dir(void)
{
	return access(RELAYWATCH_DATADIR "/rules", R_OK) == 0 ? RELAYWATCH_DATADIR "/rules"
							      : RELAYWATCH_SRC_RULES_DIR;
}

static int load_sigs(struct sensor *s, struct errbuf *eb)
{
	const char *paths[CONFIG_MAX_SIG_FILES];
	unsigned int n = s->cfg.n_sig_files;

	for (unsigned int i = 0; i < n; i++)
		paths[i] = s->cfg.sig_files[i];
	if (n == 0) {
		paths[0] = default_rules_dir();
		n = 1;
	}
	return sigs_load(s->sigs, paths, n, eb);
}

/* Signatures before the workers (their SMTP contexts scan), the engine before the detector. */
static int setup_detection(struct sensor *s, struct errbuf *eb)
{
	int err;

	if (s->cfg.sigs_enabled) {
		err = sigs_create(&s->sigs);
		if (err)
			return errbuf_set(eb, err, "signatures: %s", strerror(-err));
		err = load_sigs(s, eb);
		if (err)
			return errbuf_set(eb, err, "signatures: %s", eb->msg);
		s->plan.smtp.sigs = s->sigs;
	}
	/* Mailboxes become pseudonyms in the workers, addresses only in the outputs. */
	if (s->cfg.pseudonymize || s->cfg.pseudonymize_ips) {
		err = privacy_create(s->cfg.key_file, &s->privacy, eb);
		if (err)
			return err;
		if (s->cfg.pseudonymize)
			s->plan.smtp.privacy = s->privacy;
		if (s->cfg.pseudonymize_ips)
			s->ips = s->privacy;
	}
	s->alert_line = malloc(ALERT_LINE_MAX);
	if (!s->alert_line)
		return errbuf_set(eb, -ENOMEM, "no memory for alert formatting");
	/* The engine sizes its tables from the limits: those the plan bounded. */
	s->cfg.limits.hosts = s->plan.hosts;
	s->cfg.limits.accounts = s->plan.accounts;
	err = detect_engine_create(&s->cfg, emit_alert, s, &s->de);
	if (err)
		return errbuf_set(eb, err, "detection engine: %s", strerror(-err));
	return 0;
}

/* SIGHUP: a new set replaces the old one without stopping capture, or the old stays. */
static void reload_sigs(struct sensor *s)
{
	struct errbuf eb = {""};

	if (!s->sigs)
		return;
	if (load_sigs(s, &eb) != 0)
		log_err("SIGHUP: signatures not reloaded, keeping the current set: %s", eb.msg);
	else
		log_info("SIGHUP: signatures reloaded (generation %llu)",
			 (unsigned long long)sigs_generation(s->sigs));
}

static int setup_outputs(struct sensor *s, struct errbuf *eb)
{
	struct detector_output out = {
		.arg = s,
		.tx = out_tx,
		.event = out_event,
		.tick = out_tick,
	};
	struct detector_cfg dc;
	int err;

	if (s->opts.log_dir) {
		err = export_json_open(s->opts.log_dir, &s->json, eb);
		if (err)
			return err;
		export_json_set_privacy(s->json, s->ips);
	}
	detector_cfg_default(&dc);
	err = detector_create(&dc, &out, &s->det);
	if (err)
		return errbuf_set(eb, err, "detector: %s", strerror(-err));
	for (uint16_t i = 0; i < s->n_workers; i++) {
		struct detector_input in = {
			.ring = s->wk[i].ring,
			.watermark = input_watermark,
			.done = input_done,
			.arg = &s->wk[i],
		};

		/* Cannot fail: workers <= SOURCE_MAX_QUEUES (config_validate, the sources). */
		_Static_assert(DETECTOR_MAX_INPUTS >= SOURCE_MAX_QUEUES, "an input per worker");
		err = detector_add_input(s->det, &in);
		if (err)
			return errbuf_set(eb, err, "detector: too many inputs");
	}
	return 0;
}

/* ---- collector export (exporters/export_pb.h) ---- */

/* Before the capture opens: a bad certificate or a busy spool stops the run
 * before it has seen a packet. The exporter thread starts here. */
static int setup_export(struct sensor *s, struct errbuf *eb)
{
	struct export_pb_setup st;
	struct export_pb_cfg ec;

	struct passwd *pw;
	int err;

	if (!s->cfg.collector.address[0])
		return 0;
	export_pb_cfg_from_config(&s->cfg, &st, &ec);
	ec.started_ns = clock_real_ns();
	err = export_pb_create(&ec, &s->pb, eb);
	/* The exporter thread makes new segment files after the drop to --user. */
	if (!err && s->opts.user && ec.spool_dir[0] && (pw = getpwnam(s->opts.user)) &&
	    chown(ec.spool_dir, pw->pw_uid, pw->pw_gid) != 0)
		log_warn("%s: cannot hand it to %s (%s): the spool will be memory-only",
			 ec.spool_dir, s->opts.user, strerror(errno));
	return err;
}

/* End of the run: wait until the collector has acknowledged everything, or
 * until collector.drain_timeout passes without progress, or a signal. */
static int finish_export(struct sensor *s)
{
	struct timespec zero = {0, 0};
	struct errbuf eb = {""};
	sigset_t set;
	int err;

	if (!s->pb)
		return EX_OK;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while ((err = export_pb_wait(s->pb, 250, &eb)) == -EAGAIN) {
		if (sigtimedwait(&set, NULL, &zero) > 0) {
			const char *rest = s->cfg.collector.spool_dir[0]
						   ? "the rest stay in the spool directory"
						   : "the rest are lost (no spool)";

			log_err("collector: interrupted before every frame was acknowledged; %s",
				rest);
			err = -EINTR;
			break;
		}
	}
	if (!s->opts.quiet)
		export_pb_print(s->pb, stderr);
	if (err == -ETIMEDOUT)
		log_err("%s", eb.msg);
	return err ? EX_UNAVAILABLE : EX_OK;
}

/* ---- Prometheus /metrics (exporters/metrics.h) ---- */

static const char *metrics_listen(const struct sensor *s)
{
	return s->opts.metrics_addr ? s->opts.metrics_addr : s->cfg.metrics_addr;
}

/* Once workers, detector and exporter exist, before the privilege drop: a
 * scrape reads what they publish and never waits for them. */
static int setup_metrics(struct sensor *s, struct errbuf *eb)
{
	const struct metrics_cfg mc = {
		.cfg = &s->cfg,
		.plan = &s->plan,
		.src = s->raw_src,
		.steer = s->src != s->raw_src ? s->src : NULL,
		.det = s->det,
		.sigs = s->sigs,
		.pb = s->pb,
		.mode = source_kind_name(s->opts.mode),
		.start_real_ns = clock_real_ns(),
	};
	int err;

	if (!metrics_listen(s)[0])
		return 0;
	err = metrics_create(&mc, &s->metrics, eb);
	for (uint16_t i = 0; i < s->n_workers && !err; i++)
		if ((err = metrics_add_worker(s->metrics, s->wk[i].w, s->wk[i].smtp,
					      s->wk[i].ring)))
			errbuf_set(eb, err, "metrics: worker %u: %s", i, strerror(-err));
	if (!err && (err = metrics_serve(s->metrics, metrics_listen(s), eb)) == 0)
		log_info("metrics: Prometheus /metrics on port %u (%s)", metrics_port(s->metrics),
			 metrics_listen(s));
	return err;
}

static void metrics_xdp_totals(struct sensor *s)
{
	const char *names[XDP_SMTP_R_COUNT];

	for (unsigned int r = 0; r < XDP_SMTP_R_COUNT; r++)
		names[r] = xdp_loader_reason_name(r);
	metrics_xdp(s->metrics, names, s->xdp.pkts, s->xdp.bytes, XDP_SMTP_R_COUNT);
}

/* --metrics-linger: the input is done; /metrics stays up so that Prometheus
 * scrapes the final counts of a -r run. SIGINT or SIGTERM ends it early. */
static void linger_metrics(struct sensor *s)
{
	uint64_t end = clock_mono_ns() + (uint64_t)s->opts.metrics_linger_s * NS_PER_SEC, now;
	sigset_t set;

	if (!s->metrics)
		return;
	metrics_input_done(s->metrics);
	if (!s->opts.metrics_linger_s)
		return;
	log_info("metrics: input done; /metrics stays up for %u s (SIGTERM ends it)",
		 s->opts.metrics_linger_s);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	while ((now = clock_mono_ns()) < end) {
		struct timespec left = {(time_t)((end - now) / NS_PER_SEC),
					(long)((end - now) % NS_PER_SEC)};

		if (sigtimedwait(&set, NULL, &left) > 0)
			break;
	}
}

/* ---- privileges ---- */

/* After set-up nothing the sensor does needs a capability (sensor/privdrop.c
 * says why; the XDP detach is the loader's guardian's job). */
static int drop_privileges(struct sensor *s, struct errbuf *eb)
{
	int err;

	if (!s->opts.user)
		return 0;
	/* Dropping anyway would leave that program on the interface at exit. */
	if (s->raw_src->close_needs_root)
		return errbuf_set(
			eb, -EPERM,
			"--user %s: %s detaches its XDP program at exit, which needs root: "
			"run it without --user, or use net_af_packet or --afxdp (whose "
			"detach helper keeps the privileges)",
			s->opts.user, s->raw_src->desc);
	err = privdrop_apply(s->opts.user, NULL, 0, eb);
	if (err)
		return err;
	if (s->opts.log_dir && access(s->opts.log_dir, W_OK) != 0)
		log_warn("%s: not writable by %s: stats.json will not be written", s->opts.log_dir,
			 s->opts.user);
	return 0;
}

/* ---- XDP pre-filter counters (main thread, live AF_XDP only) ---- */

/* One source address from the XDP map, queued for the detector thread
 * (drain_xdp_sources): the engine is not ours to touch from here. */
static void on_xdp_source(void *arg, const struct xdp_loader_src *src)
{
	struct sensor *s = arg;
	void *rec;

	s->xdp_sources++;
	if (!s->xdp_ring)
		return;
	rec = msgring_reserve(s->xdp_ring, sizeof(*src));
	if (!rec) {
		s->xdp_src_dropped++;
		s->xdp_ring_full = true;
		return;
	}
	memcpy(rec, src, sizeof(*src));
	msgring_commit(s->xdp_ring);
}

/* Cheap enough for once a second: one map syscall per reason, batched lookups
 * for the sources seen since the last read. Never touches a worker. */
static void poll_xdp(struct sensor *s, bool force)
{
	uint64_t now = clock_mono_ns(), wall = clock_real_ns();
	int n;

	if (s->opts.mode != SOURCE_AFXDP || !s->raw_src || (!force && now < s->xdp_next_ns))
		return;
	s->xdp_next_ns = now + XDP_POLL_NS;
	if (source_afxdp_read_verdicts(s->raw_src, &s->xdp) != 0)
		log_warn_rl(60, "xdp: cannot read the verdict counters");
	if (s->metrics)
		metrics_xdp_totals(s);
	s->xdp_ring_full = false;
	n = source_afxdp_read_sources(s->raw_src, s->xdp_since_ns, on_xdp_source, s);
	if (n < 0)
		log_warn_rl(60, "xdp: cannot read the per-source counters: %s", strerror(-n));
	else if (s->xdp_ring_full)
		log_warn_rl(60, "xdp: detector behind: %llu per-source records deferred",
			    (unsigned long long)s->xdp_src_dropped);
	else
		s->xdp_since_ns = wall;
}

/* Live AF_XDP: the ring that carries the per-source counters to the detector. */
static int setup_xdp_sources(struct sensor *s, struct errbuf *eb)
{
	int err;

	if (s->opts.mode != SOURCE_AFXDP)
		return 0;
	err = msgring_create(XDP_SRC_RING_BYTES, &s->xdp_ring);
	if (err)
		return errbuf_set(eb, err, "no memory for the XDP counter ring");
	return 0;
}

/* ---- run ---- */

static int start_threads(struct sensor *s, struct errbuf *eb)
{
	int err;

	err = pthread_create(&s->det_thread, NULL, detector_thread, s);
	if (err)
		return errbuf_set(eb, -err, "cannot start the detector thread: %s", strerror(err));
	s->det_started = true;
	for (uint16_t i = 0; i < s->n_workers; i++) {
		err = pthread_create(&s->wk[i].thread, NULL, worker_thread, &s->wk[i]);
		if (err)
			return errbuf_set(eb, -err, "cannot start worker %u: %s", i, strerror(err));
		s->wk[i].started = true;
	}
	return 0;
}

static bool workers_done(struct sensor *s)
{
	for (uint16_t i = 0; i < s->n_workers; i++)
		if (s->wk[i].started && !worker_is_done(s->wk[i].w))
			return false;
	return true;
}

/* Main thread: signals and progress until the workers are done. */
static void control_loop(struct sensor *s)
{
	bool tty = !s->opts.quiet && isatty(STDERR_FILENO) && !s->src->live;
	/* Short ticks so a run ends promptly; the progress line is redrawn 4 times a second. */
	struct timespec tick = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
	uint64_t next_progress = 0;
	bool shown = false;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	while (!workers_done(s)) {
		int sig = sigtimedwait(&set, NULL, &tick);

		if (sig == SIGINT || sig == SIGTERM) {
			log_info("signal %d: stopping; flushing what was seen", sig);
			/* The detector's final tick still takes these in. */
			poll_xdp(s, true);
			atomic_store(&s->stop, true);
		}
		if (sig == SIGHUP)
			reload_sigs(s);
		if (sig == SIGUSR1)
			atomic_store(&s->report_requested, true);
		poll_xdp(s, false);
		if (tty && clock_mono_ns() >= next_progress) {
			struct source_stats st;

			next_progress = clock_mono_ns() + 250 * NS_PER_MSEC;
			s->raw_src->ops->stats(s->raw_src, &st);
			summary_progress(stderr, st.file_bytes_read, st.file_bytes_total,
					 (double)(clock_mono_ns() - s->start_ns) / 1e9);
			shown = true;
		}
	}
	if (shown)
		fputs("\r\033[K", stderr);
}

static void join_threads(struct sensor *s)
{
	for (uint16_t i = 0; i < s->n_workers; i++)
		if (s->wk[i].started)
			pthread_join(s->wk[i].thread, NULL);
	if (s->det_started)
		pthread_join(s->det_thread, NULL);
}

static void collect_summary(struct sensor *s, struct summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	s->raw_src->ops->stats(s->raw_src, &sum->src);
	if (s->src != s->raw_src) {
		struct source_stats st;

		s->src->ops->stats(s->src, &st);
		sum->src.steer_full += st.steer_full;
	}
	sum->n_workers = s->n_workers;
	for (uint16_t i = 0; i < s->n_workers; i++) {
		struct sensor_worker *sw = &s->wk[i];
		struct worker_stats ws;
		struct smtp_stats ss;

		worker_stats_read(sw->w, &ws);
		smtp_ctx_stats_read(sw->smtp, &ss);
		sum->per_worker_pkts[i] = ws.pkts;
		sum->per_worker_flows[i] = ws.flow.created;
		sum->per_worker_one_sided[i] = ws.flow.one_sided;
		stats_add(&sum->wk, &ws, sizeof(ws));
		stats_add(&sum->smtp, &ss, sizeof(ss));
		sum->events_dropped += sw->sink.dropped;
		sum->mem_bytes += worker_mem_bytes(sw->w) + smtp_ctx_mem_bytes(sw->smtp) +
				  msgring_capacity(sw->ring);
	}
	detector_stats_read(s->det, &sum->det);
	sum->det.alerts = detect_engine_stats(s->de)->alerts;
	sum->de = *detect_engine_stats(s->de);
	if (s->opts.mode == SOURCE_AFXDP) {
		poll_xdp(s, true);
		sum->n_xdp = XDP_SMTP_R_COUNT;
		for (unsigned int r = 0; r < XDP_SMTP_R_COUNT; r++) {
			sum->xdp_names[r] = xdp_loader_reason_name(r);
			sum->xdp_pkts[r] = s->xdp.pkts[r];
		}
	}
	sum->wall_secs = (double)(clock_mono_ns() - s->start_ns) / 1e9;
	sum->session_bytes = smtp_session_size();
	sum->flow_bytes = sizeof(struct flow);
}

static void teardown(struct sensor *s)
{
	metrics_destroy(s->metrics); /* first: a scrape reads everything below */
	s->metrics = NULL;
	for (uint16_t i = 0; i < s->n_workers; i++) {
		worker_destroy(s->wk[i].w);
		smtp_ctx_destroy(s->wk[i].smtp);
		msgring_destroy(s->wk[i].ring);
	}
	detector_destroy(s->det);
	detect_engine_destroy(s->de);
	privacy_destroy(s->privacy); /* after every reader: the workers and the detector */
	s->privacy = NULL;
	s->ips = NULL;
	msgring_destroy(s->xdp_ring);
	s->xdp_ring = NULL;
	free(s->alert_line);
	export_json_close(s->json);
	export_pb_destroy(s->pb);
	s->pb = NULL;
	if (s->src != s->raw_src)
		source_close(s->src);
	source_close(s->raw_src);
}

static int finish(struct sensor *s)
{
	const char *read_err =
		s->raw_src->ops->last_error ? s->raw_src->ops->last_error(s->raw_src) : NULL;
	struct summary sum;
	int rc = EX_OK, err;

	collect_summary(s, &sum);
	/* The detector thread has stopped: the engine is ours to read. */
	if (s->cfg.report != CONFIG_REPORT_NONE &&
	    report_write(stdout, s->de, s->cfg.report, 20, s->ips))
		rc = EX_IOERR;
	if (!s->opts.quiet)
		summary_print(stderr, &sum);
	if (s->opts.log_dir) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/stats.json", s->opts.log_dir);
		err = summary_write_json(path, &sum);
		if (err) {
			log_err("%s: cannot write: %s", path, strerror(-err));
			rc = EX_IOERR;
		}
		if (s->json && export_json_stats(s->json)->write_errors) {
			log_err("%s: %llu failed writes to smtp.json or alerts.json: lines are "
				"missing (is the disk full?)",
				s->opts.log_dir,
				(unsigned long long)export_json_stats(s->json)->write_errors);
			rc = EX_IOERR;
		}
	}
	if (read_err) {
		/* What was read was analysed and written; the file itself is damaged. */
		log_err("%s", read_err);
		rc = EX_DATAERR;
	}
	return rc;
}

static int run(struct sensor *s)
{
	struct errbuf eb = {""};
	bool bad_config;
	sigset_t set;
	int err, rc;

	/* Only the main thread takes signals; threads inherit this mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	rc = setup_config(s, &eb);
	if (rc) {
		log_err("%s", eb.msg);
		return rc;
	}
	err = setup_export(s, &eb);
	if (err) {
		log_err("%s", eb.msg);
		return err == -ENOMEM ? EX_OSERR : EX_CONFIG;
	}
	s->start_ns = clock_mono_ns();
	err = setup_source(s, &eb);
	if (err) {
		log_err("%s", eb.msg);
		if (s->opts.mode != SOURCE_PCAP)
			return err == -ENODEV			 ? EX_NOINPUT
			       : err == -EPERM || err == -EACCES ? EX_NOPERM
								 : EX_UNAVAILABLE;
		return err == -ENOENT || err == -EACCES ? EX_NOINPUT : EX_DATAERR;
	}
	err = setup_detection(s, &eb);
	/* A signature file that does not load is configuration, like the YAML. */
	bad_config = err && err != -ENOMEM;
	for (uint16_t i = 0; i < s->n_workers && !err; i++)
		err = setup_worker(s, i, &eb);
	if (!err)
		err = setup_xdp_sources(s, &eb);
	if (!err)
		err = setup_outputs(s, &eb);
	if (!err)
		err = setup_metrics(s, &eb);
	/* Set-up is done: drop root before the workers see a single packet. */
	if (!err)
		err = drop_privileges(s, &eb);
	if (!err)
		err = start_threads(s, &eb);
	/* Every thread is up: from here on only steady-state system calls. */
	if (!err && s->src->live && s->cfg.live.seccomp)
		err = sandbox_apply(&eb);
	if (err) {
		log_err("%s", eb.msg);
		atomic_store(&s->stop, true);
		atomic_store(&s->abort_events, true);
		if (s->det)
			detector_stop(s->det);
		join_threads(s);
		teardown(s);
		return err == -ENOMEM ? EX_OSERR : bad_config ? EX_CONFIG : EX_CANTCREAT;
	}
	if (s->src->live)
		log_info("capturing: %s, %u worker%s", s->src->desc, s->n_workers,
			 s->n_workers == 1 ? "" : "s");
	control_loop(s);
	join_threads(s);
	err = finish_export(s);
	rc = finish(s);
	linger_metrics(s);
	if (rc == EX_OK)
		rc = err;
	teardown(s);
	config_fini(&s->cfg);
	return rc;
}

int main(int argc, char **argv)
{
	static struct sensor s;
	struct errbuf eb = {""};

	log_set_ident("relaywatch");
	if (cli_parse(argc, argv, &s.opts, &eb) != 0) {
		log_err("%s", eb.msg);
		fprintf(stderr, "try '%s --help'\n", argv[0]);
		return EX_USAGE;
	}
	if (s.opts.help) {
		cli_usage(stdout, argv[0]);
		return EX_OK;
	}
	if (s.opts.version) {
		printf("relaywatch %s\n", RELAYWATCH_VERSION);
		return EX_OK;
	}
	if (s.opts.verbose)
		log_set_level(s.opts.verbose > 1 ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	else if (s.opts.quiet)
		log_set_level(LOG_LVL_WARN);
	if (!source_ops_for(s.opts.mode)) {
		log_err("%s capture was not built into this binary", source_kind_name(s.opts.mode));
		return EX_UNAVAILABLE;
	}
	return run(&s);
}
