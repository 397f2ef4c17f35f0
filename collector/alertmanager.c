// SPDX-License-Identifier: BSD-3-Clause
#include "collector/alertmanager.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "collector/rows_json.h"
#include "common/clock.h"
#include "common/log.h"

#define AM_QUEUE     4096 /* notifications waiting for the thread */
#define AM_BATCH     500  /* alerts per POST */
#define AM_RETRY_MIN 5	  /* s after a failed POST */
#define AM_RETRY_MAX 60

struct am_alert {
	char kind[40];
	char host[64];
	char severity[16];
	char sensor[128];
	char account[160];
	char summary[256];
	char description[1024];
	uint64_t starts_ns; /* wall clock */
	uint64_t last_mono; /* the host's latest alert */
	uint64_t sent_mono; /* 0: never posted */
	bool dirty, resolved;
};

struct alertmanager {
	struct alertmanager_cfg cfg;
	char url[1024];
	char public_url[512];
	CURL *curl;
	pthread_t thr;
	pthread_mutex_t mu; /* queue and stop */
	pthread_cond_t cv;
	struct am_alert *queue;
	unsigned int q_head, q_len;
	bool stop;
	/* thread only */
	struct am_alert *alerts;
	unsigned int n_alerts;
	struct am_alert *batch[AM_BATCH];
	unsigned int n_batch;
	uint64_t next_try_mono;
	unsigned int retry_s;
};

void alertmanager_alertname(const char *kind, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "Relaywatch");
	bool up = true;

	for (; *kind && n + 1 < cap; kind++) {
		if (*kind == '_') {
			up = true;
			continue;
		}
		buf[n++] = up ? (char)toupper((unsigned char)*kind) : *kind;
		up = false;
	}
	buf[n < cap ? n : cap - 1] = '\0';
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

void alertmanager_notify(struct alertmanager *am, const struct store_alert *a)
{
	struct am_alert *e;
	uint64_t now = clock_real_ns();

	pthread_mutex_lock(&am->mu);
	if (am->q_len == AM_QUEUE) {
		pthread_mutex_unlock(&am->mu);
		metrics_inc(&am->cfg.metrics->am_dropped);
		return;
	}
	e = &am->queue[(am->q_head + am->q_len++) % AM_QUEUE];
	memset(e, 0, sizeof(*e));
	copy(e->kind, sizeof(e->kind), a->kind);
	copy(e->host, sizeof(e->host), a->host);
	copy(e->severity, sizeof(e->severity), a->severity);
	copy(e->sensor, sizeof(e->sensor), a->key.sensor_id);
	copy(e->account, sizeof(e->account), a->account);
	copy(e->summary, sizeof(e->summary), a->message);
	copy(e->description, sizeof(e->description), a->evidence_text);
	/* A replayed capture's alert is old: Alertmanager still gets a sane start. */
	e->starts_ns =
		a->first_ns && a->first_ns <= now && now - a->first_ns < 30 * 86400 * NS_PER_SEC
			? a->first_ns
			: now;
	pthread_cond_signal(&am->cv);
	pthread_mutex_unlock(&am->mu);
}

/* ---- the table of firing alerts (thread only) ---- */

static bool same(const struct am_alert *x, const struct am_alert *y)
{
	return strcmp(x->host, y->host) == 0 && strcmp(x->kind, y->kind) == 0 &&
	       strcmp(x->severity, y->severity) == 0 && strcmp(x->sensor, y->sensor) == 0 &&
	       strcmp(x->account, y->account) == 0;
}

static void absorb(struct alertmanager *am, const struct am_alert *e, uint64_t now)
{
	struct am_alert *hit = NULL;

	for (unsigned int i = 0; i < am->n_alerts; i++) {
		struct am_alert *a = &am->alerts[i];

		if (strcmp(a->host, e->host) != 0)
			continue;
		a->last_mono = now; /* the host is not quiet */
		if (!hit && !a->resolved && same(a, e))
			hit = a;
	}
	if (hit) {
		memcpy(hit->summary, e->summary, sizeof(hit->summary));
		memcpy(hit->description, e->description, sizeof(hit->description));
		return;
	}
	if (am->n_alerts == am->cfg.max_alerts) {
		metrics_inc(&am->cfg.metrics->am_dropped);
		return;
	}
	hit = &am->alerts[am->n_alerts++];
	*hit = *e;
	hit->last_mono = now;
	hit->sent_mono = 0;
	hit->dirty = true;
	metrics_set(&am->cfg.metrics->am_active, am->n_alerts);
}

