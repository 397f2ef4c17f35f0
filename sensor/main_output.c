// SPDX-License-Identifier: BSD-3-Clause
/*
 * The outputs. The detector thread hands every transaction, event and tick
 * to the callbacks here, which feed the detection engine and write JSON
 * lines, protobuf frames to the collector and the /metrics counters; the
 * set-up of those outputs, the collector's drain at the end of a run and
 * the --metrics-linger wait run on the main thread.
 */
#include "sensor/main_int.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "dataplane/worker.h"
#include "exporters/alert_json.h"
#include "exporters/export_json.h"
#include "exporters/export_pb.h"
#include "exporters/metrics.h"
#include "sensor/detect.h"
#include "sensor/detector.h"
#include "sensor/report.h"

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

/* The detection engine's emit(): every alert and update, on the detector thread. */
void main_emit_alert(void *arg, const struct alert *a)
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

static void out_tick(void *arg, uint64_t now_ns, bool final)
{
	struct sensor *s = arg;

	main_drain_xdp_sources(s);
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

int main_setup_outputs(struct sensor *s, struct errbuf *eb)
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
int main_setup_export(struct sensor *s, struct errbuf *eb)
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
int main_finish_export(struct sensor *s)
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
int main_setup_metrics(struct sensor *s, struct errbuf *eb)
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

/* --metrics-linger: the input is done; /metrics stays up so that Prometheus
 * scrapes the final counts of a -r run. SIGINT or SIGTERM ends it early. */
void main_linger_metrics(struct sensor *s)
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
