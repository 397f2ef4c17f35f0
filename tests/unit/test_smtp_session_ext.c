// SPDX-License-Identifier: BSD-3-Clause
/*
 * The rare values a session keeps in struct smtp_ext (smtp_session_int.h)
 * rather than in itself: the counts of unknown, AUTH and failed AUTH
 * commands and the AUTH exchange's state. Through the rig of
 * smtp_session_fx.h, with a look at the pool from inside: every record
 * still says them exactly, also past a ClientHello, at the counts' limit,
 * with every object of the pool (one for two sessions) held, and, past
 * that or with the pool drained by hand, as a counted loss.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_session_fx.h"
#include "sensor/smtp_session_int.h"

#define N_SESS 16 /* the events of a full pool fit the rig's MAX_RECS */

static void sessions_n(struct smtp_cfg *cfg)
{
	cfg->max_sessions = N_SESS;
}

/* The counters as published at the worker's housekeeping. */
static struct smtp_stats stats_now(void)
{
	smtp_l7_ops.housekeep(H.ctx, TS0 + 4);
	return stats();
}

static const struct step unknown_and_auth[] = {
	GREETING,
	C("EHLO bot\r\n"),
	S("250-mx.example.net\r\n250 AUTH PLAIN LOGIN\r\n"),
	C("XYZZY\r\n"),
	S("502 5.5.2 Error: command not recognized\r\n"),
	C("AUTH PLAIN AGFkbWluAGhhbnRlcjI=\r\n"), /* \0admin\0hanter2 */
	S("535 5.7.8 Error: authentication failed\r\n"),
	C("AUTH LOGIN\r\n"),
	S("334 VXNlcm5hbWU6\r\n"),
	C("YWRtaW4=\r\n"), /* admin */
	S("334 UGFzc3dvcmQ6\r\n"),
	C("aGFudGVyMg==\r\n"),
	S("235 2.7.0 Authentication successful\r\n"),
	C("MAIL FROM:<a@example.org>\r\n"),
	S("250 2.1.0 Ok\r\n"),
	C("FOO bar\r\n"),
	S("502 5.5.2 Error: command not recognized\r\n"),
	C("QUIT\r\n"),
	S("221 2.0.0 Bye\r\n"),
};

/* Every count in every record, whatever the segments: the values moved out
 * of the session are read back in the transaction record and the close. */
static void test_ext_counts_in_records(void **state)
{
	const struct event_session_close *cl;
	const struct smtp_tx *tx;

	(void)state;
	play_all_splits(&H, STEPS(unknown_and_auth));
	tx = tx_of(&H.ref, 0);
	assert_int_equal(tx->n_unknown_cmds, 1); /* FOO, in the transaction */
	assert_int_equal(tx->auth_attempts, 2);
	assert_int_equal(tx->auth_failures, 1);
	assert_int_equal(tx->auth_result, SMTP_AUTH_SUCCESS);
	assert_true(tx->flags & SMTP_TX_F_AUTH);
	assert_field(tx, SMTP_F_AUTH_USER, "admin");
	assert_field(tx, SMTP_F_AUTH_MECH, "LOGIN");
	cl = nth(&H.ref, EV_SESSION_CLOSE, 0);
	assert_int_equal(cl->unknown_cmds, 2);
	assert_int_equal(cl->auth_attempts, 2);
	assert_int_equal(cl->auth_failures, 1);
	assert_int_equal(stats_now().buf_no_slot, 0);
}

/* A session with nothing rare holds no struct smtp_ext. */
static void test_ext_not_taken_when_not_needed(void **state)
{
	void *s;

	(void)state;
	s = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
	assert_non_null(s);
	feed(s, FLOW_DIR_TO_CLIENT, "220 mx.example.net ESMTP\r\n");
	feed(s, FLOW_DIR_TO_SERVER, "EHLO c\r\nMAIL FROM:<a@example.org>\r\n");
	feed(s, FLOW_DIR_TO_CLIENT, "250 mx\r\n250 2.1.0 Ok\r\n");
	assert_int_equal(pool_in_use(&H.ctx->auth_pool), 0);
	feed(s, FLOW_DIR_TO_SERVER, "XYZZY\r\n");
	assert_int_equal(pool_in_use(&H.ctx->auth_pool), 1);
	close_all(&s, 1);
	assert_int_equal(pool_in_use(&H.ctx->auth_pool), 0);
	assert_int_equal(((const struct event_session_close *)nth(&H.ref, EV_SESSION_CLOSE, 0))
				 ->unknown_cmds,
			 1);
}

