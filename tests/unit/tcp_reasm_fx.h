/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_reasm_fx: what the reassembly tests share (test_tcp_reasm*.c): the rig
 * (a reassembler and one pair), segments, draining into per-direction
 * transcripts in which a gap of n bytes is written as n '~', and the
 * handshake. Header-only, as pkt_build.h; test-only.
 */
#ifndef RELAYWATCH_TESTS_TCP_REASM_FX_H
#define RELAYWATCH_TESTS_TCP_REASM_FX_H

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

static inline struct rig *rig_new_sides(uint32_t flow_bytes, uint64_t total_bytes,
					uint32_t seg_bytes, uint32_t side_slots)
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

static inline struct rig *rig_new(uint32_t flow_bytes, uint64_t total_bytes, uint32_t seg_bytes)
{
	return rig_new_sides(flow_bytes, total_bytes, seg_bytes, 0);
}

/* The pool must be whole again once the pair is finished. */
static inline void rig_free(struct rig *g)
{
	tcp_reasm_pair_fini(g->r, &g->tp);
	tcp_reasm_pair_fini(g->r, &g->tp);
	assert_int_equal(tcp_reasm_stats(g->r)->segs_in_use, 0);
	assert_int_equal(tcp_reasm_stats(g->r)->buffered_now, 0);
	assert_int_equal(tcp_reasm_stats(g->r)->sides_in_use, 0);
	tcp_reasm_destroy(g->r);
	test_free(g);
}

static inline struct pkt_meta seg(uint32_t seq, uint32_t ack, uint8_t flags, const char *payload)
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

static inline unsigned int drain_pair(struct rig *g, struct tcp_reasm_pair *tp)
{
	struct tcp_reasm_chunk c;
	unsigned int n = 0;
	bool said_last = false;

	while (tcp_reasm_next(g->r, tp, &c)) {
		struct transcript *t = &g->out[c.dir];

		/* A chunk marked last promises this call would have said false. */
		assert_false(said_last);
		said_last = c.last;
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

static inline enum tcp_reasm_status feed(struct rig *g, enum flow_dir dir, struct pkt_meta m)
{
	enum tcp_reasm_status st = tcp_reasm_add(g->r, &g->tp, dir, &m);

	drain_pair(g, &g->tp);
	return st;
}

static inline void expect_out(const struct rig *g, enum flow_dir dir, const char *want)
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
static inline void handshake(struct rig *g, uint32_t ci, uint32_t si)
{
	assert_int_equal(feed(g, C2S, seg(ci, 0, SYN, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, S2C, seg(si, ci + 1, SYN | ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, C2S, seg(ci + 1, si + 1, ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(g->chunks, 0);
}

#endif
