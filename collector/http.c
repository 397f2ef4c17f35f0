// SPDX-License-Identifier: BSD-3-Clause
#include "collector/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector/aggregate.h"
#include "collector/ingest.h"
#include "collector/report.h"
#include "collector/rows_json.h"
#include "collector/search.h"
#include "common/clock.h"
#include "common/httpd.h"
#include "common/log.h"

#define HTTP_JSON	"application/json"
#define HTTP_ALERTS_MAX 500 /* newest alerts in a host's page */
#define HTTP_SEARCH_MAX 10000

struct http {
	struct http_cfg cfg;
	struct httpd *d;
	struct store *st; /* httpd thread only */
	uint64_t ranked_mono;
};

static void fail(struct httpd_resp *resp, unsigned int status, const char *msg)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}\n", msg);

	httpd_resp_set(resp, status, HTTP_JSON, body, (size_t)n);
}

static void send_json(struct httpd_resp *resp, rows_json_fn *fn, void *arg)
{
	size_t len;
	char *doc = rows_json_render(fn, arg, &len);

	if (!doc) {
		fail(resp, 500, "out of memory");
		return;
	}
	httpd_resp_take(resp, 200, HTTP_JSON, doc, len);
}

/* A number argument; false when present and not a number in [lo, hi]. */
static bool arg_double(const struct httpd_req *req, const char *key, double lo, double hi,
		       double *v)
{
	const char *s = httpd_req_arg(req, key);
	char *end;
	double d;

	if (!s)
		return true;
	d = strtod(s, &end);
	if (end == s || *end || d < lo || d > hi)
		return false;
	*v = d;
	return true;
}

static bool agg_args(const struct http *h, const struct httpd_req *req, struct agg_opts *o)
{
	double min = h->cfg.min_score, limit = 0;
	const char *since = httpd_req_arg(req, "since");

	if (!arg_double(req, "min_score", -1e9, 1e9, &min) ||
	    !arg_double(req, "limit", 0, 1e6, &limit))
		return false;
	o->min_score = min;
	o->top = (unsigned int)limit;
	return !since || search_parse_time(since, clock_real_ns(), &o->since_ns) == 0;
}

/* ---- /api/hosts, /api/accounts ---- */

struct ranking_doc {
	const struct agg_result *r;
	const struct report_opts *o;
	bool accounts_only;
};

static void ranking_json(struct jsonw *w, void *arg)
{
	const struct ranking_doc *d = arg;

	if (!d->accounts_only) {
		report_json(w, d->r, d->o);
		return;
	}
	jsonw_obj_open(w);
	rows_json_kv_time(w, "generated_at", d->r->generated_ns);
	jsonw_key(w, "accounts");
	jsonw_arr_open(w);
	for (size_t i = 0; i < d->r->n_accounts; i++)
		report_json_account(w, &d->r->accounts[i], (unsigned int)i + 1);
	jsonw_arr_close(w);
	jsonw_obj_close(w);
}

static void ranking(const struct httpd_req *req, struct httpd_resp *resp, struct http *h,
		    bool accounts_only)
{
	struct agg_opts ao = {0};
	struct report_opts ro;
	struct agg_result *r;
	struct ranking_doc d;

	if (!agg_args(h, req, &ao)) {
		fail(resp, 400, "bad min_score, limit or since");
		return;
	}
	if (aggregate_build(h->st, &ao, &r)) {
		fail(resp, 503, "store unavailable");
		return;
	}
	ro = (struct report_opts){.min_score = ao.min_score, .top = ao.top};
	d = (struct ranking_doc){r, &ro, accounts_only};
	send_json(resp, ranking_json, &d);
	aggregate_free(r);
}

static void on_hosts(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	ranking(req, resp, arg, false);
}

static void on_accounts(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	ranking(req, resp, arg, true);
}

/* ---- /api/hosts/{ip} ---- */

