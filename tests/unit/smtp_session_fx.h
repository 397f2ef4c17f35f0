/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_session_fx: what the session tests share (test_smtp_session*.c): the
 * rig (a msgring, a context, one flow), playing a conversation whole, at
 * every split and in 1-byte segments and comparing the runs, reading the
 * events back, the conversation macros (GREETING, EHLO_OK, ENVELOPE_OK) and
 * feeding or closing sessions by hand. Header-only, as tcp_reasm_fx.h;
 * test-only.
 */
#ifndef RELAYWATCH_TESTS_SMTP_SESSION_FX_H
#define RELAYWATCH_TESTS_SMTP_SESSION_FX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/msgring.h"
#include "dataplane/flow.h"
#include "sensor/event.h"
#include "sensor/smtp_session.h"

#define RING_BYTES (4u << 20)
#define MAX_RECS   128
#define REC_MAX	   (sizeof(struct event_tx) + 64)
#define NO_SPLIT   SIZE_MAX
#define TS0	   1700000000000000000ull

struct step {
	uint8_t dir;	  /* enum flow_dir */
	const uint8_t *p; /* NULL: a gap of len bytes */
	size_t len;
};

#define C(s)                                                                                       \
	{                                                                                          \
		FLOW_DIR_TO_SERVER, (const uint8_t *)(s), sizeof(s) - 1                            \
	}
#define S(s)                                                                                       \
	{                                                                                          \
		FLOW_DIR_TO_CLIENT, (const uint8_t *)(s), sizeof(s) - 1                            \
	}
#define GAP(d, n)                                                                                  \
	{                                                                                          \
		(d), NULL, (n)                                                                     \
	}
#define STEPS(a) (a), sizeof(a) / sizeof((a)[0])

struct rec {
	uint32_t len;
	_Alignas(8) uint8_t b[REC_MAX];
};

struct run {
	unsigned int n;
	struct rec r[MAX_RECS];
};

struct harness {
	struct msgring *ring;
	struct event_sink sink;
	struct smtp_ctx *ctx;
	struct smtp_cfg cfg;
	struct flow flow;
	struct run ref, got;
};

static struct harness H;

static inline void harness_flow(struct harness *h, uint16_t server_port, bool syn)
{
	memset(&h->flow, 0, sizeof(h->flow));
	h->flow.key.family = 4;
	h->flow.key.lo.b[10] = h->flow.key.hi.b[10] = 0xff;
	h->flow.key.lo.b[11] = h->flow.key.hi.b[11] = 0xff;
	memcpy(&h->flow.key.lo.b[12], "\xc0\x00\x02\x0a", 4); /* 192.0.2.10: client */
	memcpy(&h->flow.key.hi.b[12], "\xc6\x33\x64\x19", 4); /* 198.51.100.25: server */
	h->flow.key.lo_port = 40001;
	h->flow.key.hi_port = server_port;
	h->flow.flags = FLOW_F_CLIENT_LO | (syn ? FLOW_F_SYN : 0);
	h->flow.first_ns = TS0;
}

static inline void harness_up(struct harness *h, void (*tune)(struct smtp_cfg *))
{
	memset(&h->sink, 0, sizeof(h->sink));
	assert_int_equal(msgring_create(RING_BYTES, &h->ring), 0);
	h->sink.ring = h->ring;
	smtp_cfg_default(&h->cfg);
	h->cfg.max_sessions = 8;
	if (tune)
		tune(&h->cfg);
	assert_int_equal(smtp_ctx_create(&h->cfg, &h->sink, &h->ctx), 0);
	harness_flow(h, 25, true);
}

static inline void harness_down(struct harness *h)
{
	smtp_ctx_destroy(h->ctx);
	msgring_destroy(h->ring);
}

static inline void drain(struct harness *h, struct run *out)
{
	const void *p;
	uint32_t len;

	out->n = 0;
	while ((p = msgring_peek(h->ring, &len))) {
		assert_true(out->n < MAX_RECS);
		assert_true(len <= REC_MAX);
		out->r[out->n].len = len;
		memcpy(out->r[out->n].b, p, len);
		/* As the detector does: the worker leaves the uid to the reader. */
		event_fill_uid(NULL, (struct event_hdr *)(void *)out->r[out->n].b, len);
		out->n++;
		msgring_release(h->ring);
	}
}

/* Copies each segment so that reading past it is a sanitizer error. */
static inline enum l7_verdict deliver(struct harness *h, void *sess, uint8_t dir, const uint8_t *p,
				      size_t n, uint64_t ts)
{
	uint8_t *copy = malloc(n ? n : 1);
	enum l7_verdict v;

	memcpy(copy, p, n);
	h->flow.bytes_lo[dir] += (uint32_t)n; /* the flow table counts payload before L7 sees it */
	v = smtp_l7_ops.data(h->ctx, sess, &h->flow, dir, copy, (uint32_t)n, ts);
	free(copy);
	return v;
}

