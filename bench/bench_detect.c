// SPDX-License-Identifier: BSD-3-Clause
/*
 * bench_detect: events per second through detect_engine_event(), the
 * detector thread's whole per-event cost. A synthetic ISP day in miniature:
 * foreign MTAs delivering to home MXs (some to unknown users, some bounces),
 * home PCs submitting after AUTH, a few bots going direct to MX, brute
 * forcers, a relay being abused. The events are made first, then fed in
 * order several times with the clock moving on; alerts are counted, not
 * written. Not a test: it prints figures.
 *
 *   bench_detect [sessions] [rounds] [foreign clients]
 *
 * The last one sets the population (home PCs are a tenth of it, foreign
 * servers half): a large one measures memory latency (every session's
 * first event misses the caches), a small one the CPU cost per event.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sensor/config.h"
#include "sensor/detect.h"
#include "sensor/event.h"
#include "sensor/netset.h"

#define NS 1000000000ull

struct gen {
	uint32_t pop; /* foreign clients */
	uint8_t *buf;
	size_t len, cap;
	uint64_t n_events;
	uint64_t t;
	uint32_t rnd;
};

static uint32_t rnd(struct gen *g)
{
	g->rnd ^= g->rnd << 13;
	g->rnd ^= g->rnd >> 17;
	g->rnd ^= g->rnd << 5;
	return g->rnd;
}

static void *put(struct gen *g, size_t len)
{
	void *p;

	len = (len + 7) & ~(size_t)7;
	if (g->len + len > g->cap)
		return NULL;
	p = g->buf + g->len;
	memset(p, 0, len);
	g->len += len;
	g->n_events++;
	return p;
}

static void v4(union pkt_addr *a, uint32_t x)
{
	memset(a, 0, sizeof(*a));
	a->b[10] = a->b[11] = 0xff;
	a->b[12] = (uint8_t)(x >> 24);
	a->b[13] = (uint8_t)(x >> 16);
	a->b[14] = (uint8_t)(x >> 8);
	a->b[15] = (uint8_t)x;
}

static void hdr(struct gen *g, struct event_hdr *h, enum event_type t, size_t len, uint32_t sid,
		uint32_t cli, uint32_t srv, uint16_t port)
{
	h->type = (uint16_t)t;
	h->len = (uint32_t)len;
	h->ts_ns = g->t;
	snprintf(h->uid, sizeof(h->uid), "C%017u", sid);
	h->family = 4;
	v4(&h->client, cli);
	v4(&h->server, srv);
	h->client_port = (uint16_t)(1024 + (sid & 0x7fff));
	h->server_port = port;
}

/* Who talks to whom in one session. */
struct role {
	uint32_t kind, cli, srv;
	uint16_t port;
	bool auth, bounce, unknown, brute;
};

static void pick_role(struct gen *g, struct role *ro)
{
	uint32_t k = rnd(g) % 100;

	memset(ro, 0, sizeof(*ro));
	ro->port = 25;
	if (k < 60) { /* foreign MTA -> home MX */
		ro->cli = 0xcb000000u + rnd(g) % g->pop;
		ro->srv = 0xc6336400u + rnd(g) % 50;
		ro->bounce = k < 5;
		ro->unknown = k >= 55;
	} else if (k < 85) { /* home PC -> home submission */
		ro->cli = 0xc6330000u + rnd(g) % (g->pop / 10 + 1);
		ro->srv = 0xc6336400u + rnd(g) % 4;
		ro->port = 587;
		ro->auth = true;
	} else if (k < 95) { /* home MX -> foreign MX */
		ro->cli = 0xc6336400u + rnd(g) % 50;
		ro->srv = 0xc0000000u + rnd(g) % (g->pop / 2 + 1);
	} else if (k < 98) { /* bot -> foreign MX */
		ro->cli = 0xc6330000u + rnd(g) % 200;
		ro->srv = 0xc0000000u + rnd(g) % (g->pop / 2 + 1);
	} else { /* brute forcer */
		ro->cli = 0xcb007100u + rnd(g) % 50;
		ro->srv = 0xc6336400u;
		ro->port = 587;
		ro->brute = true;
	}
}