struct host_doc {
	struct http *h;
	const char *host;
	const struct agg_host *agg; /* NULL: no alert and no summary */
	struct jsonw *w;
	const struct agg_names *sensors;
	int err;
};

static int host_alert(const struct store_alert *a, void *arg)
{
	rows_json_alert(((struct host_doc *)arg)->w, a);
	return 0;
}

static int host_summary(const struct store_summary *s, void *arg)
{
	rows_json_summary(((struct host_doc *)arg)->w, s);
	return 0;
}

static int host_sensor(const struct store_sensor *s, void *arg)
{
	struct host_doc *d = arg;
	bool ours = false;

	for (unsigned int i = 0; i < d->sensors->n && i < AGG_MAX_NAMES; i++)
		ours |= strcmp(d->sensors->name[i], s->sensor_id) == 0;
	if (!ours)
		return 0;
	jsonw_obj_open(d->w);
	jsonw_kv_cstr(d->w, "sensor_id", s->sensor_id);
	jsonw_kv_cstr(d->w, "version", s->version);
	jsonw_kv_cstr(d->w, "peer", s->peer);
	jsonw_kv_cstr(d->w, "home_net", s->home_net);
	rows_json_kv_time(d->w, "last_seen", s->seen_ns);
	jsonw_obj_close(d->w);
	return 0;
}

static int host_account(const char *account, uint64_t txs, uint64_t first_ns, uint64_t last_ns,
			void *arg)
{
	struct jsonw *w = ((struct host_doc *)arg)->w;

	jsonw_obj_open(w);
	jsonw_kv_cstr(w, "account", account);
	jsonw_kv_u64(w, "transactions", txs);
	rows_json_kv_time(w, "first_seen", first_ns);
	rows_json_kv_time(w, "last_seen", last_ns);
	jsonw_obj_close(w);
	return 0;
}

static void host_json(struct jsonw *w, void *arg)
{
	struct host_doc *d = arg;
	struct store_filter af = {.host = d->host, .newest_first = true, .limit = HTTP_ALERTS_MAX};
	struct store_filter sf = {.host = d->host, .latest_only = true};
	int err;

	d->w = w;
	jsonw_obj_open(w);
	jsonw_key(w, "host");
	report_json_host(w, d->agg, 0);
	jsonw_key(w, "alerts");
	jsonw_arr_open(w);
	err = store_scan_alerts(d->h->st, &af, host_alert, d);
	jsonw_arr_close(w);
	jsonw_key(w, "summaries");
	jsonw_arr_open(w);
	err = err ? err : store_scan_summaries(d->h->st, &sf, host_summary, d);
	jsonw_arr_close(w);
	jsonw_key(w, "sensors");
	jsonw_arr_open(w);
	d->sensors = &d->agg->sensors;
	err = err ? err : store_scan_sensors(d->h->st, host_sensor, d);
	jsonw_arr_close(w);
	jsonw_key(w, "archive_accounts");
	jsonw_arr_open(w);
	err = err ? err : store_scan_host_accounts(d->h->st, d->host, host_account, d);
	jsonw_arr_close(w);
	jsonw_obj_close(w);
	d->err = err;
}

static void on_host(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	struct http *h = arg;
	char host[64];
	struct agg_opts ao = {.host = host, .min_score = -1e9};
	struct agg_result *r;
	struct host_doc d = {.h = h, .host = host};

	/* after "/api/hosts/", in the form hosts are stored in */
	if (strlen(req->path + 11) >= sizeof(host)) {
		fail(resp, 400, "want /api/hosts/<address>");
		return;
	}
	snprintf(host, sizeof(host), "%s", req->path + 11);
	if (!ingest_host_normalise(host)) {
		fail(resp, 400, "want /api/hosts/<address>");
		return;
	}
	if (aggregate_build(h->st, &ao, &r)) {
		fail(resp, 503, "store unavailable");
		return;
	}
	if (!r->n_hosts) {
		aggregate_free(r);
		fail(resp, 404, "no alert or summary for this host");
		return;
	}
	d.agg = &r->hosts[0];
	send_json(resp, host_json, &d);
	if (d.err)
		fail(resp, 503, "store unavailable");
	aggregate_free(r);
}