static inline enum l7_verdict deliver_step(struct harness *h, void *sess, const struct step *st,
					   size_t off, size_t split, bool bytewise, uint64_t ts)
{
	enum l7_verdict v = L7_CONTINUE;

	if (bytewise) {
		for (size_t i = 0; i < st->len && v == L7_CONTINUE; i++)
			v = deliver(h, sess, st->dir, st->p + i, 1, ts);
		return v;
	}
	if (split != NO_SPLIT && split > off && split < off + st->len) {
		v = deliver(h, sess, st->dir, st->p, split - off, ts);
		if (v == L7_CONTINUE)
			v = deliver(h, sess, st->dir, st->p + (split - off), off + st->len - split,
				    ts);
		return v;
	}
	return deliver(h, sess, st->dir, st->p, st->len, ts);
}

/* One connection: open, every step (like the worker, nothing after a bypass
 * but the byte counts), close. */
static inline void play(struct harness *h, const struct step *steps, size_t n, size_t split,
			bool bytewise, struct run *out)
{
	uint64_t ts = TS0;
	size_t off = 0;
	enum l7_verdict v = L7_CONTINUE;
	void *sess;

	h->flow.bytes_lo[0] = h->flow.bytes_lo[1] = 0;
	sess = smtp_l7_ops.open(h->ctx, &h->flow, ts);
	if (sess) {
		for (size_t i = 0; i < n; i++) {
			ts += 1000;
			if (v != L7_CONTINUE)
				h->flow.bytes_lo[steps[i].dir] +=
					steps[i].p ? (uint32_t)steps[i].len : 0;
			else if (!steps[i].p)
				v = smtp_l7_ops.gap(h->ctx, sess, &h->flow, steps[i].dir,
						    (uint32_t)steps[i].len, ts);
			else
				v = deliver_step(h, sess, &steps[i], off, split, bytewise, ts);
			off += steps[i].p ? steps[i].len : 0;
		}
		/* Like the worker: a session given back already is not closed. */
		if (v != L7_RELEASED)
			smtp_l7_ops.close(h->ctx, sess, &h->flow, FLOW_END_FIN, ts + 1000);
	}
	smtp_l7_ops.housekeep(h->ctx, ts);
	drain(h, out);
	h->sink.seq = 0;
}

static inline bool same_rec(const struct rec *x, const struct rec *y)
{
	return x->len == y->len && !memcmp(x->b, y->b, x->len);
}

static inline bool is_sig(const struct rec *r)
{
	return ((const struct event_hdr *)r->b)->type == EV_SIG;
}

/* Signature events may come in another order when a URL and a body match
 * end in the same piece (a different split finds them in other calls);
 * all else must be identical, in order. */
