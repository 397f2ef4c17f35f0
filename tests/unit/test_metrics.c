// SPDX-License-Identifier: BSD-3-Clause
/*
 * The sensor's /metrics: real captures through a real worker, SMTP parser,
 * detector and detection engine, then the exposition compared with the
 * counters those components keep; the bounded series (signature ids, top-N
 * hosts); the detector never waiting for a scrape; a scrape over HTTP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "http_get.h"

#include "exporters/metrics.h"
#include "exporters/metrics_int.h"
#include "sensor/netset.h"
#include "sensor/privacy.h"

#define S  1000000000ull
#define T0 (1699995600ull * S)

/* ---- reading the exposition back ---- */

static char *render(struct metrics *m)
{
	char *buf = NULL, *out;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(metrics_write(m, f), 0);
	fclose(f);
	/* A copy: gcc 12 takes buf, whose address the stream held, for a pointer
	 * into this frame (-Wdangling-pointer in release builds). */
	out = strdup(buf);
	free(buf);
	assert_non_null(out);
	return out;
}

/* The value of one series written exactly as given ("name{a=\"b\"}"), NAN when absent. */
static double value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return NAN;
}

/* Samples whose line starts with prefix; their values summed into *sum. */
static unsigned int samples(const char *text, const char *prefix, double *sum)
{
	size_t n = strlen(prefix);
	unsigned int k = 0;

	*sum = 0;
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, prefix, n) == 0) {
			k++;
			*sum += strtod(strchr(p, ' ') + 1, NULL);
		}
	}
	return k;
}

/* Every family has HELP then TYPE, counters end in _total, every name has our
 * prefix, and every sample belongs to the family announced above it. */
static void assert_well_formed(const char *text)
{
	char family[256] = "", type[32] = "";

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p);
		char line[1024];

		assert_non_null(nl);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_int_equal(sscanf(line + 7, "%255s", family), 1);
			assert_true(strncmp(family, "relaywatch_", 11) == 0);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char name[256];

			assert_int_equal(sscanf(line + 7, "%255s %31s", name, type), 2);
			assert_string_equal(name, family);
			if (strcmp(type, "counter") == 0)
				assert_true(strstr(family, "_total") + 6 ==
					    family + strlen(family));
			continue;
		}
		assert_true(strncmp(line, family, strlen(family)) == 0);
		assert_true(line[strlen(family)] == '{' || line[strlen(family)] == ' ');
	}
}

/* ---- a real pipeline on one capture ---- */

struct fx {
	struct config cfg;
	struct plan plan;
	struct sigs *sigs;
	struct source *src;
	struct msgring *ring;
	struct event_sink sink;
	_Atomic bool stop, abort;
	struct smtp_ctx *smtp;
	struct worker *w;
	struct detect_engine *de;
	struct detector *det;
	struct metrics *m;
	unsigned int alerts;
};

static void on_alert(void *arg, const struct alert *a)
{
	((struct fx *)arg)->alerts++;
}

static void out_event(void *arg, const struct event_hdr *e)
{
	struct fx *f = arg;

	detect_engine_event(f->de, e);
	metrics_detector_event(f->m, e);
}

static void out_tick(void *arg, uint64_t now_ns, bool final)
{
	struct fx *f = arg;

	detect_engine_tick(f->de, now_ns);
	metrics_detector_tick(f->m, f->de, NULL, final);
}

static uint64_t in_watermark(void *arg)
{
	return worker_watermark(((struct fx *)arg)->w);
}

static bool in_done(void *arg)
{
	return worker_is_done(((struct fx *)arg)->w);
}

static void fx_config(struct fx *f)
{
	struct errbuf eb = {""};

	assert_int_equal(config_init(&f->cfg), 0);
	assert_int_equal(netset_add_cidr(&f->cfg.home_net, "198.51.100.0/24", &eb), 0);
	netset_finish(&f->cfg.home_net);
	f->cfg.limits.hosts = 4096;
	f->cfg.limits.accounts = 4096;
}