/* ---- /api/search ---- */

struct search_doc {
	struct http *h;
	const struct store_search *q;
	int err;
};

static void search_doc_json(struct jsonw *w, void *arg)
{
	struct search_doc *d = arg;

	d->err = search_json(w, d->h->st, d->q);
}

static void on_search(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	struct http *h = arg;
	const char *since = httpd_req_arg(req, "since"), *until = httpd_req_arg(req, "until");
	struct store_search q = {
		.account = httpd_req_arg(req, "account"),
		.host = httpd_req_arg(req, "host"),
		.rcpt_domain = httpd_req_arg(req, "rcpt_domain"),
	};
	struct search_doc d = {.h = h, .q = &q};
	uint64_t now = clock_real_ns();
	double limit = 1000;
	char host[64];

	if (q.host && strlen(q.host) < sizeof(host)) {
		snprintf(host, sizeof(host), "%s", q.host);
		if (ingest_host_normalise(host))
			q.host = host;
	}

	if ((since && search_parse_time(since, now, &q.since_ns)) ||
	    (until && search_parse_time(until, now, &q.until_ns)) ||
	    !arg_double(req, "limit", 1, HTTP_SEARCH_MAX, &limit)) {
		fail(resp, 400, "bad since, until or limit");
		return;
	}
	q.limit = (unsigned int)limit;
	send_json(resp, search_doc_json, &d);
	if (d.err)
		fail(resp, 503, "store unavailable");
}

/* ---- /api/sensors ---- */

static int sensor_json(const struct store_sensor *s, void *arg)
{
	struct jsonw *w = arg;

	jsonw_obj_open(w);
	jsonw_kv_cstr(w, "sensor_id", s->sensor_id);
	jsonw_kv_cstr(w, "version", s->version);
	jsonw_kv_cstr(w, "config_digest", s->config_digest);
	jsonw_kv_cstr(w, "home_net", s->home_net);
	jsonw_kv_cstr(w, "peer", s->peer);
	rows_json_kv_hex(w, "run_id", s->run_id);
	rows_json_kv_time(w, "started", s->started_ns);
	rows_json_kv_time(w, "last_seen", s->seen_ns);
	jsonw_obj_close(w);
	return 0;
}

static int run_json(const struct store_run *r, void *arg)
{
	struct jsonw *w = arg;

	jsonw_obj_open(w);
	jsonw_kv_cstr(w, "sensor_id", r->sensor_id);
	rows_json_kv_hex(w, "run_id", r->run_id);
	jsonw_kv_u64(w, "max_seq", r->max_seq);
	jsonw_kv_u64(w, "frames", r->frames);
	rows_json_kv_time(w, "first_seen", r->first_ns);
	rows_json_kv_time(w, "last_seen", r->last_ns);
	jsonw_obj_close(w);
	return 0;
}

static void sensors_json(struct jsonw *w, void *arg)
{
	struct search_doc *d = arg;

	jsonw_obj_open(w);
	jsonw_key(w, "sensors");
	jsonw_arr_open(w);
	d->err = store_scan_sensors(d->h->st, sensor_json, w);
	jsonw_arr_close(w);
	jsonw_key(w, "runs");
	jsonw_arr_open(w);
	d->err = d->err ? d->err : store_scan_runs(d->h->st, run_json, w);
	jsonw_arr_close(w);
	jsonw_obj_close(w);
}

static void on_sensors(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	struct search_doc d = {.h = arg};

	send_json(resp, sensors_json, &d);
	if (d.err)
		fail(resp, 503, "store unavailable");
}