static void drain_queue(struct alertmanager *am, uint64_t now)
{
	struct am_alert e;

	for (;;) {
		pthread_mutex_lock(&am->mu);
		if (!am->q_len) {
			pthread_mutex_unlock(&am->mu);
			return;
		}
		e = am->queue[am->q_head];
		am->q_head = (am->q_head + 1) % AM_QUEUE;
		am->q_len--;
		pthread_mutex_unlock(&am->mu);
		absorb(am, &e, now);
	}
}

/* Marks what must go out now: new, due for a resend, or quiet (resolved). */
static void mark_due(struct alertmanager *am, uint64_t now)
{
	uint64_t quiet = (uint64_t)am->cfg.quiet_after_s * NS_PER_SEC;
	uint64_t resend = (uint64_t)am->cfg.resend_s * NS_PER_SEC;

	for (unsigned int i = 0; i < am->n_alerts; i++) {
		struct am_alert *a = &am->alerts[i];

		if (!a->resolved && now - a->last_mono >= quiet) {
			a->resolved = true;
			a->dirty = true;
		} else if (!a->resolved && a->sent_mono && now - a->sent_mono >= resend) {
			a->dirty = true;
		}
	}
}

static void forget_resolved(struct alertmanager *am)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < am->n_alerts; i++)
		if (!(am->alerts[i].resolved && !am->alerts[i].dirty))
			am->alerts[kept++] = am->alerts[i];
	am->n_alerts = kept;
	metrics_set(&am->cfg.metrics->am_active, kept);
}

/* ---- posting ---- */

static void alert_json(struct jsonw *w, const struct alertmanager *am, const struct am_alert *a)
{
	char name[80], url[700], ts[40];

	alertmanager_alertname(a->kind, name, sizeof(name));
	jsonw_obj_open(w);
	jsonw_key(w, "labels");
	jsonw_obj_open(w);
	jsonw_kv_cstr(w, "alertname", name);
	jsonw_kv_cstr(w, "kind", a->kind);
	jsonw_kv_cstr(w, "host", a->host);
	jsonw_kv_cstr(w, "severity", a->severity);
	if (a->sensor[0])
		jsonw_kv_cstr(w, "sensor", a->sensor);
	if (a->account[0])
		jsonw_kv_cstr(w, "account", a->account);
	jsonw_obj_close(w);
	jsonw_key(w, "annotations");
	jsonw_obj_open(w);
	jsonw_kv_cstr(w, "summary", a->summary[0] ? a->summary : a->kind);
	jsonw_kv_cstr(w, "description", a->description);
	jsonw_obj_close(w);
	if (am->public_url[0]) {
		snprintf(url, sizeof(url), "%s/api/hosts/%s", am->public_url, a->host);
		jsonw_kv_cstr(w, "generatorURL", url);
	}
	rows_json_time(a->starts_ns, ts, sizeof(ts), 1);
	jsonw_kv_cstr(w, "startsAt", ts);
	if (a->resolved) {
		rows_json_time(clock_real_ns(), ts, sizeof(ts), 1);
		jsonw_kv_cstr(w, "endsAt", ts);
	}
	jsonw_obj_close(w);
}

static void batch_json(struct jsonw *w, void *arg)
{
	const struct alertmanager *am = arg;

	jsonw_arr_open(w);
	for (unsigned int i = 0; i < am->n_batch; i++)
		alert_json(w, am, am->batch[i]);
	jsonw_arr_close(w);
}