static void fx_pipeline(struct fx *f, const char *capture)
{
	struct source_cfg sc = {.kind = SOURCE_PCAP, .path = capture, .n_queues = 1};
	const char *rules = TEST_SOURCE_ROOT "/rules";
	struct worker_cfg wc = {0};
	struct errbuf eb = {""};

	plan_from_config(&f->cfg, &f->plan);
	assert_int_equal(sigs_create(&f->sigs), 0);
	assert_int_equal(sigs_load(f->sigs, &rules, 1, &eb), 0);
	f->plan.smtp.sigs = f->sigs;
	assert_int_equal(source_open(&sc, &f->src, &eb), 0);
	assert_int_equal(msgring_create(1 << 20, &f->ring), 0);
	f->sink = (struct event_sink){.ring = f->ring, .wait_when_full = false, .abort = &f->abort};
	assert_int_equal(smtp_ctx_create(&f->plan.smtp, &f->sink, &f->smtp), 0);
	wc = (struct worker_cfg){
		.src = f->src,
		.cpu = -1,
		.decode = f->plan.decode,
		.flow = f->plan.flow,
		.reasm = f->plan.reasm,
		.l7 = &smtp_l7_ops,
		.l7_ctx = f->smtp,
		.server_ports = f->plan.server_ports,
		.any_port = true,
		.stop = &f->stop,
	};
	assert_int_equal(worker_create(&wc, &f->w), 0);
	assert_int_equal(detect_engine_create(&f->cfg, on_alert, f, &f->de), 0);
}

static void fx_detector(struct fx *f)
{
	const struct detector_output out = {.arg = f, .event = out_event, .tick = out_tick};
	const struct detector_input in = {f->ring, in_watermark, in_done, f};
	struct detector_cfg dc;

	detector_cfg_default(&dc);
	assert_int_equal(detector_create(&dc, &out, &f->det), 0);
	assert_int_equal(detector_add_input(f->det, &in), 0);
}

static struct fx *fx_new(const char *capture)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct errbuf eb = {""};
	struct metrics_cfg mc;

	assert_non_null(f);
	fx_config(f);
	fx_pipeline(f, capture);
	fx_detector(f);
	mc = (struct metrics_cfg){.cfg = &f->cfg,
				  .plan = &f->plan,
				  .src = f->src,
				  .det = f->det,
				  .sigs = f->sigs,
				  .mode = "pcap",
				  .start_real_ns = T0};
	assert_int_equal(metrics_create(&mc, &f->m, &eb), 0);
	assert_int_equal(metrics_add_worker(f->m, f->w, f->smtp, f->ring), 0);
	return f;
}

/* The worker to the end of the file, then the detector until it drained the ring. */
static void fx_run(struct fx *f)
{
	assert_int_equal(worker_run(f->w), 0);
	assert_true(worker_is_done(f->w));
	detector_run(f->det);
	metrics_input_done(f->m);
}

static void fx_free(struct fx *f)
{
	metrics_destroy(f->m);
	detector_destroy(f->det);
	detect_engine_destroy(f->de);
	worker_destroy(f->w);
	smtp_ctx_destroy(f->smtp);
	msgring_destroy(f->ring);
	source_close(f->src);
	sigs_destroy(f->sigs);
	config_fini(&f->cfg);
	free(f);
}

