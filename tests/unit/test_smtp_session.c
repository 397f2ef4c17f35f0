// SPDX-License-Identifier: BSD-3-Clause
/*
 * Whole SMTP conversations, written as the bytes each side sends, fed
 * through the l7 ops into a real msgring. Every conversation is replayed
 * with each of its bytes as a segment boundary and in 1-byte segments; the
 * events must be byte for byte those of the unsplit run. Then what the
 * unsplit run emitted is checked field by field. This file: the plain
 * conversations (dots, RSET, one side only, holes, joined midstream, an HTTP
 * proxy, not SMTP, an overlong line, saturating counts). The rig is in
 * smtp_session_fx.h; pipelining and BDAT, AUTH and TLS, and what the records
 * carry are in test_smtp_session_pipe.c, _auth.c and _rec.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_session_fx.h"

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

/*
 * The DATA walk against a byte-at-a-time reference of RFC 5321 4.5.2: a
 * line-start dot goes, ".\r\n" or ".\n" there ends the message. Bodies of
 * dots, CRs, LFs and text, every segment cut (play_all_splits).
 */
static size_t dots_ref(const uint8_t *p, size_t n, size_t *end)
{
	size_t size = 0;
	bool bol = true;

	for (size_t i = 0; i < n; i++) {
		if (bol && p[i] == '.') {
			if (i + 1 < n && p[i + 1] == '\n') {
				*end = i + 2;
				return size;
			}
			if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
				*end = i + 3;
				return size;
			}
			bol = false;
			continue;
		}
		size++;
		bol = p[i] == '\n';
	}
	*end = 0;
	return size;
}

static void test_session_dots_against_reference(void **state)
{
	static const char alphabet[] = ".\r\na";
	static const char intro[] = "Subject: r\r\n\r\n";
	uint8_t body[96];
	struct step steps[] = {
		ENVELOPE_OK,
		C("DATA\r\n"),
		S("354 go ahead\r\n"),
		{0},
		S("250 2.0.0 Ok: queued\r\n"),
		C("QUIT\r\n"),
		S("221 2.0.0 Bye\r\n"),
	};
	size_t at = sizeof(steps) / sizeof(steps[0]) - 4;
	uint64_t seed = 7;

	(void)state;
	for (unsigned int round = 0; round < 40; round++) {
		size_t n = sizeof(intro) - 1, end, size;

		memcpy(body, intro, n);
		while (n < 60) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			body[n++] = (uint8_t)alphabet[(seed >> 33) % 4];
		}
		memcpy(body + n, "\r\n.\r\n", 5);
		size = dots_ref(body, n + 5, &end);
		assert_true(end > 0);
		steps[at] = (struct step){FLOW_DIR_TO_SERVER, body, end};
		play_all_splits(&H, steps, sizeof(steps) / sizeof(steps[0]));
		assert_int_equal(count(&H.ref, EV_TX), 1);
		assert_int_equal(tx_of(&H.ref, 0)->msg_size, size);
		assert_true(tx_of(&H.ref, 0)->flags & SMTP_TX_F_COMPLETE);
	}
}

/*
 * The end of a message and the next transaction's pipelined commands in the
 * same client segment: the DATA walk (smtp_data()'s path for client bytes in
 * DATA) hands what follows its terminator to the command loop, at every cut
 * and one byte at a time; then a second message the same way, and QUIT.
 */
static const struct step data_then_commands[] = {
	ENVELOPE_OK,
	C("DATA\r\n"),
	S("354 go ahead\r\n"),
	C("Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<c@example.org>\r\n"
	  "RCPT TO:<d@example.net>\r\nDATA\r\n"),
	S("250 2.0.0 Ok: queued as A1\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go ahead\r\n"),
	C("Subject: two\r\n\r\nsecond\r\n..dot\r\n.\r\nQUIT\r\n"),
	S("250 2.0.0 Ok: queued as B2\r\n221 2.0.0 Bye\r\n"),
};

