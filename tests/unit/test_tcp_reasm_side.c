// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm: side slots, the out-of-order, hold and gap state kept outside
 * the pair: taken and returned, and what happens when their pool is empty.
 * The rig is tcp_reasm_fx.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/tcp_reasm.h"
#include "tcp_reasm_fx.h"

/* A pool of one side slot, taken by the rig's pair (S2C "ab" out, "cd" early); tp2 is fresh. */
static struct rig *rig_slot_taken(struct tcp_reasm_pair *tp2)
{
	struct rig *g = rig_new_sides(65536, 1 << 20, 2048, 1);

	tcp_reasm_pair_init(tp2);
	assert_int_equal(feed(g, S2C, seg(10, 0, 0, "ab")), TCP_REASM_OK);
	assert_int_equal(feed(g, S2C, seg(20, 0, 0, "cd")), TCP_REASM_BUFFERED);
	assert_int_equal(tcp_reasm_stats(g->r)->sides_in_use, 1);
	return g;
}

/* feed() for another pair of the rig's reassembly. */
static enum tcp_reasm_status feed2(struct rig *g, struct tcp_reasm_pair *tp, enum flow_dir dir,
				   struct pkt_meta m)
{
	enum tcp_reasm_status st = tcp_reasm_add(g->r, tp, dir, &m);

	drain_pair(g, tp);
	return st;
}

/* A pair takes a side slot only while something is out of order and gives
 * it back once that drained; the in-order path never needs one. */
static void test_reasm_side_taken_and_returned(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 1000, 5000);
	assert_int_equal(st(g)->sides_in_use, 0);
	assert_int_equal(feed(g, C2S, seg(1011, 5001, ACK, "MAIL FROM:")), TCP_REASM_BUFFERED);
	assert_int_equal(st(g)->sides_in_use, 1);
	assert_int_equal(feed(g, C2S, seg(1001, 5001, ACK, "EHLO a.b\r\n")), TCP_REASM_OK);
	expect_out(g, C2S, "EHLO a.b\r\nMAIL FROM:");
	/* the buffer handed out went at the next call, and the slot with it */
	assert_int_equal(st(g)->segs_in_use, 0);
	assert_int_equal(st(g)->sides_in_use, 0);
	assert_int_equal(feed(g, C2S, seg(1021, 5001, ACK, "<a@b>\r\n")), TCP_REASM_OK);
	assert_int_equal(st(g)->sides_in_use, 0);
	/* a hole given up at flush: the gap is owed, then reported, then the slot goes */
	assert_int_equal(feed(g, C2S, seg(1038, 5001, ACK, "RCPT")), TCP_REASM_BUFFERED);
	assert_int_equal(st(g)->sides_in_use, 1);
	tcp_reasm_flush(g->r, &g->tp);
	drain_pair(g, &g->tp);
	expect_out(g, C2S, "EHLO a.b\r\nMAIL FROM:<a@b>\r\n~~~~~~~~~~RCPT");
	assert_int_equal(st(g)->sides_in_use, 0);
	rig_free(g);
}

/* Out of side slots: an early segment is refused like the worker cap does
 * (counted, delivered after a gap); once a slot is back it is kept again. */
static void test_reasm_side_pool_exhausted_caps(void **state)
{
	struct tcp_reasm_pair tp2;
	struct rig *g = rig_slot_taken(&tp2);

	(void)state;
	assert_int_equal(feed2(g, &tp2, C2S, seg(100, 0, 0, "a")), TCP_REASM_OK);
	assert_int_equal(feed2(g, &tp2, C2S, seg(110, 0, 0, "b")), TCP_REASM_OK);
	expect_out(g, C2S, "a~~~~~~~~~b");
	assert_int_equal(st(g)->side_cap_hits, 1);
	assert_int_equal(st(g)->total_cap_hits, 1);
	assert_int_equal(st(g)->sides_in_use, 1);
	/* the first pair drains: its slot is free for the second one */
	assert_int_equal(feed(g, S2C, seg(12, 0, 0, "xxxxxxxx")), TCP_REASM_OK);
	expect_out(g, S2C, "abxxxxxxxxcd");
	assert_int_equal(st(g)->sides_in_use, 0);
	assert_int_equal(feed2(g, &tp2, C2S, seg(130, 0, 0, "z")), TCP_REASM_BUFFERED);
	assert_int_equal(st(g)->sides_in_use, 1);
	assert_int_equal(tcp_reasm_buffered(g->r, &tp2, C2S), 1);
	/* a pair that ends while it has a slot gives it back with its buffers */
	tcp_reasm_pair_fini(g->r, &tp2);
	assert_int_equal(st(g)->sides_in_use, 0);
	assert_int_equal(st(g)->side_cap_hits, 1);
	rig_free(g);
}

