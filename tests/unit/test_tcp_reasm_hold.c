// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm: what the peer's ACKs do. Capture loss they reveal becomes a
 * gap, bytes that answer peer bytes not out yet are held for them (a late
 * SYN-ACK among them) and given up on when those never come, flush turns
 * holes into gaps, and segments the caps refuse while held. The rig is
 * tcp_reasm_fx.h.
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

/* The server acknowledges client bytes the capture lost: a gap, not a stall. */
static void test_reasm_ack_reveals_capture_loss(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 1000, 5000);
	/* 1001..1010 lost; 1011..1020 waits */
	assert_int_equal(feed(g, C2S, seg(1011, 5001, ACK, "BBBBBBBBBB")), TCP_REASM_BUFFERED);
	/* an ACK that only covers the SYN changes nothing */
	assert_int_equal(feed(g, S2C, seg(5001, 1001, ACK, NULL)), TCP_REASM_NO_DATA);
	/* acked up to 1021: the gap stops at the first buffered byte */
	assert_int_equal(feed(g, S2C, seg(5001, 1021, ACK, NULL)), TCP_REASM_OK);
	expect_out(g, C2S, "~~~~~~~~~~BBBBBBBBBB");
	assert_int_equal(g->last.dir, C2S);

	/* nothing buffered beyond the hole: the bytes may still be on their way */
	assert_int_equal(feed(g, S2C, seg(5001, 1031, ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(st(g)->gaps, 1);

	/* the FIN proves the stream moved on; it takes a number but no byte:
	 * ACK fin+1 means 20 missing, not 21 */
	assert_int_equal(feed(g, C2S, seg(1041, 5001, FIN | ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, S2C, seg(5001, 1042, ACK, NULL)), TCP_REASM_OK);
	assert_null(g->last.ptr);
	assert_int_equal(g->last.len, 0);
	assert_true(g->last.fin);
	assert_int_equal(g->last.gap, 20);
	expect_out(g, C2S, "~~~~~~~~~~BBBBBBBBBB~~~~~~~~~~~~~~~~~~~~");
	assert_int_equal(g->out[C2S].fins, 1);
	assert_int_equal(st(g)->gap_bytes, 30);
	assert_int_equal(st(g)->gaps, 2);

	/* data with an ACK: the peer's gap comes out before the data that acknowledged it */
	assert_int_equal(feed(g, S2C, seg(5001, 1042, ACK, "250 ok\r\n")), TCP_REASM_OK);
	expect_out(g, S2C, "250 ok\r\n");
	rig_free(g);
}

/* A tap with one port per direction: the server's ACK overtakes the client
 * data it acknowledges. The data arrives afterwards, in order: no gap. */
static void test_reasm_ack_before_its_data_is_no_gap(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, S2C, seg(5001, 1021, ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, C2S, seg(1001, 5001, ACK, "EHLO a.b\r\n")), TCP_REASM_OK);
	assert_int_equal(feed(g, C2S, seg(1011, 5001, ACK, "MAIL FROM:")), TCP_REASM_OK);
	expect_out(g, C2S, "EHLO a.b\r\nMAIL FROM:");
	assert_int_equal(st(g)->gaps, 0);
	assert_int_equal(st(g)->retransmits, 0);
	rig_free(g);
}

/* Two tap ports (or RX queues) crossed: the server's reply arrives before the
 * client command it acknowledges. The reply waits; the command goes first. */
static void test_reasm_reply_waits_for_the_command_it_answers(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, S2C, seg(5001, 1011, ACK, "250 ok\r\n")), TCP_REASM_BUFFERED);
	assert_int_equal(g->chunks, 0);
	assert_int_equal(feed(g, C2S, seg(1001, 5001, ACK, "EHLO a.b\r\n")), TCP_REASM_OK);
	expect_out(g, C2S, "EHLO a.b\r\n");
	expect_out(g, S2C, "250 ok\r\n");
	/* the reply came out last */
	assert_int_equal(g->last.dir, S2C);
	assert_int_equal(st(g)->held_segments, 1);
	assert_int_equal(st(g)->holds_given_up, 0);
	assert_int_equal(st(g)->gaps, 0);

	/* in order again: nothing is held */
	assert_int_equal(feed(g, C2S, seg(1011, 5009, ACK, "QUIT\r\n")), TCP_REASM_OK);
	assert_int_equal(feed(g, S2C, seg(5009, 1017, ACK, "221 bye\r\n")), TCP_REASM_OK);
	expect_out(g, S2C, "250 ok\r\n221 bye\r\n");
	assert_int_equal(st(g)->held_segments, 1);
	rig_free(g);
}

