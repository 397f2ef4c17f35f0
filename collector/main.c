// SPDX-License-Identifier: BSD-3-Clause
/*
 * relaywatch-collector: the composition root. Parses the command line
 * (serve, report, search), wires the threads for serve (event loop: server;
 * store writer; HTTP; Alertmanager; Kafka) and is the only place that exits.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "collector/alertmanager.h"
#include "collector/http.h"
#include "collector/ingest.h"
#include "collector/kafka.h"
#include "collector/metrics.h"
#include "collector/report.h"
#include "collector/search.h"
#include "collector/server.h"
#include "collector/store.h"
#include "collector/writer.h"
#include "common/clock.h"
#include "common/httpd.h"
#include "common/log.h"

#define DEFAULT_HTTP	  "127.0.0.1:9108"
#define DEFAULT_RETENTION 30 /* days */
#define DEFAULT_MIN_SCORE 2.0

static const char usage_text[] =
	"usage: relaywatch-collector serve --listen HOST:PORT --db URI\n"
	"           (--tls-cert F --tls-key F --tls-ca F | --plaintext) [options]\n"
	"       relaywatch-collector report --db URI [--format table|json|html] [--output FILE]\n"
	"       relaywatch-collector search --db URI [--account A] [--host IP] [--rcpt-domain D]\n"
	"           [--since T] [--until T] [--format table|json]\n"
	"\n"
	"The one place the operator looks: sensors stream alerts, host summaries and\n"
	"(with --archive) transaction metadata here; the collector stores each frame\n"
	"once, ranks the hosts acting as spam relays with their evidence, serves an\n"
	"HTTP API and /metrics, and posts alerts to Alertmanager and Kafka.\n"
	"\n"
	"Database (--db): sqlite:PATH (embedded, the default kind) or postgresql://...\n"
	"\n"
	"serve:\n"
	"  --listen HOST:PORT        sensors connect here (:PORT = all addresses)\n"
	"  --http HOST:PORT          API, HTML report and /metrics (default " DEFAULT_HTTP ";\n"
	"                            :PORT = 127.0.0.1; 'none' = off)\n"
	"  --tls-cert F --tls-key F  the collector's certificate and key (PEM)\n"
	"  --tls-ca F                CA that signs sensor certificates; a sensor's\n"
	"                            SensorHello sensor_id must be a DNS name of its\n"
	"                            certificate (subjectAltName), or its CN when it has none\n"
	"  --plaintext               no TLS: sensor ids taken on trust (lab only)\n"
	"  --alertmanager URL        post alerts to Alertmanager (http://host:9093)\n"
	"  --public-url URL          base of generatorURL links (default http://<--http>)\n"
	"  --resend-interval S       re-send firing alerts every S s (60; keep below\n"
	"                            Alertmanager's resolve_timeout)\n"
	"  --quiet-after S           resolve a host's alerts after S s without one (900)\n"
	"  --kafka BROKERS           publish alerts as JSON keyed by host\n"
	"  --kafka-topic T           (default " KAFKA_DEFAULT_TOPIC ")\n"
	"  --retention DAYS          keep archived transactions and summaries (30; 0 = ever)\n"
	"  --min-score X             ranking threshold for the API and the gauge (2)\n"
	"  --max-frame BYTES         longest frame accepted (1048576)\n"
	"  --max-conns N             sensor connections at once (256)\n"
	"  --hello-timeout S         TLS handshake and SensorHello within S s (10)\n"
	"  --frame-timeout S         a started frame must arrive whole within S s (30)\n"
	"  --idle-timeout S          close a sensor silent for S s (600)\n"
	"  --batch-max N             frames per store commit (1000)\n"
	"  --batch-wait-ms MS        wait up to MS ms to fill a batch (0: commit at once)\n"
	"  --sqlite-sync full|normal SQLite synchronous mode (full: an ack survives power loss)\n"
	"report:\n"
	"  --format table|json|html  (table); --output FILE (stdout)\n"
	"  --min-score X (2)  --top N (all)  --since T\n"
	"search (the investigation archive):\n"
	"  --account A  AUTH user or MAIL FROM   --host IP  client or server\n"
	"  --rcpt-domain D   --since T  --until T   --limit N (1000)\n"
	"  --format table|json   --output FILE\n"
	"  T: epoch seconds, 2024-05-01[T12:00[:00]][Z] (UTC), or an age: 90s 30m 12h 7d\n"
	"common: --log-level error|warn|info|debug, -h/--help, --version\n";

