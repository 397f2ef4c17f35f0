// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm_add_pass(): the usual segment consumed in one step, against
 * tcp_reasm_add() and tcp_reasm_next() on a second rig fed the same segments.
 * Both rigs must end every step with the same pair, the same counters and
 * the same transcripts; where the pass was taken, add and next must have
 * handed out exactly the segment's payload as one chunk marked last. The rig
 * is tcp_reasm_fx.h.
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

/* Two rigs: ref goes through add and next, pass through tcp_reasm_add_pass. */
struct twin {
	struct rig *ref;
	struct rig *pass;
};

static struct twin twin_new(void)
{
	struct twin t = {
		.ref = rig_new(65536, 1 << 20, 2048),
		.pass = rig_new(65536, 1 << 20, 2048),
	};

	return t;
}

static void twin_free(struct twin *t)
{
	rig_free(t->ref);
	rig_free(t->pass);
}

static void twin_same(const struct twin *t)
{
	assert_int_equal(st(t->ref)->segments, st(t->pass)->segments);
	assert_memory_equal(&t->ref->tp, &t->pass->tp, sizeof(t->ref->tp));
	assert_memory_equal(tcp_reasm_stats(t->ref->r), tcp_reasm_stats(t->pass->r),
			    sizeof(struct tcp_reasm_stats));
	for (unsigned int d = 0; d < 2; d++) {
		assert_int_equal(t->ref->out[d].len, t->pass->out[d].len);
		assert_memory_equal(t->ref->out[d].buf, t->pass->out[d].buf, t->ref->out[d].len);
		assert_int_equal(t->ref->out[d].fins, t->pass->out[d].fins);
	}
	assert_int_equal(t->ref->both.len, t->pass->both.len);
	assert_memory_equal(t->ref->both.buf, t->pass->both.buf, t->ref->both.len);
}

/* One segment into both rigs; want_pass: whether the pass must take it. */
static void step(struct twin *t, enum flow_dir dir, struct pkt_meta m, bool want_pass)
{
	unsigned int before = t->ref->chunks;
	enum tcp_reasm_status ref = tcp_reasm_add(t->ref->r, &t->ref->tp, dir, &m);
	enum tcp_reasm_status got = tcp_reasm_add_pass(t->pass->r, &t->pass->tp, dir, &m);

	drain_pair(t->ref, &t->ref->tp);
	assert_int_equal(got == TCP_REASM_PASSED, want_pass);
	if (got == TCP_REASM_PASSED) {
		struct transcript *o = &t->pass->out[dir];

		/* what the caller does with a passed segment: its payload is the chunk */
		assert_int_equal(ref, TCP_REASM_OK);
		assert_int_equal(t->ref->chunks, before + 1);
		assert_true(t->ref->last.last && !t->ref->last.fin && !t->ref->last.gap);
		assert_ptr_equal(t->ref->last.ptr, m.payload);
		assert_int_equal(t->ref->last.len, m.payload_len);
		memcpy(o->buf + o->len, m.payload, m.payload_len);
		o->len += m.payload_len;
		memcpy(t->pass->both.buf + t->pass->both.len, m.payload, m.payload_len);
		t->pass->both.len += m.payload_len;
		t->pass->chunks++;
	} else {
		assert_int_equal(got, ref);
		drain_pair(t->pass, &t->pass->tp);
	}
	twin_same(t);
}

static void twin_handshake(struct twin *t, uint32_t ci, uint32_t si)
{
	step(t, C2S, seg(ci, 0, SYN, NULL), false);
	step(t, S2C, seg(si, ci + 1, SYN | ACK, NULL), false);
	step(t, C2S, seg(ci + 1, si + 1, ACK, NULL), false);
}

/* A dialogue in order: every segment with payload passes, none without. */
static void test_pass_dialogue(void **state)
{
	struct twin t = twin_new();

	(void)state;
	twin_handshake(&t, 1000, 5000);
	step(&t, S2C, seg(5001, 1001, ACK | PKT_TCP_PSH, "220 hi\r\n"), true);
	step(&t, C2S, seg(1001, 5009, ACK | PKT_TCP_PSH, "EHLO a\r\n"), true);
	step(&t, S2C, seg(5009, 1009, ACK | PKT_TCP_PSH, "250 ok\r\n"), true);
	step(&t, C2S, seg(1009, 5017, ACK, NULL), false);
	/* no ACK bit: nothing to wait for */
	step(&t, C2S, seg(1009, 0, PKT_TCP_PSH, "QUIT\r\n"), true);
	/* payload with FIN: the slow path */
	step(&t, S2C, seg(5017, 1015, ACK | FIN, "221 bye\r\n"), false);
	step(&t, C2S, seg(1015, 5027, ACK | FIN, NULL), false);
	twin_free(&t);
}