/*
 * Seen on two AF_XDP queues: the client's EHLO and MAIL came before the
 * greeting, then the greeting and the EHLO reply. EHLO waits for the
 * greeting only, MAIL for the EHLO reply, which waits for EHLO: each held
 * segment waits for what it acknowledged itself, not for the newest ACK of
 * its direction (both sides then waited on each other until the budget gave
 * up, and the session's replies were matched to the wrong commands).
 */
static void test_reasm_crossed_segments_wait_each_for_its_own_ack(void **state)
{
	static const char banner[] = "220 mx ESMTP\r\n", ehlo[] = "EHLO c\r\n",
			  mail[] = "MAIL FROM:<a@b>\r\n", helo_ok[] = "250 mx\r\n",
			  want[] = "220 mx ESMTP\r\nEHLO c\r\n250 mx\r\nMAIL FROM:<a@b>\r\n";
	const uint32_t c1 = 1001, s1 = 5001;
	const uint32_t c2 = c1 + sizeof(ehlo) - 1, s2 = s1 + sizeof(banner) - 1;
	const uint32_t s3 = s2 + sizeof(helo_ok) - 1;
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, C2S, seg(c1, s2, ACK, ehlo)), TCP_REASM_BUFFERED);
	assert_int_equal(feed(g, C2S, seg(c2, s3, ACK, mail)), TCP_REASM_BUFFERED);
	assert_int_equal(g->chunks, 0);
	feed(g, S2C, seg(s1, c1, ACK, banner));
	feed(g, S2C, seg(s2, c2, ACK, helo_ok));
	assert_int_equal(g->both.len, strlen(want));
	assert_memory_equal(g->both.buf, want, g->both.len);
	assert_int_equal(st(g)->holds_given_up, 0);
	assert_int_equal(st(g)->gaps, 0);
	rig_free(g);
}

/*
 * Also seen on two queues: the server's SYN-ACK, greeting and EHLO reply came
 * before the client's SYN and EHLO. The SYN-ACK's ACK is where the client's
 * stream starts, so the reply waits for the EHLO it acknowledges.
 */
