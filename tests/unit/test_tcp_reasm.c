// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm: every chunk handed out is appended to a per-direction transcript
 * in which a gap of n bytes is written as n '~', so each test states exactly
 * which bytes (and which holes) the consumer sees. This file: creation,
 * in-order and out-of-order delivery, overlaps, wraparound, the caps, and
 * the end of a pair (FIN, RST, bypass, one-sided and midstream streams, a
 * new ISN, fini, an undrained view). Holds and gaps are in
 * test_tcp_reasm_hold.c, side slots in test_tcp_reasm_side.c; the rig is
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

static void test_reasm_create_args(void **state)
{
	struct tcp_reasm_cfg cfg;
	struct tcp_reasm *r = NULL;

	(void)state;
	tcp_reasm_cfg_default(&cfg);
	cfg.seg_bytes = 0;
	assert_int_equal(tcp_reasm_create(&cfg, &r), -EINVAL);
	tcp_reasm_cfg_default(&cfg);
	cfg.total_bytes = cfg.seg_bytes - 1;
	assert_int_equal(tcp_reasm_create(&cfg, &r), -EINVAL);
	assert_null(r);
	tcp_reasm_destroy(NULL);
}

/* In-order payload is handed out as the packet's own bytes. */
static void test_reasm_in_order_zero_copy(void **state)
{
	static const char banner[] = "220 mx.example.org ESMTP\r\n";
	static const char ehlo[] = "EHLO client.example.net\r\n";
	struct rig *g = rig_new(65536, 1 << 20, 2048);
	struct tcp_reasm_chunk c;
	struct pkt_meta m;

	(void)state;
	handshake(g, 1000, 5000);
	m = seg(5001, 1001, ACK | PKT_TCP_PSH, banner);
	assert_int_equal(tcp_reasm_add(g->r, &g->tp, S2C, &m), TCP_REASM_OK);
	assert_true(tcp_reasm_next(g->r, &g->tp, &c));
	assert_ptr_equal(c.ptr, (const uint8_t *)banner);
	assert_int_equal(c.len, strlen(banner));
	assert_int_equal(c.gap, 0);
	assert_int_equal(c.dir, S2C);
	assert_false(c.fin);
	assert_true(c.last); /* the worker stops asking here */
	assert_false(tcp_reasm_next(g->r, &g->tp, &c));

	m = seg(1001, 5001 + strlen(banner), ACK | PKT_TCP_PSH, ehlo);
	assert_int_equal(tcp_reasm_add(g->r, &g->tp, C2S, &m), TCP_REASM_OK);
	assert_true(tcp_reasm_next(g->r, &g->tp, &c));
	assert_ptr_equal(c.ptr, (const uint8_t *)ehlo);
	assert_int_equal(c.dir, C2S);
	assert_true(c.last);
	assert_false(tcp_reasm_next(g->r, &g->tp, &c));

	assert_int_equal(st(g)->bytes_in_order, strlen(banner) + strlen(ehlo));
	assert_int_equal(st(g)->segments, 2);
	assert_int_equal(st(g)->bytes_buffered, 0);
	assert_int_equal(st(g)->segs_in_use, 0);
	assert_int_equal(st(g)->midstream, 0);
	assert_false(tcp_reasm_is_closed(&g->tp));
	rig_free(g);
}

static void permute_and_check(const uint32_t order[4], uint32_t isn, uint32_t seg_bytes)
{
	static const char *part[4] = {"MAIL FROM:", "<alice@exa", "mple.org> SIZE=1024", "\r\n"};
	static const char whole[] = "MAIL FROM:<alice@example.org> SIZE=1024\r\n";
	struct rig *g = rig_new(65536, 1 << 20, seg_bytes);
	uint32_t off[4], o = 0;

	for (int i = 0; i < 4; i++) {
		off[i] = o;
		o += (uint32_t)strlen(part[i]);
	}
	handshake(g, isn, 7);
	for (int i = 0; i < 4; i++) {
		uint32_t k = order[i];

		feed(g, C2S, seg(isn + 1 + off[k], 8, ACK, part[k]));
	}
	expect_out(g, C2S, whole);
	assert_int_equal(st(g)->gaps, 0);
	assert_int_equal(st(g)->bytes_in_order + st(g)->bytes_buffered, strlen(whole));
	rig_free(g);
}

