// SPDX-License-Identifier: BSD-3-Clause
/*
 * Pipelining and BDAT, through the rig of smtp_session_fx.h: replies matched to
 * pipelined commands, the queue overflowing, deep queues from the pool (and the
 * pool dry), BDAT chunks and their replies, and a chunk with no aux slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "smtp_session_fx.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_pipelining_mixed_rcpts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_bdat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_bdat_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_bdat_without_aux, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_pipeline_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_deep_pipeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_deep_queue_pool_dry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