/* A minimal TLS 1.3 ClientHello (no extensions): enough to be parsed. */
static size_t client_hello(uint8_t *p)
{
	size_t n = 0;

	p[n++] = 0x16, p[n++] = 0x03, p[n++] = 0x01, p[n++] = 0, p[n++] = 45;
	p[n++] = 0x01, p[n++] = 0, p[n++] = 0, p[n++] = 41;
	p[n++] = 0x03, p[n++] = 0x03;
	memset(p + n, 0x11, 32), n += 32;
	p[n++] = 0;
	p[n++] = 0, p[n++] = 2, p[n++] = 0x13, p[n++] = 0x01;
	p[n++] = 1, p[n++] = 0;
	return n;
}

/* The ClientHello buffer's reference shares struct smtp_ext: giving the
 * buffer back at the bypass must keep the object, and its count, for a
 * session that sent an unknown command, and give it back otherwise. */
static void test_ext_count_kept_past_hello(void **state)
{
	uint8_t hello[64];
	size_t n = client_hello(hello);
	void *s[2];

	(void)state;
	for (unsigned int i = 0; i < 2; i++) {
		s[i] = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
		assert_non_null(s[i]);
		feed(s[i], FLOW_DIR_TO_CLIENT, "220 mx.example.net ESMTP\r\n");
		feed(s[i], FLOW_DIR_TO_SERVER, i ? "EHLO c\r\nXYZZY\r\n" : "EHLO c\r\n");
		feed(s[i], FLOW_DIR_TO_CLIENT,
		     i ? "250 mx\r\n502 5.5.2 unknown\r\n" : "250 mx\r\n");
		feed(s[i], FLOW_DIR_TO_SERVER, "STARTTLS\r\n");
		feed(s[i], FLOW_DIR_TO_CLIENT, "220 2.0.0 Ready to start TLS\r\n");
		assert_int_equal(deliver(&H, s[i], FLOW_DIR_TO_SERVER, hello, n, TS0 + 2),
				 L7_BYPASS);
	}
	assert_int_equal(stats_now().tls_hellos, 2);
	assert_int_equal(pool_in_use(&H.ctx->auth_pool), 1);
	close_all(s, 2);
	assert_int_equal(((const struct event_session_close *)nth(&H.ref, EV_SESSION_CLOSE, 0))
				 ->unknown_cmds,
			 0);
	assert_int_equal(((const struct event_session_close *)nth(&H.ref, EV_SESSION_CLOSE, 1))
				 ->unknown_cmds,
			 1);
	assert_int_equal(pool_in_use(&H.ctx->auth_pool), 0);
}

/* The counts stop at UINT16_MAX as the session's own did: they never wrap. */
static void test_ext_count_saturates(void **state)
{
	static const char cmd[] = "XYZZY\r\n";
	const unsigned int want = UINT16_MAX + 3u;
	size_t len = want * (sizeof(cmd) - 1);
	char *many = malloc(len);
	void *s;

	(void)state;
	assert_non_null(many);
	for (unsigned int i = 0; i < want; i++)
		memcpy(many + i * (sizeof(cmd) - 1), cmd, sizeof(cmd) - 1);
	s = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
	assert_non_null(s);
	feed(s, FLOW_DIR_TO_CLIENT, "220 mx.example.net ESMTP\r\n");
	assert_int_equal(deliver(&H, s, FLOW_DIR_TO_SERVER, (const uint8_t *)many, len, TS0 + 1),
			 L7_CONTINUE);
	free(many);
	close_all(&s, 1);
	assert_int_equal(((const struct event_session_close *)nth(&H.ref, EV_SESSION_CLOSE, 0))
				 ->unknown_cmds,
			 UINT16_MAX);
	assert_int_equal(
		((const struct event_session_close *)nth(&H.ref, EV_SESSION_CLOSE, 0))->commands,
		UINT16_MAX);
}

#define N_HALF 34 /* sessions; the pool has 17 objects, 18 sessions fit MAX_RECS */

static void sessions_half(struct smtp_cfg *cfg)
{
	cfg->max_sessions = N_HALF;
}

/* One struct smtp_ext for two sessions (smtp_ctx_create()): the sessions
 * that find one keep their AUTH values and counts exactly; one more, with
 * the pool dry, loses them (the records say 0) and the loss is counted. */
