// SPDX-License-Identifier: BSD-3-Clause
/*
 * Set-up of what the workers run on: the packet source (a file, AF_XDP or
 * DPDK, with the steer layer when its queues do not match the workers), one
 * worker per queue with its SMTP context and event ring, the signatures and
 * the detection engine; and the privilege drop once all of it is open.
 */
#include "sensor/main_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/msgring.h"
#include "dataplane/steer.h"
#include "dataplane/worker.h"
#include "rw_config.h"
#include "sensor/detect.h"
#include "sensor/privacy.h"
#include "sensor/privdrop.h"
#include "sensor/sigs.h"
#include "sensor/smtp_session.h"

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

int main_setup_source(struct sensor *s, struct errbuf *eb)
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

int main_setup_worker(struct sensor *s, uint16_t i, struct errbuf *eb)
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
int main_setup_detection(struct sensor *s, struct errbuf *eb)
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
	err = detect_engine_create(&s->cfg, main_emit_alert, s, &s->de);
	if (err)
		return errbuf_set(eb, err, "detection engine: %s", strerror(-err));
	return 0;
}

/* SIGHUP: a new set replaces the old one without stopping capture, or the old stays. */
void main_reload_sigs(struct sensor *s)
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

/* ---- privileges ---- */

/* After set-up nothing the sensor does needs a capability (sensor/privdrop.c
 * says why; the XDP detach is the loader's guardian's job). */
int main_drop_privileges(struct sensor *s, struct errbuf *eb)
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