/* The edges of the pass: each segment here is next in line with payload. */
static void test_pass_edges(void **state)
{
	struct twin t = twin_new();

	(void)state;
	/* ACK of peer bytes not out yet (the peer is behind): held, not passed */
	twin_handshake(&t, 1000, 5000);
	step(&t, C2S, seg(1001, 5009, ACK, "EHLO a\r\n"), false);
	step(&t, S2C, seg(5001, 1001, ACK, "220 hi\r\n"), false);
	step(&t, C2S, seg(1009, 5009, ACK, "MAIL\r\n"), true);
	twin_free(&t);

	/* the other direction's FIN is in but not reached: it has something to hand out */
	t = twin_new();
	twin_handshake(&t, 1000, 5000);
	step(&t, S2C, seg(5001, 1001, ACK, "220 hi\r\n"), true);
	step(&t, S2C, seg(5020, 1001, ACK | FIN, NULL), false);
	step(&t, C2S, seg(1001, 5009, ACK, "EHLO a\r\n"), false);
	step(&t, S2C, seg(5009, 1009, ACK, "250 ok here\r\n"), false);
	twin_free(&t);

	/* the other direction's FIN handed out: it no longer matters */
	t = twin_new();
	twin_handshake(&t, 1000, 5000);
	step(&t, S2C, seg(5001, 1001, ACK | FIN, NULL), false);
	step(&t, C2S, seg(1001, 5002, ACK, "late\r\n"), true);
	twin_free(&t);

	/* a hole: the segment past it is buffered, the one filling it not passed */
	t = twin_new();
	twin_handshake(&t, 1000, 5000);
	step(&t, C2S, seg(1005, 5001, ACK, "tail"), false);
	step(&t, C2S, seg(1001, 5001, ACK, "head"), false);
	step(&t, C2S, seg(1009, 5001, ACK, "next"), true);
	twin_free(&t);

	/* flushed, a retransmission, a SYN with payload, bypassed */
	t = twin_new();
	twin_handshake(&t, 1000, 5000);
	step(&t, C2S, seg(1001, 5001, ACK, "abcd"), true);
	step(&t, C2S, seg(1001, 5001, ACK, "abcd"), false);
	step(&t, C2S, seg(1003, 5001, ACK, "cdef"), false);
	tcp_reasm_flush(t.ref->r, &t.ref->tp);
	tcp_reasm_flush(t.pass->r, &t.pass->tp);
	step(&t, C2S, seg(1007, 5001, ACK, "gh"), false);
	tcp_reasm_bypass(t.ref->r, &t.ref->tp);
	tcp_reasm_bypass(t.pass->r, &t.pass->tp);
	step(&t, C2S, seg(1009, 5001, ACK, "ij"), false);
	twin_free(&t);

	/* picked up mid-stream: the first segment starts the direction, the next passes */
	t = twin_new();
	step(&t, C2S, seg(77, 0, ACK, "first"), false);
	step(&t, C2S, seg(82, 0, ACK, "second"), true);
	step(&t, S2C, seg(900, 88, ACK, "reply"), false);
	step(&t, S2C, seg(905, 88, ACK, "more"), true);
	twin_free(&t);

	/* a SYN-ACK whose SYN never came: the client's data waits for the server to start */
	t = twin_new();
	step(&t, C2S, seg(1000, 0, SYN, NULL), false);
	step(&t, C2S, seg(1001, 5001, ACK, "EHLO a\r\n"), false);
	step(&t, S2C, seg(5001, 1009, ACK, "220 hi\r\n"), false);
	twin_free(&t);
}

/* The SYN-ACK of a SYN seen starts the server's direction, as the general
 * path does: exact start, nothing ready; a retransmitted one with another
 * ISN before any payload restarts it; the client's data then waits for
 * nothing. */