enum {
	OPT_LISTEN = 256,
	OPT_HTTP,
	OPT_DB,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA,
	OPT_PLAINTEXT,
	OPT_AM,
	OPT_PUBLIC_URL,
	OPT_RESEND,
	OPT_QUIET,
	OPT_KAFKA,
	OPT_KAFKA_TOPIC,
	OPT_RETENTION,
	OPT_MIN_SCORE,
	OPT_MAX_FRAME,
	OPT_MAX_CONNS,
	OPT_HELLO_TO,
	OPT_FRAME_TO,
	OPT_IDLE_TO,
	OPT_BATCH_MAX,
	OPT_BATCH_WAIT,
	OPT_SQLITE_SYNC,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_TOP,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_ACCOUNT,
	OPT_HOST,
	OPT_RCPT_DOMAIN,
	OPT_LIMIT,
	OPT_LOG_LEVEL,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"http", required_argument, NULL, OPT_HTTP},
	{"db", required_argument, NULL, OPT_DB},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-ca", required_argument, NULL, OPT_TLS_CA},
	{"plaintext", no_argument, NULL, OPT_PLAINTEXT},
	{"alertmanager", required_argument, NULL, OPT_AM},
	{"public-url", required_argument, NULL, OPT_PUBLIC_URL},
	{"resend-interval", required_argument, NULL, OPT_RESEND},
	{"quiet-after", required_argument, NULL, OPT_QUIET},
	{"kafka", required_argument, NULL, OPT_KAFKA},
	{"kafka-topic", required_argument, NULL, OPT_KAFKA_TOPIC},
	{"retention", required_argument, NULL, OPT_RETENTION},
	{"min-score", required_argument, NULL, OPT_MIN_SCORE},
	{"max-frame", required_argument, NULL, OPT_MAX_FRAME},
	{"max-conns", required_argument, NULL, OPT_MAX_CONNS},
	{"hello-timeout", required_argument, NULL, OPT_HELLO_TO},
	{"frame-timeout", required_argument, NULL, OPT_FRAME_TO},
	{"idle-timeout", required_argument, NULL, OPT_IDLE_TO},
	{"batch-max", required_argument, NULL, OPT_BATCH_MAX},
	{"batch-wait-ms", required_argument, NULL, OPT_BATCH_WAIT},
	{"sqlite-sync", required_argument, NULL, OPT_SQLITE_SYNC},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"top", required_argument, NULL, OPT_TOP},
	{"since", required_argument, NULL, OPT_SINCE},
	{"until", required_argument, NULL, OPT_UNTIL},
	{"account", required_argument, NULL, OPT_ACCOUNT},
	{"host", required_argument, NULL, OPT_HOST},
	{"rcpt-domain", required_argument, NULL, OPT_RCPT_DOMAIN},
	{"limit", required_argument, NULL, OPT_LIMIT},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct opts {
	const char *cmd;
	const char *listen, *http, *db, *tls_cert, *tls_key, *tls_ca;
	bool plaintext;
	const char *alertmanager, *public_url, *kafka, *kafka_topic;
	unsigned int resend_s, quiet_s, retention_d;
	double min_score;
	unsigned int max_frame, max_conns, hello_to, frame_to, idle_to, batch_max, batch_wait;
	bool sqlite_normal;
	const char *format, *output, *since, *until, *account, *host, *rcpt_domain;
	unsigned int top, limit;
};

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "relaywatch-collector: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see relaywatch-collector --help)\n");
	return EX_USAGE;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || *s == '-')
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int set_log_level(const char *s)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			log_set_level((enum log_level)i);
			return 0;
		}
	}
	return -EINVAL;
}

/* Numeric options: which field, and its bounds. */
static int opt_number(struct opts *o, int c, const char *arg)
{
	static const struct {
		int opt;
		size_t off;
		unsigned long min, max;
	} nums[] = {
		{OPT_RESEND, offsetof(struct opts, resend_s), 1, 86400},
		{OPT_QUIET, offsetof(struct opts, quiet_s), 1, 30 * 86400},
		{OPT_RETENTION, offsetof(struct opts, retention_d), 0, 36500},
		{OPT_MAX_FRAME, offsetof(struct opts, max_frame), 1024, 1u << 20},
		{OPT_MAX_CONNS, offsetof(struct opts, max_conns), 1, 65536},
		{OPT_HELLO_TO, offsetof(struct opts, hello_to), 1, 3600},
		{OPT_FRAME_TO, offsetof(struct opts, frame_to), 1, 3600},
		{OPT_IDLE_TO, offsetof(struct opts, idle_to), 1, 86400},
		{OPT_BATCH_MAX, offsetof(struct opts, batch_max), 1, 100000},
		{OPT_BATCH_WAIT, offsetof(struct opts, batch_wait), 0, 10000},
		{OPT_TOP, offsetof(struct opts, top), 0, 10000000},
		{OPT_LIMIT, offsetof(struct opts, limit), 1, 10000000},
	};

	for (unsigned int i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (nums[i].opt != c)
			continue;
		if (parse_uint(arg, nums[i].min, nums[i].max,
			       (unsigned int *)((char *)o + nums[i].off)))
			return usage_error("bad number '%s'", arg);
		return 0;
	}
	return -ENOENT;
}