/* Four segments in each of the 24 orders give the same bytes; also across 2^32. */
static void test_reasm_out_of_order_every_permutation(void **state)
{
	uint32_t order[4];
	unsigned int n = 0;

	(void)state;
	for (uint32_t a = 0; a < 4; a++)
		for (uint32_t b = 0; b < 4; b++)
			for (uint32_t c = 0; c < 4; c++)
				for (uint32_t d = 0; d < 4; d++) {
					if (a == b || a == c || a == d || b == c || b == d ||
					    c == d)
						continue;
					order[0] = a;
					order[1] = b;
					order[2] = c;
					order[3] = d;
					permute_and_check(order, 100, 2048);
					permute_and_check(order, 0xffffffe0u, 2048);
					permute_and_check(order, 0xfffffff0u, 64);
					n++;
				}
	assert_int_equal(n, 24);
}

static void test_reasm_retransmission_dropped(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 0, 0);
	feed(g, C2S, seg(1, 1, ACK, "RCPT TO:<bob@example.org>\r\n"));
	assert_int_equal(feed(g, C2S, seg(1, 1, ACK, "RCPT TO:<bob@example.org>\r\n")),
			 TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, C2S, seg(10, 1, ACK, "<bob@")), TCP_REASM_NO_DATA);
	expect_out(g, C2S, "RCPT TO:<bob@example.org>\r\n");
	assert_int_equal(st(g)->retransmits, 2);
	assert_int_equal(st(g)->overlaps, 0);
	rig_free(g);
}

/* Overlaps: the bytes that arrived first win, on either side of a buffered segment. */
static void test_reasm_partial_overlaps(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 0, 0);
	/* left: the first two bytes were delivered already */
	feed(g, C2S, seg(1, 1, ACK, "DATA\r\n"));
	assert_int_equal(feed(g, C2S, seg(5, 1, ACK, "xx\r\nFrom: a\r\n")), TCP_REASM_OK);
	expect_out(g, C2S, "DATA\r\n\r\nFrom: a\r\n");
	assert_int_equal(st(g)->overlaps, 1);

	/* a segment spanning both sides of a buffered one: only the holes are copied */
	g->out[C2S].len = 0;
	assert_int_equal(feed(g, C2S, seg(30, 1, ACK, "FIRST")), TCP_REASM_BUFFERED);
	assert_int_equal(feed(g, C2S, seg(25, 1, ACK, "aaaaaXXXXXbbbbb")), TCP_REASM_BUFFERED);
	assert_int_equal(st(g)->buffered_now, 15);
	/* an in-order packet over the buffered bytes: they stay, having come first */
	assert_int_equal(feed(g, C2S, seg(18, 1, ACK, "0123456YYYYYYYYYYYYYYYzzz")), TCP_REASM_OK);
	expect_out(g, C2S, "0123456aaaaaFIRSTbbbbbzzz");
	assert_int_equal(st(g)->overlaps, 3);
	assert_int_equal(st(g)->bytes_buffered, 15);
	assert_int_equal(st(g)->bytes_in_order, 6 + 11 + 7 + 3);

	/* wholly inside buffered bytes: nothing new */
	assert_int_equal(feed(g, C2S, seg(60, 1, ACK, "0123456789")), TCP_REASM_BUFFERED);
	assert_int_equal(feed(g, C2S, seg(62, 1, ACK, "abc")), TCP_REASM_NO_DATA);
	assert_int_equal(st(g)->buffered_now, 10);
	rig_free(g);
}

static void test_reasm_wraparound(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);
	uint32_t isn = 0xfffffff8u; /* the data crosses 2^32 */

	(void)state;
	handshake(g, isn, 1);
	feed(g, C2S, seg(isn + 1, 2, ACK, "QUIT"));
	assert_int_equal(feed(g, C2S, seg(isn + 11, 2, ACK, "after wrap\r\n")), TCP_REASM_BUFFERED);
	assert_int_equal(feed(g, C2S, seg(isn + 5, 2, ACK, "\r\nNOOP")), TCP_REASM_OK);
	expect_out(g, C2S, "QUIT\r\nNOOPafter wrap\r\n");
	/* old bytes from before the wrap are retransmissions, not data 4 GB ahead */
	assert_int_equal(feed(g, C2S, seg(isn + 1, 2, ACK, "QUIT")), TCP_REASM_NO_DATA);
	assert_int_equal(st(g)->retransmits, 1);
	assert_int_equal(st(g)->gaps, 0);
	rig_free(g);
}

