// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm: every chunk handed out is appended to a per-direction transcript
 * in which a gap of n bytes is written as n '~', so each test states exactly
 * which bytes (and which holes) the consumer sees.
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

#define C2S FLOW_DIR_TO_SERVER
#define S2C FLOW_DIR_TO_CLIENT
#define ACK PKT_TCP_ACK
#define SYN PKT_TCP_SYN
#define FIN PKT_TCP_FIN
#define RST PKT_TCP_RST

struct transcript {
	char buf[1 << 16];
	uint32_t len;
	unsigned int fins;
};

struct rig {
	struct tcp_reasm *r;
	struct tcp_reasm_pair tp;
	struct transcript out[2];
	struct transcript both; /* both directions in the order they came out */
	struct tcp_reasm_chunk last;
	unsigned int chunks;
};

static struct rig *rig_new_sides(uint32_t flow_bytes, uint64_t total_bytes, uint32_t seg_bytes,
				 uint32_t side_slots)
{
	struct tcp_reasm_cfg cfg = {
		.flow_bytes = flow_bytes,
		.total_bytes = total_bytes,
		.seg_bytes = seg_bytes,
		.side_slots = side_slots,
	};
	struct rig *g = test_calloc(1, sizeof(*g));

	assert_int_equal(tcp_reasm_create(&cfg, &g->r), 0);
	tcp_reasm_pair_init(&g->tp);
	return g;
}

static struct rig *rig_new(uint32_t flow_bytes, uint64_t total_bytes, uint32_t seg_bytes)
{
	return rig_new_sides(flow_bytes, total_bytes, seg_bytes, 0);
}

/* The pool must be whole again once the pair is finished. */
static void rig_free(struct rig *g)
{
	tcp_reasm_pair_fini(g->r, &g->tp);
	tcp_reasm_pair_fini(g->r, &g->tp);
	assert_int_equal(tcp_reasm_stats(g->r)->segs_in_use, 0);
	assert_int_equal(tcp_reasm_stats(g->r)->buffered_now, 0);
	assert_int_equal(tcp_reasm_stats(g->r)->sides_in_use, 0);
	tcp_reasm_destroy(g->r);
	test_free(g);
}

static struct pkt_meta seg(uint32_t seq, uint32_t ack, uint8_t flags, const char *payload)
{
	struct pkt_meta m = {
		.tcp_flags = flags,
		.seq = seq,
		.ack = ack,
		.payload = (const uint8_t *)payload,
		.payload_len = payload ? (uint32_t)strlen(payload) : 0,
	};

	return m;
}

static unsigned int drain_pair(struct rig *g, struct tcp_reasm_pair *tp)
{
	struct tcp_reasm_chunk c;
	unsigned int n = 0;

	while (tcp_reasm_next(g->r, tp, &c)) {
		struct transcript *t = &g->out[c.dir];

		assert_true(++n < 1000);
		assert_true(t->len + c.gap + c.len <= sizeof(t->buf));
		assert_true(c.len == 0 || c.ptr != NULL);
		memset(t->buf + t->len, '~', c.gap);
		t->len += c.gap;
		if (c.len)
			memcpy(t->buf + t->len, c.ptr, c.len);
		t->len += c.len;
		assert_true(g->both.len + c.len <= sizeof(g->both.buf));
		if (c.len)
			memcpy(g->both.buf + g->both.len, c.ptr, c.len);
		g->both.len += c.len;
		t->fins += c.fin;
		g->last = c;
	}
	g->chunks += n;
	return n;
}

static enum tcp_reasm_status feed(struct rig *g, enum flow_dir dir, struct pkt_meta m)
{
	enum tcp_reasm_status st = tcp_reasm_add(g->r, &g->tp, dir, &m);

	drain_pair(g, &g->tp);
	return st;
}

static void expect_out(const struct rig *g, enum flow_dir dir, const char *want)
{
	const struct transcript *t = &g->out[dir];

	assert_int_equal(t->len, strlen(want));
	assert_memory_equal(t->buf, want, t->len);
}