/* A failed AUTH LOGIN: every series equals the counter its component keeps. */
static void test_metrics_match_the_pipeline_counters(void **state)
{
	struct fx *f = fx_new(TEST_CAPTURES_DIR "/auth-login-failure.pcap");
	struct worker_stats ws;
	struct smtp_stats ss;
	struct detector_stats ds;
	struct source_stats st;
	char *t;

	(void)state;
	fx_run(f);
	worker_stats_read(f->w, &ws);
	smtp_ctx_stats_read(f->smtp, &ss);
	detector_stats_read(f->det, &ds);
	f->src->ops->stats(f->src, &st);
	t = render(f->m);
	assert_well_formed(t);

	assert_true(ws.pkts > 0);
	assert_true(value(t, "relaywatch_packets_total{worker=\"0\"}") == ws.pkts);
	assert_true(value(t, "relaywatch_capture_packets_total") == st.pkts);
	assert_true(value(t, "relaywatch_bytes_total{worker=\"0\"}") == ws.bytes);
	assert_true(value(t, "relaywatch_flows_created_total{worker=\"0\"}") == 1);
	assert_true(value(t, "relaywatch_reasm_bytes_total{worker=\"0\",path=\"in_order\"}") ==
		    ws.reasm.bytes_in_order);
	/* The side slots: none held once the capture ended, none refused. */
	assert_true(value(t, "relaywatch_reasm_side_slots{worker=\"0\"}") == 0);
	assert_true(value(t, "relaywatch_reasm_cap_hits_total{worker=\"0\",cap=\"side_slots\"}") ==
		    0);
	assert_true(value(t, "relaywatch_smtp_sessions_total{worker=\"0\"}") == 1);
	assert_true(value(t, "relaywatch_smtp_commands_total{worker=\"0\",command=\"auth\"}") == 1);
	assert_true(value(t, "relaywatch_smtp_auth_total{worker=\"0\",result=\"failure\"}") == 1);
	assert_true(value(t, "relaywatch_smtp_auth_total{worker=\"0\",result=\"success\"}") == 0);
	assert_true(value(t, "relaywatch_smtp_replies_total{worker=\"0\",class=\"5xx\"}") ==
		    ss.replies_5xx);
	assert_true(value(t, "relaywatch_detector_events_total{type=\"auth\"}") == 1);
	assert_true(value(t, "relaywatch_detector_events_total{type=\"tx\"}") ==
		    ds.events_by_type[EV_TX]);
	assert_true(value(t, "relaywatch_detect_events_total") ==
		    detect_engine_stats(f->de)->events);
	assert_true(value(t, "relaywatch_detect_hosts") == detect_engine_stats(f->de)->hosts);
	assert_true(value(t, "relaywatch_event_ring_used_bytes{worker=\"0\"}") == 0);
	assert_true(value(t, "relaywatch_capture_finished") == 1);
	/* Every limit the tables were made with. */
	assert_true(value(t, "relaywatch_limit_flows_per_worker") == f->plan.flow.capacity);
	assert_true(value(t, "relaywatch_limit_hosts") == 4096);
	assert_true(value(t, "relaywatch_limit_smtp_sessions_per_worker") ==
		    f->plan.smtp.max_sessions);
	/* Every alert kind is there from the start, at 0: rate() works at once. */
	assert_true(value(t, "relaywatch_alerts_total{kind=\"open_relay\"}") == 0);
	assert_true(value(t, "relaywatch_alerts_total{kind=\"volume_anomaly\"}") == 0);
	/* Decode reasons: drops and skips are separate families, each reason once. */
	assert_false(isnan(value(t, "relaywatch_decode_drops_total{worker=\"0\","
				    "reason=\"truncated_tcp\"}")));
	assert_false(isnan(value(t, "relaywatch_decode_skips_total{worker=\"0\","
				    "reason=\"not_ip\"}")));
	assert_true(isnan(value(t, "relaywatch_decode_drops_total{worker=\"0\","
				   "reason=\"not_ip\"}")));
	assert_null(strstr(t, "Tr0ub4dor")); /* the password on the wire, never a label */
	free(t);
	fx_free(f);
}

