// SPDX-License-Identifier: BSD-3-Clause
/*
 * The queue of commands awaiting a reply (sensor/smtp_session.c): a command
 * it cannot hold is counted once, under its cause: pipeline_overflow when the
 * client has more in flight than max_pipeline, buf_no_slot when the deep
 * queue it needs is not in the pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/msgring.h"
#include "dataplane/flow.h"
#include "sensor/event.h"
#include "sensor/smtp_session.h"

#define TS0 1700000000000000000ull

static struct {
	struct msgring *ring;
	struct event_sink sink;
	struct smtp_ctx *ctx;
	struct flow flow;
} Q;

static void queue_up(uint32_t max_sessions, uint32_t max_pipeline)
{
	struct smtp_cfg cfg;

	memset(&Q, 0, sizeof(Q));
	assert_int_equal(msgring_create(4u << 20, &Q.ring), 0);
	Q.sink.ring = Q.ring;
	smtp_cfg_default(&cfg);
	cfg.max_sessions = max_sessions;
	cfg.max_pipeline = max_pipeline;
	assert_int_equal(smtp_ctx_create(&cfg, &Q.sink, &Q.ctx), 0);
	Q.flow.key.family = 4;
	Q.flow.key.lo.b[10] = Q.flow.key.hi.b[10] = 0xff;
	Q.flow.key.lo.b[11] = Q.flow.key.hi.b[11] = 0xff;
	memcpy(&Q.flow.key.lo.b[12], "\xc0\x00\x02\x0a", 4);
	memcpy(&Q.flow.key.hi.b[12], "\xc6\x33\x64\x19", 4);
	Q.flow.key.lo_port = 40001;
	Q.flow.key.hi_port = 25;
	Q.flow.flags = FLOW_F_CLIENT_LO | FLOW_F_SYN;
	Q.flow.first_ns = TS0;
}

static void queue_down(void)
{
	smtp_ctx_destroy(Q.ctx);
	msgring_destroy(Q.ring);
}

static void feed(void *sess, uint8_t dir, const char *text)
{
	size_t n = strlen(text);

	Q.flow.bytes_lo[dir] += (uint32_t)n;
	assert_int_equal(smtp_l7_ops.data(Q.ctx, sess, &Q.flow, dir, (const uint8_t *)text,
					  (uint32_t)n, TS0 + 1),
			 L7_CONTINUE);
}

/* A session past its greeting and EHLO that sends MAIL, n RCPTs and DATA at once. */
static void *pipelining_session(unsigned int n)
{
	char cmds[2048];
	size_t c = 0;
	void *s = smtp_l7_ops.open(Q.ctx, &Q.flow, TS0);

	assert_non_null(s);
	feed(s, FLOW_DIR_TO_CLIENT, "220 mx ESMTP\r\n");
	feed(s, FLOW_DIR_TO_SERVER, "EHLO c\r\n");
	feed(s, FLOW_DIR_TO_CLIENT, "250 mx\r\n");
	c += (size_t)snprintf(cmds + c, sizeof(cmds) - c, "MAIL FROM:<s@example.org>\r\n");
	for (unsigned int i = 0; i < n; i++)
		c += (size_t)snprintf(cmds + c, sizeof(cmds) - c, "RCPT TO:<r%u@example.net>\r\n",
				      i);
	c += (size_t)snprintf(cmds + c, sizeof(cmds) - c, "DATA\r\n");
	assert_true(c < sizeof(cmds));
	feed(s, FLOW_DIR_TO_SERVER, cmds);
	return s;
}

static struct smtp_stats queue_stats(void)
{
	struct smtp_stats st;

	smtp_l7_ops.housekeep(Q.ctx, TS0 + 2);
	smtp_ctx_stats_read(Q.ctx, &st);
	return st;
}

/* 16 sessions share 8 deep queues: the ninth pipelining session keeps MAIL and
 * five RCPTs inline; its other three RCPTs and DATA are each counted once, as
 * the pool's, not also as the client's overflow (it sent 10 of 64 allowed). */
static void test_smtp_queue_pool_dry_counts_each_command_once(void **state)
{
	void *sess[9];
	struct smtp_stats st;

	(void)state;
	queue_up(16, 64);
	for (unsigned int i = 0; i < 9; i++)
		sess[i] = pipelining_session(8);
	st = queue_stats();
	assert_int_equal(st.buf_no_slot, 4);
	assert_int_equal(st.pipeline_overflow, 0);
	for (unsigned int i = 0; i < 9; i++)
		smtp_l7_ops.close(Q.ctx, sess[i], &Q.flow, FLOW_END_FIN, TS0 + 3);
	queue_down();
}

/* With a deep queue to hand, the commands past max_pipeline are the client's:
 * counted as overflow alone. */
static void test_smtp_queue_overflow_past_max_pipeline(void **state)
{
	void *s;
	struct smtp_stats st;

	(void)state;
	queue_up(16, 8);
	s = pipelining_session(10); /* 12 commands: 4 past the 8 */
	st = queue_stats();
	assert_int_equal(st.pipeline_overflow, 4);
	assert_int_equal(st.buf_no_slot, 0);
	smtp_l7_ops.close(Q.ctx, s, &Q.flow, FLOW_END_FIN, TS0 + 3);
	queue_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_queue_pool_dry_counts_each_command_once),
		cmocka_unit_test(test_smtp_queue_overflow_past_max_pipeline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