static const struct tcp_reasm_stats *st(const struct rig *g)
{
	return tcp_reasm_stats(g->r);
}

/* Handshake with client ISN ci and server ISN si. */
static void handshake(struct rig *g, uint32_t ci, uint32_t si)
{
	assert_int_equal(feed(g, C2S, seg(ci, 0, SYN, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, S2C, seg(si, ci + 1, SYN | ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, C2S, seg(ci + 1, si + 1, ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(g->chunks, 0);
}

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
	assert_false(tcp_reasm_next(g->r, &g->tp, &c));

	m = seg(1001, 5001 + strlen(banner), ACK | PKT_TCP_PSH, ehlo);
	assert_int_equal(tcp_reasm_add(g->r, &g->tp, C2S, &m), TCP_REASM_OK);
	assert_true(tcp_reasm_next(g->r, &g->tp, &c));
	assert_ptr_equal(c.ptr, (const uint8_t *)ehlo);
	assert_int_equal(c.dir, C2S);
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

/* ---- side slots: out-of-order, hold and gap state outside the pair ---- */

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
		cmocka_unit_test(test_reasm_create_args),
		cmocka_unit_test(test_reasm_in_order_zero_copy),
		cmocka_unit_test(test_reasm_out_of_order_every_permutation),
		cmocka_unit_test(test_reasm_retransmission_dropped),
		cmocka_unit_test(test_reasm_partial_overlaps),
		cmocka_unit_test(test_reasm_wraparound),
		cmocka_unit_test(test_reasm_flow_cap_forces_gap),
		cmocka_unit_test(test_reasm_pool_cap_forces_gap),
		cmocka_unit_test(test_reasm_tiny_segments_bounded),
		cmocka_unit_test(test_reasm_ack_reveals_capture_loss),
		cmocka_unit_test(test_reasm_ack_before_its_data_is_no_gap),
		cmocka_unit_test(test_reasm_reply_waits_for_the_command_it_answers),
		cmocka_unit_test(test_reasm_crossed_segments_wait_each_for_its_own_ack),
		cmocka_unit_test(test_reasm_syn_ack_before_the_syn_starts_the_peer),
		cmocka_unit_test(test_reasm_hold_is_given_up_when_peer_bytes_never_come),
		cmocka_unit_test(test_reasm_flush_releases_held_bytes),
		cmocka_unit_test(test_reasm_ack_needs_started_direction),
		cmocka_unit_test(test_reasm_flush_delivers_holes_as_gaps),
		cmocka_unit_test(test_reasm_fin_and_is_closed),
		cmocka_unit_test(test_reasm_empty_fin_chunk),
		cmocka_unit_test(test_reasm_rst_closes),
		cmocka_unit_test(test_reasm_bypass_then_fin),
		cmocka_unit_test(test_reasm_one_sided_stream),
		cmocka_unit_test(test_reasm_midstream_pickup),
		cmocka_unit_test(test_reasm_syn_new_isn_resets),
		cmocka_unit_test(test_reasm_client_bytes_wait_for_a_late_syn_ack),
		cmocka_unit_test(test_reasm_late_syn_ack_wait_ends_at_fin),
		cmocka_unit_test(test_reasm_late_syn_ack_wait_is_bounded),
		cmocka_unit_test(test_reasm_pair_fini_returns_buffers),
		cmocka_unit_test(test_reasm_undrained_view_dropped),
		cmocka_unit_test(test_reasm_refused_held_segment_goes_out_now),
		cmocka_unit_test(test_reasm_refused_segment_after_peer_bytes),
		cmocka_unit_test(test_reasm_bytes_behind_held_buffer_wait),
		cmocka_unit_test(test_reasm_in_order_bytes_past_held_buffer_kept),
		cmocka_unit_test(test_reasm_side_taken_and_returned),
		cmocka_unit_test(test_reasm_side_pool_exhausted_caps),
		cmocka_unit_test(test_reasm_side_pool_exhausted_no_hold),
		cmocka_unit_test(test_reasm_side_pool_exhausted_gap_at_flush),
		cmocka_unit_test(test_reasm_side_returned_when_holding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