/* Per-direction cap: skip to the first buffered byte, report exactly what is missing. */
static void test_reasm_flow_cap_forces_gap(void **state)
{
	char a[51], b[61];
	struct rig *g = rig_new(100, 1 << 20, 64);
	char want[200];

	(void)state;
	memset(a, 'a', 50);
	a[50] = 0;
	memset(b, 'b', 60);
	b[60] = 0;
	handshake(g, 0, 0);
	/* 40 bytes lost at 1..40; 50 buffered; 60 more would pass 100 */
	assert_int_equal(feed(g, C2S, seg(41, 1, ACK, a)), TCP_REASM_BUFFERED);
	assert_int_equal(feed(g, C2S, seg(91, 1, ACK, b)), TCP_REASM_OK);
	snprintf(want, sizeof(want), "%.40s%s%s", "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", a, b);
	expect_out(g, C2S, want);
	assert_int_equal(st(g)->flow_cap_hits, 1);
	assert_int_equal(st(g)->total_cap_hits, 0);
	assert_int_equal(st(g)->gaps, 1);
	assert_int_equal(st(g)->gap_bytes, 40);

	/* a segment bigger than the cap on its own, with nothing buffered */
	char big[121];

	memset(big, 'c', 120);
	big[120] = 0;
	g->out[C2S].len = 0;
	assert_int_equal(feed(g, C2S, seg(161, 1, ACK, big)), TCP_REASM_OK);
	snprintf(want, sizeof(want), "~~~~~~~~~~%s", big);
	expect_out(g, C2S, want);
	assert_int_equal(st(g)->flow_cap_hits, 2);
	assert_int_equal(st(g)->gap_bytes, 50);
	rig_free(g);
}

/* Worker cap: one pair holds the whole pool; another pair then skips instead of waiting. */
static void test_reasm_pool_cap_forces_gap(void **state)
{
	char full[129];
	struct rig *g = rig_new(4096, 128, 64);
	struct tcp_reasm_pair other;
	struct pkt_meta m;

	(void)state;
	memset(full, 'p', 128);
	full[128] = 0;
	handshake(g, 0, 0);
	assert_int_equal(feed(g, C2S, seg(11, 1, ACK, full)), TCP_REASM_BUFFERED);
	assert_int_equal(st(g)->segs_in_use, 2);

	tcp_reasm_pair_init(&other);
	m = seg(1, 0, SYN, NULL);
	tcp_reasm_add(g->r, &other, C2S, &m);
	m = seg(22, 0, ACK, "later");
	assert_int_equal(tcp_reasm_add(g->r, &other, C2S, &m), TCP_REASM_OK);
	drain_pair(g, &other);
	expect_out(g, C2S, "~~~~~~~~~~~~~~~~~~~~later");
	assert_int_equal(st(g)->total_cap_hits, 1);
	assert_int_equal(st(g)->flow_cap_hits, 0);
	tcp_reasm_pair_fini(g->r, &other);
	rig_free(g);
}

/* 1-byte segments with holes between them cannot take the whole pool. */
static void test_reasm_tiny_segments_bounded(void **state)
{
	struct rig *g = rig_new(1024, 1 << 20, 64); /* at most 32 buffers per direction */

	(void)state;
	handshake(g, 0, 0);
	for (uint32_t i = 0; i < 32; i++)
		assert_int_equal(feed(g, C2S, seg(100 + 2 * i, 1, ACK, "x")), TCP_REASM_BUFFERED);
	assert_int_equal(st(g)->segs_in_use, 32);
	assert_int_equal(st(g)->flow_cap_hits, 0);
	feed(g, C2S, seg(200, 1, ACK, "y"));
	assert_int_equal(st(g)->flow_cap_hits, 1);
	assert_true(st(g)->segs_in_use <= 32);

	/* contiguous small segments share buffers instead */
	tcp_reasm_pair_fini(g->r, &g->tp);
	tcp_reasm_pair_init(&g->tp);
	g->chunks = 0;
	handshake(g, 0, 0);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(feed(g, C2S, seg(101 + 10 * i, 1, ACK, "0123456789")),
				 TCP_REASM_BUFFERED);
	assert_int_equal(st(g)->segs_in_use, 2);
	assert_int_equal(st(g)->buffered_now, 100);
	rig_free(g);
}