static void test_session_data_then_commands(void **state)
{
	const struct event_session_close *e;
	const struct event_rcpt *r;

	(void)state;
	play_all_splits(&H, STEPS(data_then_commands));
	assert_int_equal(count(&H.ref, EV_TX), 2);
	assert_true(tx_of(&H.ref, 0)->flags & SMTP_TX_F_COMPLETE);
	assert_true(tx_of(&H.ref, 1)->flags & SMTP_TX_F_COMPLETE);
	assert_int_equal(tx_of(&H.ref, 1)->msg_size,
			 sizeof("Subject: two\r\n\r\nsecond\r\n.dot\r\n") - 1);
	assert_field(tx_of(&H.ref, 1), SMTP_F_MAILFROM, "c@example.org");
	assert_field(tx_of(&H.ref, 1), SMTP_F_LAST_REPLY, "250 2.0.0 Ok: queued as B2");
	r = nth(&H.ref, EV_RCPT, 1);
	assert_string_equal(r->rcpt, "d@example.net");
	assert_int_equal(r->code, 250);
	e = nth(&H.ref, EV_SESSION_CLOSE, 0);
	assert_int_equal(e->transactions, 2);
	assert_int_equal(e->commands, 8); /* EHLO MAIL RCPT DATA MAIL RCPT DATA QUIT */
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

/*
 * Bare LF, NUL and overlong lines are each counted once, in either
 * direction, and plain lines not at all (smtp_next_line() tests the three
 * at once before it counts them).
 */
static void test_session_line_counts(void **state)
{
	static const struct step conv[] = {
		GREETING,
		C("EHLO client.example.org\n"),
		S("250 mx.example.net\n"),
		C("NOOP a\0b\r\n"),
		S("250 2.0.0 \0k\r\n"),
		C("NOOP \0\n"),
		S("250 Ok\r\n"),
		C("MAIL FROM:<a@example.org>\r\n"),
		S("250 Ok\r\n"),
		C("QUIT\r\n"),
		S("221 Bye\r\n"),
	};
	struct smtp_stats st0 = stats(), st;

	(void)state;
	play(&H, STEPS(conv), NO_SPLIT, false, &H.ref);
	st = stats();
	assert_int_equal(st.bare_lf - st0.bare_lf, 3);
	assert_int_equal(st.nul_bytes - st0.nul_bytes, 3);
	assert_int_equal(st.line_too_long - st0.line_too_long, 0);
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

/* Every event's header names the flow's ends as the accessors say, with the
 * client on either side of the key (smtp_ev_hdr() reads them before it
 * writes). */
static void test_session_event_ends(void **state)
{
	static const struct step conv[] = {
		ENVELOPE_OK,
		C("RCPT TO:<c@example.net>\r\n"),
		S("550 5.1.1 <c@example.net>: Recipient address rejected\r\n"),
		C("QUIT\r\n"),
		S("221 2.0.0 Bye\r\n"),
	};

	(void)state;
	for (int side = 0; side < 2; side++) {
		const struct flow *f = &H.flow;

		harness_flow(&H, 587, true);
		H.flow.key.vlan = 7;
		if (side) {
			union pkt_addr a = H.flow.key.lo;
			uint16_t port = H.flow.key.lo_port;

			H.flow.key.lo = H.flow.key.hi;
			H.flow.key.lo_port = H.flow.key.hi_port;
			H.flow.key.hi = a;
			H.flow.key.hi_port = port;
			H.flow.flags &= (uint8_t)~FLOW_F_CLIENT_LO;
		}
		play(&H, STEPS(conv), NO_SPLIT, false, &H.ref);
		assert_int_equal(count(&H.ref, EV_RCPT), 2);
		assert_int_equal(count(&H.ref, EV_REPLY), 1);
		for (unsigned int i = 0; i < H.ref.n; i++) {
			const struct event_hdr *h = (const void *)H.ref.r[i].b;

			assert_int_equal(h->first_ns, f->first_ns);
			assert_int_equal(h->family, f->key.family);
			assert_memory_equal(&h->client, flow_client_addr(f), sizeof(h->client));
			assert_memory_equal(&h->server, flow_server_addr(f), sizeof(h->server));
			assert_int_equal(h->client_port, flow_client_port(f));
			assert_int_equal(h->server_port, flow_server_port(f));
			assert_int_equal(h->client_port, 40001);
			assert_int_equal(h->server_port, 587);
			assert_int_equal(h->client.b[15], 0x0a);
			assert_int_equal(h->server.b[15], 0x19);
			assert_int_equal(h->vlan, 7);
		}
	}
}

/* Replies are counted by class from their first digit; 1xx only as a reply. */
static void test_session_reply_classes(void **state)
{
	static const struct step conv[] = {
		ENVELOPE_OK,
		C("RCPT TO:<c@example.net>\r\n"),
		S("450 4.2.0 <c@example.net>: try later\r\n"),
		C("RCPT TO:<d@example.net>\r\n"),
		S("550 5.1.1 <d@example.net>: unknown\r\n"),
		C("NOOP\r\n"),
		S("150 odd but a reply\r\n"),
		C("DATA\r\n"),
		S("354 go on\r\n"),
		C("Subject: x\r\n\r\nbody\r\n.\r\n"),
		S("250 2.0.0 queued\r\n"),
		C("QUIT\r\n"),
		S("221 2.0.0 Bye\r\n"),
	};
	struct smtp_stats st;

	(void)state;
	play(&H, STEPS(conv), NO_SPLIT, false, &H.ref);
	st = stats();
	assert_int_equal(st.replies, 10);
	assert_int_equal(st.replies_2xx, 6);
	assert_int_equal(st.replies_3xx, 1);
	assert_int_equal(st.replies_4xx, 1);
	assert_int_equal(st.replies_5xx, 1);
	assert_int_equal(st.replies_bad, 0);
}

/* The greeting lost: the first reply answers EHLO, and each later reply its
 * own command; a refusing greeting (554) stays the greeting. */
static void test_session_greeting_lost(void **state)
{
	static const struct step lost[] = {
		C("EHLO client.example.org\r\n"),
		S("250-mx.example.net\r\n250 PIPELINING\r\n"),
		C("MAIL FROM:<a@example.org>\r\n"),
		S("250 2.1.0 Ok\r\n"),
		C("RCPT TO:<b@example.net>\r\n"),
		S("550 5.1.1 <b@example.net>: unknown\r\n"),
		C("QUIT\r\n"),
		S("221 2.0.0 Bye\r\n"),
	};
	static const struct step refused[] = {
		S("554 5.7.1 go away\r\n"),
		C("QUIT\r\n"),
		S("221 2.0.0 Bye\r\n"),
	};
	const struct event_reply *rp;
	const struct event_rcpt *rc;

	(void)state;
	play(&H, STEPS(lost), NO_SPLIT, false, &H.ref);
	assert_int_equal(count(&H.ref, EV_BANNER), 0);
	assert_int_equal(count(&H.ref, EV_RCPT), 1);
	rc = nth(&H.ref, EV_RCPT, 0);
	assert_int_equal(rc->code, 550);
	rp = nth(&H.ref, EV_REPLY, 0);
	assert_int_equal(rp->code, 550);
	assert_int_equal(rp->cmd, EV_CMD_RCPT);
	assert_int_equal(tx_of(&H.ref, 0)->mail_code, 250);
	assert_int_equal(stats().replies_unmatched, 0);

	play(&H, STEPS(refused), NO_SPLIT, false, &H.ref);
	assert_int_equal(count(&H.ref, EV_BANNER), 1);
	rp = nth(&H.ref, EV_REPLY, 0);
	assert_int_equal(rp->cmd, EV_CMD_BANNER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_dot_unstuffing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_dots_against_reference, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_data_then_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_rset_two_transactions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_one_sided, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_gap_in_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_midstream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_http_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_not_smtp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_overlong_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_line_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_counts_saturate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_event_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_reply_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_greeting_lost, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
