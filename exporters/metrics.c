// SPDX-License-Identifier: BSD-3-Clause
#include "exporters/metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "exporters/export_json.h"
#include "exporters/metrics_int.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

int metrics_create(const struct metrics_cfg *cfg, struct metrics **out, struct errbuf *eb)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return errbuf_set(eb, -ENOMEM, "metrics: out of memory");
	m->cfg = *cfg;
	err = pthread_mutex_init(&m->top_lock, NULL);
	if (err) {
		free(m);
		return errbuf_set(eb, -err, "metrics: %s", strerror(err));
	}
	/* The top-N gauge is the one place an address shows: the same pseudonym
	 * the exporters would write, when the operator asked for pseudonyms. */
	if (cfg->cfg && cfg->cfg->pseudonymize_ips && cfg->cfg->key_file[0]) {
		err = privacy_create(cfg->cfg->key_file, &m->privacy, eb);
		if (err) {
			pthread_mutex_destroy(&m->top_lock);
			free(m);
			return err;
		}
	}
	*out = m;
	return 0;
}

void metrics_destroy(struct metrics *m)
{
	if (!m)
		return;
	httpd_destroy(m->httpd); /* no scrape runs past this */
	m->httpd = NULL;
	privacy_destroy(m->privacy);
	pthread_mutex_destroy(&m->top_lock);
	free(m);
}

int metrics_add_worker(struct metrics *m, struct worker *w, struct smtp_ctx *smtp,
		       struct msgring *ring)
{
	if (m->httpd)
		return -EBUSY; /* the scrape thread reads n_workers unlocked */
	if (m->n_workers >= SOURCE_MAX_QUEUES)
		return -ENOSPC;
	m->wk[m->n_workers++] = (struct metrics_worker){w, smtp, ring};
	return 0;
}

/* ---- detector thread ---- */