static void test_reasm_fin_and_is_closed(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 0, 0);
	feed(g, C2S, seg(1, 1, ACK | FIN, "QUIT\r\n"));
	assert_true(g->last.fin);
	assert_int_equal(g->last.len, 6);
	assert_int_equal(g->out[C2S].fins, 1);
	assert_false(tcp_reasm_is_closed(&g->tp));
	/* retransmitted FIN, and bytes past the FIN: no second end, nothing new */
	assert_int_equal(feed(g, C2S, seg(1, 1, ACK | FIN, "QUIT\r\n")), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, C2S, seg(7, 1, ACK, "junk")), TCP_REASM_NO_DATA);
	assert_int_equal(g->out[C2S].fins, 1);
	expect_out(g, C2S, "QUIT\r\n");

	/* server FIN before its last data: the end waits for the bytes */
	assert_int_equal(feed(g, S2C, seg(11, 8, ACK | FIN, NULL)), TCP_REASM_NO_DATA);
	assert_false(tcp_reasm_is_closed(&g->tp));
	assert_int_equal(feed(g, S2C, seg(1, 8, ACK, "221 bye\r\n\r")), TCP_REASM_OK);
	assert_true(g->last.fin);
	expect_out(g, S2C, "221 bye\r\n\r");
	assert_int_equal(g->out[S2C].fins, 1);
	assert_true(tcp_reasm_is_closed(&g->tp));
	rig_free(g);
}

static void test_reasm_empty_fin_chunk(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 0, 0);
	feed(g, C2S, seg(1, 1, ACK, "QUIT\r\n"));
	assert_int_equal(feed(g, C2S, seg(7, 1, ACK | FIN, NULL)), TCP_REASM_OK);
	assert_true(g->last.fin);
	assert_null(g->last.ptr);
	assert_int_equal(g->last.len, 0);
	rig_free(g);
}

static void test_reasm_rst_closes(void **state)
{
	for (int dir = 0; dir < 2; dir++) {
		struct rig *g = rig_new(65536, 1 << 20, 2048);

		(void)state;
		handshake(g, 0, 0);
		feed(g, C2S, seg(5, 1, ACK, "held")); /* buffered behind a hole */
		assert_false(tcp_reasm_is_closed(&g->tp));
		feed(g, (enum flow_dir)dir, seg(1, 1, RST | ACK, NULL));
		assert_true(tcp_reasm_is_closed(&g->tp));
		assert_true(g->tp.dir[dir].flags & TCP_REASM_F_RST);
		rig_free(g);
	}
}

/* L7 stops caring: buffers go back, nothing is delivered, the end is still seen. */
static void test_reasm_bypass_then_fin(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 0, 0);
	feed(g, C2S, seg(1, 1, ACK, "STARTTLS\r\n"));
	feed(g, C2S, seg(31, 1, ACK, "0123456789")); /* held behind a hole */
	assert_int_equal(st(g)->segs_in_use, 1);
	tcp_reasm_bypass(g->r, &g->tp);
	assert_int_equal(st(g)->segs_in_use, 0);
	assert_int_equal(st(g)->buffered_now, 0);

	assert_int_equal(feed(g, C2S, seg(11, 1, ACK, "TLSclient!")), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, S2C, seg(1, 20, ACK, "TLSserver!")), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, C2S, seg(41, 1, ACK | FIN, NULL)), TCP_REASM_NO_DATA);
	assert_false(tcp_reasm_is_closed(&g->tp));
	assert_int_equal(feed(g, S2C, seg(30, 42, ACK | FIN, NULL)), TCP_REASM_NO_DATA);
	assert_true(tcp_reasm_is_closed(&g->tp));
	expect_out(g, C2S, "STARTTLS\r\n");
	expect_out(g, S2C, "");
	assert_int_equal(st(g)->bypassed_bytes, 10 + 10 + 10);
	rig_free(g);
}

/* A tap that shows only one direction: its FIN alone closes the pair. */
static void test_reasm_one_sided_stream(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	feed(g, C2S, seg(0, 0, SYN, NULL));
	feed(g, C2S, seg(1, 77, ACK, "EHLO a\r\n"));
	feed(g, C2S, seg(9, 77, ACK, "QUIT\r\n"));
	assert_false(tcp_reasm_is_closed(&g->tp));
	feed(g, C2S, seg(15, 77, ACK | FIN, NULL));
	assert_true(tcp_reasm_is_closed(&g->tp));
	expect_out(g, C2S, "EHLO a\r\nQUIT\r\n");
	assert_int_equal(st(g)->gaps, 0);
	rig_free(g);
}