static void test_synack(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);
	const struct tcp_reasm_dir *s = &g->tp.dir[S2C];

	(void)state;
	assert_int_equal(feed(g, C2S, seg(1000, 0, SYN, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, S2C, seg(5000, 1001, SYN | ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(s->next_seq, 5001);
	assert_int_equal(s->flags, TCP_REASM_F_STARTED | TCP_REASM_F_SYN);
	assert_int_equal(s->xflags, 0);
	assert_int_equal(feed(g, S2C, seg(7000, 1001, SYN | ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(s->next_seq, 7001);
	assert_int_equal(feed(g, C2S, seg(1001, 7001, ACK, "EHLO a\r\n")), TCP_REASM_OK);
	assert_int_equal(feed(g, S2C, seg(7001, 1009, ACK, "220 hi\r\n")), TCP_REASM_OK);
	expect_out(g, C2S, "EHLO a\r\n");
	expect_out(g, S2C, "220 hi\r\n");
	assert_int_equal(st(g)->midstream, 0);
	rig_free(g);

	/* the client's FIN before the SYN-ACK: the general path, which still ends the client */
	g = rig_new(65536, 1 << 20, 2048);
	assert_int_equal(feed(g, C2S, seg(1000, 0, SYN, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, C2S, seg(1001, 0, FIN, NULL)), TCP_REASM_OK);
	assert_int_equal(g->out[C2S].fins, 1);
	assert_int_equal(feed(g, S2C, seg(5000, 1002, SYN | ACK, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(g->tp.dir[S2C].next_seq, 5001);
	assert_true(tcp_reasm_is_closed(&g->tp) == false);
	rig_free(g);
}

/* Bare FINs: in line (the end is ready at once, with or without an ACK, and
 * is handed out alone as the last chunk),
 * ahead of a hole (waits for it), and one whose ACK reaches past the
 * peer's FIN over bytes never seen (the peer's gap is owed first). */
static void test_fin(void **state)
{
	struct rig *g = rig_new(65536, 1 << 20, 2048);

	(void)state;
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, S2C, seg(5001, 1001, ACK, "221 bye\r\n")), TCP_REASM_OK);
	assert_int_equal(feed(g, C2S, seg(1001, 5010, ACK | FIN, NULL)), TCP_REASM_OK);
	assert_int_equal(g->out[C2S].fins, 1);
	assert_true(g->last.fin && g->last.dir == C2S && !g->last.len && !g->last.gap);
	/* the end alone, and nothing after it: marked last (drain_pair checks the promise) */
	assert_true(g->last.last);
	assert_null(g->last.ptr);
	assert_int_equal(feed(g, S2C, seg(5010, 1002, FIN, NULL)), TCP_REASM_OK);
	assert_int_equal(g->out[S2C].fins, 1);
	assert_true(g->last.fin && g->last.last && g->last.dir == S2C);
	assert_int_equal(g->chunks, 3);
	assert_true(tcp_reasm_is_closed(&g->tp));
	rig_free(g);

	g = rig_new(65536, 1 << 20, 2048);
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, C2S, seg(1005, 5001, ACK | FIN, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(g->out[C2S].fins, 0);
	assert_int_equal(feed(g, C2S, seg(1001, 5001, ACK, "QUIT")), TCP_REASM_OK);
	expect_out(g, C2S, "QUIT");
	assert_int_equal(g->out[C2S].fins, 1);
	rig_free(g);

	g = rig_new(65536, 1 << 20, 2048);
	handshake(g, 1000, 5000);
	assert_int_equal(feed(g, S2C, seg(5011, 1001, ACK | FIN, NULL)), TCP_REASM_NO_DATA);
	assert_int_equal(feed(g, C2S, seg(1001, 5012, ACK | FIN, NULL)), TCP_REASM_OK);
	expect_out(g, S2C, "~~~~~~~~~~");
	assert_int_equal(g->out[S2C].fins, 1);
	assert_int_equal(g->out[C2S].fins, 1);
	assert_true(tcp_reasm_is_closed(&g->tp));
	rig_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_dialogue),
		cmocka_unit_test(test_pass_edges),
		cmocka_unit_test(test_synack),
		cmocka_unit_test(test_fin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