static int put_greeting(struct gen *g, const struct role *ro, uint32_t sid)
{
	struct event_session_open *o = put(g, sizeof(*o));
	struct event_banner *b = put(g, sizeof(*b));
	struct event_auth *au;

	if (!o || !b)
		return -ENOSPC;
	hdr(g, &o->h, EV_SESSION_OPEN, sizeof(*o), sid, ro->cli, ro->srv, ro->port);
	hdr(g, &b->h, EV_BANNER, sizeof(*b), sid, ro->cli, ro->srv, ro->port);
	b->code = 220;
	b->text_len = event_copy_text(b->text, sizeof(b->text), "mx ESMTP", 8);
	if (!ro->auth && !ro->brute)
		return 0;
	au = put(g, sizeof(*au));
	if (!au)
		return -ENOSPC;
	hdr(g, &au->h, EV_AUTH, sizeof(*au), sid, ro->cli, ro->srv, ro->port);
	au->result = ro->brute ? SMTP_AUTH_FAILURE : SMTP_AUTH_SUCCESS;
	au->user_len = (uint16_t)snprintf(au->user, sizeof(au->user), "user%u", ro->cli & 0xffff);
	return 0;
}

static int put_rcpts(struct gen *g, const struct role *ro, uint32_t sid)
{
	uint32_t n = 1 + rnd(g) % 3;

	for (uint32_t i = 0; i < n; i++) {
		struct event_rcpt *r = put(g, sizeof(*r));

		if (!r)
			return -ENOSPC;
		hdr(g, &r->h, EV_RCPT, sizeof(*r), sid, ro->cli, ro->srv, ro->port);
		r->trans_depth = 1;
		r->authenticated = ro->auth;
		r->code = ro->unknown && i == 0 ? 550 : 250;
		r->enh_class = r->code == 550 ? 5 : 2;
		r->enh_subject = 1;
		r->enh_detail = r->code == 550 ? 1 : 5;
		r->text_len = event_copy_text(r->text, sizeof(r->text), "5.1.1 User unknown", 18);
		if (!ro->bounce)
			r->mailfrom_len = (uint16_t)snprintf(r->mailfrom, sizeof(r->mailfrom),
							     "s%u@d%u.example", ro->cli & 0xff,
							     ro->cli % 1000);
		r->rcpt_len = (uint16_t)snprintf(r->rcpt, sizeof(r->rcpt), "u%u@d%u.example",
						 rnd(g) % 5000, rnd(g) % 3000);
	}
	return 0;
}

static int put_tx(struct gen *g, const struct role *ro, uint32_t sid)
{
	struct event_tx *tx;
	char a[64];

	tx = put(g, offsetof(struct event_tx, tx) + offsetof(struct smtp_tx, arena) + 256);
	if (!tx)
		return -ENOSPC;
	hdr(g, &tx->h, EV_TX, 0, sid, ro->cli, ro->srv, ro->port);
	smtp_tx_init(&tx->tx, NULL, g->t);
	tx->tx.family = 4;
	tx->tx.orig_h = tx->h.client;
	tx->tx.resp_h = tx->h.server;
	tx->tx.trans_depth = 1;
	tx->tx.mail_code = 250;
	if (ro->bounce)
		tx->tx.flags |= SMTP_TX_F_BOUNCE;
	else
		smtp_tx_set(&tx->tx, SMTP_F_MAILFROM, a,
			    (size_t)snprintf(a, sizeof(a), "s%u@d%u.example", ro->cli & 0xff,
					     ro->cli % 1000));
	if (ro->auth) {
		tx->tx.auth_result = SMTP_AUTH_SUCCESS;
		smtp_tx_set(&tx->tx, SMTP_F_AUTH_USER, a,
			    (size_t)snprintf(a, sizeof(a), "user%u", ro->cli & 0xffff));
	}
	smtp_tx_add_rcpt(&tx->tx, a,
			 (size_t)snprintf(a, sizeof(a), "u%u@d%u.example", rnd(g) % 5000, 7));
	tx->tx.rcpt[0].code = 250;
	tx->tx.n_rcpt_accepted = 1;
	tx->tx.n_to = 1 + rnd(g) % 3;
	tx->h.len = (uint32_t)(offsetof(struct event_tx, tx) + smtp_tx_wire_size(&tx->tx));
	/* Give back the part of the reservation the record did not use. */
	g->len = (size_t)((uint8_t *)tx - g->buf) + ((tx->h.len + 7) & ~(size_t)7);
	return 0;
}