/* A blocklist reply: signature matches by id add up to the detector's EV_SIG events. */
static void test_metrics_signature_matches_by_id(void **state)
{
	struct fx *f = fx_new(TEST_CAPTURES_DIR "/blocklisted.pcap");
	struct detector_stats ds;
	double sum;
	unsigned int n;
	char *t;

	(void)state;
	fx_run(f);
	detector_stats_read(f->det, &ds);
	t = render(f->m);
	n = samples(t, "relaywatch_signature_matches_total{sig_id=\"", &sum);
	assert_true(ds.events_by_type[EV_SIG] > 0);
	assert_true(n > 0);
	assert_true(sum == ds.events_by_type[EV_SIG]);
	assert_true(value(t, "relaywatch_signature_rules") > 0);
	/* The client the blocklist named is the top host, with the engine's score. */
	assert_true(value(t, "relaywatch_top_host_score{rank=\"1\",host=\"192.0.2.10\"}") > 0);
	free(t);
	fx_free(f);
}

/* ---- bounded series, fed directly ---- */

static struct metrics *bare(struct config *cfg)
{
	const struct metrics_cfg mc = {.cfg = cfg, .mode = "pcap"};
	struct errbuf eb = {""};
	struct metrics *m;

	assert_int_equal(metrics_create(&mc, &m, &eb), 0);
	return m;
}

static void sig_event(struct metrics *m, uint32_t id)
{
	struct event_sig e;

	memset(&e, 0, sizeof(e));
	e.h.type = EV_SIG;
	e.h.len = sizeof(e);
	e.sig_id = id;
	metrics_detector_event(m, &e.h);
}

/* A hostile or huge rule set cannot grow the scrape: past the bound, "other". */
static void test_metrics_signature_ids_are_bounded(void **state)
{
	struct metrics *m = bare(NULL);
	double sum;
	char *t;

	(void)state;
	for (uint32_t id = 1; id <= METRICS_MAX_SIGS + 5; id++)
		sig_event(m, id);
	sig_event(m, 7);
	sig_event(m, 7);
	sig_event(m, 100000);
	t = render(m);
	assert_well_formed(t);
	assert_int_equal(samples(t, "relaywatch_signature_matches_total{", &sum),
			 METRICS_MAX_SIGS + 1);
	assert_true(sum == METRICS_MAX_SIGS + 5 + 3);
	assert_true(value(t, "relaywatch_signature_matches_total{sig_id=\"7\"}") == 3);
	assert_true(value(t, "relaywatch_signature_matches_total{sig_id=\"other\"}") == 6);
	free(t);
	metrics_destroy(m);
}

/* Foreign sources failing AUTH a different number of times each: a detection engine
 * with scores to rank. */
static struct detect_engine *scored_engine(struct fx *f, unsigned int n_hosts)
{
	struct detect_engine *de;
	struct event_auth e;
	uint8_t fam;
	uint64_t t = T0;

	fx_config(f);
	assert_int_equal(detect_engine_create(&f->cfg, on_alert, f, &de), 0);
	for (unsigned int h = 0; h < n_hosts; h++) {
		char cli[32];

		snprintf(cli, sizeof(cli), "203.0.113.%u", h + 1);
		for (unsigned int i = 0; i <= h; i++) {
			memset(&e, 0, sizeof(e));
			e.h.type = EV_AUTH;
			e.h.len = sizeof(e);
			e.h.ts_ns = t += S;
			snprintf(e.h.uid, sizeof(e.h.uid), "C%u", h);
			assert_true(netset_parse_addr(cli, &e.h.client, &fam));
			assert_true(netset_parse_addr("198.51.100.25", &e.h.server, &e.h.family));
			e.h.server_port = 587;
			e.result = SMTP_AUTH_FAILURE;
			e.code = 535;
			e.user_len = event_copy_text(e.user, sizeof(e.user), "info", 4);
			detect_engine_event(de, &e.h);
		}
	}
	detect_engine_tick(de, t);
	return de;
}