static int opt_string(struct opts *o, int c, const char *arg)
{
	const char **dst = NULL;

	switch (c) {
	case OPT_LISTEN:
		dst = &o->listen;
		break;
	case OPT_HTTP:
		dst = &o->http;
		break;
	case OPT_DB:
		dst = &o->db;
		break;
	case OPT_TLS_CERT:
		dst = &o->tls_cert;
		break;
	case OPT_TLS_KEY:
		dst = &o->tls_key;
		break;
	case OPT_TLS_CA:
		dst = &o->tls_ca;
		break;
	case OPT_AM:
		dst = &o->alertmanager;
		break;
	case OPT_PUBLIC_URL:
		dst = &o->public_url;
		break;
	case OPT_KAFKA:
		dst = &o->kafka;
		break;
	case OPT_KAFKA_TOPIC:
		dst = &o->kafka_topic;
		break;
	case OPT_FORMAT:
		dst = &o->format;
		break;
	case OPT_OUTPUT:
		dst = &o->output;
		break;
	case OPT_SINCE:
		dst = &o->since;
		break;
	case OPT_UNTIL:
		dst = &o->until;
		break;
	case OPT_ACCOUNT:
		dst = &o->account;
		break;
	case OPT_HOST:
		dst = &o->host;
		break;
	case OPT_RCPT_DOMAIN:
		dst = &o->rcpt_domain;
		break;
	default:
		return -ENOENT;
	}
	*dst = arg;
	return 0;
}

static int opt_other(struct opts *o, int c, const char *arg)
{
	char *end;

	switch (c) {
	case OPT_PLAINTEXT:
		o->plaintext = true;
		return 0;
	case OPT_MIN_SCORE:
		o->min_score = strtod(arg, &end);
		return end == arg || *end ? usage_error("bad --min-score '%s'", arg) : 0;
	case OPT_SQLITE_SYNC:
		if (strcmp(arg, "full") && strcmp(arg, "normal"))
			return usage_error("--sqlite-sync: full or normal, not '%s'", arg);
		o->sqlite_normal = strcmp(arg, "normal") == 0;
		return 0;
	case OPT_LOG_LEVEL:
		return set_log_level(arg) ? usage_error("bad --log-level '%s'", arg) : 0;
	default:
		return usage_error("unexpected option");
	}
}

/* 0 to go on, -1 to exit 0 (help, version), or an exit code. */
static int parse(int argc, char **argv, struct opts *o)
{
	int c, ret;

	*o = (struct opts){.http = DEFAULT_HTTP,
			   .retention_d = DEFAULT_RETENTION,
			   .min_score = DEFAULT_MIN_SCORE,
			   .resend_s = 60,
			   .quiet_s = 900,
			   .format = "table"};
	if (argc < 2)
		return usage_error("a command is needed: serve, report or search");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return -1;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("relaywatch-collector %s\n", RELAYWATCH_VERSION);
		return -1;
	}
	o->cmd = argv[1];
	if (strcmp(o->cmd, "serve") && strcmp(o->cmd, "report") && strcmp(o->cmd, "search"))
		return usage_error("unknown command '%s'", o->cmd);
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return -1;
		}
		if (c == OPT_VERSION) {
			printf("relaywatch-collector %s\n", RELAYWATCH_VERSION);
			return -1;
		}
		if (c == '?')
			return EX_USAGE;
		ret = opt_string(o, c, optarg);
		if (ret == -ENOENT)
			ret = opt_number(o, c, optarg);
		if (ret == -ENOENT)
			ret = opt_other(o, c, optarg);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->db)
		return usage_error("--db is required (sqlite:PATH or postgresql://...)");
	return 0;
}

/* ---- report and search ---- */

/* Writes through FILE.tmp and a rename, so a reader never sees half a report. */
static FILE *open_output(const char *path, char *tmp, size_t cap)
{
	if (!path || strcmp(path, "-") == 0)
		return stdout;
	snprintf(tmp, cap, "%s.tmp", path);
	return fopen(tmp, "w");
}