static inline bool same_run(const struct run *a, const struct run *b)
{
	static struct rec sa[MAX_RECS], sb[MAX_RECS];
	unsigned int i = 0, j = 0, na = 0, nb = 0;

	if (a->n != b->n)
		return false;
	for (;;) {
		while (i < a->n && is_sig(&a->r[i]))
			sa[na++] = a->r[i++];
		while (j < b->n && is_sig(&b->r[j]))
			sb[nb++] = b->r[j++];
		if (i == a->n || j == b->n)
			break;
		if (!same_rec(&a->r[i++], &b->r[j++]))
			return false;
	}
	if (i != a->n || j != b->n || na != nb)
		return false;
	for (unsigned int x = 0; x < na; x++) {
		((struct event_hdr *)sa[x].b)->seq = 0;
		((struct event_hdr *)sb[x].b)->seq = 0;
	}
	for (unsigned int x = 0; x < na; x++) {
		bool found = false;

		for (unsigned int y = 0; y < nb && !found; y++) {
			if (sb[y].len && same_rec(&sa[x], &sb[y])) {
				sb[y].len = 0;
				found = true;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

/* Says which event differs first, to make a failure readable. */
static inline void describe_diff(const struct run *a, const struct run *b)
{
	unsigned int i;

	for (i = 0; i < a->n && i < b->n; i++)
		if (a->r[i].len != b->r[i].len || memcmp(a->r[i].b, b->r[i].b, a->r[i].len))
			break;
	print_message("%u vs %u events; first difference at event %u: %s vs %s\n", a->n, b->n, i,
		      i < a->n ? event_type_name(((const struct event_hdr *)a->r[i].b)->type) : "-",
		      i < b->n ? event_type_name(((const struct event_hdr *)b->r[i].b)->type)
			       : "-");
	if (i < a->n && i < b->n && ((const struct event_hdr *)a->r[i].b)->type == EV_SIG) {
		const struct event_sig *x = (const void *)a->r[i].b, *y = (const void *)b->r[i].b;

		print_message("sig %u '%s' ts %llu vs sig %u '%s' ts %llu\n", x->sig_id, x->snippet,
			      (unsigned long long)x->h.ts_ns, y->sig_id, y->snippet,
			      (unsigned long long)y->h.ts_ns);
	}
}

/* The reference run, then every split point and 1-byte segments: same events. */
static inline void play_all_splits(struct harness *h, const struct step *steps, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += steps[i].p ? steps[i].len : 0;
	play(h, steps, n, NO_SPLIT, false, &h->ref);
	assert_true(h->ref.n > 0 || h->flow.key.hi_port != 25);
	for (size_t k = 1; k < total; k++) {
		play(h, steps, n, k, false, &h->got);
		if (!same_run(&h->ref, &h->got)) {
			describe_diff(&h->ref, &h->got);
			fail_msg("events differ when a segment ends after byte %zu", k);
		}
	}
	play(h, steps, n, NO_SPLIT, true, &h->got);
	if (!same_run(&h->ref, &h->got)) {
		describe_diff(&h->ref, &h->got);
		fail_msg("events differ with 1-byte segments");
	}
}

/* ------------------------------------------------------------ event access */

static inline unsigned int count(const struct run *r, enum event_type t)
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < r->n; i++)
		c += ((const struct event_hdr *)r->r[i].b)->type == t;
	return c;
}

static inline const void *nth(const struct run *r, enum event_type t, unsigned int k)
{
	for (unsigned int i = 0; i < r->n; i++) {
		const struct event_hdr *h = (const void *)r->r[i].b;

		if (h->type == t && k-- == 0)
			return h;
	}
	fail_msg("no event %s #%u", event_type_name(t), k);
	return NULL;
}

static inline const struct smtp_tx *tx_of(const struct run *r, unsigned int k)
{
	const struct event_tx *e = nth(r, EV_TX, k);

	assert_int_equal(e->h.len, offsetof(struct event_tx, tx) + e->tx.wire_size);
	return &e->tx;
}

static inline void assert_field(const struct smtp_tx *tx, enum smtp_field f, const char *want)
{
	size_t n;
	const char *v = smtp_tx_get(tx, f, &n);

	if (n != strlen(want) || memcmp(v, want, n))
		fail_msg("field %d is '%.*s', not '%s'", f, (int)n, v, want);
}

static inline void assert_rcpt(const struct smtp_tx *tx, unsigned int i, const char *addr,
			       uint16_t code)
{
	const struct smtp_rcpt *r = &tx->rcpt[i];

	assert_true(i < tx->n_rcpt_stored);
	assert_int_equal(r->addr.len, strlen(addr));
	assert_memory_equal(smtp_tx_str(tx, r->addr), addr, r->addr.len);
	assert_int_equal(r->code, code);
}

static inline struct smtp_stats stats(void)
{
	struct smtp_stats st;

	smtp_ctx_stats_read(H.ctx, &st);
	return st;
}

static inline int setup(void **state)
{
	(void)state;
	harness_up(&H, NULL);
	return 0;
}

static inline int teardown(void **state)
{
	(void)state;
	harness_down(&H);
	return 0;
}

/* ------------------------------------------------------------ conversations */

#define GREETING S("220 mx.example.net ESMTP Postfix\r\n")
#define EHLO_OK                                                                                    \
	C("EHLO client.example.org\r\n"),                                                          \
		S("250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"                  \
		  "250-CHUNKING\r\n250-STARTTLS\r\n250 8BITMIME\r\n")
/* Greeting, EHLO and one sender and recipient accepted. */
#define ENVELOPE_OK                                                                                \
	GREETING, EHLO_OK, C("MAIL FROM:<a@example.org>\r\n"), S("250 2.1.0 Ok\r\n"),              \
		C("RCPT TO:<b@example.net>\r\n"), S("250 2.1.5 Ok\r\n")

static inline void feed(void *sess, uint8_t dir, const char *text)
{
	assert_int_equal(deliver(&H, sess, dir, (const uint8_t *)text, strlen(text), TS0 + 1),
			 L7_CONTINUE);
}

/* All n sessions end, their records drained into H.ref. */
static inline void close_all(void **sess, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		smtp_l7_ops.close(H.ctx, sess[i], &H.flow, FLOW_END_FIN, TS0 + 3);
	drain(&H, &H.ref);
}

#endif