static int session(struct gen *g, uint32_t sid)
{
	struct role ro;
	int err;

	pick_role(g, &ro);
	err = put_greeting(g, &ro, sid);
	if (err || ro.brute)
		return err;
	err = put_rcpts(g, &ro, sid);
	return err ? err : put_tx(g, &ro, sid);
}

static uint64_t alerts;

static void count_alert(void *arg, const struct alert *a)
{
	(void)arg;
	(void)a;
	alerts++;
}

/* CPU time of this thread: what the detector thread costs when it has a
 * core, whatever else the machine is doing (wall time is printed too). */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int setup(struct config *cfg)
{
	struct errbuf eb;
	int err;

	err = config_init(cfg);
	if (!err)
		err = netset_add_cidr(&cfg->home_net, "198.51.0.0/16", &eb);
	if (!err)
		err = domset_add(&cfg->home_domains, "example.net", &eb);
	netset_finish(&cfg->home_net);
	domset_finish(&cfg->home_domains);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long sessions = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	unsigned long rounds = argc > 2 ? strtoul(argv[2], NULL, 10) : 5;
	unsigned long pop = argc > 3 ? strtoul(argv[3], NULL, 10) : 200000;
	struct gen g = {.cap = (size_t)sessions * 6000, .t = 1699995600ull * NS, .rnd = 1};
	const struct detect_stats *st;
	struct detect_engine *de;
	struct config cfg;
	uint64_t fed = 0, span;
	double t0, w0, secs;

	g.pop = pop ? (uint32_t)pop : 1;
	g.buf = malloc(g.cap);
	if (!g.buf || setup(&cfg) || detect_engine_create(&cfg, count_alert, NULL, &de)) {
		fprintf(stderr, "bench_detect: set-up failed\n");
		return 1;
	}
	for (uint32_t s = 0; s < sessions; s++) {
		g.t += 5000000; /* 200 sessions a second */
		if (session(&g, s))
			break;
	}
	span = g.t - 1699995600ull * NS;
	t0 = cpu_s();
	w0 = wall_s();
	for (unsigned long r = 0; r < rounds; r++) {
		double tr = cpu_s();

		for (size_t off = 0; off < g.len;) {
			struct event_hdr *e = (struct event_hdr *)(g.buf + off);

			/* Each round is the next stretch of time. */
			if (r)
				e->ts_ns += span;
			detect_engine_event(de, e);
			off += (e->len + 7) & ~(size_t)7;
			fed++;
		}
		detect_engine_tick(de, g.t + r * span);
		tr = cpu_s() - tr;
		printf("round %lu: %.2f M events/s (%.0f ns/event)%s\n", r + 1,
		       (double)g.n_events / tr / 1e6, tr * 1e9 / (double)g.n_events,
		       r ? "" : ", tables filling (first touch of their pages)");
	}
	secs = cpu_s() - t0;
	st = detect_engine_stats(de);
	printf("events %llu in %.3f s of CPU (%.3f s wall): %.2f M events/s (%.0f ns/event), "
	       "%.1f MB of events\n",
	       (unsigned long long)fed, secs, wall_s() - w0, fed / secs / 1e6, secs * 1e9 / fed,
	       g.len / 1e6);
	printf("hosts %llu (evicted %llu), accounts %llu, alerts %llu (+%llu updates), "
	       "host %llu B, account %llu B, engine %.1f MB\n",
	       (unsigned long long)st->hosts, (unsigned long long)st->hosts_evicted,
	       (unsigned long long)st->accounts, (unsigned long long)alerts,
	       (unsigned long long)st->alerts_updated, (unsigned long long)st->host_bytes,
	       (unsigned long long)st->account_bytes, st->mem_bytes / 1e6);
	detect_engine_destroy(de);
	config_fini(&cfg);
	free(g.buf);
	return 0;
}
