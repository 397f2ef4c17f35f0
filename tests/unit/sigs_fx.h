/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sigs_fx: what the signature tests share (test_sigs*.c): the test rule set
 * (one rule per scope), the match record and its callback, loading a set,
 * a worker, and scanning a line, a header field or a body cut in pieces.
 * Header-only, as flow_fx.h; test-only.
 */
#ifndef RELAYWATCH_TESTS_SIGS_FX_H
#define RELAYWATCH_TESTS_SIGS_FX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/sigs.h"

#define U8(s) ((const uint8_t *)(s))

/* One rule per scope, plus an end-anchored body rule and an any-header rule. */
static const char test_rules[] =
	"# relaywatch test set\n"
	"10 command other low - /^XEXPS\\b/ \"xexps command\"\n"
	"20 reply blocklist high i /blocked using zen\\.spamhaus\\.org/ \"Spamhaus ZEN\"\n"
	"21 reply relay_denied medium - /Relay access denied/ \"postfix relay\"\n"
	"30 header:X-Mailer mailer medium - /^The Bat! \\(v3\\.99\\.3\\) Professional$/ \"bat\"\n"
	"31 header spam low i /\\bviagra\\b/ \"viagra in any field\"\n"
	"40 body phish high i /verify your password/ \"verify password\"\n"
	"41 body spam low - /END-OF-MAIL$/ \"anchored at the end\"\n"
	"50 url phish high - /^https?:\\/\\/\\d{1,3}(\\.\\d{1,3}){3}[\\/:]/ \"IP literal URL\"\n";

struct rec {
	unsigned int n;
	struct sigs_match m[32];
	char ctx[32][SIGS_CTX_MAX + 1];
};

static inline void rec_cb(void *arg, const struct sigs_match *m)
{
	struct rec *r = arg;

	if (r->n >= 32)
		return;
	r->m[r->n] = *m;
	memcpy(r->ctx[r->n], m->ctx ? (const char *)m->ctx : "", m->ctx_len);
	r->ctx[r->n][m->ctx_len] = '\0';
	r->n++;
}

static inline struct sigs *load(const char *text)
{
	struct errbuf eb = {""};
	struct sigs *s;

	assert_int_equal(sigs_create(&s), 0);
	if (sigs_load_text(s, "t.rules", text, strlen(text), &eb) != 0)
		fail_msg("load: %s", eb.msg);
	return s;
}

static inline struct sigs_worker *worker(struct sigs *s, uint32_t streams)
{
	struct sigs_worker_cfg cfg;
	struct sigs_worker *w;

	sigs_worker_cfg_default(&cfg);
	if (streams)
		cfg.max_streams = streams;
	assert_int_equal(sigs_worker_create(s, &cfg, &w), 0);
	return w;
}

static inline unsigned int line(struct sigs_worker *w, enum event_sig_scope sc, const char *s,
				struct rec *r)
{
	memset(r, 0, sizeof(*r));
	return sigs_scan_line(w, sc, U8(s), strlen(s), rec_cb, r);
}

static inline unsigned int header(struct sigs_worker *w, const char *name, const char *val,
				  struct rec *r)
{
	memset(r, 0, sizeof(*r));
	return sigs_scan_header(w, name, strlen(name), U8(val), strlen(val), rec_cb, r);
}

/* The whole body in pieces cut at the given offsets. */
static inline unsigned int body(struct sigs_worker *w, const char *text, const size_t *cuts,
				unsigned int n_cuts, struct rec *r)
{
	struct sigs_stream *st;
	size_t at = 0, len = strlen(text);

	memset(r, 0, sizeof(*r));
	st = sigs_body_open(w, rec_cb, r);
	assert_non_null(st);
	for (unsigned int i = 0; i <= n_cuts; i++) {
		size_t to = i < n_cuts ? cuts[i] : len;

		sigs_body_feed(w, st, U8(text) + at, to - at);
		at = to;
	}
	sigs_body_close(w, st);
	return r->n;
}

/*
 * The URL rules a URL (and each prefix) gets, compared with the same patterns
 * as reply rules (ids id_off higher), which are scanned without the URL
 * scope's routing: the same rules, ends and order.
 */
static inline void url_equals_reply(struct sigs_worker *w, const char *url, uint32_t id_off)
{
	struct rec u, b;

	for (size_t n = 1; n <= strlen(url); n++) {
		memset(&u, 0, sizeof(u));
		memset(&b, 0, sizeof(b));
		sigs_scan_line(w, EV_SCOPE_URL, U8(url), n, rec_cb, &u);
		sigs_scan_line(w, EV_SCOPE_REPLY, U8(url), n, rec_cb, &b);
		if (u.n != b.n)
			fail_msg("%.*s: %u URL matches, %u reply", (int)n, url, u.n, b.n);
		for (unsigned int k = 0; k < u.n; k++) {
			assert_int_equal(u.m[k].id + id_off, b.m[k].id);
			assert_int_equal(u.m[k].end, b.m[k].end);
		}
	}
}

#endif