static int by_score(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* At most 10 host series, ranked 1..n by score, the same scores the engine keeps. */
static void test_metrics_top_hosts_are_bounded_and_ranked(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct detect_engine *de = scored_engine(f, 14);
	struct detect_host_summary h;
	double want[64], sum;
	unsigned int n = 0;
	uint32_t cur = 0;
	struct metrics *m;
	char *t;

	(void)state;
	while (detect_engine_host_next(de, &cur, &h))
		if (h.score > 0 && n < 64)
			want[n++] = h.score;
	qsort(want, n, sizeof(want[0]), by_score);
	assert_true(n > METRICS_TOP_N);
	m = bare(&f->cfg);
	metrics_detector_tick(m, de, NULL, true);
	t = render(m);
	assert_well_formed(t);
	assert_int_equal(samples(t, "relaywatch_top_host_score{", &sum), METRICS_TOP_N);
	for (unsigned int r = 0; r < METRICS_TOP_N; r++) {
		char prefix[64];
		const char *p;

		snprintf(prefix, sizeof(prefix), "relaywatch_top_host_score{rank=\"%u\",", r + 1);
		p = strstr(t, prefix);
		assert_non_null(p);
		assert_true(fabs(strtod(strchr(p, ' ') + 1, NULL) - want[r]) < 1e-9);
	}
	assert_true(value(t, "relaywatch_detect_hosts") == detect_engine_stats(de)->hosts);
	free(t);
	metrics_destroy(m);
	detect_engine_destroy(de);
	config_fini(&f->cfg);
	free(f);
}

/* With pseudonymize_ips the gauge shows the same pseudonym the exporters write. */
static void test_metrics_top_hosts_are_pseudonymised(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct detect_engine *de = scored_engine(f, 1);
	char key[] = "/tmp/rw-test-metrics-key.XXXXXX", want[128], series[192];
	struct errbuf eb = {""};
	struct privacy *pv;
	union pkt_addr a;
	struct metrics *m;
	uint8_t fam;
	char *t;
	int fd = mkstemp(key);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcdef0123456789abcdef", 32), 32);
	close(fd);
	f->cfg.pseudonymize_ips = true;
	snprintf(f->cfg.key_file, sizeof(f->cfg.key_file), "%s", key);
	m = bare(&f->cfg);
	assert_int_equal(privacy_create(key, &pv, &eb), 0);
	assert_true(netset_parse_addr("203.0.113.1", &a, &fam));
	privacy_ip(pv, fam, &a, &a);
	inet_ntop(AF_INET, &a.b[12], want, sizeof(want));
	metrics_detector_tick(m, de, NULL, true);
	t = render(m);
	snprintf(series, sizeof(series), "relaywatch_top_host_score{rank=\"1\",host=\"%s\"}", want);
	assert_true(value(t, series) > 0);
	assert_null(strstr(t, "203.0.113.1\""));
	free(t);
	privacy_destroy(pv);
	metrics_destroy(m);
	detect_engine_destroy(de);
	config_fini(&f->cfg);
	unlink(key);
	free(f);
}

/* A scrape holding the snapshot does not stop the detector: its tick moves on and
 * hands the ranking over at a later tick. */
static void test_metrics_detector_never_waits_for_a_scrape(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct detect_engine *de = scored_engine(f, 3);
	struct metrics *m;
	double sum;
	char *t;

	(void)state;
	m = bare(&f->cfg);
	pthread_mutex_lock(&m->top_lock); /* what a scrape does while copying */
	metrics_detector_tick(m, de, NULL, false);
	assert_true(m->walk.pending);
	assert_int_equal(m->n_top, 0);
	pthread_mutex_unlock(&m->top_lock);
	metrics_detector_tick(m, de, NULL, false);
	assert_false(m->walk.pending);
	t = render(m);
	assert_int_equal(samples(t, "relaywatch_top_host_score{", &sum), 3);
	free(t);
	metrics_destroy(m);
	detect_engine_destroy(de);
	config_fini(&f->cfg);
	free(f);
}

/* ---- the capture, per queue ---- */

/* A live backend's view: two queues of one port, each losing packets its own way. */
static void fake_stats(struct source *s, struct source_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->n_q = 2;
	out->q[0] = (struct source_queue_stats){.queue = 0, .pkts = 1000, .ring_full = 3};
	out->q[1] = (struct source_queue_stats){
		.queue = 1, .pkts = 500, .nic_missed = 11, .ring_full = 4, .fill_empty = 2};
	for (int i = 0; i < 2; i++) {
		out->pkts += out->q[i].pkts;
		out->nic_missed += out->q[i].nic_missed;
		out->ring_full += out->q[i].ring_full;
		out->fill_empty += out->q[i].fill_empty;
	}
}

/* Drops by reason and by queue: the queue that loses shows, and the queues add up to
 * the capture's totals. */
static void test_metrics_capture_drops_by_queue(void **state)
{
	static const struct source_ops ops = {.name = "fake", .stats = fake_stats};
	struct source src = {.ops = &ops, .n_queues = 2, .live = true};
	const struct metrics_cfg mc = {.src = &src, .mode = "afxdp"};
	struct errbuf eb = {""};
	struct metrics *m;
	double sum;
	char *t;

	(void)state;
	assert_int_equal(metrics_create(&mc, &m, &eb), 0);
	t = render(m);
	assert_well_formed(t);
	assert_true(value(t, "relaywatch_capture_queue_drops_total{port=\"0\",queue=\"1\","
			     "reason=\"nic_missed\"}") == 11);
	assert_true(value(t, "relaywatch_capture_queue_drops_total{port=\"0\",queue=\"0\","
			     "reason=\"fill_empty\"}") == 0);
	assert_true(value(t, "relaywatch_capture_queue_packets_total{port=\"0\",queue=\"1\"}") ==
		    500);
	assert_int_equal(samples(t, "relaywatch_capture_queue_drops_total{", &sum), 6);
	assert_true(sum == 11 + 3 + 4 + 2);
	assert_true(value(t, "relaywatch_capture_queue_drops_total{port=\"0\",queue=\"1\","
			     "reason=\"ring_full\"}") == 4);
	assert_true(value(t, "relaywatch_capture_drops_total{reason=\"ring_full\"}") == 7);
	free(t);
	metrics_destroy(m);
}

/* ---- over HTTP ---- */

/* 127.0.0.1 by default, the Prometheus content type, GET only. */
static void test_metrics_served_over_http(void **state)
{
	struct metrics *m = bare(NULL);
	struct errbuf eb = {""};
	char *r;

	(void)state;
	assert_int_equal(metrics_serve(m, ":0", &eb), 0);
	assert_true(metrics_port(m) > 0);
	r = http_get(metrics_port(m), "GET /metrics HTTP/1.0\r\n\r\n");
	/* libmicrohttpd answers with its own version, HTTP/1.1, to a 1.0 request
	 * (RFC 9110 6.2 allows it): check the status, not the version. */
	assert_int_equal(strncmp(r, "HTTP/1.", 7), 0);
	assert_int_equal(strncmp(r + 8, " 200 OK\r\n", 9), 0);
	assert_non_null(strstr(r, "text/plain; version=0.0.4"));
	assert_non_null(strstr(r, "relaywatch_build_info{version=\"" RELAYWATCH_VERSION
				  "\",mode=\"pcap\"} 1\n"));
	r = http_get(metrics_port(m), "GET /other HTTP/1.0\r\n\r\n");
	assert_non_null(strstr(r, " 404 "));
	r = http_get(metrics_port(m), "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
	assert_non_null(strstr(r, " 405 "));
	assert_int_equal(metrics_add_worker(m, NULL, NULL, NULL), -EBUSY);
	metrics_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics_match_the_pipeline_counters),
		cmocka_unit_test(test_metrics_signature_matches_by_id),
		cmocka_unit_test(test_metrics_signature_ids_are_bounded),
		cmocka_unit_test(test_metrics_top_hosts_are_bounded_and_ranked),
		cmocka_unit_test(test_metrics_top_hosts_are_pseudonymised),
		cmocka_unit_test(test_metrics_detector_never_waits_for_a_scrape),
		cmocka_unit_test(test_metrics_capture_drops_by_queue),
		cmocka_unit_test(test_metrics_served_over_http),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
