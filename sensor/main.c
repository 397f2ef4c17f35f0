// SPDX-License-Identifier: BSD-3-Clause
/*
 * relaywatch: the sensor's composition root. With its parts main_*.c
 * (main_int.h says which does what) the only files that include from every
 * layer, and the only one that exits. It parses the command line, opens the
 * packet source, makes one worker (with its SMTP context and event ring) per
 * queue, the detector thread and the outputs, runs them, handles signals and
 * progress on the main thread, and prints the summary.
 */
#include <errno.h>
#include <pthread.h>
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
#include "dataplane/worker.h"
#include "exporters/export_json.h"
#include "exporters/export_pb.h"
#include "exporters/metrics.h"
#include "sensor/cli.h"
#include "sensor/config.h"
#include "sensor/detect.h"
#include "sensor/detector.h"
#include "sensor/main_int.h"
#include "sensor/privacy.h"
#include "sensor/report.h"
#include "sensor/sandbox.h"
#include "sensor/smtp_session.h"
#include "sensor/summary.h"

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
			main_poll_xdp(s, true);
			atomic_store(&s->stop, true);
		}
		if (sig == SIGHUP)
			main_reload_sigs(s);
		if (sig == SIGUSR1)
			atomic_store(&s->report_requested, true);
		main_poll_xdp(s, false);
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
		main_poll_xdp(s, true);
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

	rc = main_setup_config(s, &eb);
	if (rc) {
		log_err("%s", eb.msg);
		return rc;
	}
	err = main_setup_export(s, &eb);
	if (err) {
		log_err("%s", eb.msg);
		return err == -ENOMEM ? EX_OSERR : EX_CONFIG;
	}
	s->start_ns = clock_mono_ns();
	err = main_setup_source(s, &eb);
	if (err) {
		log_err("%s", eb.msg);
		if (s->opts.mode != SOURCE_PCAP)
			return err == -ENODEV			 ? EX_NOINPUT
			       : err == -EPERM || err == -EACCES ? EX_NOPERM
								 : EX_UNAVAILABLE;
		return err == -ENOENT || err == -EACCES ? EX_NOINPUT : EX_DATAERR;
	}
	err = main_setup_detection(s, &eb);
	/* A signature file that does not load is configuration, like the YAML. */
	bad_config = err && err != -ENOMEM;
	for (uint16_t i = 0; i < s->n_workers && !err; i++)
		err = main_setup_worker(s, i, &eb);
	if (!err)
		err = main_setup_xdp_sources(s, &eb);
	if (!err)
		err = main_setup_outputs(s, &eb);
	if (!err)
		err = main_setup_metrics(s, &eb);
	/* Set-up is done: drop root before the workers see a single packet. */
	if (!err)
		err = main_drop_privileges(s, &eb);
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
	err = main_finish_export(s);
	rc = finish(s);
	main_linger_metrics(s);
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