static void test_reasm_syn_ack_before_the_syn_starts_the_peer(void **state)
{
	static const char banner[] = "220 mx\r\n", ehlo[] = "EHLO c\r\n", helo_ok[] = "250 mx\r\n",
			  want[] = "220 mx\r\nEHLO c\r\n250 mx\r\n";
	const uint32_t c1 = 1001, s1 = 5001, s2 = s1 + sizeof(banner) - 1;
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	assert_int_equal(feed(g, S2C, seg(s1 - 1, c1, SYN | ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, S2C, seg(s1, c1, ACK, banner)), TCP_REASM_OK);
	assert_int_equal(feed(g, S2C, seg(s2, c1 + sizeof(ehlo) - 1, ACK, helo_ok)),
			 TCP_REASM_BUFFERED);
	feed(g, C2S, seg(c1 - 1, 0, SYN, NULL));
	feed(g, C2S, seg(c1, s1, ACK, NULL));
	assert_int_equal(feed(g, C2S, seg(c1, s2, ACK, ehlo)), TCP_REASM_OK);
	assert_int_equal(g->both.len, strlen(want));
	assert_memory_equal(g->both.buf, want, g->both.len);
	assert_int_equal(st(g)->gaps, 0);
	assert_int_equal(st(g)->midstream, 0);
	rig_free(g);
}

/*
 * The SYN-ACK behind the client's first commands (two queues, the server's
 * drained late): the commands wait for the peer to start, then each for the
 * reply it acknowledges, and the banner comes out first.
 */
static void test_reasm_client_bytes_wait_for_a_late_syn_ack(void **state)
{
	static const char banner[] = "220 mx\r\n", ehlo[] = "EHLO c\r\n", helo_ok[] = "250 mx\r\n",
			  mail[] = "MAIL FROM:<a@b>\r\n",
			  want[] = "220 mx\r\nEHLO c\r\n250 mx\r\nMAIL FROM:<a@b>\r\n";
	const uint32_t c1 = 1001, c2 = c1 + sizeof(ehlo) - 1, s1 = 5001,
		       s2 = s1 + sizeof(banner) - 1, s3 = s2 + sizeof(helo_ok) - 1;
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	feed(g, C2S, seg(c1 - 1, 0, SYN, NULL));
	feed(g, C2S, seg(c1, s1, ACK, NULL));
	assert_int_equal(feed(g, C2S, seg(c1, s2, ACK, ehlo)), TCP_REASM_BUFFERED);
	assert_int_equal(feed(g, C2S, seg(c2, s3, ACK, mail)), TCP_REASM_BUFFERED);
	assert_int_equal(g->chunks, 0);
	assert_int_equal(feed(g, S2C, seg(s1 - 1, c1, SYN | ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(g->chunks, 0);
	feed(g, S2C, seg(s1, c1, ACK, banner));
	feed(g, S2C, seg(s2, c2, ACK, helo_ok));
	assert_int_equal(g->both.len, strlen(want));
	assert_memory_equal(g->both.buf, want, g->both.len);
	assert_int_equal(st(g)->gaps, 0);
	assert_int_equal(st(g)->holds_given_up, 0);
	rig_free(g);
}

/* Only the client's side on the tap: its FIN ends the wait for a SYN-ACK. */
static void test_reasm_late_syn_ack_wait_ends_at_fin(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	feed(g, C2S, seg(0, 0, SYN, NULL));
	assert_int_equal(feed(g, C2S, seg(1, 77, ACK, "EHLO a\r\n")), TCP_REASM_BUFFERED);
	assert_int_equal(feed(g, C2S, seg(9, 90, ACK, "QUIT\r\n")), TCP_REASM_BUFFERED);
	assert_int_equal(g->chunks, 0);
	assert_int_equal(feed(g, C2S, seg(15, 99, ACK | FIN, NULL)), TCP_REASM_OK);
	expect_out(g, C2S, "EHLO a\r\nQUIT\r\n");
	assert_int_equal(g->out[C2S].fins, 1);
	assert_true(tcp_reasm_is_closed(&g->tp));
	rig_free(g);
}

/* ... and the hold budget does, once: later bytes are not held again. */
static void test_reasm_late_syn_ack_wait_is_bounded(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);
	char blk[2001];
	uint32_t seq = 1;

	(void)state;
	memset(blk, 'C', 2000);
	blk[2000] = '\0';
	feed(g, C2S, seg(0, 0, SYN, NULL));
	for (int i = 0; i < 12; i++, seq += 2000)
		feed(g, C2S, seg(seq, 77, ACK, blk));
	assert_int_equal(st(g)->holds_given_up, 1);
	assert_int_equal(g->out[C2S].len, 12 * 2000);
	assert_int_equal(feed(g, C2S, seg(seq, 78, ACK, "more")), TCP_REASM_OK);
	assert_int_equal(g->out[C2S].len, 12 * 2000 + 4);
	rig_free(g);
}

/* The command was lost by the capture: the replies wait only so long. */
static void test_reasm_hold_is_given_up_when_peer_bytes_never_come(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);
	char blk[2001];
	uint32_t seq = 5001;

	(void)state;
	memset(blk, 'R', 2000);
	blk[2000] = '\0';
	handshake(g, 1000, 5000);
	for (int i = 0; i < 9; i++, seq += 2000)
		feed(g, S2C, seg(seq, 1011, ACK, blk));
	assert_true(st(g)->holds_given_up >= 1);
	assert_int_equal(g->out[S2C].len, 9 * 2000);
	assert_int_equal(g->out[C2S].len, 0);
	rig_free(g);
}

/* At the end of the flow nothing waits any more. */
static void test_reasm_flush_releases_held_bytes(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, S2C, seg(5001, 1011, ACK, "354 go\r\n")), TCP_REASM_BUFFERED);
	assert_int_equal(g->chunks, 0);
	tcp_reasm_flush(g->r, &g->tp);
	drain_pair(g, &g->tp);
	expect_out(g, S2C, "354 go\r\n");
	rig_free(g);
}

