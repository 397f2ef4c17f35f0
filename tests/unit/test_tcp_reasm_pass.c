// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm_add_pass(): the usual segment consumed in one step, against
 * tcp_reasm_add() and tcp_reasm_next() on a second rig fed the same segments.
 * Both rigs must end every step with the same pair, the same counters and
 * the same transcripts; where the pass was taken, add and next must have
 * handed out exactly the segment's payload as one chunk marked last. The
 * bare ACK's early answer is checked the same way against the general path.
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
		/* a passed segment counts as payload seen, as the general path's does */
		assert_true(t->pass->tp.dir[dir].flags & TCP_REASM_F_HAS_DATA);
	} else {
		assert_int_equal(got, ref);
		drain_pair(t->pass, &t->pass->tp);
	}
	twin_same(t);
	if (ref == TCP_REASM_OK && m.payload_len)
		assert_true(t->ref->tp.dir[dir].flags & TCP_REASM_F_HAS_DATA);
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

/* The same segment into both rigs through tcp_reasm_add(). */
static void both(struct twin *t, enum flow_dir dir, struct pkt_meta m)
{
	assert_int_equal(feed(t->pass, dir, m), feed(t->ref, dir, m));
	twin_same(t);
}

/*
 * tcp_reasm_add_slow()'s bare ACK answer against the general path: the bare
 * ACK into pass's rig, the same ACK with PSH (which no early answer takes,
 * and which reassembly ignores) into ref's. Same status, pair, counters and
 * transcripts.
 */
static void bare_ack(struct twin *t, enum flow_dir dir, uint32_t seq, uint32_t ack)
{
	enum tcp_reasm_status got = feed(t->pass, dir, seg(seq, ack, ACK, NULL));

	assert_int_equal(got, feed(t->ref, dir, seg(seq, ack, ACK | PKT_TCP_PSH, NULL)));
	twin_same(t);
}

enum bare_state {
	BARE_PLAIN,	   /* data both ways, all out */
	BARE_HOLE,	   /* server bytes past a hole buffered (a side slot) */
	BARE_PEER_FIN,	   /* the server's FIN in, not reached */
	BARE_CLIENT_FIN,   /* the client's FIN in, not reached */
	BARE_OWN_FIN,	   /* the client's FIN handed out */
	BARE_BOTH_FIN,	   /* both FINs handed out */
	BARE_FLUSHED,	   /* flushed after a hole */
	BARE_FLUSHED_IDLE, /* flushed with nothing pending */
	BARE_BYPASSED,	   /* bypassed */
	BARE_HELD,	   /* client bytes waiting for server bytes they acknowledge */
	BARE_MIDSTREAM,	   /* no handshake, no data */
	BARE_N,
};

/* Client 1001.., server 5001..: "220 hi\r\n" (8) and "EHLO a\r\n" (8) exchanged first. */
static void bare_setup(struct twin *t, enum bare_state s)
{
	if (s == BARE_MIDSTREAM)
		return;
	twin_handshake(t, 1000, 5000);
	if (s == BARE_HELD) {
		both(t, C2S, seg(1001, 5009, ACK, "EHLO a\r\n"));
		return;
	}
	both(t, S2C, seg(5001, 1001, ACK, "220 hi\r\n"));
	both(t, C2S, seg(1001, 5009, ACK, "EHLO a\r\n"));
	if (s == BARE_HOLE || s == BARE_FLUSHED)
		both(t, S2C, seg(5013, 1009, ACK, "tail"));
	if (s == BARE_PEER_FIN)
		both(t, S2C, seg(5013, 1009, ACK | FIN, NULL));
	if (s == BARE_CLIENT_FIN)
		both(t, C2S, seg(1013, 5009, ACK | FIN, NULL));
	if (s == BARE_OWN_FIN || s == BARE_BOTH_FIN)
		both(t, C2S, seg(1009, 5009, ACK | FIN, NULL));
	if (s == BARE_BOTH_FIN)
		both(t, S2C, seg(5009, 1010, ACK | FIN, NULL));
	if (s == BARE_FLUSHED || s == BARE_FLUSHED_IDLE) {
		tcp_reasm_flush(t->ref->r, &t->ref->tp);
		tcp_reasm_flush(t->pass->r, &t->pass->tp);
		twin_same(t);
	}
	if (s == BARE_BYPASSED) {
		tcp_reasm_bypass(t->ref->r, &t->ref->tp);
		tcp_reasm_bypass(t->pass->r, &t->pass->tp);
		twin_same(t);
	}
}

/* Every state, either way, ACKs from behind the peer's stream to past its FIN or hole. */
static void test_bare_ack(void **state)
{
	(void)state;
	for (unsigned int s = 0; s < BARE_N; s++) {
		for (uint32_t d = 0; d < 24; d++) {
			struct twin t = twin_new();

			bare_setup(&t, (enum bare_state)s);
			bare_ack(&t, C2S, 1009, 4999 + d);
			bare_ack(&t, S2C, 5009, 999 + d);
			/* and again, now that the first may have moved something */
			bare_ack(&t, C2S, 1009, 5003 + d);
			bare_ack(&t, S2C, 5009, 1003 + d);
			/* data after it still comes out the same */
			both(&t, S2C, seg(5009, 1009, ACK, "250 ok\r\n"));
			bare_ack(&t, C2S, 1009, 5009 + d);
			twin_free(&t);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_dialogue), cmocka_unit_test(test_pass_edges),
		cmocka_unit_test(test_synack),	      cmocka_unit_test(test_fin),
		cmocka_unit_test(test_bare_ack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