/* ---- /metrics and / ---- */

/* The bounded top-N gauge, recomputed at most every rank_ttl_s. */
static void refresh_top(struct http *h)
{
	struct agg_opts ao = {.min_score = h->cfg.min_score};
	struct metrics *m = h->cfg.metrics;
	struct agg_result *r;
	uint64_t now = clock_mono_ns();

	if (h->ranked_mono && now - h->ranked_mono < h->cfg.rank_ttl_s * NS_PER_SEC)
		return;
	h->ranked_mono = now;
	if (aggregate_build(h->st, &ao, &r)) {
		log_warn_rl(60, "http: ranking for /metrics failed");
		return;
	}
	m->n_top = 0;
	for (size_t i = 0; i < r->n_hosts && i < METRICS_TOP_N; i++) {
		snprintf(m->top[i].host, sizeof(m->top[i].host), "%s", r->hosts[i].host);
		m->top[i].score = r->hosts[i].score;
		m->n_top++;
	}
	metrics_set(&m->ranked_hosts, r->n_hosts);
	aggregate_free(r);
}

static void on_metrics(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	struct http *h = arg;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	refresh_top(h);
	f = open_memstream(&buf, &len);
	if (!f) {
		fail(resp, 500, "out of memory");
		return;
	}
	metrics_write(h->cfg.metrics, f);
	fclose(f);
	httpd_resp_take(resp, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

static void on_root(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	struct http *h = arg;
	struct report_opts o = {.min_score = h->cfg.min_score};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	double limit = 0;
	int err;

	if (strcmp(req->path, "/") != 0 && strcmp(req->path, "/report.html") != 0) {
		fail(resp, 404, "not found");
		return;
	}
	if (!arg_double(req, "min_score", -1e9, 1e9, &o.min_score) ||
	    !arg_double(req, "limit", 0, 1e6, &limit)) {
		fail(resp, 400, "bad min_score or limit");
		return;
	}
	o.top = (unsigned int)limit;
	f = open_memstream(&buf, &len);
	if (!f) {
		fail(resp, 500, "out of memory");
		return;
	}
	err = report_write(f, h->st, REPORT_HTML, &o);
	fclose(f);
	if (err) {
		free(buf);
		fail(resp, 503, "store unavailable");
		return;
	}
	httpd_resp_take(resp, 200, "text/html; charset=utf-8", buf, len);
}

int http_create(const struct http_cfg *cfg, struct http **out, struct errbuf *eb)
{
	struct http *h = calloc(1, sizeof(*h));
	struct store_opts so;
	int err;

	if (!h)
		return -ENOMEM;
	h->cfg = *cfg;
	h->cfg.rank_ttl_s = cfg->rank_ttl_s ? cfg->rank_ttl_s : 15;
	so = cfg->store_opts;
	so.readonly = true;
	err = store_open(cfg->db, &so, &h->st, eb);
	if (err) {
		free(h);
		return err;
	}
	{
		const struct httpd_route routes[] = {
			{"/metrics", false, on_metrics, h},
			{"/api/hosts/", true, on_host, h},
			{"/api/hosts", false, on_hosts, h},
			{"/api/accounts", false, on_accounts, h},
			{"/api/sensors", false, on_sensors, h},
			{"/api/search", false, on_search, h},
			{"/", true, on_root, h},
		};
		const struct httpd_cfg hc = {
			.listen = cfg->listen,
			.routes = routes,
			.n_routes = sizeof(routes) / sizeof(routes[0]),
		};

		err = httpd_create(&hc, &h->d, eb);
	}
	if (err) {
		store_close(h->st);
		free(h);
		return err;
	}
	*out = h;
	return 0;
}

void http_destroy(struct http *h)
{
	if (!h)
		return;
	httpd_destroy(h->d);
	store_close(h->st);
	free(h);
}

uint16_t http_port(const struct http *h)
{
	return httpd_port(h->d);
}