/* ACK from a side whose peer never started: nothing to skip. */
static void test_reasm_ack_needs_started_direction(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	assert_int_equal(feed(g, S2C, seg(9, 5000, ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(st(g)->gaps, 0);
	assert_int_equal(g->chunks, 0);
	rig_free(g);
}

static void test_reasm_flush_delivers_holes_as_gaps(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 0, 100);
	feed(g, C2S, seg(1, 101, ACK, "HELO"));
	feed(g, C2S, seg(11, 101, ACK, "0123456789"));
	feed(g, C2S, seg(31, 101, ACK, "abcdefghij"));
	feed(g, C2S, seg(51, 101, FIN | ACK, NULL));
	feed(g, S2C, seg(111, 1, ACK, "later"));
	expect_out(g, C2S, "HELO");
	expect_out(g, S2C, "");
	assert_int_equal(st(g)->segs_in_use, 3);

	tcp_reasm_flush(g->r, &g->tp);
	drain_pair(g, &g->tp);
	expect_out(g, C2S, "HELO~~~~~~0123456789~~~~~~~~~~abcdefghij~~~~~~~~~~");
	expect_out(g, S2C, "~~~~~~~~~~later");
	assert_int_equal(g->out[C2S].fins, 1);
	assert_int_equal(g->out[S2C].fins, 0);
	assert_int_equal(st(g)->gaps, 4);
	assert_int_equal(st(g)->gap_bytes, 6 + 10 + 10 + 10);
	/* a later call returns the buffers */
	assert_false(tcp_reasm_next(g->r, &g->tp, &g->last));
	assert_int_equal(st(g)->segs_in_use, 0);
	rig_free(g);
}

/*
 * A segment the caps refused goes out from its packet at once, even when it
 * answers peer bytes not seen yet (nowhere to wait); afterwards no view is
 * left for a later flush (timeout, eviction) to read from a frame the NIC has
 * had back since.
 */
static void test_reasm_refused_held_segment_goes_out_now(void **state)
{
	struct rig *g = rig_new(100, 1 << 20, 64);
	char frame[121], want[300];

	(void)state;
	memset(frame, 'r', 120);
	frame[120] = '\0';
	handshake(g, 1000, 5000);
	/* 100 reply bytes lost, then 120, over the 100-byte cap, ACKing an unseen command */
	assert_int_equal(feed(g, S2C, seg(5101, 1011, ACK, frame)), TCP_REASM_OK);
	snprintf(want, sizeof(want), "%100s%s", "", frame);
	memset(want, '~', 100);
	expect_out(g, S2C, want);
	assert_int_equal(st(g)->flow_cap_hits, 1);
	assert_int_equal(st(g)->holds_given_up, 1);
	memset(frame, 'X', 120); /* the frame is reused */
	tcp_reasm_flush(g->r, &g->tp);
	drain_pair(g, &g->tp);
	expect_out(g, S2C, want);
	rig_free(g);
}

/* The same with peer bytes to deliver first: they come out first, then the refused segment. */
static void test_reasm_refused_segment_after_peer_bytes(void **state)
{
	struct rig *g = rig_new(100, 1 << 20, 64);
	char frame[121], want[300];

	(void)state;
	memset(frame, 'r', 120);
	frame[120] = '\0';
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, C2S, seg(1051, 5001, ACK, "MAIL FROM:<a@b.c>\r\n")),
			 TCP_REASM_BUFFERED);
	/* it ACKs client bytes up to 1201: the 50 missing ones were lost */
	assert_int_equal(feed(g, S2C, seg(5101, 1201, ACK, frame)), TCP_REASM_OK);
	expect_out(g, C2S,
		   "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~MAIL FROM:<a@b.c>\r\n");
	snprintf(want, sizeof(want), "%100s%s", "", frame);
	memset(want, '~', 100);
	expect_out(g, S2C, want);
	assert_int_equal(g->last.dir, S2C);
	memset(frame, 'X', 120);
	tcp_reasm_flush(g->r, &g->tp);
	drain_pair(g, &g->tp);
	expect_out(g, S2C, want);
	rig_free(g);
}

