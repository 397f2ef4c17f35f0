// SPDX-License-Identifier: BSD-3-Clause
/*
 * AUTH and TLS, through the rig of smtp_session_fx.h: STARTTLS (accepted and
 * refused) and port 465 with a ClientHello, AUTH LOGIN and PLAIN (accepted,
 * failed), passwords never in an event, and the pool object AUTH values and
 * the ClientHello share (struct smtp_ext; its pool's edges, full and dry, in
 * test_smtp_session_ext.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_session_fx.h"

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

static void sessions_32(struct smtp_cfg *cfg)
{
	cfg->max_sessions = 32; /* 8 ClientHello buffers */
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
	harness_up(&H, sessions_32); /* 8 ClientHello buffers */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_starttls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_starttls_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_port_465, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_auth_then_mail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_only_failed_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_auth_then_starttls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_ext_back_after_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_gen_beside_auth_result, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_passwords_never_emitted, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
