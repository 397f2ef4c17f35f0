// SPDX-License-Identifier: BSD-3-Clause
/*
 * What the records carry, through the rig of smtp_session_fx.h: event_begin()
 * zeroing an event, flow uids (the detector's cache and the session's), the
 * string arena (values at their caps, shared values), the session pool
 * exhausted, pseudonyms with a privacy key, and signature events.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_session_fx.h"
#include "privacy_key.h"
#include "sensor/privacy.h"
#include "sensor/sigs.h"

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

/* Every byte of the ring 0xa5, taken round more than once. */
static void stale_harness_ring(void)
{
	const uint32_t len = RING_BYTES / 8;
	uint32_t got;
	void *p;

	for (int i = 0; i < 20; i++) {
		p = msgring_reserve(H.ring, len);
		assert_non_null(p);
		memset(p, 0xa5, len);
		msgring_commit(H.ring);
		assert_non_null(msgring_peek(H.ring, &got));
		msgring_release(H.ring);
	}
}

/* Are p[from..to) all zero? */
static bool zero_from(const void *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (((const uint8_t *)p)[i])
			return false;
	return true;
}

/*
 * The session's event builders write their fields into a zeroed event,
 * whatever the ring held there: past each string's length, in the padding
 * and in the uid the reader fills, an RCPT and a reply event hold zeros.
 */