static int post(struct alertmanager *am, const char *body, size_t len)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	long code = 0;
	CURLcode rc;

	curl_easy_setopt(am->curl, CURLOPT_URL, am->url);
	curl_easy_setopt(am->curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(am->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(am->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(am->curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(am->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		log_warn_rl(30, "alertmanager %s: %s", am->url, curl_easy_strerror(rc));
		return -EIO;
	}
	if (code < 200 || code > 299) {
		log_warn_rl(30, "alertmanager %s: HTTP %ld", am->url, code);
		return -EIO;
	}
	return 0;
}

/* Posts the dirty alerts, AM_BATCH at a time; stops at the first failure. */
static void flush(struct alertmanager *am, uint64_t now)
{
	unsigned int i = 0;

	while (now >= am->next_try_mono) {
		size_t len;
		char *body;
		int err;

		am->n_batch = 0;
		for (; i < am->n_alerts && am->n_batch < AM_BATCH; i++)
			if (am->alerts[i].dirty)
				am->batch[am->n_batch++] = &am->alerts[i];
		if (!am->n_batch)
			break;
		body = rows_json_render(batch_json, am, &len);
		err = body ? post(am, body, len) : -ENOMEM;
		free(body);
		if (err) {
			metrics_inc(&am->cfg.metrics->am_failures);
			am->retry_s = am->retry_s ? am->retry_s * 2 : AM_RETRY_MIN;
			if (am->retry_s > AM_RETRY_MAX)
				am->retry_s = AM_RETRY_MAX;
			am->next_try_mono = now + (uint64_t)am->retry_s * NS_PER_SEC;
			return;
		}
		metrics_inc(&am->cfg.metrics->am_posts);
		metrics_add(&am->cfg.metrics->am_alerts_sent, am->n_batch);
		am->retry_s = 0;
		for (unsigned int k = 0; k < am->n_batch; k++) {
			am->batch[k]->dirty = false;
			am->batch[k]->sent_mono = now;
		}
	}
	forget_resolved(am);
}

static void *am_main(void *arg)
{
	struct alertmanager *am = arg;
	struct timespec ts;
	bool stop = false;

	while (!stop) {
		uint64_t now;

		pthread_mutex_lock(&am->mu);
		if (!am->stop && !am->q_len) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&am->cv, &am->mu, &ts);
		}
		stop = am->stop;
		pthread_mutex_unlock(&am->mu);
		now = clock_mono_ns();
		drain_queue(am, now);
		mark_due(am, now);
		if (!stop)
			flush(am, now);
	}
	return NULL;
}

static int set_urls(struct alertmanager *am, const struct alertmanager_cfg *cfg)
{
	size_t n = strlen(cfg->url);

	while (n && cfg->url[n - 1] == '/')
		n--;
	/* curl speaks many protocols; Alertmanager only HTTP(S). */
	if (!n || n > 900 ||
	    (strncasecmp(cfg->url, "http://", 7) != 0 && strncasecmp(cfg->url, "https://", 8) != 0))
		return -EINVAL;
	if (n >= 14 && strncmp(cfg->url + n - 14, "/api/v2/alerts", 14) == 0)
		snprintf(am->url, sizeof(am->url), "%.*s", (int)n, cfg->url);
	else
		snprintf(am->url, sizeof(am->url), "%.*s/api/v2/alerts", (int)n, cfg->url);
	n = cfg->public_url ? strlen(cfg->public_url) : 0;
	while (n && cfg->public_url[n - 1] == '/')
		n--;
	snprintf(am->public_url, sizeof(am->public_url), "%.*s", (int)n,
		 cfg->public_url ? cfg->public_url : "");
	return 0;
}

int alertmanager_create(const struct alertmanager_cfg *cfg, struct alertmanager **out,
			struct errbuf *eb)
{
	struct alertmanager *am = calloc(1, sizeof(*am));
	int err;

	if (!am)
		return -ENOMEM;
	am->cfg = *cfg;
	am->cfg.resend_s = cfg->resend_s ? cfg->resend_s : 60;
	am->cfg.quiet_after_s = cfg->quiet_after_s ? cfg->quiet_after_s : 900;
	am->cfg.timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 5000;
	am->cfg.max_alerts = cfg->max_alerts ? cfg->max_alerts : 10000;
	if (!cfg->url || set_urls(am, cfg)) {
		free(am);
		return errbuf_set(eb, -EINVAL,
				  "--alertmanager: '%s' is not an http:// or https:// URL such as "
				  "http://127.0.0.1:9093",
				  cfg->url ? cfg->url : "");
	}
	am->queue = calloc(AM_QUEUE, sizeof(*am->queue));
	am->alerts = calloc(am->cfg.max_alerts, sizeof(*am->alerts));
	am->curl = curl_easy_init();
	err = -ENOMEM;
	if (!am->queue || !am->alerts || !am->curl)
		goto err_free;
	curl_easy_setopt(am->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(am->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(am->curl, CURLOPT_TIMEOUT_MS, (long)am->cfg.timeout_ms);
	curl_easy_setopt(am->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)am->cfg.timeout_ms / 2);
	curl_easy_setopt(am->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(am->curl, CURLOPT_USERAGENT, "relaywatch-collector/" RELAYWATCH_VERSION);
	pthread_mutex_init(&am->mu, NULL);
	pthread_cond_init(&am->cv, NULL);
	err = -pthread_create(&am->thr, NULL, am_main, am);
	if (err) {
		pthread_cond_destroy(&am->cv);
		pthread_mutex_destroy(&am->mu);
		goto err_free;
	}
	*out = am;
	return 0;

err_free:
	if (am->curl)
		curl_easy_cleanup(am->curl);
	free(am->alerts);
	free(am->queue);
	free(am);
	return err;
}

void alertmanager_destroy(struct alertmanager *am)
{
	if (!am)
		return;
	pthread_mutex_lock(&am->mu);
	am->stop = true;
	pthread_cond_signal(&am->cv);
	pthread_mutex_unlock(&am->mu);
	pthread_join(am->thr, NULL);
	pthread_cond_destroy(&am->cv);
	pthread_mutex_destroy(&am->mu);
	curl_easy_cleanup(am->curl);
	free(am->alerts);
	free(am->queue);
	free(am);
}