/* In-order bytes behind a held buffer wait with it, whatever their own ACK says. */
static void test_reasm_bytes_behind_held_buffer_wait(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, C2S, seg(1001, 5001, ACK, "EHLO a\r\n")), TCP_REASM_OK);
	/* acknowledges client bytes not seen yet: held */
	assert_int_equal(feed(g, S2C, seg(5001, 1100, ACK, "2")), TCP_REASM_BUFFERED);
	/* the same start again with more, acknowledging only what came out */
	assert_int_equal(feed(g, S2C, seg(5001, 1005, ACK, "250 ok\r\n")), TCP_REASM_BUFFERED);
	expect_out(g, S2C, "");
	tcp_reasm_flush(g->r, &g->tp);
	drain_pair(g, &g->tp);
	expect_out(g, S2C, "250 ok\r\n");
	assert_int_equal(st(g)->gaps, 0);
	rig_free(g);
}

/*
 * An in-order segment reaching past a held buffer: its bytes behind the
 * buffer wait with it, they do not leave with the packet (flow_reasm fuzzing
 * found them lost, and a later retransmission with other bytes delivered).
 */
static void test_reasm_in_order_bytes_past_held_buffer_kept(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);
	char client[92];

	(void)state;
	memset(client, 'x', 91);
	client[91] = '\0';
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, C2S, seg(1001, 5001, ACK, "EHLO a\r\n")), TCP_REASM_OK);
	/* out of order, acknowledging client bytes not seen yet: held */
	assert_int_equal(feed(g, S2C, seg(5005, 1100, ACK, "ok\r\n")), TCP_REASM_BUFFERED);
	/* in order, over the held buffer and past it */
	assert_int_equal(feed(g, S2C, seg(5001, 1009, ACK, "250 ok\r\n250 more\r\n")),
			 TCP_REASM_OK);
	expect_out(g, S2C, "250 ");
	/* the client bytes the buffer acknowledged: everything follows */
	assert_int_equal(feed(g, C2S, seg(1009, 5001, ACK, client)), TCP_REASM_OK);
	expect_out(g, S2C, "250 ok\r\n250 more\r\n");
	assert_int_equal(g->last.dir, S2C);
	assert_int_equal(st(g)->gaps, 0);
	assert_int_equal(st(g)->holds_given_up, 0);
	rig_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasm_ack_reveals_capture_loss),
		cmocka_unit_test(test_reasm_ack_before_its_data_is_no_gap),
		cmocka_unit_test(test_reasm_reply_waits_for_the_command_it_answers),
		cmocka_unit_test(test_reasm_crossed_segments_wait_each_for_its_own_ack),
		cmocka_unit_test(test_reasm_syn_ack_before_the_syn_starts_the_peer),
		cmocka_unit_test(test_reasm_hold_is_given_up_when_peer_bytes_never_come),
		cmocka_unit_test(test_reasm_flush_releases_held_bytes),
		cmocka_unit_test(test_reasm_ack_needs_started_direction),
		cmocka_unit_test(test_reasm_flush_delivers_holes_as_gaps),
		cmocka_unit_test(test_reasm_client_bytes_wait_for_a_late_syn_ack),
		cmocka_unit_test(test_reasm_late_syn_ack_wait_ends_at_fin),
		cmocka_unit_test(test_reasm_late_syn_ack_wait_is_bounded),
		cmocka_unit_test(test_reasm_refused_held_segment_goes_out_now),
		cmocka_unit_test(test_reasm_refused_segment_after_peer_bytes),
		cmocka_unit_test(test_reasm_bytes_behind_held_buffer_wait),
		cmocka_unit_test(test_reasm_in_order_bytes_past_held_buffer_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