static void test_session_events_hold_no_stale_ring_bytes(void **state)
{
	static const struct step conv[] = {
		GREETING,
		EHLO_OK,
		C("MAIL FROM:<a@example.org>\r\n"),
		S("250 2.1.0 Ok\r\n"),
		C("RCPT TO:<b@example.net>\r\n"),
		S("550 5.1.1 <b@example.net>: Recipient address rejected\r\n"),
		C("QUIT\r\n"),
		S("221 2.0.0 Bye\r\n"),
	};
	const struct event_rcpt *r;
	const struct event_reply *y;

	(void)state;
	stale_harness_ring();
	play(&H, STEPS(conv), NO_SPLIT, false, &H.ref);
	r = nth(&H.ref, EV_RCPT, 0);
	assert_int_equal(r->rcpt_len, strlen("b@example.net"));
	assert_true(zero_from(r->mailfrom, r->mailfrom_len, sizeof(r->mailfrom)));
	assert_true(zero_from(r->rcpt, r->rcpt_len, sizeof(r->rcpt)));
	assert_true(r->text_len > 0);
	assert_true(zero_from(r->text, r->text_len, sizeof(r->text)));
	assert_int_equal(r->pad, 0);
	assert_int_equal(r->h.pad, 0);
	y = nth(&H.ref, EV_REPLY, 0);
	assert_true(y->text_len > 0);
	assert_true(zero_from(y->text, y->text_len, sizeof(y->text)));
	assert_int_equal(y->pad, 0);
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
		assert_int_equal(stats().string_bytes, round ? 8 * (20 + 16 + 4) : 20 + 16 + 4);
		shared[round] = stats().strings_shared;
		close_all(sess, 8);
		/* Sampled as the first of the 8 ended: 8 in use, slots of 20 + 16 + 4
		 * bytes a set of values (17, 15 and 3 bytes), and the table (one bucket, 64 bytes,
		 * for a pool of 8). */
		smtp_ctx_str_held(H.ctx, &n, &bytes);
		assert_int_equal(n, 8);
		held = round ? 8 * (20 + 16 + 4) : 20 + 16 + 4;
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

/* The figures the memory comment at the top of smtp_session.c quotes for the
 * default config: an idle session is 68 bytes (struct smtp_sess, 64, and its
 * pool index), the whole context 8.5 kB a session (8 460: no more than the
 * 8 470 of 80-byte sessions, whose AUTH values had the same pool; 2 of it
 * the interning table). Change the comment with them. */
static void test_session_mem_default_config(void **state)
{
	struct event_sink sink = {0};
	struct smtp_cfg cfg;
	struct smtp_ctx *ctx;
	size_t per;

	(void)state;
	assert_int_equal(smtp_session_size(), 68);
	smtp_cfg_default(&cfg);
	assert_int_equal(cfg.max_sessions, 16384);
	assert_int_equal(smtp_ctx_create(&cfg, &sink, &ctx), 0);
	per = smtp_ctx_mem_bytes(ctx) / cfg.max_sessions;
	if (per != 8460)
		fail_msg("the context is %zu bytes a session, not 8 460", per);
	smtp_ctx_destroy(ctx);
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
	"9006 command other low i /plain|c2VjcmV0/ \"would show AUTH\"\n"
	"9007 body spam low i /pills again/ \"pills again\"\n";

static struct sigs *sigs;

static void with_sigs(struct smtp_cfg *cfg)
{
	cfg->sigs = sigs;
}

/* The harness again, with sig_rules loaded (skips where Hyperscan is missing). */
static void sigs_up(void)
{
	struct errbuf eb;
	int rc;

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
}

static void sigs_down(void)
{
	harness_down(&H);
	sigs_destroy(sigs);
	harness_up(&H, NULL);
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
	const struct event_sig *e;

	(void)state;
	sigs_up();
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
	sigs_down();
}

/*
 * A body match shows the SIGS_CTX_MAX decoded bytes before its end whatever
 * the scans were: a scan of a whole window or more replaces the window of
 * the bytes before the next one (the fast path), a shorter one slides it.
 * The body comes in two segments, so every split point gives three pieces
 * (short and long in every order before the match); each run must show the
 * unsplit one's evidence.
 */
static const struct step sig_long_body[] = {
	GREETING,
	C("EHLO client.example\r\n"),
	S("250-mx.example.net\r\n250 PIPELINING\r\n"),
	C("MAIL FROM:<offer@example.biz>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"),
	S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"),
	C("Subject: deal\r\n\r\n"
	  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789\r\n"),
	C("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789 cheap pills\r\n"
	  "more text after the match.\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as 1\r\n"),
	C("QUIT\r\n"),
	S("221 Bye\r\n"),
};

static void test_session_body_match_context_any_split(void **state)
{
	static const char want[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123456789 cheap pills";
	const size_t ctx = sizeof(want) - 1 - SIGS_CTX_MAX;
	const struct event_sig *e;

	(void)state;
	sigs_up();
	play_all_splits(&H, STEPS(sig_long_body));
	/* The window ends at the match and is full: the bytes before it are there. */
	assert_true(SIGS_CTX_MAX < sizeof(want) - 1);
	e = sig_by_id(&H.ref, 9004);
	assert_true(e && e->scope == EV_SCOPE_BODY);
	assert_int_equal(strlen(e->snippet), SIGS_CTX_MAX);
	assert_string_equal(e->snippet, want + ctx);
	sigs_down();
}

/*
 * A multipart text part: its runs of lines come as pieces after held-back
 * line ends, some scanned where they are (the batch empty, a window or
 * more), some batched, with a URL and body matches before and after it.
 * At every split the events are the unsplit run's: the body match before
 * the URL is reported before the URL's, the one after it after.
 */
static const struct step sig_multipart[] = {
	GREETING,
	C("EHLO client.example\r\n"),
	S("250-mx.example.net\r\n250 PIPELINING\r\n"),
	C("MAIL FROM:<offer@example.biz>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"),
	S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"),
	C("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\n"
	  "Content-Type: text/plain\r\n\r\n"
	  "A long first line of text before anything is matched, long enough.\r\n"),
	C("-- one\r\ncheap pills\r\n-- a dash line that is no boundary\r\n"
	  "see http://192.0.2.7/login now\r\nand cheap pills again after the URL\r\n"
	  "--b1--\r\nepilogue\r\n.\r\n"),
	S("250 2.0.0 Ok: queued as 2\r\n"),
	C("QUIT\r\n"),
	S("221 Bye\r\n"),
};

/* The body match before the URL, the URL, the body match after it: in that order. */
static bool sig_order_kept(const struct run *r)
{
	unsigned int at[3] = {0, 0, 0};

	for (unsigned int i = 0; i < count(r, EV_SIG); i++) {
		const struct event_sig *e = nth(r, EV_SIG, i);

		if (e->sig_id == 9004)
			at[0] = i + 1;
		else if (e->sig_id == 9005)
			at[1] = i + 1;
		else if (e->sig_id == 9007)
			at[2] = i + 1;
	}
	return at[0] && at[0] < at[1] && at[1] < at[2];
}

static void test_session_body_pieces_and_urls_any_split(void **state)
{
	size_t total = 0;

	(void)state;
	sigs_up();
	play_all_splits(&H, STEPS(sig_multipart));
	assert_true(sig_order_kept(&H.ref));
	/* play_all_splits() lets signature events change places: not here. */
	for (size_t i = 0; i < sizeof(sig_multipart) / sizeof(sig_multipart[0]); i++)
		total += sig_multipart[i].p ? sig_multipart[i].len : 0;
	for (size_t k = 1; k < total; k++) {
		play(&H, STEPS(sig_multipart), k, false, &H.got);
		if (!sig_order_kept(&H.got))
			fail_msg("signature events out of order when a segment ends after byte %zu",
				 k);
	}
	play(&H, STEPS(sig_multipart), NO_SPLIT, true, &H.got);
	assert_true(sig_order_kept(&H.got));
	sigs_down();
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

/* Fill the ring with events of len bytes until it refuses one; returns how many fit. */
static unsigned int fill_ring(struct msgring *r, uint32_t len)
{
	unsigned int n = 0;

	while (msgring_reserve(r, len)) {
		msgring_commit(r);
		n++;
	}
	return n;
}

static void *release_one(void *arg)
{
	struct msgring *r = arg;
	uint32_t len;

	while (!msgring_peek(r, &len))
		sched_yield();
	msgring_release(r);
	return NULL;
}

/*
 * A full ring: a live sink drops the event and counts it, as does one that
 * may wait once its consumer is gone; an offline sink waits until the
 * consumer frees room and then gets the event, numbered after the last.
 */
static void test_event_begin_on_a_full_ring(void **state)
{
	_Atomic bool gone = false;
	struct event_sink sink = {.worker = 1, .abort = &gone};
	struct event_reply *e;
	pthread_t th;

	(void)state;
	assert_int_equal(msgring_create(4096, &sink.ring), 0);
	assert_true(fill_ring(sink.ring, sizeof(*e)) > 0);
	assert_null(event_begin(&sink, EV_REPLY, sizeof(*e), NULL));
	assert_null(event_begin_head(&sink, EV_TX, sizeof(*e), 64));
	assert_int_equal(sink.dropped, 2);
	assert_int_equal(sink.seq, 0);

	sink.wait_when_full = true;
	gone = true;
	assert_null(event_begin(&sink, EV_REPLY, sizeof(*e), NULL));
	assert_int_equal(sink.dropped, 3);

	gone = false;
	assert_int_equal(pthread_create(&th, NULL, release_one, sink.ring), 0);
	e = event_begin(&sink, EV_REPLY, sizeof(*e), NULL);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_non_null(e);
	assert_int_equal(e->h.type, EV_REPLY);
	assert_int_equal(e->h.seq, 0);
	assert_int_equal(sink.dropped, 3);
	event_commit(&sink);
	assert_int_equal(sink.emitted, 1);
	msgring_destroy(sink.ring);
}

/* A ring whose bytes are all 0xa5, taken round more than once. */
static void stale_ring(struct event_sink *sink, uint32_t len)
{
	const uint32_t size = 1u << 14;
	uint32_t got;
	void *p;

	assert_int_equal(msgring_create(size, &sink->ring), 0);
	for (uint32_t i = 0; i < 2 * size / len + 4; i++) {
		p = msgring_reserve(sink->ring, len);
		assert_non_null(p);
		memset(p, 0xa5, len);
		msgring_commit(sink->ring);
		assert_non_null(msgring_peek(sink->ring, &got));
		msgring_release(sink->ring);
	}
}

/*
 * event_begin_head() (an EV_TX record: the head zeroed, the transaction
 * copied over the rest) gives the bytes event_begin() without a header and
 * the same copy give, however stale the ring; past the head it writes
 * nothing, and a head longer than the event zeroes the event.
 */
static void test_event_begin_head_matches_the_zeroed_event(void **state)
{
	static const uint32_t wires[] = {1, 7, 64, 1000, 2048, 3000};
	const uint32_t head = (uint32_t)offsetof(struct event_tx, tx);
	uint8_t body[3000];

	(void)state;
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + 1);
	for (size_t k = 0; k < sizeof(wires) / sizeof(wires[0]); k++) {
		struct event_sink slow = {.worker = 2}, fast = {.worker = 2};
		uint32_t len = head + wires[k];
		uint8_t *a, *b;

		stale_ring(&slow, len);
		stale_ring(&fast, len);
		a = event_begin(&slow, EV_TX, len, NULL);
		b = event_begin_head(&fast, EV_TX, len, head);
		assert_non_null(a);
		assert_non_null(b);
		/* Past the head: the ring's bytes, untouched, until the copy. */
		for (uint32_t j = head; j < len; j++)
			assert_int_equal(b[j], 0xa5);
		memcpy(a + head, body, wires[k]);
		memcpy(b + head, body, wires[k]);
		assert_memory_equal(a, b, len);
		event_commit(&slow);
		event_commit(&fast);
		/* A head past the end: the whole event is zeroed, as event_begin() does. */
		a = event_begin(&slow, EV_REPLY, sizeof(struct event_reply), NULL);
		b = event_begin_head(&fast, EV_REPLY, sizeof(struct event_reply), UINT32_MAX);
		assert_non_null(a);
		assert_non_null(b);
		assert_memory_equal(a, b, sizeof(struct event_reply));
		msgring_destroy(slow.ring);
		msgring_destroy(fast.ring);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_begin_without_header_zeroes_the_event),
		cmocka_unit_test(test_event_begin_head_matches_the_zeroed_event),
		cmocka_unit_test(test_event_begin_on_a_full_ring),
		cmocka_unit_test(test_event_uid_cache_gives_each_flow_its_uid),
		cmocka_unit_test_setup_teardown(test_session_events_carry_their_flow_uid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_events_hold_no_stale_ring_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_strings_at_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_strings_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_pool_exhausted, setup, teardown),
		cmocka_unit_test(test_session_mem_default_config),
		cmocka_unit_test_setup_teardown(test_session_signatures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_body_match_context_any_split, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_body_pieces_and_urls_any_split, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_pseudonymised, setup_privacy,
						teardown_privacy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
