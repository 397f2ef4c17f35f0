// SPDX-License-Identifier: BSD-3-Clause
/*
 * Whole SMTP conversations, written as the bytes each side sends, fed
 * through the l7 ops into a real msgring. Every conversation is replayed
 * with each of its bytes as a segment boundary and in 1-byte segments; the
 * events must be byte for byte those of the unsplit run. Then what the
 * unsplit run emitted is checked field by field.
 */
#include <errno.h>
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
#include "sensor/privacy.h"
#include "privacy_key.h"
#include "sensor/sigs.h"
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

static void harness_flow(struct harness *h, uint16_t server_port, bool syn)
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

static void harness_up(struct harness *h, void (*tune)(struct smtp_cfg *))
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

static void harness_down(struct harness *h)
{
	smtp_ctx_destroy(h->ctx);
	msgring_destroy(h->ring);
}

static void drain(struct harness *h, struct run *out)
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
static enum l7_verdict deliver(struct harness *h, void *sess, uint8_t dir, const uint8_t *p,
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

static enum l7_verdict deliver_step(struct harness *h, void *sess, const struct step *st,
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
static void play(struct harness *h, const struct step *steps, size_t n, size_t split, bool bytewise,
		 struct run *out)
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

static bool same_rec(const struct rec *x, const struct rec *y)
{
	return x->len == y->len && !memcmp(x->b, y->b, x->len);
}

static bool is_sig(const struct rec *r)
{
	return ((const struct event_hdr *)r->b)->type == EV_SIG;
}

/* Signature events may come in another order when a URL and a body match
 * end in the same piece (a different split finds them in other calls);
 * all else must be identical, in order. */
static bool same_run(const struct run *a, const struct run *b)
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
static void describe_diff(const struct run *a, const struct run *b)
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
static void play_all_splits(struct harness *h, const struct step *steps, size_t n)
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

static unsigned int count(const struct run *r, enum event_type t)
{
	unsigned int c = 0;

	for (unsigned int i = 0; i < r->n; i++)
		c += ((const struct event_hdr *)r->r[i].b)->type == t;
	return c;
}

static const void *nth(const struct run *r, enum event_type t, unsigned int k)
{
	for (unsigned int i = 0; i < r->n; i++) {
		const struct event_hdr *h = (const void *)r->r[i].b;

		if (h->type == t && k-- == 0)
			return h;
	}
	fail_msg("no event %s #%u", event_type_name(t), k);
	return NULL;
}

static const struct smtp_tx *tx_of(const struct run *r, unsigned int k)
{
	const struct event_tx *e = nth(r, EV_TX, k);

	assert_int_equal(e->h.len, offsetof(struct event_tx, tx) + e->tx.wire_size);
	return &e->tx;
}

static void assert_field(const struct smtp_tx *tx, enum smtp_field f, const char *want)
{
	size_t n;
	const char *v = smtp_tx_get(tx, f, &n);

	if (n != strlen(want) || memcmp(v, want, n))
		fail_msg("field %d is '%.*s', not '%s'", f, (int)n, v, want);
}

static void assert_rcpt(const struct smtp_tx *tx, unsigned int i, const char *addr, uint16_t code)
{
	const struct smtp_rcpt *r = &tx->rcpt[i];

	assert_true(i < tx->n_rcpt_stored);
	assert_int_equal(r->addr.len, strlen(addr));
	assert_memory_equal(smtp_tx_str(tx, r->addr), addr, r->addr.len);
	assert_int_equal(r->code, code);
}

static struct smtp_stats stats(void)
{
	struct smtp_stats st;

	smtp_ctx_stats_read(H.ctx, &st);
	return st;
}

static int setup(void **state)
{
	(void)state;
	harness_up(&H, NULL);
	return 0;
}

static int teardown(void **state)
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

static const struct step plain[] = {
	GREETING,
	EHLO_OK,
	C("MAIL FROM:<alice@example.org> SIZE=300\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<bob@example.net>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 End data with <CR><LF>.<CR><LF>\r\n"),
	C("From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hello\r\n\r\n"
	  "Hi Bob,\r\n..leading dot\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as 4F2A1\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static void test_session_plain(void **state)
{
	const struct smtp_tx *tx;
	const struct event_banner *b;
	const struct event_rcpt *r;

	(void)state;
	play_all_splits(&H, STEPS(plain));
	assert_int_equal(((const struct event_hdr *)H.ref.r[0].b)->type, EV_SESSION_OPEN);
	assert_int_equal(((const struct event_hdr *)H.ref.r[H.ref.n - 1].b)->type,
			 EV_SESSION_CLOSE);
	assert_int_equal(count(&H.ref, EV_TX), 1);
	assert_int_equal(count(&H.ref, EV_REPLY), 0);
	b = nth(&H.ref, EV_BANNER, 0);
	assert_int_equal(b->code, 220);
	assert_string_equal(b->text, "mx.example.net ESMTP Postfix");
	r = nth(&H.ref, EV_RCPT, 0);
	assert_string_equal(r->rcpt, "bob@example.net");
	assert_string_equal(r->mailfrom, "alice@example.org");
	assert_int_equal(r->code, 250);
	assert_int_equal(r->enh_class, 2);
	assert_int_equal(r->enh_detail, 5);

	tx = tx_of(&H.ref, 0);
	assert_int_equal(tx->trans_depth, 1);
	assert_field(tx, SMTP_F_HELO, "client.example.org");
	assert_field(tx, SMTP_F_MAILFROM, "alice@example.org");
	assert_field(tx, SMTP_F_LAST_REPLY, "250 2.0.0 Ok: queued as 4F2A1");
	assert_field(tx, SMTP_F_SERVER_BANNER, "mx.example.net ESMTP Postfix");
	assert_field(tx, SMTP_F_SUBJECT, "hello");
	assert_rcpt(tx, 0, "bob@example.net", 250);
	assert_int_equal(tx->n_rcpt_accepted, 1);
	assert_int_equal(tx->mail_code, 250);
	assert_int_equal(tx->data_code, 250);
	/* Dot-unstuffed, terminator excluded. */
	assert_int_equal(tx->msg_size, 95);
	assert_true(tx->flags & SMTP_TX_F_COMPLETE);
	assert_true(tx->flags & SMTP_TX_F_ESMTP);
	assert_false(tx->flags & (SMTP_TX_F_PIPELINED | SMTP_TX_F_TLS | SMTP_TX_F_GAP |
				  SMTP_TX_F_ONE_SIDED | SMTP_TX_F_SESSION));
	assert_int_equal(tx->uid[0], 'C');
	assert_int_equal(tx->resp_p, 25);
	assert_int_equal(tx->orig_p, 40001);
}

/*
 * Dots everywhere but only some at a line start: mid-line dots are content,
 * a line-start dot goes, ".\r" then text is no terminator. The second
 * message ends its lines with bare LF.
 */
static const struct step dots[] = {
	ENVELOPE_OK,
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Subject: dots\r\n\r\na.b. c..\r\n..x\r\n.\rnot end\r\n..\r\nmid .\r\n. \r\n\r\n"
	  "tail.\r\n.\r\n"),
	S("250 2.0.0 Ok: queued\r\n"),
	C("MAIL FROM:<a@example.org>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<b@example.net>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Subject: lf\n\nline.\n..dot\n.\n"),
	S("250 2.0.0 Ok: queued\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

/* Only line-start dots are unstuffed or end the message, wherever the segments cut. */
static void test_session_dot_unstuffing(void **state)
{
	(void)state;
	play_all_splits(&H, STEPS(dots));
	assert_int_equal(count(&H.ref, EV_TX), 2);
	assert_int_equal(tx_of(&H.ref, 0)->msg_size, 63);
	assert_field(tx_of(&H.ref, 0), SMTP_F_SUBJECT, "dots");
	assert_int_equal(tx_of(&H.ref, 1)->msg_size, 24);
	assert_field(tx_of(&H.ref, 1), SMTP_F_SUBJECT, "lf");
	assert_true(tx_of(&H.ref, 1)->flags & SMTP_TX_F_COMPLETE);
}

static const struct step rset_two[] = {
	GREETING,
	EHLO_OK,
	C("MAIL FROM:<a@example.org>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<nobody@example.net>\r\n"),
	S("550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown\r\n"),
	C("RSET\r\n"),
	S("250 2.0.0 Ok\r\n"),
	C("MAIL FROM:<>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<c@example.net>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Subject: Undelivered Mail\r\n\r\nbody\r\n.\r\n"),
	S("250 2.0.0 Ok: queued\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static void test_session_rset_two_transactions(void **state)
{
	const struct smtp_tx *a, *b;
	const struct event_reply *rep;

	(void)state;
	play_all_splits(&H, STEPS(rset_two));
	assert_int_equal(count(&H.ref, EV_TX), 2);
	a = tx_of(&H.ref, 0);
	b = tx_of(&H.ref, 1);
	assert_field(a, SMTP_F_MAILFROM, "a@example.org");
	assert_rcpt(a, 0, "nobody@example.net", 550);
	assert_int_equal(a->rcpt[0].enh_class, 5);
	assert_int_equal(a->n_rcpt_rejected, 1);
	assert_field(a, SMTP_F_LAST_REPLY, "250 2.0.0 Ok");
	assert_false(a->flags & SMTP_TX_F_COMPLETE);
	assert_int_equal(a->trans_depth, 1);
	/* Zeek counts messages: the reset one was not, so depth stays 1. */
	assert_int_equal(b->trans_depth, 1);
	assert_true(b->flags & SMTP_TX_F_BOUNCE);
	assert_false(smtp_tx_has(b, SMTP_F_MAILFROM));
	assert_field(b, SMTP_F_HELO, "client.example.org");
	assert_true(b->flags & SMTP_TX_F_COMPLETE);
	rep = nth(&H.ref, EV_REPLY, 0);
	assert_int_equal(rep->code, 550);
	assert_int_equal(rep->cmd, EV_CMD_RCPT);
	assert_non_null(strstr(rep->text, "User unknown"));
	assert_int_equal(count(&H.ref, EV_RCPT), 2);
}

static const struct step pipelined[] = {
	GREETING,
	EHLO_OK,
	C("MAIL FROM:<s@example.org>\r\nRCPT TO:<r1@example.net>\r\nRCPT TO:<r2@example.com>\r\n"
	  "RCPT TO:<r3@example.net>\r\nDATA\r\n"),
	S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	  "554-5.7.1 <r2@example.com>: Relay access denied\r\n554 5.7.1 see the policy\r\n"
	  "250 2.1.5 Ok\r\n354 go ahead\r\n"),
	C("Subject: p\r\n\r\nx\r\n.\r\nQUIT\r\n"),
	S("250 2.0.0 Ok: queued\r\n221 2.0.0 Bye\r\n"),
};

static void test_session_pipelining_mixed_rcpts(void **state)
{
	const struct smtp_tx *tx;
	const struct event_reply *rep;

	(void)state;
	play_all_splits(&H, STEPS(pipelined));
	assert_int_equal(count(&H.ref, EV_TX), 1);
	tx = tx_of(&H.ref, 0);
	assert_rcpt(tx, 0, "r1@example.net", 250);
	assert_rcpt(tx, 1, "r2@example.com", 554);
	assert_rcpt(tx, 2, "r3@example.net", 250);
	assert_int_equal(tx->rcpt[1].enh_class, 5);
	assert_int_equal(tx->rcpt[1].enh_subject, 7);
	assert_int_equal(tx->rcpt[1].enh_detail, 1);
	assert_int_equal(tx->n_rcpt, 3);
	assert_int_equal(tx->n_rcpt_accepted, 2);
	assert_int_equal(tx->n_rcpt_rejected, 1);
	assert_int_equal(tx->data_code, 250);
	assert_true(tx->flags & SMTP_TX_F_PIPELINED);
	assert_true(tx->flags & SMTP_TX_F_COMPLETE);
	rep = nth(&H.ref, EV_REPLY, 0);
	assert_int_equal(rep->cmd, EV_CMD_RCPT);
	/* Both lines of the multi-line reply are kept for blocklist matching. */
	assert_string_equal(rep->text,
			    "5.7.1 <r2@example.com>: Relay access denied 5.7.1 see the policy");
	assert_int_equal(stats().replies_unmatched, 0);
}

static const struct step bdat[] = {
	ENVELOPE_OK,
	/* 46 octets holding a NUL, a lone dot line and QUIT: all content. */
	C("BDAT 46\r\nSubject: chunked\r\nX-Bin: \0\1\r\n\r\nline\r\n.\r\nQUIT\r\n"),
	S("250 2.0.0 Ok: 46 bytes\r\n"),
	C("BDAT 6 LAST\r\ntail\r\n"),
	S("250 2.0.0 Ok: 52 bytes queued as AB12\r\n"),
	C("MAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.net>\r\nBDAT 0 LAST\r\n"),
	S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: 0 bytes queued as AB13\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static void test_session_bdat(void **state)
{
	const struct smtp_tx *a, *b;

	struct smtp_stats st0 = stats();

	(void)state;
	play(&H, STEPS(bdat), NO_SPLIT, false, &H.ref);
	/* The QUIT inside the chunk was content: one QUIT command in all. */
	assert_int_equal(stats().cmd_quit - st0.cmd_quit, 1);
	assert_int_equal(stats().cmd_bdat - st0.cmd_bdat, 3);
	play_all_splits(&H, STEPS(bdat));
	assert_int_equal(count(&H.ref, EV_TX), 2);
	a = tx_of(&H.ref, 0);
	b = tx_of(&H.ref, 1);
	assert_int_equal(a->msg_size, 52);
	assert_true(a->flags & SMTP_TX_F_BDAT);
	assert_true(a->flags & SMTP_TX_F_COMPLETE);
	assert_field(a, SMTP_F_SUBJECT, "chunked");
	assert_field(a, SMTP_F_LAST_REPLY, "250 2.0.0 Ok: 52 bytes queued as AB12");
	assert_int_equal(a->trans_depth, 1);
	assert_int_equal(b->trans_depth, 2);
	assert_int_equal(b->msg_size, 0);
	assert_true(b->flags & SMTP_TX_F_COMPLETE);
	assert_field(b, SMTP_F_MAILFROM, "c@example.org");
}

static const struct step bdat_no_aux[] = {
	ENVELOPE_OK,
	C("BDAT 24 LAST\r\nSubject: x\r\n\r\nbody\r\n"),
	S("250 2.0.0 Ok: queued as AB12\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static void sessions_64(struct smtp_cfg *cfg)
{
	cfg->max_sessions = 64; /* an aux pool of 16 */
}

/* The BDAT count lives in aux while a chunk is read. With every aux taken,
 * the chunk cannot be followed: counted, read as after a hole (only strict
 * commands), never a crash or a chunk taken for commands. */
static void test_session_bdat_without_aux(void **state)
{
	static const uint8_t half[] = "EHLO half-a-li";
	void *held[16];
	struct smtp_stats st0;

	(void)state;
	harness_down(&H);
	harness_up(&H, sessions_64);
	for (unsigned int i = 0; i < 16; i++) {
		held[i] = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
		assert_non_null(held[i]);
		smtp_l7_ops.data(H.ctx, held[i], &H.flow, FLOW_DIR_TO_SERVER, half,
				 sizeof(half) - 1, TS0);
	}
	st0 = stats();
	play(&H, STEPS(bdat_no_aux), NO_SPLIT, false, &H.ref);
	assert_true(stats().buf_no_slot > st0.buf_no_slot);
	assert_true(stats().lines_skipped >= st0.lines_skipped + 3);
	assert_int_equal(stats().cmd_quit - st0.cmd_quit, 1);
	assert_int_equal(stats().cmd_bdat - st0.cmd_bdat, 1);
	for (unsigned int i = 0; i < 16; i++)
		smtp_l7_ops.close(H.ctx, held[i], &H.flow, FLOW_END_FIN, TS0 + 1);
	smtp_l7_ops.housekeep(H.ctx, TS0 + 2);
	assert_int_equal(stats().sessions_active, 0);
	drain(&H, &H.ref);
}

static const struct step bdat_replies[] = {
	GREETING,
	EHLO_OK,
	C("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"),
	S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
	C("BDAT 10\r\n0123456789"),
	C("BDAT 20 LAST\r\n0123456789"),
	/* The reply to the first chunk, read while the second still streams. */
	S("250 2.0.0 Ok: 10 bytes\r\n"),
	C("abcdefghij"),
	S("250 2.0.0 Ok: 30 bytes queued as B1\r\n"),
	C("MAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.net>\r\n"),
	S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"),
	/* Refused at once: no chunk follows, QUIT is a command. */
	C("BDAT 1555555555777777777 LAST\r\n"),
	S("521 5.5.4 Syntax: BDAT count [LAST]\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static void test_session_bdat_replies(void **state)
{
	const struct smtp_tx *a, *b;
	struct smtp_stats st0 = stats();

	(void)state;
	play(&H, STEPS(bdat_replies), NO_SPLIT, false, &H.ref);
	assert_int_equal(stats().cmd_quit - st0.cmd_quit, 1);
	play_all_splits(&H, STEPS(bdat_replies));
	assert_int_equal(count(&H.ref, EV_TX), 2);
	a = tx_of(&H.ref, 0);
	b = tx_of(&H.ref, 1);
	assert_int_equal(a->msg_size, 30);
	assert_true(a->flags & SMTP_TX_F_COMPLETE);
	assert_field(a, SMTP_F_LAST_REPLY, "250 2.0.0 Ok: 30 bytes queued as B1");
	assert_int_equal(b->data_code, 521);
	assert_false(b->flags & SMTP_TX_F_COMPLETE);
	assert_field(b, SMTP_F_LAST_REPLY, "521 5.5.4 Syntax: BDAT count [LAST]");
}

/* A minimal TLS 1.3 ClientHello for mx.example.net, built byte by byte. */
static size_t client_hello(uint8_t *p)
{
	static const char host[] = "mx.example.net";
	size_t hl = sizeof(host) - 1, n = 0, hs, ext;

	p[n++] = 0x16, p[n++] = 0x03, p[n++] = 0x01, n += 2; /* record, length later */
	hs = n;
	p[n++] = 0x01, n += 3; /* ClientHello */
	p[n++] = 0x03, p[n++] = 0x03;
	memset(p + n, 0x11, 32), n += 32; /* random */
	p[n++] = 0;			  /* session id */
	p[n++] = 0, p[n++] = 4, p[n++] = 0x13, p[n++] = 0x01, p[n++] = 0xc0, p[n++] = 0x2f;
	p[n++] = 1, p[n++] = 0; /* null compression */
	ext = n, n += 2;
	p[n++] = 0, p[n++] = 0, p[n++] = 0, p[n++] = (uint8_t)(hl + 5); /* server_name */
	p[n++] = 0, p[n++] = (uint8_t)(hl + 3), p[n++] = 0, p[n++] = 0, p[n++] = (uint8_t)hl;
	memcpy(p + n, host, hl), n += hl;
	p[n++] = 0, p[n++] = 0x2b, p[n++] = 0, p[n++] = 3, p[n++] = 2, p[n++] = 3, p[n++] = 4;
	p[ext] = (uint8_t)((n - ext - 2) >> 8), p[ext + 1] = (uint8_t)(n - ext - 2);
	p[hs + 1] = 0, p[hs + 2] = (uint8_t)((n - hs - 4) >> 8), p[hs + 3] = (uint8_t)(n - hs - 4);
	p[3] = (uint8_t)((n - 5) >> 8), p[4] = (uint8_t)(n - 5);
	return n;
}

static uint8_t hello[512];

/* STARTTLS accepted, the ClientHello (its length set by the test) and the
 * server's first TLS record. */
#define STARTTLS_HELLO                                                                             \
	C("STARTTLS\r\n"), S("220 2.0.0 Ready to start TLS\r\n"), {FLOW_DIR_TO_SERVER, hello, 0},  \
		S("\x16\x03\x03\x00\x04\x02\x00\x00\x00")

static void test_session_starttls(void **state)
{
	struct step conv[] = {
		GREETING,
		EHLO_OK,
		STARTTLS_HELLO,
	};
	const struct smtp_tx *tx;

	(void)state;
	conv[5].len = client_hello(hello);
	play_all_splits(&H, STEPS(conv));
	assert_int_equal(count(&H.ref, EV_TX), 1);
	tx = tx_of(&H.ref, 0);
	/* Zeek and Suricata log the switch as a transaction of its own. */
	assert_int_equal(tx->trans_depth, 1);
	assert_true(tx->flags & SMTP_TX_F_TLS);
	assert_true(tx->flags & SMTP_TX_F_TLS_HELLO);
	assert_false(tx->flags & SMTP_TX_F_IMPLICIT_TLS);
	assert_field(tx, SMTP_F_TLS_SNI, "mx.example.net");
	assert_int_equal(tx->tls_version_hi, 4);
	assert_true(tx->f[SMTP_F_TLS_JA4].len > 0);
	assert_field(tx, SMTP_F_HELO, "client.example.org");
	assert_field(tx, SMTP_F_LAST_REPLY, "220 2.0.0 Ready to start TLS");
	assert_false(tx->flags & SMTP_TX_F_ONE_SIDED);
	assert_int_equal(
		((const struct event_session_close *)nth(&H.ref, EV_SESSION_CLOSE, 0))->tls, 1);
}

static const struct step starttls_refused[] = {
	GREETING,
	EHLO_OK,
	C("STARTTLS\r\n"),
	S("454 4.7.0 TLS not available due to local problem\r\n"),
	C("MAIL FROM:<a@example.org>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<b@example.net>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Subject: in clear\r\n\r\n.\r\n"),
	S("250 2.0.0 Ok: queued\r\n"),
};

static void test_session_starttls_refused(void **state)
{
	const struct smtp_tx *tx;
	const struct event_reply *rep;

	(void)state;
	play_all_splits(&H, STEPS(starttls_refused));
	assert_int_equal(count(&H.ref, EV_TX), 1);
	tx = tx_of(&H.ref, 0);
	assert_false(tx->flags & SMTP_TX_F_TLS);
	assert_field(tx, SMTP_F_SUBJECT, "in clear");
	assert_true(tx->flags & SMTP_TX_F_COMPLETE);
	rep = nth(&H.ref, EV_REPLY, 0);
	assert_int_equal(rep->cmd, EV_CMD_STARTTLS);
	assert_int_equal(rep->code, 454);
}

static void test_session_port_465(void **state)
{
	struct step conv[] = {
		{FLOW_DIR_TO_SERVER, hello, 0},
		S("\x16\x03\x03\x00\x04\x02\x00\x00\x00"),
	};
	const struct smtp_tx *tx;
	const struct event_session_open *o;

	(void)state;
	conv[0].len = client_hello(hello);
	harness_flow(&H, 465, true);
	play_all_splits(&H, STEPS(conv));
	o = nth(&H.ref, EV_SESSION_OPEN, 0);
	assert_int_equal(o->implicit_tls, 1);
	assert_int_equal(count(&H.ref, EV_TX), 1);
	tx = tx_of(&H.ref, 0);
	assert_true(tx->flags & SMTP_TX_F_SESSION);
	assert_int_equal(tx->trans_depth, 0);
	assert_true(tx->flags & SMTP_TX_F_TLS);
	assert_true(tx->flags & SMTP_TX_F_IMPLICIT_TLS);
	assert_field(tx, SMTP_F_TLS_SNI, "mx.example.net");
	assert_int_equal(tx->resp_p, 465);
	/* The server's answer came after the bypass: the flow still saw it. */
	assert_false(tx->flags & SMTP_TX_F_ONE_SIDED);
}

static const struct step one_sided[] = {
	C("EHLO client.example.org\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"),
	C("DATA\r\n"),
	C("Subject: one\r\n\r\nfirst\r\n.\r\n"),
	C("MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n"),
	C("Subject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n"),
};

/* Only the client's side was captured: DATA content still is content, and as
 * in Zeek no message was answered, so both records have trans_depth 1. */
static void test_session_one_sided(void **state)
{
	const struct smtp_tx *a, *b;

	(void)state;
	play_all_splits(&H, STEPS(one_sided));
	assert_int_equal(count(&H.ref, EV_TX), 2);
	a = tx_of(&H.ref, 0);
	b = tx_of(&H.ref, 1);
	assert_field(a, SMTP_F_SUBJECT, "one");
	assert_field(b, SMTP_F_SUBJECT, "two");
	assert_rcpt(b, 0, "c@example.net", 0);
	assert_int_equal(a->trans_depth, 1);
	assert_int_equal(b->trans_depth, 1);
	assert_true(a->flags & SMTP_TX_F_ONE_SIDED);
	assert_true(b->flags & SMTP_TX_F_COMPLETE);
	assert_int_equal(b->n_unknown_cmds, 0);
	/* Recipients without a reply still reach the detector. */
	assert_int_equal(count(&H.ref, EV_RCPT), 2);
}

static const struct step auth_then_mail[] = {
	GREETING,
	C("EHLO laptop\r\n"),
	S("250-mx.example.net\r\n250 AUTH PLAIN LOGIN\r\n"),
	C("AUTH LOGIN\r\n"),
	S("334 VXNlcm5hbWU6\r\n"),
	C("YWxpY2VAZXhhbXBsZS5vcmc=\r\n"), /* alice@example.org */
	S("334 UGFzc3dvcmQ6\r\n"),
	C("c2VjcmV0LXBhc3N3b3JkLTQy\r\n"), /* secret-password-42 */
	S("235 2.7.0 Authentication successful\r\n"),
	C("MAIL FROM:<alice@example.org>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<bob@example.com>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static void test_session_auth_then_mail(void **state)
{
	const struct smtp_tx *tx;
	const struct event_auth *a;
	const struct event_rcpt *r;

	(void)state;
	harness_flow(&H, 587, true);
	play_all_splits(&H, STEPS(auth_then_mail));
	a = nth(&H.ref, EV_AUTH, 0);
	assert_int_equal(a->result, SMTP_AUTH_SUCCESS);
	assert_int_equal(a->code, 235);
	assert_string_equal(a->mech, "LOGIN");
	assert_string_equal(a->user, "alice@example.org");
	r = nth(&H.ref, EV_RCPT, 0);
	assert_int_equal(r->authenticated, 1);
	tx = tx_of(&H.ref, 0);
	assert_field(tx, SMTP_F_AUTH_USER, "alice@example.org");
	assert_field(tx, SMTP_F_AUTH_MECH, "LOGIN");
	assert_int_equal(tx->auth_result, SMTP_AUTH_SUCCESS);
	assert_int_equal(tx->auth_attempts, 1);
	assert_true(tx->flags & SMTP_TX_F_AUTH);
	/* Neither the base64 lines nor anything else became a command. */
	assert_int_equal(tx->n_unknown_cmds, 0);
	assert_field(tx, SMTP_F_LAST_REPLY, "221 2.0.0 Bye");
}

static const struct step auth_failed[] = {
	GREETING,
	C("EHLO bot\r\n"),
	S("250-mx.example.net\r\n250 AUTH PLAIN LOGIN\r\n"),
	C("AUTH PLAIN AGFkbWluAGhhbnRlcjI=\r\n"), /* \0admin\0hanter2 */
	S("535 5.7.8 Error: authentication failed: authentication failure\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static void test_session_only_failed_auth(void **state)
{
	const struct smtp_tx *tx;
	const struct event_auth *a;
	const struct event_reply *rep;

	(void)state;
	play_all_splits(&H, STEPS(auth_failed));
	a = nth(&H.ref, EV_AUTH, 0);
	assert_int_equal(a->result, SMTP_AUTH_FAILURE);
	assert_int_equal(a->code, 535);
	assert_string_equal(a->user, "admin");
	rep = nth(&H.ref, EV_REPLY, 0);
	assert_int_equal(rep->cmd, EV_CMD_AUTH);
	assert_int_equal(count(&H.ref, EV_TX), 1);
	tx = tx_of(&H.ref, 0);
	assert_true(tx->flags & SMTP_TX_F_SESSION);
	assert_int_equal(tx->trans_depth, 0);
	assert_int_equal(tx->auth_result, SMTP_AUTH_FAILURE);
	assert_int_equal(tx->auth_failures, 1);
	assert_field(tx, SMTP_F_AUTH_USER, "admin");
	assert_field(tx, SMTP_F_HELO, "bot");
	assert_field(tx, SMTP_F_LAST_REPLY, "221 2.0.0 Bye");
}

static const struct step data_gap[] = {
	ENVELOPE_OK,
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Subject: holes\r\n\r\nline one\r\n"),
	GAP(FLOW_DIR_TO_SERVER, 700),
	C("of a line cut by the hole\r\nmore\r\n.\r\n"),
	S("250 2.0.0 Ok: queued\r\n"),
	C("MAIL FROM:<e@example.org>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<f@example.net>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Subject: lost end\r\n\r\nbody\r\n"),
	GAP(FLOW_DIR_TO_SERVER, 40), /* the terminator is in the hole */
	S("250 2.0.0 Ok: queued as X2\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static void test_session_gap_in_data(void **state)
{
	const struct smtp_tx *a, *b;

	(void)state;
	play_all_splits(&H, STEPS(data_gap));
	assert_int_equal(count(&H.ref, EV_TX), 2);
	a = tx_of(&H.ref, 0);
	b = tx_of(&H.ref, 1);
	assert_true(a->flags & SMTP_TX_F_GAP);
	assert_true(a->flags & SMTP_TX_F_COMPLETE);
	assert_field(a, SMTP_F_SUBJECT, "holes");
	assert_field(a, SMTP_F_LAST_REPLY, "250 2.0.0 Ok: queued");
	/* The server's reply ended the message whose terminator was lost. */
	assert_true(b->flags & SMTP_TX_F_GAP);
	assert_field(b, SMTP_F_LAST_REPLY, "250 2.0.0 Ok: queued as X2");
	assert_int_equal(b->trans_depth, 2);
	assert_int_equal(b->data_code, 250);
}

static const struct step midstream[] = {
	/* Picked up inside a message: its lines are not commands. */
	C("the rest of a message body\r\nQUIT is only a word here\r\nRegards,\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as M1\r\n"),
	C("MAIL FROM:<next@example.org>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<r@example.net>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Subject: second\r\n\r\nb\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as M2\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static void test_session_midstream(void **state)
{
	const struct smtp_tx *tx;
	struct smtp_stats st0 = stats(), st;

	(void)state;
	harness_flow(&H, 25, false);
	play(&H, STEPS(midstream), NO_SPLIT, false, &H.ref);
	st = stats();
	assert_int_equal(st.cmd_unknown - st0.cmd_unknown, 0);
	assert_int_equal(st.lines_skipped - st0.lines_skipped, 3);
	assert_int_equal(st.replies_unmatched - st0.replies_unmatched, 0);
	play_all_splits(&H, STEPS(midstream));
	assert_int_equal(count(&H.ref, EV_TX), 1);
	tx = tx_of(&H.ref, 0);
	assert_true(tx->flags & SMTP_TX_F_MIDSTREAM);
	assert_field(tx, SMTP_F_MAILFROM, "next@example.org");
	assert_field(tx, SMTP_F_SUBJECT, "second");
	/* The message we joined late counted: this is the second one. */
	assert_int_equal(tx->trans_depth, 2);
	assert_int_equal(
		((const struct event_session_open *)nth(&H.ref, EV_SESSION_OPEN, 0))->midstream, 1);
}

static const struct step proxy[] = {
	C("CONNECT mx.example.net:25 HTTP/1.1\r\nHost: mx.example.net:25\r\n\r\n"),
	S("HTTP/1.1 200 Connection established\r\nProxy-agent: x\r\n\r\n"),
	S("220 mx.example.net ESMTP\r\n"),
	C("HELO spambot\r\n"),
	S("250 mx.example.net\r\n"),
	C("MAIL FROM:<offer@example.biz>\r\n"),
	S("250 Ok\r\n"),
	C("RCPT TO:<victim@example.net>\r\n"),
	S("250 Ok\r\n"),
	C("DATA\r\n"),
	S("354 go\r\n"),
	C("Subject: cheap\r\n\r\nbuy\r\n.\r\n"),
	S("250 Ok\r\n"),
	C("QUIT\r\n"),
	S("221 Bye\r\n"),
};

static void test_session_http_connect(void **state)
{
	const struct smtp_tx *tx;

	(void)state;
	harness_flow(&H, 8080, true);
	play_all_splits(&H, STEPS(proxy));
	assert_int_equal(
		((const struct event_session_open *)nth(&H.ref, EV_SESSION_OPEN, 0))->proxied, 1);
	assert_int_equal(count(&H.ref, EV_TX), 1);
	tx = tx_of(&H.ref, 0);
	assert_true(tx->flags & SMTP_TX_F_PROXY);
	assert_field(tx, SMTP_F_HELO, "spambot");
	assert_field(tx, SMTP_F_SUBJECT, "cheap");
	assert_int_equal(tx->resp_p, 8080);
	assert_int_equal(nth(&H.ref, EV_BANNER, 0) != NULL, 1);
}

static const struct step not_smtp_http[] = {
	C("GET / HTTP/1.1\r\nHost: example.net\r\n\r\n"),
	S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
};

static const struct step not_smtp_binary[] = {
	C("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
	S("\x16\x03\x03\x00\x04"),
};

static uint8_t long_ehlo[3100];

static void no_any_port(struct smtp_cfg *cfg)
{
	cfg->detect_any_port = false;
}

static void test_session_not_smtp(void **state)
{
	struct smtp_stats st0, st;

	(void)state;
	harness_flow(&H, 8080, true);
	st0 = stats();
	play_all_splits(&H, STEPS(not_smtp_http));
	assert_int_equal(H.ref.n, 0);
	play_all_splits(&H, STEPS(not_smtp_binary));
	assert_int_equal(H.ref.n, 0);
	/* Text, but a first line no SMTP peer sends: refused before its end. */
	memset(long_ehlo, 'A', sizeof(long_ehlo));
	{
		const struct step longline[] = {{FLOW_DIR_TO_SERVER, long_ehlo, 1500}};
		uint64_t before = stats().not_smtp;

		play(&H, STEPS(longline), NO_SPLIT, false, &H.ref);
		assert_int_equal(H.ref.n, 0);
		assert_int_equal(stats().not_smtp, before + 1);
	}
	/* The slot goes back with the verdict that says so: the worker must not
	 * call close() on it (another flow may hold it by then). */
	{
		static const uint8_t get[] = "GET / HTTP/1.1\r\n";
		void *sess = smtp_l7_ops.open(H.ctx, &H.flow, TS0);

		assert_non_null(sess);
		assert_int_equal(smtp_l7_ops.data(H.ctx, sess, &H.flow, FLOW_DIR_TO_SERVER, get,
						  sizeof(get) - 1, TS0 + 1),
				 L7_RELEASED);
		smtp_l7_ops.housekeep(H.ctx, TS0 + 1);
		assert_int_equal(stats().sessions_active, 0);
	}
	st = stats();
	assert_true(st.not_smtp > st0.not_smtp);
	assert_int_equal(st.sessions, st0.sessions);
	/* Every refused flow gave its slot back at once. */
	assert_int_equal(st.sessions_active, 0);
	harness_down(&H);

	harness_up(&H, no_any_port);
	harness_flow(&H, 8080, true);
	assert_null(smtp_l7_ops.open(H.ctx, &H.flow, TS0));
	smtp_l7_ops.housekeep(H.ctx, TS0);
	assert_int_equal(stats().not_smtp, 1);
}

static void test_session_overlong_line(void **state)
{
	struct step conv[] = {
		GREETING,
		{FLOW_DIR_TO_SERVER, long_ehlo, sizeof(long_ehlo)},
		S("501 5.5.2 line too long\r\n"),
		C("HELO ok.example.org\r\n"),
		S("250 mx.example.net\r\n"),
		C("MAIL FROM:<a@example.org>\r\n"),
		S("250 Ok\r\n"),
		C("QUIT\r\n"),
		S("221 Bye\r\n"),
	};
	struct smtp_stats st0 = stats();
	const struct smtp_tx *tx;

	(void)state;
	memcpy(long_ehlo, "EHLO ", 5);
	memset(long_ehlo + 5, 'x', sizeof(long_ehlo) - 7);
	memcpy(long_ehlo + sizeof(long_ehlo) - 2, "\r\n", 2);
	play(&H, STEPS(conv), NO_SPLIT, false, &H.ref);
	assert_int_equal(stats().line_too_long - st0.line_too_long, 1);
	play_all_splits(&H, STEPS(conv));
	tx = tx_of(&H.ref, 0);
	assert_field(tx, SMTP_F_HELO, "ok.example.org");
	assert_field(tx, SMTP_F_MAILFROM, "a@example.org");
	assert_int_equal(tx->mail_code, 250);
}

static void small_pipeline(struct smtp_cfg *cfg)
{
	cfg->max_pipeline = 4;
}

static const struct step overflow[] = {
	GREETING,
	C("EHLO c\r\n"),
	S("250 mx\r\n"),
	C("MAIL FROM:<a@example.org>\r\nRCPT TO:<r1@example.net>\r\nRCPT TO:<r2@example.net>\r\n"
	  "RCPT TO:<r3@example.net>\r\nRCPT TO:<r4@example.net>\r\nRCPT TO:<r5@example.net>\r\n"
	  "RCPT TO:<r6@example.net>\r\n"),
	S("250 Ok\r\n250 Ok\r\n451 4.3.0 try later\r\n250 Ok\r\n250 Ok\r\n250 Ok\r\n250 Ok\r\n"),
	C("QUIT\r\n"),
	S("221 Bye\r\n"),
};

/* More commands in flight than the queue holds: counted, matched as far as known. */
static void test_session_pipeline_overflow(void **state)
{
	const struct smtp_tx *tx;
	struct smtp_stats st;

	(void)state;
	harness_down(&H);
	harness_up(&H, small_pipeline);
	play_all_splits(&H, STEPS(overflow));
	st = stats();
	assert_true(st.pipeline_overflow > 0);
	assert_true(st.replies_unmatched > 0);
	tx = tx_of(&H.ref, 0);
	assert_int_equal(tx->n_rcpt, 6);
	assert_rcpt(tx, 0, "r1@example.net", 250);
	assert_rcpt(tx, 1, "r2@example.net", 451);
	assert_rcpt(tx, 2, "r3@example.net", 250);
	assert_int_equal(tx->rcpt[5].code, 0); /* its reply could not be placed */
}

/* A recipient's reply: every seventh is refused. */
static uint16_t deep_code(unsigned int i)
{
	return i % 7 == 3 ? 550 : 250;
}

/* MAIL, n pipelined RCPTs and DATA from the client; their replies from the server. */
static void deep_burst(char *cmds, size_t cmds_cap, char *replies, size_t replies_cap,
		       unsigned int n, unsigned int tag)
{
	size_t c = 0, r = 0;

	c += (size_t)snprintf(cmds + c, cmds_cap - c, "MAIL FROM:<s%u@example.org>\r\n", tag);
	r += (size_t)snprintf(replies + r, replies_cap - r, "250 2.1.0 Ok\r\n");
	for (unsigned int i = 0; i < n; i++) {
		c += (size_t)snprintf(cmds + c, cmds_cap - c, "RCPT TO:<r%u@example.net>\r\n", i);
		r += (size_t)snprintf(replies + r, replies_cap - r, "%u %s\r\n", deep_code(i),
				      deep_code(i) == 250 ? "2.1.5 Ok" : "5.1.1 no such user");
	}
	c += (size_t)snprintf(cmds + c, cmds_cap - c, "DATA\r\n");
	r += (size_t)snprintf(replies + r, replies_cap - r, "354 go ahead\r\n");
	assert_true(c < cmds_cap && r < replies_cap);
}

/* 50 recipients in flight, then 10: more than the session holds inline, so the
 * queue comes from the pool, goes back between the bursts and the replies
 * still find their commands, whatever the segments. */
static void test_session_deep_pipeline(void **state)
{
	static char cmds[2][2048], replies[2][2048];
	static const unsigned int n[2] = {50, 10};
	struct step steps[] = {
		GREETING,
		EHLO_OK,
		{FLOW_DIR_TO_SERVER, NULL, 0},
		{FLOW_DIR_TO_CLIENT, NULL, 0},
		C("Subject: d\r\n\r\nx\r\n.\r\n"),
		S("250 2.0.0 Ok: queued\r\n"),
		{FLOW_DIR_TO_SERVER, NULL, 0},
		{FLOW_DIR_TO_CLIENT, NULL, 0},
		C("Subject: e\r\n\r\ny\r\n.\r\nQUIT\r\n"),
		S("250 2.0.0 Ok: queued\r\n221 2.0.0 Bye\r\n"),
	};
	struct smtp_stats st;

	(void)state;
	for (unsigned int k = 0; k < 2; k++) {
		deep_burst(cmds[k], sizeof(cmds[k]), replies[k], sizeof(replies[k]), n[k], k);
		steps[3 + 4 * k].p = (const uint8_t *)cmds[k];
		steps[3 + 4 * k].len = strlen(cmds[k]);
		steps[4 + 4 * k].p = (const uint8_t *)replies[k];
		steps[4 + 4 * k].len = strlen(replies[k]);
	}
	play_all_splits(&H, STEPS(steps));
	assert_int_equal(count(&H.ref, EV_TX), 2);
	for (unsigned int k = 0; k < 2; k++) {
		const struct smtp_tx *tx = tx_of(&H.ref, k);

		assert_int_equal(tx->n_rcpt, n[k]);
		assert_int_equal(tx->mail_code, 250);
		assert_int_equal(tx->data_code, 250);
		assert_true(tx->flags & SMTP_TX_F_PIPELINED);
		for (unsigned int i = 0; i < n[k]; i++) {
			char addr[32];

			snprintf(addr, sizeof(addr), "r%u@example.net", i);
			assert_rcpt(tx, i, addr, deep_code(i));
		}
	}
	st = stats();
	assert_int_equal(st.pipeline_overflow, 0);
	assert_int_equal(st.replies_unmatched, 0);
	assert_int_equal(st.buf_no_slot, 0);
}

static void sessions_16(struct smtp_cfg *cfg)
{
	cfg->max_sessions = 16; /* deep reply queues for 8 sessions */
}

static void feed(void *sess, uint8_t dir, const char *text)
{
	assert_int_equal(deliver(&H, sess, dir, (const uint8_t *)text, strlen(text), TS0 + 1),
			 L7_CONTINUE);
}

/* More sessions pipelining deeply at once than the queue pool holds: the one
 * left without a deep queue keeps what fits inline, and that is counted; the
 * others match every reply, and their queues serve later sessions. */
static void test_session_deep_queue_pool_dry(void **state)
{
	static char cmds[2048], replies[2048];
	void *sess[10];
	struct smtp_stats st;

	(void)state;
	harness_down(&H);
	harness_up(&H, sessions_16);
	deep_burst(cmds, sizeof(cmds), replies, sizeof(replies), 8, 0);
	for (unsigned int i = 0; i < 9; i++) {
		sess[i] = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
		assert_non_null(sess[i]);
		feed(sess[i], FLOW_DIR_TO_CLIENT, "220 mx ESMTP\r\n");
		feed(sess[i], FLOW_DIR_TO_SERVER, "EHLO c\r\n");
		feed(sess[i], FLOW_DIR_TO_CLIENT, "250 mx\r\n");
		feed(sess[i], FLOW_DIR_TO_SERVER, cmds);
	}
	smtp_l7_ops.housekeep(H.ctx, TS0 + 2);
	st = stats();
	/* The ninth: MAIL and five RCPTs inline; three RCPTs and DATA found no room,
	 * the pool's shortage, not the client's overflow. */
	assert_int_equal(st.buf_no_slot, 4);
	assert_int_equal(st.pipeline_overflow, 0);
	for (unsigned int i = 0; i < 8; i++)
		feed(sess[i], FLOW_DIR_TO_CLIENT, replies);
	smtp_l7_ops.housekeep(H.ctx, TS0 + 2);
	assert_int_equal(stats().replies_unmatched, 0);
	feed(sess[8], FLOW_DIR_TO_CLIENT, replies);
	smtp_l7_ops.housekeep(H.ctx, TS0 + 2);
	assert_int_equal(stats().replies_unmatched, 4);
	for (unsigned int i = 0; i < 9; i++)
		smtp_l7_ops.close(H.ctx, sess[i], &H.flow, FLOW_END_FIN, TS0 + 3);
	drain(&H, &H.ref);

	/* Every deep queue went back: the next sessions have them again. */
	for (unsigned int i = 0; i < 10; i++) {
		sess[i] = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
		assert_non_null(sess[i]);
		feed(sess[i], FLOW_DIR_TO_SERVER, "EHLO c\r\n");
		feed(sess[i], FLOW_DIR_TO_SERVER, cmds);
		feed(sess[i], FLOW_DIR_TO_CLIENT, "220 mx ESMTP\r\n250 mx\r\n");
		feed(sess[i], FLOW_DIR_TO_CLIENT, replies);
		smtp_l7_ops.close(H.ctx, sess[i], &H.flow, FLOW_END_FIN, TS0 + 3);
		drain(&H, &H.ref);
	}
	smtp_l7_ops.housekeep(H.ctx, TS0 + 4);
	st = stats();
	assert_int_equal(st.buf_no_slot, 4);
	assert_int_equal(st.pipeline_overflow, 0);
	assert_int_equal(st.replies_unmatched, 4);
}

/* The session's counts stop at their 16-bit maximum, they do not wrap. */
static void test_session_counts_saturate(void **state)
{
	enum { N = 70000 };
	static char noops[N * 6];
	const struct event_session_close *e;
	void *sess;

	(void)state;
	for (unsigned int i = 0; i < N; i++)
		memcpy(noops + 6 * i, "NOOP\r\n", 6);
	sess = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
	assert_non_null(sess);
	feed(sess, FLOW_DIR_TO_CLIENT, "220 mx ESMTP\r\n");
	assert_int_equal(deliver(&H, sess, FLOW_DIR_TO_SERVER, (const uint8_t *)noops,
				 sizeof(noops), TS0 + 1),
			 L7_CONTINUE);
	smtp_l7_ops.close(H.ctx, sess, &H.flow, FLOW_END_FIN, TS0 + 2);
	drain(&H, &H.ref);
	e = nth(&H.ref, EV_SESSION_CLOSE, 0);
	assert_int_equal(e->commands, UINT16_MAX);
	assert_int_equal(e->unknown_cmds, 0);
}

static const struct step uid_conv[] = {
	GREETING,
	C("EHLO c\r\n"),
	S("250 mx\r\n"),
	C("MAIL FROM:<a@example.org>\r\n"),
	S("250 ok\r\n"),
	C("RCPT TO:<b@example.net>\r\n"),
	S("550 5.1.1 no such user\r\n"),
	C("QUIT\r\n"),
	S("221 bye\r\n"),
};

/* The detector's uid cache: each event gets its own flow's uid, also when
 * flows share a cache entry (three flows per entry here, read in two
 * orders), an EV_TX's record gets it too, an event without a flow none. */
static void test_event_uid_cache_gives_each_flow_its_uid(void **state)
{
	enum { N = 3 * EVENT_UID_CACHE };
	struct event_uid_cache *c = calloc(1, sizeof(*c));
	struct event_tx *tx = calloc(1, sizeof(*tx));
	struct event_hdr h, uncached;

	(void)state;
	assert_non_null(c);
	assert_non_null(tx);
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t k = 0; k < N; k++) {
			uint32_t j = pass ? (k * 7919u) % N : k;

			memset(&h, 0, sizeof(h));
			h.type = EV_RCPT;
			h.family = 4;
			h.client.b[15] = (uint8_t)j;
			h.server.b[15] = 25;
			h.client_port = (uint16_t)(1024 + j);
			h.server_port = 25;
			h.first_ns = TS0 + j / 3;
			uncached = h;
			event_fill_uid(c, &h, sizeof(h));
			event_fill_uid(NULL, &uncached, sizeof(uncached));
			assert_int_equal(strlen(h.uid), FLOW_UID_LEN);
			assert_string_equal(h.uid, uncached.uid);
		}
	}
	tx->h = h;
	tx->h.type = EV_TX;
	tx->h.uid[0] = '\0';
	event_fill_uid(c, &tx->h, sizeof(*tx));
	assert_string_equal(tx->h.uid, uncached.uid);
	assert_string_equal(tx->tx.uid, uncached.uid);
	memset(&h, 0, sizeof(h));
	event_fill_uid(c, &h, sizeof(h));
	assert_string_equal(h.uid, "");
	free(tx);
	free(c);
}

/* The uid is made once per session: every event and the record carry the
 * flow's, also when the slot serves another flow next. */
static void test_session_events_carry_their_flow_uid(void **state)
{
	char want[2][FLOW_UID_LEN + 1];

	(void)state;
	for (int k = 0; k < 2; k++) {
		H.flow.key.lo_port = (uint16_t)(40001 + k);
		H.flow.first_ns = TS0 + (uint64_t)k;
		flow_uid(&H.flow, want[k]);
		play(&H, STEPS(uid_conv), NO_SPLIT, false, &H.ref);
		assert_true(H.ref.n >= 5);
		for (unsigned int i = 0; i < H.ref.n; i++)
			assert_string_equal(((const struct event_hdr *)H.ref.r[i].b)->uid, want[k]);
		assert_string_equal(tx_of(&H.ref, 0)->uid, want[k]);
	}
	assert_string_not_equal(want[0], want[1]);
}

static void sessions_32(struct smtp_cfg *cfg)
{
	cfg->max_sessions = 32; /* AUTH values for 16 sessions */
}

/* AUTH user and mechanism wait in a pool of their own: when it is dry the
 * exchange is still followed and reported, without them, and counted. */
static void test_session_auth_values_pool_dry(void **state)
{
	static const char auth[] =
		"AUTH PLAIN AHVAZXhhbXBsZS5vcmcAcHc=\r\n"; /* \0u@example.org\0pw */
	unsigned int n_auth = 0, named = 0;
	void *sess[17];

	(void)state;
	harness_down(&H);
	harness_up(&H, sessions_32);
	for (unsigned int i = 0; i < 17; i++) {
		sess[i] = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
		assert_non_null(sess[i]);
		deliver(&H, sess[i], FLOW_DIR_TO_SERVER, (const uint8_t *)auth, strlen(auth),
			TS0 + 1);
	}
	smtp_l7_ops.housekeep(H.ctx, TS0 + 2);
	assert_int_equal(stats().buf_no_slot, 2); /* its mechanism, then its user */
	for (unsigned int i = 0; i < 17; i++)
		smtp_l7_ops.close(H.ctx, sess[i], &H.flow, FLOW_END_FIN, TS0 + 3);
	drain(&H, &H.ref);
	for (unsigned int i = 0; i < H.ref.n; i++) {
		const struct event_auth *e = (const void *)H.ref.r[i].b;

		if (e->h.type != EV_AUTH)
			continue;
		n_auth++;
		if (e->mech_len == 5 && !memcmp(e->mech, "PLAIN", 5) && e->user_len == 13 &&
		    !memcmp(e->user, "u@example.org", 13))
			named++;
		else
			assert_int_equal(e->mech_len + e->user_len, 0);
	}
	assert_int_equal(n_auth, 17);
	assert_int_equal(named, 16);
}

/* A session that had a banner, a HELO and its reply. */
static void *open_greeted(const char *banner, const char *helo, const char *reply)
{
	void *sess = smtp_l7_ops.open(H.ctx, &H.flow, TS0);

	assert_non_null(sess);
	feed(sess, FLOW_DIR_TO_CLIENT, banner);
	feed(sess, FLOW_DIR_TO_SERVER, helo);
	feed(sess, FLOW_DIR_TO_CLIENT, reply);
	return sess;
}

/* All n sessions end, their records drained into H.ref. */
static void close_all(void **sess, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		smtp_l7_ops.close(H.ctx, sess[i], &H.flow, FLOW_END_FIN, TS0 + 3);
	drain(&H, &H.ref);
}

/*
 * Every session at once with HELO, banner and last reply past their caps (68,
 * 48, 56): each record says the capped values exactly, as when the session
 * held them inline, and the string arena never runs dry while the session
 * pool does not; the slots serve the next sessions after close. Then every
 * session at once with all three values short (one slot class for all).
 */
static void test_session_strings_at_caps(void **state)
{
	static const char x[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz";
	char banner[128], helo[128], reply[128], want[128];
	void *sess[8];

	(void)state;
	for (int round = 0; round < 3; round++) {
		/* Rounds 0 and 1: past the caps; round 2: 2 to 5 bytes each. */
		int big = round < 2;

		for (unsigned int i = 0; i < 8; i++) {
			snprintf(banner, sizeof(banner), "220 %u%.*s\r\n", i, big ? 59 : 3, x);
			snprintf(helo, sizeof(helo), "EHLO %u%.*s\r\n", i, big ? 79 : 4, x + 1);
			snprintf(reply, sizeof(reply), "250 %u%.*s\r\n", i, big ? 69 : 1, x + 2);
			sess[i] = open_greeted(banner, helo, reply);
		}
		close_all(sess, 8);
		assert_int_equal(count(&H.ref, EV_TX), 8);
		for (unsigned int i = 0; i < 8; i++) {
			const struct smtp_tx *tx = tx_of(&H.ref, i);

			assert_true(tx->flags & SMTP_TX_F_SESSION);
			/* The HELO was cut. */
			assert_int_equal(!!(tx->flags & SMTP_TX_F_TRUNCATED), big);
			snprintf(want, sizeof(want), "%u%.*s", i, big ? 67 : 4, x + 1);
			assert_field(tx, SMTP_F_HELO, want);
			snprintf(want, sizeof(want), "%u%.*s", i, big ? 47 : 3, x);
			assert_field(tx, SMTP_F_SERVER_BANNER, want);
			snprintf(want, sizeof(want), "250 %u%.*s", i, big ? 55 : 1, x + 2);
			assert_field(tx, SMTP_F_LAST_REPLY, want);
		}
	}
	smtp_l7_ops.housekeep(H.ctx, TS0 + 4);
	assert_int_equal(stats().buf_no_slot, 0);
}

/* Sessions with equal strings hold them once: the arena figure says so. */
static void test_session_strings_shared(void **state)
{
	char banner[64], helo[64], reply[64];
	uint64_t n, bytes, held, shared[2];
	void *sess[8];

	(void)state;
	for (int round = 0; round < 2; round++) {
		/* Round 0: every session the same values; round 1: each its own. */
		for (unsigned int i = 0; i < 8; i++) {
			unsigned int v = round ? i : 0;

			snprintf(banner, sizeof(banner), "220 mx%u.example ESMTP\r\n", v);
			snprintf(helo, sizeof(helo), "EHLO client%u.example\r\n", v);
			snprintf(reply, sizeof(reply), "250 ok%u\r\n", v);
			sess[i] = open_greeted(banner, helo, reply);
		}
		/* The same bytes, as the metrics see them at housekeeping. */
		smtp_l7_ops.housekeep(H.ctx, TS0 + 2);
		assert_int_equal(stats().string_bytes, round ? 8 * (24 + 16 + 8) : 24 + 16 + 8);
		shared[round] = stats().strings_shared;
		close_all(sess, 8);
		/* Sampled as the first of the 8 ended: 8 in use, slots of 24 + 16 + 8
		 * bytes a set of values, and the table (one bucket, 64 bytes, for a
		 * pool of 8). */
		smtp_ctx_str_held(H.ctx, &n, &bytes);
		assert_int_equal(n, 8);
		held = round ? 8 * (24 + 16 + 8) : 24 + 16 + 8;
		assert_int_equal(bytes, held + 64);
	}
	smtp_l7_ops.housekeep(H.ctx, TS0 + 4);
	assert_int_equal(stats().buf_no_slot, 0);
	assert_int_equal(stats().string_bytes, 0);
	/* Round 0: sessions 2..8 found each of their three values held, which
	 * they cannot in round 1 (a session setting a value it holds already
	 * counts in both rounds). */
	assert_true(shared[0] >= 7 * 3);
	assert_true(shared[1] - shared[0] + 7 * 3 <= shared[0]);
}

/* A pool of one session: the second connection is counted, not parsed. */
static void test_session_pool_exhausted(void **state)
{
	struct flow other;
	void *a, *b;

	(void)state;
	harness_down(&H);
	harness_up(&H, NULL);
	for (unsigned int i = 0; i < H.cfg.max_sessions; i++) {
		a = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
		assert_non_null(a);
	}
	other = H.flow;
	b = smtp_l7_ops.open(H.ctx, &other, TS0);
	assert_null(b);
	smtp_l7_ops.housekeep(H.ctx, TS0);
	assert_int_equal(stats().sessions_no_slot, 1);
	assert_int_equal(stats().sessions_active, H.cfg.max_sessions);
	assert_true(smtp_session_size() < 1024);
	assert_true(smtp_ctx_mem_bytes(H.ctx) > smtp_session_size() * H.cfg.max_sessions);
}

static const struct step auth_xoauth2_ntlm[] = {
	GREETING,
	C("EHLO c\r\n"),
	S("250-mx\r\n250 AUTH XOAUTH2 NTLM PLAIN\r\n"),
	/* user=u@example.org ^A auth=Bearer secret-password-42 ^A^A */
	C("AUTH XOAUTH2 dXNlcj11QGV4YW1wbGUub3JnAWF1dGg9QmVhcmVyIHNlY3JldC1wYXNzd29yZC00MgEB\r\n"),
	S("334 eyJzdGF0dXMiOiI0MDEifQ==\r\n"),
	C("\r\n"),
	S("535 5.7.8 Username and Password not accepted\r\n"),
	C("AUTH PLAIN\r\n"),
	S("334 \r\n"),
	C("AHVAZXhhbXBsZS5vcmcAc2VjcmV0LXBhc3N3b3JkLTQy\r\n"), /* \0u@..\0secret-password-42 */
	S("454 4.7.0 Temporary authentication failure\r\n"),
	C("AUTH LOGIN\r\n"),
	S("334 VXNlcm5hbWU6\r\n"),
	C("*\r\n"),
	S("501 5.7.0 Authentication aborted\r\n"),
	C("QUIT\r\n"),
	S("221 Bye\r\n"),
};

/* Nothing of any password, clear or base64, is in any event of these exchanges. */
static void test_session_passwords_never_emitted(void **state)
{
	static const char *const secrets[] = {
		"secret-password-42",  "c2VjcmV0LXBhc3N3b3JkLTQy",	     "hanter2",
		"AGFkbWluAGhhbnRlcjI", "QmVhcmVyIHNlY3JldC1wYXNzd29yZC00Mg",
	};
	const struct step *convs[] = {auth_then_mail, auth_failed, auth_xoauth2_ntlm};
	const size_t lens[] = {sizeof(auth_then_mail) / sizeof(auth_then_mail[0]),
			       sizeof(auth_failed) / sizeof(auth_failed[0]),
			       sizeof(auth_xoauth2_ntlm) / sizeof(auth_xoauth2_ntlm[0])};

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		play_all_splits(&H, convs[c], lens[c]);
		for (unsigned int i = 0; i < H.ref.n; i++)
			for (size_t k = 0; k < sizeof(secrets) / sizeof(secrets[0]); k++)
				assert_null(memmem(H.ref.r[i].b, H.ref.r[i].len, secrets[k],
						   strlen(secrets[k])));
	}
	/* The last conversation: failure, tempfail, aborted, in that order. */
	assert_int_equal(((const struct event_auth *)nth(&H.ref, EV_AUTH, 0))->result,
			 SMTP_AUTH_FAILURE);
	assert_string_equal(((const struct event_auth *)nth(&H.ref, EV_AUTH, 0))->user,
			    "u@example.org");
	assert_int_equal(((const struct event_auth *)nth(&H.ref, EV_AUTH, 1))->result,
			 SMTP_AUTH_TEMPFAIL);
	assert_int_equal(((const struct event_auth *)nth(&H.ref, EV_AUTH, 2))->result,
			 SMTP_AUTH_ABORTED);
	assert_int_equal(tx_of(&H.ref, 0)->auth_attempts, 3);
}

/* AUTH values and the ClientHello buffer's reference share one pool object
 * (struct smtp_ext): a session that authenticated and then starts TLS has
 * both in its record. */
static void test_session_auth_then_starttls(void **state)
{
	struct step conv[] = {
		GREETING,
		EHLO_OK,
		C("AUTH PLAIN AHVAZXhhbXBsZS5vcmcAcHc=\r\n"), /* \0u@example.org\0pw */
		S("235 2.7.0 Authentication successful\r\n"),
		STARTTLS_HELLO,
	};
	const struct smtp_tx *tx;

	(void)state;
	conv[7].len = client_hello(hello);
	harness_flow(&H, 587, true);
	play_all_splits(&H, STEPS(conv));
	tx = tx_of(&H.ref, 0);
	assert_field(tx, SMTP_F_TLS_SNI, "mx.example.net");
	assert_field(tx, SMTP_F_AUTH_USER, "u@example.org");
	assert_field(tx, SMTP_F_AUTH_MECH, "PLAIN");
	assert_int_equal(tx->auth_result, SMTP_AUTH_SUCCESS);
	assert_int_equal(tx->auth_attempts, 1);
	assert_int_equal(stats().buf_no_slot, 0);
}

/* A session that finds the AUTH pool empty still counts its AUTH exchanges
 * in its records, and its ClientHello, which needs that pool too, is lost
 * and counted: the record says TLS without the ClientHello facts. */
static void test_session_ext_pool_dry(void **state)
{
	static const char auth[] = "AUTH PLAIN AHVAZXhhbXBsZS5vcmcAcHc=\r\n";
	struct step conv[] = {
		C("AUTH PLAIN AGFkbWluAGhhbnRlcjI=\r\n"),
		S("535 5.7.8 Error: authentication failed\r\n"),
		C("AUTH PLAIN AHVAZXhhbXBsZS5vcmcAcHc=\r\n"),
		S("235 2.7.0 Authentication successful\r\n"),
		C("STARTTLS\r\n"),
		S("220 2.0.0 Ready to start TLS\r\n"),
		{FLOW_DIR_TO_SERVER, hello, 0},
	};
	const struct event_session_close *cl;
	const struct smtp_tx *tx;
	void *sess[16];

	(void)state;
	conv[6].len = client_hello(hello);
	harness_down(&H);
	harness_up(&H, sessions_32); /* 16 struct smtp_ext */
	for (unsigned int i = 0; i < 16; i++) {
		sess[i] = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
		assert_non_null(sess[i]);
		feed(sess[i], FLOW_DIR_TO_SERVER, auth);
	}
	drain(&H, &H.got);
	play(&H, STEPS(conv), NO_SPLIT, false, &H.ref);
	/* Two values of each AUTH, then the ClientHello. */
	assert_int_equal(stats().buf_no_slot, 5);
	assert_int_equal(stats().tls_hellos, 0);
	tx = tx_of(&H.ref, 0);
	assert_true(tx->flags & SMTP_TX_F_TLS);
	assert_false(tx->flags & SMTP_TX_F_TLS_HELLO);
	assert_int_equal(tx->f[SMTP_F_AUTH_USER].len, 0);
	assert_int_equal(tx->auth_result, SMTP_AUTH_SUCCESS);
	assert_int_equal(tx->auth_attempts, 2);
	assert_int_equal(tx->auth_failures, 1);
	cl = nth(&H.ref, EV_SESSION_CLOSE, 0);
	assert_int_equal(cl->auth_attempts, 2);
	assert_int_equal(cl->auth_failures, 1);
	close_all(sess, 16);
}

/* The ClientHello's struct smtp_ext goes back at the bypass when it carries
 * no AUTH value: more TLS sessions than the pool holds, all still open,
 * leave it whole for a session that authenticates. */
static void test_session_ext_back_after_hello(void **state)
{
	static const char auth[] = "AUTH PLAIN AHVAZXhhbXBsZS5vcmcAcHc=\r\n";
	void *sess[18];
	size_t n = client_hello(hello);
	const struct event_auth *a;

	(void)state;
	harness_down(&H);
	harness_up(&H, sessions_32); /* 16 struct smtp_ext, 8 ClientHello buffers */
	harness_flow(&H, 465, true);
	for (unsigned int i = 0; i < 17; i++) {
		sess[i] = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
		assert_non_null(sess[i]);
		assert_int_equal(deliver(&H, sess[i], FLOW_DIR_TO_SERVER, hello, n, TS0 + 1),
				 L7_BYPASS);
	}
	harness_flow(&H, 25, true);
	sess[17] = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
	assert_non_null(sess[17]);
	feed(sess[17], FLOW_DIR_TO_SERVER, auth);
	feed(sess[17], FLOW_DIR_TO_CLIENT, "235 2.7.0 Authentication successful\r\n");
	smtp_l7_ops.housekeep(H.ctx, TS0 + 2);
	assert_int_equal(stats().tls_hellos, 17);
	assert_int_equal(stats().buf_no_slot, 0);
	close_all(sess, 18);
	a = nth(&H.ref, EV_AUTH, 0);
	assert_string_equal(a->user, "u@example.org");
	assert_string_equal(a->mech, "PLAIN");
}

/* The transaction generation and the AUTH result share the session's flags
 * word: more transactions than there are generations, each record with its
 * own depth and the AUTH result, and no flag changed by either. */
#define ONE_TX                                                                                     \
	C("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"),                     \
		S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"),                             \
		C("Subject: s\r\n\r\nbody\r\n.\r\n"), S("250 2.0.0 Ok: queued\r\n")

static const struct step auth_nine_tx[] = {
	GREETING,
	EHLO_OK,
	C("AUTH PLAIN AHVAZXhhbXBsZS5vcmcAcHc=\r\n"),
	S("235 2.7.0 Authentication successful\r\n"),
	ONE_TX,
	ONE_TX,
	ONE_TX,
	ONE_TX,
	ONE_TX,
	ONE_TX,
	ONE_TX,
	ONE_TX,
	ONE_TX,
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

#undef ONE_TX

static void test_session_gen_beside_auth_result(void **state)
{
	(void)state;
	harness_flow(&H, 587, true);
	play_all_splits(&H, STEPS(auth_nine_tx));
	assert_int_equal(count(&H.ref, EV_TX), 9);
	for (unsigned int i = 0; i < 9; i++) {
		const struct smtp_tx *tx = tx_of(&H.ref, i);

		assert_int_equal(tx->trans_depth, i + 1);
		assert_int_equal(tx->auth_result, SMTP_AUTH_SUCCESS);
		assert_int_equal(tx->mail_code, 250);
		assert_int_equal(tx->data_code, 250);
		assert_true(tx->flags & SMTP_TX_F_COMPLETE);
		assert_true(tx->flags & SMTP_TX_F_PIPELINED);
		assert_true(tx->flags & SMTP_TX_F_ESMTP);
		assert_false(tx->flags & (SMTP_TX_F_TLS | SMTP_TX_F_GAP | SMTP_TX_F_TRUNCATED));
		assert_field(tx, SMTP_F_AUTH_USER, "u@example.org");
	}
}

/* ------------------------------------------------------------ privacy */

static const char key_one[] = "relaywatch-session-test-key-0123456789";
static struct privacy *session_privacy;

static void with_privacy(struct smtp_cfg *cfg)
{
	cfg->privacy = session_privacy;
}

static const struct step private_session[] = {
	GREETING,
	C("EHLO laptop\r\n"),
	S("250-mx.example.net\r\n250 AUTH PLAIN LOGIN\r\n"),
	/* \0alice@example.org\0secret-password-42 */
	C("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldC1wYXNzd29yZC00Mg==\r\n"),
	S("235 2.7.0 Authentication successful\r\n"),
	C("MAIL FROM:<alice@example.org>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<bob@example.com>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("RCPT TO:<nobody@example.com>\r\n"),
	S("550 5.1.1 <nobody@example.com>: Recipient address rejected\r\n"),
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Received: from laptop by mx.example.net for <bob@example.com>; Tue, 2 Jan 2024\r\n"
	  "From: Alice Jones <alice@example.org>\r\nTo: Bob <bob@example.com>, "
	  "carol@example.net\r\nReply-To: alice.private@example.net\r\nSubject: hi\r\n\r\n"
	  "body\r\n.\r\n"),
	S("250 2.0.0 Ok: queued for <bob@example.com>\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

static const char *pseudo(const struct privacy *p, const char *clear, char *buf, size_t cap)
{
	assert_true(privacy_addr(p, clear, strlen(clear), buf, cap) > 0);
	return buf;
}

/* privacy.pseudonymize: the worker stores the AUTH user, MAIL FROM, the
 * recipients and the header addresses as keyed pseudonyms (domain kept, the
 * user's equal to its mailbox's), in the events as in the record; the same key
 * made again gives the same pseudonyms, another key others; no local part and
 * no display name is left in any emitted byte. */
static void test_session_pseudonymised(void **state)
{
	static const char *const clear[] = {
		"alice", "bob@", "nobody", "carol", "Jones", "private", "secret-password-42"};
	struct privacy *again = privacy_key_make(key_one);
	struct privacy *other = privacy_key_make("another-key-of-32-bytes-or-more!!");
	char a[128], b[128], n[128], c[128], x[128];
	const struct event_rcpt *r;
	const struct smtp_tx *tx;
	char want[256];

	(void)state;
	harness_flow(&H, 587, true);
	play_all_splits(&H, STEPS(private_session));
	pseudo(again, "alice@example.org", a, sizeof(a));
	pseudo(again, "bob@example.com", b, sizeof(b));
	pseudo(again, "nobody@example.com", n, sizeof(n));
	pseudo(again, "carol@example.net", c, sizeof(c));
	assert_non_null(strstr(a, "@example.org"));
	assert_int_equal(strncmp(a, "u-", 2), 0);
	assert_string_not_equal(a, pseudo(other, "alice@example.org", x, sizeof(x)));

	assert_string_equal(((const struct event_auth *)nth(&H.ref, EV_AUTH, 0))->user, a);
	r = nth(&H.ref, EV_RCPT, 0);
	assert_string_equal(r->mailfrom, a);
	assert_string_equal(r->rcpt, b);
	r = nth(&H.ref, EV_RCPT, 1);
	assert_string_equal(r->rcpt, n);
	snprintf(want, sizeof(want), "<%s>: Recipient address rejected", n);
	assert_non_null(strstr(r->text, want));

	tx = tx_of(&H.ref, 0);
	assert_field(tx, SMTP_F_AUTH_USER, a);
	assert_field(tx, SMTP_F_MAILFROM, a);
	assert_rcpt(tx, 0, b, 250);
	assert_rcpt(tx, 1, n, 550);
	assert_field(tx, SMTP_F_FROM, a);
	assert_false(smtp_tx_has(tx, SMTP_F_FROM_DISPLAY));
	assert_int_equal(tx->n_to_stored, 2);
	assert_int_equal(tx->to[0].len, strlen(b));
	assert_memory_equal(smtp_tx_str(tx, tx->to[0]), b, strlen(b));
	assert_memory_equal(smtp_tx_str(tx, tx->to[1]), c, strlen(c));
	snprintf(want, sizeof(want), "250 2.0.0 Ok: queued for <%s>", b);
	assert_field(tx, SMTP_F_LAST_REPLY, want);
	snprintf(want, sizeof(want), "from laptop by mx.example.net for <%s>; Tue, 2 Jan 2024", b);
	assert_field(tx, SMTP_F_FIRST_RECEIVED, want);
	assert_field(tx, SMTP_F_HELO, "laptop");
	for (unsigned int i = 0; i < H.ref.n; i++)
		for (size_t k = 0; k < sizeof(clear) / sizeof(clear[0]); k++)
			if (memmem(H.ref.r[i].b, H.ref.r[i].len, clear[k], strlen(clear[k])))
				fail_msg("event %u holds '%s'", i, clear[k]);
	privacy_destroy(again);
	privacy_destroy(other);
}

static int setup_privacy(void **state)
{
	(void)state;
	session_privacy = privacy_key_make(key_one);
	harness_up(&H, with_privacy);
	return 0;
}

static int teardown_privacy(void **state)
{
	(void)state;
	harness_down(&H);
	privacy_destroy(session_privacy);
	session_privacy = NULL;
	return 0;
}

static const char sig_rules[] =
	"9001 reply blocklist high i /blocked using zen\\.spamhaus\\.org/ \"ZEN\"\n"
	"9002 command mailer low - /^EHLO spambot-kit/ \"kit HELO\"\n"
	"9003 header:x-mailer mailer medium i /bulkmailer/ \"bulk mailer\"\n"
	"9004 body spam medium i /cheap pills/ \"pills\"\n"
	"9005 url phish high - /192\\.0\\.2\\.7\\/login/ \"login page on an IP\"\n"
	"9006 command other low i /plain|c2VjcmV0/ \"would show AUTH\"\n";

static struct sigs *sigs;

static void with_sigs(struct smtp_cfg *cfg)
{
	cfg->sigs = sigs;
}

static const struct step sig_conv[] = {
	GREETING,
	C("EHLO spambot-kit\r\n"),
	S("250 mx.example.net\r\n"),
	C("AUTH PLAIN AHUAc2VjcmV0\r\n"),
	S("535 5.7.8 Error: authentication failed\r\n"),
	C("MAIL FROM:<offer@example.biz>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("RCPT TO:<victim@example.net>\r\n"),
	S("250 2.1.5 Ok\r\n"),
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("From: offer@example.biz\r\nX-Mailer: BulkMailer 4.1\r\nSubject: deal\r\n\r\n"
	  "Buy cheap pills at http://192.0.2.7/login today.\r\n.\r\n"),
	S("554-5.7.1 Service unavailable; Client host [192.0.2.10]\r\n"
	  "554 5.7.1 blocked using zen.spamhaus.org\r\n"),
	C("QUIT\r\n"),
	S("221 Bye\r\n"),
};

static const struct event_sig *sig_by_id(const struct run *r, uint32_t id)
{
	for (unsigned int i = 0; i < count(r, EV_SIG); i++) {
		const struct event_sig *e = nth(r, EV_SIG, i);

		if (e->sig_id == id)
			return e;
	}
	return NULL;
}

/* Commands, replies, header fields, body and URLs reach the signatures; AUTH never does. */
static void test_session_signatures(void **state)
{
	struct errbuf eb;
	const struct event_sig *e;
	int rc;

	(void)state;
	assert_int_equal(sigs_create(&sigs), 0);
	rc = sigs_load_text(sigs, "test.rules", sig_rules, sizeof(sig_rules) - 1, &eb);
	if (rc == -ENOTSUP) {
		sigs_destroy(sigs);
		skip();
	}
	if (rc)
		fail_msg("%s", eb.msg);
	harness_down(&H);
	harness_up(&H, with_sigs);
	play_all_splits(&H, STEPS(sig_conv));

	e = sig_by_id(&H.ref, 9002);
	assert_non_null(e);
	assert_int_equal(e->scope, EV_SCOPE_COMMAND);
	assert_int_equal(e->sig_class, EV_SIGCLASS_MAILER);
	assert_string_equal(e->snippet, "EHLO spambot-kit");
	e = sig_by_id(&H.ref, 9003);
	assert_non_null(e);
	assert_int_equal(e->scope, EV_SCOPE_HEADER);
	e = sig_by_id(&H.ref, 9004);
	assert_non_null(e);
	assert_int_equal(e->scope, EV_SCOPE_BODY);
	assert_non_null(strstr(e->snippet, "cheap pills"));
	e = sig_by_id(&H.ref, 9005);
	assert_non_null(e);
	assert_int_equal(e->scope, EV_SCOPE_URL);
	e = sig_by_id(&H.ref, 9001);
	assert_non_null(e);
	assert_int_equal(e->scope, EV_SCOPE_REPLY);
	assert_int_equal(e->sig_class, EV_SIGCLASS_BLOCKLIST);
	assert_int_equal(e->reply_code, 554);
	assert_string_equal(e->snippet, "554 5.7.1 blocked using zen.spamhaus.org");
	assert_null(sig_by_id(&H.ref, 9006));
	harness_down(&H);
	sigs_destroy(sigs);
	harness_up(&H, NULL);
}

/*
 * event_begin() without a header zeroes the whole event, however stale the
 * ring's bytes there were: the session's builders write their fields into it
 * in place and leave the rest (padding included) as it is.
 */
static void test_event_begin_without_header_zeroes_the_event(void **state)
{
	struct event_sink sink = {.worker = 3};
	uint8_t zero[sizeof(struct event_reply)] = {0};
	struct event_reply *e;
	uint32_t len;
	void *p;

	(void)state;
	assert_int_equal(msgring_create(4096, &sink.ring), 0);
	/* Fill the ring with 0xa5 and take it back, more than once round. */
	for (int i = 0; i < 64; i++) {
		p = msgring_reserve(sink.ring, sizeof(*e));
		assert_non_null(p);
		memset(p, 0xa5, sizeof(*e));
		msgring_commit(sink.ring);
		assert_non_null(msgring_peek(sink.ring, &len));
		msgring_release(sink.ring);
	}
	e = event_begin(&sink, EV_REPLY, sizeof(*e), NULL);
	assert_non_null(e);
	assert_int_equal(e->h.type, EV_REPLY);
	assert_int_equal(e->h.len, sizeof(*e));
	assert_int_equal(e->h.worker, 3);
	e->h.type = 0;
	e->h.len = 0;
	e->h.worker = 0;
	assert_memory_equal(e, zero, sizeof(*e));
	event_commit(&sink);
	msgring_destroy(sink.ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_begin_without_header_zeroes_the_event),
		cmocka_unit_test_setup_teardown(test_session_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_dot_unstuffing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_rset_two_transactions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_pipelining_mixed_rcpts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_bdat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_bdat_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_bdat_without_aux, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_starttls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_starttls_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_port_465, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_one_sided, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_auth_then_mail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_only_failed_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_gap_in_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_midstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_http_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_not_smtp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_overlong_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_pipeline_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_deep_pipeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_deep_queue_pool_dry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_counts_saturate, setup, teardown),
		cmocka_unit_test(test_event_uid_cache_gives_each_flow_its_uid),
		cmocka_unit_test_setup_teardown(test_session_events_carry_their_flow_uid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_auth_values_pool_dry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_auth_then_starttls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_ext_pool_dry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_ext_back_after_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_gen_beside_auth_result, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_strings_at_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_strings_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_pool_exhausted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_passwords_never_emitted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_signatures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_pseudonymised, setup_privacy,
						teardown_privacy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