void metrics_detector_event(struct metrics *m, const struct event_hdr *e)
{
	const struct event_sig *sig = (const struct event_sig *)e;
	uint32_t n;

	if (e->type != EV_SIG || e->len < sizeof(*sig))
		return;
	n = atomic_load_explicit(&m->n_sigs, memory_order_relaxed);
	/* Linear: rule sets hold hundreds of ids and matches are rare next to packets. */
	for (uint32_t i = 0; i < n; i++) {
		if (m->sig_id[i] == sig->sig_id) {
			atomic_store_explicit(
				&m->sig_count[i],
				atomic_load_explicit(&m->sig_count[i], memory_order_relaxed) + 1,
				memory_order_relaxed);
			return;
		}
	}
	if (n == METRICS_MAX_SIGS) {
		atomic_store_explicit(&m->sig_other,
				      atomic_load_explicit(&m->sig_other, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		return;
	}
	m->sig_id[n] = sig->sig_id;
	atomic_store_explicit(&m->sig_count[n], 1, memory_order_relaxed);
	atomic_store_explicit(&m->n_sigs, n + 1, memory_order_release);
}

static void host_text(const struct metrics *m, const struct detect_host_summary *h, char *buf,
		      size_t cap)
{
	union pkt_addr a = h->addr;

	if (m->privacy)
		privacy_ip(m->privacy, h->family, &a, &a);
	export_json_addr(h->family, &a, buf, cap);
}

/* Keeps cand[] sorted by score, highest first; equal scores keep the first seen. */
static void top_offer(struct metrics *m, const struct detect_host_summary *h)
{
	struct metrics_walk *wk = &m->walk;
	unsigned int i;

	if (!(h->score > 0))
		return; /* no evidence at all: not a candidate */
	if (wk->n == METRICS_TOP_N && h->score <= wk->cand[METRICS_TOP_N - 1].score)
		return;
	i = wk->n < METRICS_TOP_N ? wk->n++ : METRICS_TOP_N - 1;
	for (; i > 0 && wk->cand[i - 1].score < h->score; i--)
		wk->cand[i] = wk->cand[i - 1];
	wk->cand[i].score = h->score;
	host_text(m, h, wk->cand[i].host, sizeof(wk->cand[i].host));
}

/* Hands a finished walk to the scrape; the detector never waits unless final. */
static void top_publish(struct metrics *m, bool final)
{
	struct metrics_walk *wk = &m->walk;

	if (final ? pthread_mutex_lock(&m->top_lock) : pthread_mutex_trylock(&m->top_lock))
		return; /* a scrape holds it for a few copies: next tick */
	memcpy(m->top, wk->cand, sizeof(m->top));
	m->n_top = wk->n;
	pthread_mutex_unlock(&m->top_lock);
	wk->pending = false;
}

static void top_walk(struct metrics *m, const struct detect_engine *de, bool final)
{
	struct metrics_walk *wk = &m->walk;
	struct detect_host_summary h;
	uint64_t now = clock_mono_ns();
	unsigned int budget = METRICS_TOP_SLICE;

	if (!wk->active && (now >= wk->next_ns || final)) {
		wk->active = true;
		wk->cursor = 0;
		wk->n = 0;
	}
	while (wk->active && (final || budget-- > 0)) {
		if (!detect_engine_host_next(de, &wk->cursor, &h)) {
			wk->active = false;
			wk->pending = true;
			wk->next_ns = now + METRICS_TOP_PERIOD_S * NS_PER_SEC;
			break;
		}
		top_offer(m, &h);
	}
	if (wk->pending)
		top_publish(m, final);
}

void metrics_detector_tick(struct metrics *m, const struct detect_engine *de,
			   const struct export_json_stats *js, bool final)
{
	if (de) {
		stats_publish(m->mirror_detect_stats, detect_engine_stats(de),
			      sizeof(struct detect_stats));
		atomic_store_explicit(&m->engine_seen, true, memory_order_release);
		top_walk(m, de, final);
	}
	if (js) {
		stats_publish(m->mirror_export_json_stats, js, sizeof(*js));
		atomic_store_explicit(&m->json_seen, true, memory_order_release);
	}
}

/* ---- main thread ---- */

void metrics_xdp(struct metrics *m, const char *const *names, const uint64_t *pkts,
		 const uint64_t *bytes, unsigned int n)
{
	if (n > METRICS_MAX_XDP)
		n = METRICS_MAX_XDP;
	for (unsigned int i = 0; i < n; i++) {
		m->xdp_names[i] = names[i];
		atomic_store_explicit(&m->xdp_pkts[i], pkts[i], memory_order_relaxed);
		atomic_store_explicit(&m->xdp_bytes[i], bytes[i], memory_order_relaxed);
	}
	atomic_store_explicit(&m->n_xdp, n, memory_order_release);
}

void metrics_input_done(struct metrics *m)
{
	atomic_store_explicit(&m->input_done, true, memory_order_relaxed);
}

/* ---- HTTP ---- */

static void on_metrics(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f) {
		httpd_resp_set(resp, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	err = metrics_write(arg, f);
	if (fclose(f) != 0 || err) {
		free(buf);
		log_warn_rl(60, "metrics: a scrape failed to render");
		httpd_resp_set(resp, 500, "text/plain", "render failed\n", 14);
		return;
	}
	httpd_resp_take(resp, 200, METRICS_CONTENT_TYPE, buf, len);
}

static void on_root(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
	static const char body[] = "relaywatch: Prometheus metrics are at /metrics\n";

	if (strcmp(req->path, "/") != 0) {
		httpd_resp_set(resp, 404, "text/plain", "not found\n", 10);
		return;
	}
	httpd_resp_set(resp, 200, "text/plain", body, sizeof(body) - 1);
}

int metrics_serve(struct metrics *m, const char *listen, struct errbuf *eb)
{
	const struct httpd_route routes[] = {
		{"/metrics", false, on_metrics, m},
		{"/", true, on_root, m},
	};
	const struct httpd_cfg hc = {
		.listen = listen,
		.routes = routes,
		.n_routes = sizeof(routes) / sizeof(routes[0]),
		.max_conns = 16,
		.timeout_s = 10,
	};

	if (m->httpd)
		return -EALREADY;
	return httpd_create(&hc, &m->httpd, eb);
}

uint16_t metrics_port(const struct metrics *m)
{
	return m->httpd ? httpd_port(m->httpd) : 0;
}