static void test_reasm_midstream_pickup(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	assert_int_equal(feed(g, S2C, seg(777, 3000, ACK, "250 2.1.0 Ok\r\n")), TCP_REASM_OK);
	assert_int_equal(feed(g, C2S, seg(3000, 791, ACK, "RCPT TO:<x@y>\r\n")), TCP_REASM_OK);
	/* earlier bytes arriving late are not replayed */
	assert_int_equal(feed(g, S2C, seg(700, 3000, ACK, "old")), TCP_REASM_NO_DATA);
	expect_out(g, S2C, "250 2.1.0 Ok\r\n");
	expect_out(g, C2S, "RCPT TO:<x@y>\r\n");
	assert_int_equal(st(g)->midstream, 2);
	assert_false(g->tp.dir[C2S].flags & TCP_REASM_F_SYN);
	rig_free(g);
}

/* A SYN retried with a new ISN before any data starts the stream over. */
static void test_reasm_syn_new_isn_resets(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	feed(g, C2S, seg(100, 0, SYN, NULL));
	feed(g, C2S, seg(100, 0, SYN, NULL)); /* same ISN: a plain retransmission */
	assert_int_equal(g->tp.dir[C2S].next_seq, 101);
	feed(g, C2S, seg(90000, 0, SYN, NULL));
	feed(g, S2C, seg(0, 90001, SYN | ACK, NULL));
	assert_int_equal(feed(g, C2S, seg(90001, 1, ACK, "EHLO b\r\n")), TCP_REASM_OK);
	expect_out(g, C2S, "EHLO b\r\n");
	/* once data flowed, a stray SYN changes nothing */
	feed(g, C2S, seg(5, 0, SYN, NULL));
	assert_int_equal(feed(g, C2S, seg(90009, 1, ACK, "QUIT\r\n")), TCP_REASM_OK);
	expect_out(g, C2S, "EHLO b\r\nQUIT\r\n");
	rig_free(g);
}

/* Finishing a pair hands every buffer back, in both directions. */
static void test_reasm_pair_fini_returns_buffers(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 64);
	char big[300];

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	handshake(g, 0, 0);
	feed(g, C2S, seg(100, 1, ACK, big));
	feed(g, C2S, seg(1000, 1, ACK, "tail"));
	feed(g, S2C, seg(50, 1, ACK, big));
	assert_int_equal(st(g)->segs_in_use, 5 + 1 + 5);
	assert_int_equal(st(g)->buffered_now, 299 * 2 + 4);
	assert_int_equal(tcp_reasm_buffered(g->r, &g->tp, C2S), 303);
	tcp_reasm_pair_fini(g->r, &g->tp);
	assert_int_equal(tcp_reasm_buffered(g->r, &g->tp, C2S), 0);
	assert_int_equal(st(g)->sides_in_use, 0);
	rig_free(g);
}

/* A view nobody drained is dropped at the next add, never read after its frame is gone. */
static void test_reasm_undrained_view_dropped(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);
	struct pkt_meta m = seg(1, 1, ACK, "lost");

	(void)state;
	handshake(g, 0, 0);
	assert_int_equal(tcp_reasm_add(g->r, &g->tp, C2S, &m), TCP_REASM_OK);
	m = seg(5, 1, ACK, "next");
	assert_int_equal(tcp_reasm_add(g->r, &g->tp, C2S, &m), TCP_REASM_BUFFERED);
	tcp_reasm_flush(g->r, &g->tp);
	drain_pair(g, &g->tp);
	expect_out(g, C2S, "~~~~next");
	rig_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasm_create_args),
		cmocka_unit_test(test_reasm_in_order_zero_copy),
		cmocka_unit_test(test_reasm_out_of_order_every_permutation),
		cmocka_unit_test(test_reasm_retransmission_dropped),
		cmocka_unit_test(test_reasm_partial_overlaps),
		cmocka_unit_test(test_reasm_wraparound),
		cmocka_unit_test(test_reasm_flow_cap_forces_gap),
		cmocka_unit_test(test_reasm_pool_cap_forces_gap),
		cmocka_unit_test(test_reasm_tiny_segments_bounded),
		cmocka_unit_test(test_reasm_fin_and_is_closed),
		cmocka_unit_test(test_reasm_empty_fin_chunk),
		cmocka_unit_test(test_reasm_rst_closes),
		cmocka_unit_test(test_reasm_bypass_then_fin),
		cmocka_unit_test(test_reasm_one_sided_stream),
		cmocka_unit_test(test_reasm_midstream_pickup),
		cmocka_unit_test(test_reasm_syn_new_isn_resets),
		cmocka_unit_test(test_reasm_pair_fini_returns_buffers),
		cmocka_unit_test(test_reasm_undrained_view_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