static int close_output(FILE *f, const char *path, const char *tmp, int err)
{
	if (f == stdout)
		return err;
	if (fclose(f) != 0 && !err)
		err = -EIO;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int run_report(const struct opts *o, struct store *st)
{
	struct report_opts ro = {.min_score = o->min_score, .top = o->top};
	enum report_format fmt;
	char tmp[4096];
	FILE *f;
	int err;

	if (report_parse_format(o->format, &fmt))
		return usage_error("--format: table, json or html, not '%s'", o->format);
	if (o->since && search_parse_time(o->since, clock_real_ns(), &ro.since_ns))
		return usage_error("bad --since '%s'", o->since);
	f = open_output(o->output, tmp, sizeof(tmp));
	if (!f) {
		fprintf(stderr, "relaywatch-collector: %s: %s\n", o->output, strerror(errno));
		return EX_CANTCREAT;
	}
	err = close_output(f, o->output, tmp, report_write(f, st, fmt, &ro));
	if (err) {
		fprintf(stderr, "relaywatch-collector: report: %s\n", strerror(-err));
		return EX_IOERR;
	}
	return 0;
}

static int run_search(const struct opts *o, struct store *st)
{
	struct store_search q = {.account = o->account,
				 .host = o->host,
				 .rcpt_domain = o->rcpt_domain,
				 .limit = o->limit};
	uint64_t now = clock_real_ns();
	bool json = strcmp(o->format, "json") == 0;
	char tmp[4096], host[64];
	FILE *f;
	int err;

	if (!json && strcmp(o->format, "table") != 0)
		return usage_error("--format: table or json, not '%s'", o->format);
	if (o->since && search_parse_time(o->since, now, &q.since_ns))
		return usage_error("bad --since '%s'", o->since);
	if (o->until && search_parse_time(o->until, now, &q.until_ns))
		return usage_error("bad --until '%s'", o->until);
	if (o->host && strlen(o->host) < sizeof(host)) {
		/* the form hosts are stored in: 2001:DB8::1 finds 2001:db8::1 */
		snprintf(host, sizeof(host), "%s", o->host);
		if (ingest_host_normalise(host))
			q.host = host;
	}
	f = open_output(o->output, tmp, sizeof(tmp));
	if (!f) {
		fprintf(stderr, "relaywatch-collector: %s: %s\n", o->output, strerror(errno));
		return EX_CANTCREAT;
	}
	err = json ? search_write_json(f, st, &q) : search_write_table(f, st, &q);
	err = close_output(f, o->output, tmp, err);
	if (err) {
		fprintf(stderr, "relaywatch-collector: search: %s\n", strerror(-err));
		return EX_IOERR;
	}
	return 0;
}

static int run_offline(const struct opts *o)
{
	struct store_opts so = {.readonly = true};
	struct errbuf eb = {{0}};
	struct store *st;
	int ret;

	if (store_open(o->db, &so, &st, &eb)) {
		fprintf(stderr, "relaywatch-collector: %s\n", eb.msg);
		return EX_UNAVAILABLE;
	}
	ret = strcmp(o->cmd, "report") == 0 ? run_report(o, st) : run_search(o, st);
	store_close(st);
	return ret;
}

/* ---- serve ---- */

struct sinks {
	struct alertmanager *am;
	struct kafka *kafka;
};

/* A new alert was committed (writer thread). */
static void on_new_alert(const struct store_alert *a, void *arg)
{
	struct sinks *s = arg;

	if (s->am)
		alertmanager_notify(s->am, a);
	if (s->kafka)
		kafka_publish(s->kafka, a);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	log_info("signal %d: stopping", (int)sig);
	event_base_loopbreak(arg);
}

struct serve {
	struct metrics m;
	struct sinks sinks;
	struct writer *writer;
	struct server *server;
	struct http *http;
	struct event_base *base;
	char public_url[512];
};

static int check_serve(const struct opts *o)
{
	bool tls = o->tls_cert || o->tls_key || o->tls_ca;

	if (!o->listen)
		return usage_error("serve: --listen HOST:PORT is required");
	if (o->plaintext && tls)
		return usage_error("--plaintext and --tls-* exclude each other");
	if (!o->plaintext && !(o->tls_cert && o->tls_key && o->tls_ca))
		return usage_error("serve: --tls-cert, --tls-key and --tls-ca, or --plaintext");
	return 0;
}

static int start_outputs(const struct opts *o, struct serve *sv, struct errbuf *eb)
{
	int err = 0;

	/* Links in alerts must work: the port the HTTP server really got. */
	if (o->public_url) {
		snprintf(sv->public_url, sizeof(sv->public_url), "%s", o->public_url);
	} else if (sv->http) {
		char host[256];
		uint16_t port;

		if (httpd_split_hostport(o->http, HTTPD_DEFAULT_HOST, host, sizeof(host), &port))
			snprintf(host, sizeof(host), "%s", HTTPD_DEFAULT_HOST);
		snprintf(sv->public_url, sizeof(sv->public_url),
			 strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u", host,
			 http_port(sv->http));
	}
	if (o->alertmanager) {
		struct alertmanager_cfg ac = {.url = o->alertmanager,
					      .public_url = sv->public_url,
					      .resend_s = o->resend_s,
					      .quiet_after_s = o->quiet_s,
					      .metrics = &sv->m};

		err = alertmanager_create(&ac, &sv->sinks.am, eb);
	}
	if (!err && o->kafka) {
		struct kafka_cfg kc = {
			.brokers = o->kafka, .topic = o->kafka_topic, .metrics = &sv->m};

		err = kafka_create(&kc, &sv->sinks.kafka, eb);
	}
	return err;
}

static int start(const struct opts *o, struct serve *sv, struct errbuf *eb)
{
	struct writer_cfg wc = {
		.db = o->db,
		.store_opts = {.sqlite_sync_full = !o->sqlite_normal},
		.batch_max = o->batch_max,
		.batch_wait_ms = o->batch_wait,
		.retention_s = (uint64_t)o->retention_d * 86400,
		.on_alert = on_new_alert,
		.alert_arg = &sv->sinks,
		.metrics = &sv->m,
	};
	struct server_cfg sc = {
		.listen = o->listen,
		.tls_cert = o->tls_cert,
		.tls_key = o->tls_key,
		.tls_ca = o->tls_ca,
		.plaintext = o->plaintext,
		.max_frame = o->max_frame,
		.max_conns = o->max_conns,
		.hello_timeout_s = o->hello_to,
		.frame_timeout_s = o->frame_to,
		.idle_timeout_s = o->idle_to,
		.metrics = &sv->m,
	};
	int err;

	/* The writer migrates the schema the HTTP thread reads; the sinks exist
	 * before the first frame can arrive (the server listens last). */
	err = writer_create(&wc, &sv->writer, eb);
	if (!err && o->http && strcmp(o->http, "none") != 0) {
		struct http_cfg hc = {.listen = o->http,
				      .db = o->db,
				      .min_score = o->min_score,
				      .metrics = &sv->m};

		err = http_create(&hc, &sv->http, eb);
	}
	if (!err)
		err = start_outputs(o, sv, eb);
	if (err)
		return err;
	sc.writer = sv->writer;
	return server_create(sv->base, &sc, &sv->server, eb);
}

static void stop(struct serve *sv)
{
	/* Connections first, then the writer commits what it holds (no acks go
	 * out any more: the sensors re-send those frames, the store dedups). */
	server_destroy(sv->server);
	writer_destroy(sv->writer);
	http_destroy(sv->http);
	kafka_destroy(sv->sinks.kafka);
	alertmanager_destroy(sv->sinks.am);
}

static int run_serve(const struct opts *o)
{
	struct serve *sv = calloc(1, sizeof(*sv));
	struct errbuf eb = {{0}};
	struct event *sigs[2] = {NULL, NULL};
	int ret = 0;

	if (!sv)
		return EX_OSERR;
	metrics_init(&sv->m);
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sv->base = event_base_new();
	if (!sv->base || start(o, sv, &eb)) {
		fprintf(stderr, "relaywatch-collector: %s\n", eb.msg[0] ? eb.msg : "cannot start");
		ret = EX_UNAVAILABLE;
		goto out;
	}
	sigs[0] = evsignal_new(sv->base, SIGINT, on_signal, sv->base);
	sigs[1] = evsignal_new(sv->base, SIGTERM, on_signal, sv->base);
	event_add(sigs[0], NULL);
	event_add(sigs[1], NULL);
	log_info("listening for sensors on port %u (%s), HTTP on port %u, store %s",
		 server_port(sv->server), o->plaintext ? "plaintext" : "TLS",
		 sv->http ? http_port(sv->http) : 0, o->db);
	event_base_dispatch(sv->base);
out:
	for (int i = 0; i < 2; i++)
		if (sigs[i])
			event_free(sigs[i]);
	stop(sv);
	if (sv->base)
		event_base_free(sv->base);
	curl_global_cleanup();
	free(sv);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o;
	int ret;

	log_set_ident("relaywatch-collector");
	ret = parse(argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (strcmp(o.cmd, "serve") == 0) {
		ret = check_serve(&o);
		return ret ? ret : run_serve(&o);
	}
	return run_offline(&o);
}