/* Out of side slots, a command sent before the peer's greeting came cannot
 * wait for it: the hold is given up (counted) and the bytes go out now. */
static void test_reasm_side_pool_exhausted_no_hold(void **state)
{
	struct tcp_reasm_pair tp2;
	struct rig *g = rig_slot_taken(&tp2);

	(void)state;
	assert_int_equal(feed2(g, &tp2, C2S, seg(0, 0, SYN, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed2(g, &tp2, C2S, seg(1, 501, ACK, "EHLO a\r\n")), TCP_REASM_OK);
	expect_out(g, C2S, "EHLO a\r\n");
	assert_int_equal(st(g)->holds_given_up, 1);
	assert_int_equal(st(g)->side_cap_hits, 1);
	assert_int_equal(st(g)->held_segments, 0);
	tcp_reasm_pair_fini(g->r, &tp2);
	rig_free(g);
}

/* Out of side slots, the bytes before a FIN the peer acknowledged are not
 * written off at the ACK (that gap would need a slot) but at flush. */
static void test_reasm_side_pool_exhausted_gap_at_flush(void **state)
{
	struct tcp_reasm_pair tp2;
	struct rig *g = rig_slot_taken(&tp2);

	(void)state;
	assert_int_equal(feed2(g, &tp2, C2S, seg(100, 0, 0, "a")), TCP_REASM_OK);
	feed2(g, &tp2, C2S, seg(200, 0, FIN, NULL));
	feed2(g, &tp2, S2C, seg(7, 201, ACK, NULL));
	expect_out(g, C2S, "a");
	assert_int_equal(st(g)->side_cap_hits, 1);
	tcp_reasm_flush(g->r, &tp2);
	drain_pair(g, &tp2);
	assert_int_equal(g->out[C2S].len, 100);
	assert_int_equal(g->out[C2S].fins, 1);
	tcp_reasm_pair_fini(g->r, &tp2);
	rig_free(g);
}

/* A pair that is bypassed or finished while holding (nothing buffered for
 * it: the held bytes were a retransmission) gives its slot back. */
static void test_reasm_side_returned_when_holding(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, S2C, seg(5001, 1011, ACK, "250 ok\r\n")), TCP_REASM_BUFFERED);
	assert_int_equal(st(g)->sides_in_use, 1);
	tcp_reasm_bypass(g->r, &g->tp);
	assert_true(tcp_reasm_is_bypassed(&g->tp));
	assert_int_equal(st(g)->sides_in_use, 0);
	assert_int_equal(st(g)->segs_in_use, 0);
	rig_free(g);

	g = rig_new(65536, 1 << 20, 2048);
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, S2C, seg(5001, 1001, ACK, "220 hi\r\n")), TCP_REASM_OK);
	/* a retransmission acknowledging the client's command: a hold, no buffer */
	assert_int_equal(feed(g, S2C, seg(5001, 1011, ACK, "220 hi\r\n")), TCP_REASM_NO_DATA);
	assert_int_equal(st(g)->segs_in_use, 0);
	assert_int_equal(st(g)->sides_in_use, 1);
	tcp_reasm_pair_fini(g->r, &g->tp);
	assert_int_equal(st(g)->sides_in_use, 0);
	expect_out(g, S2C, "220 hi\r\n");
	rig_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasm_side_taken_and_returned),
		cmocka_unit_test(test_reasm_side_pool_exhausted_caps),
		cmocka_unit_test(test_reasm_side_pool_exhausted_no_hold),
		cmocka_unit_test(test_reasm_side_pool_exhausted_gap_at_flush),
		cmocka_unit_test(test_reasm_side_returned_when_holding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