static void test_ext_half_pool(void **state)
{
	static const char auth[] = "AUTH PLAIN AHVAZXhhbXBsZS5vcmcAcHc=\r\n"; /* \0u@..\0pw */
	unsigned int n_auth = 0, n_close = 0, n_kept = 0;
	const unsigned int n_obj = N_HALF / 2;
	void *sess[N_HALF / 2 + 1];

	(void)state;
	harness_down(&H);
	harness_up(&H, sessions_half);
	assert_int_equal(H.ctx->auth_pool.n, n_obj);
	for (unsigned int i = 0; i <= n_obj; i++) {
		sess[i] = smtp_l7_ops.open(H.ctx, &H.flow, TS0);
		assert_non_null(sess[i]);
		feed(sess[i], FLOW_DIR_TO_CLIENT, "220 mx.example.net ESMTP\r\n");
		feed(sess[i], FLOW_DIR_TO_SERVER, auth);
		feed(sess[i], FLOW_DIR_TO_CLIENT, "535 5.7.8 Error: authentication failed\r\n");
		feed(sess[i], FLOW_DIR_TO_SERVER, "XYZZY\r\n");
	}
	assert_int_equal(pool_in_use(&H.ctx->auth_pool), n_obj);
	close_all(sess, n_obj + 1);
	/* The last session: its AUTH count, mechanism, user, failure and XYZZY. */
	assert_int_equal(stats_now().buf_no_slot, 5);
	for (unsigned int i = 0; i < H.ref.n; i++) {
		const struct event_auth *e = (const void *)H.ref.r[i].b;
		const struct event_session_close *cl = (const void *)H.ref.r[i].b;

		if (e->h.type == EV_AUTH) {
			n_auth++;
			/* Its result, from the reply, whatever the pool. */
			assert_int_equal(e->result, SMTP_AUTH_FAILURE);
		} else if (cl->h.type == EV_SESSION_CLOSE) {
			n_close++;
			assert_int_equal(cl->commands, 2);
			if (cl->auth_attempts + cl->auth_failures + cl->unknown_cmds == 0)
				continue;
			n_kept++;
			assert_int_equal(cl->auth_attempts, 1);
			assert_int_equal(cl->auth_failures, 1);
			assert_int_equal(cl->unknown_cmds, 1);
		}
	}
	assert_int_equal(n_auth, n_obj + 1);
	assert_int_equal(n_close, n_obj + 1);
	assert_int_equal(n_kept, n_obj);
	assert_int_equal(pool_in_use(&H.ctx->auth_pool), 0);
}

/* The pool drained by hand: the session follows and reports its exchanges
 * (EV_AUTH with its result, the record's AUTH flag and result) and loses
 * what it would have kept in struct smtp_ext, each loss counted; the
 * objects back, the next session keeps all again. */
static void test_ext_pool_dry(void **state)
{
	void *held[N_SESS + 1]; /* the last one: NULL, the pool dry */
	const struct event_session_close *cl;
	const struct event_auth *a;
	const struct smtp_tx *tx;
	unsigned int n = 0;

	(void)state;
	harness_down(&H);
	harness_up(&H, sessions_n);
	while ((held[n] = pool_get(&H.ctx->auth_pool)) != NULL)
		n++;
	assert_int_equal(n, N_SESS);
	play(&H, STEPS(unknown_and_auth), NO_SPLIT, false, &H.ref);
	/* XYZZY; each AUTH its count and mechanism; PLAIN's user (LOGIN's comes
	 * in a later line, and the exchange's state was not kept); the failure;
	 * FOO. */
	assert_int_equal(stats_now().buf_no_slot, 8);
	a = nth(&H.ref, EV_AUTH, 0);
	assert_int_equal(a->result, SMTP_AUTH_FAILURE);
	assert_int_equal(a->mech_len + a->user_len, 0);
	a = nth(&H.ref, EV_AUTH, 1);
	assert_int_equal(a->result, SMTP_AUTH_SUCCESS);
	tx = tx_of(&H.ref, 0);
	assert_true(tx->flags & SMTP_TX_F_AUTH);
	assert_int_equal(tx->auth_result, SMTP_AUTH_SUCCESS);
	assert_int_equal(tx->auth_attempts, 0);
	assert_int_equal(tx->f[SMTP_F_AUTH_USER].len, 0);
	cl = nth(&H.ref, EV_SESSION_CLOSE, 0);
	assert_int_equal(cl->unknown_cmds + cl->auth_attempts + cl->auth_failures, 0);
	assert_int_equal(cl->commands, 7);
	for (unsigned int i = 0; i < n; i++)
		pool_put(&H.ctx->auth_pool, held[i]);
	play(&H, STEPS(unknown_and_auth), NO_SPLIT, false, &H.got);
	cl = nth(&H.got, EV_SESSION_CLOSE, 0);
	assert_int_equal(cl->unknown_cmds, 2);
	assert_int_equal(cl->auth_attempts, 2);
	assert_int_equal(cl->auth_failures, 1);
	assert_int_equal(stats_now().buf_no_slot, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ext_counts_in_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_not_taken_when_not_needed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ext_count_kept_past_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_count_saturates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_half_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ext_pool_dry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
