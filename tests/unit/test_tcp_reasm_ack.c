// SPDX-License-Identifier: BSD-3-Clause
/*
 * tcp_reasm_add()'s bare-ACK fast path against the slow path it skips. A
 * segment with only the ACK bit may take it; the same segment with PSH too
 * always goes the slow way, which ignores PSH. From the same state, both
 * must answer the same, leave the same pair and counters, and deliver the
 * same bytes afterwards: in every state a bare ACK meets, the fast path's
 * edges (a FIN either way, a side slot, a flush, a bypass) included.
 */
#include "tcp_reasm_fx.h"

#define PSH PKT_TCP_PSH

/* Segments that bring a pair to one state; the last one ends the list. */
struct step {
	enum flow_dir dir;
	uint32_t seq, ack;
	uint8_t flags;
	const char *payload;
	bool end;
};

enum prep { PREP_NONE, PREP_FLUSH, PREP_BYPASS };

struct scene {
	const char *name;
	struct step steps[8];
	enum prep prep;
	enum flow_dir ack_dir; /* the bare ACK's direction and number */
	uint32_t ack_seq, ack;
};

#define HS                                                                                         \
	{C2S, 100, 0, SYN, NULL, false},                                                           \
	{                                                                                          \
		S2C, 500, 101, SYN | ACK, NULL, false                                              \
	}
#define END                                                                                        \
	{                                                                                          \
		0, 0, 0, 0, NULL, true                                                             \
	}

static const struct scene scenes[] = {
	{"fresh pair", {END}, PREP_NONE, C2S, 101, 501},
	{"fresh pair, from the server", {END}, PREP_NONE, S2C, 501, 101},
	{"handshake ACK", {HS, END}, PREP_NONE, C2S, 101, 501},
	{"only the SYN seen", {{C2S, 100, 0, SYN, NULL, false}, END}, PREP_NONE, S2C, 501, 101},
	{"after a command",
	 {HS, {C2S, 101, 501, ACK, "EHLO x\r\n", false}, END},
	 PREP_NONE,
	 S2C,
	 501,
	 109},
	{"ACK behind the command",
	 {HS, {C2S, 101, 501, ACK, "EHLO x\r\n", false}, END},
	 PREP_NONE,
	 S2C,
	 501,
	 105},
	{"ACK past what was sent",
	 {HS, {C2S, 101, 501, ACK, "EHLO x\r\n", false}, END},
	 PREP_NONE,
	 S2C,
	 501,
	 200},
	{"peer's FIN",
	 {HS, {C2S, 101, 501, ACK | FIN, "QUIT\r\n", false}, END},
	 PREP_NONE,
	 S2C,
	 501,
	 108},
	{"own FIN", {HS, {C2S, 101, 501, ACK | FIN, NULL, false}, END}, PREP_NONE, C2S, 102, 501},
	{"peer's FIN ahead of its bytes",
	 {HS, {C2S, 105, 501, ACK | FIN, NULL, false}, END},
	 PREP_NONE,
	 S2C,
	 501,
	 106},
	{"a buffer behind a hole (side slot)",
	 {HS, {C2S, 105, 501, ACK, "late", false}, END},
	 PREP_NONE,
	 S2C,
	 501,
	 109},
	{"reply acking a command not seen (held)",
	 {HS, {S2C, 501, 120, ACK, "250 ok\r\n", false}, END},
	 PREP_NONE,
	 C2S,
	 101,
	 509},
	{"flushed",
	 {HS, {C2S, 101, 501, ACK, "EHLO x\r\n", false}, END},
	 PREP_FLUSH,
	 S2C,
	 501,
	 109},
	{"bypassed",
	 {HS, {C2S, 101, 501, ACK, "EHLO x\r\n", false}, END},
	 PREP_BYPASS,
	 S2C,
	 501,
	 109},
};

/* What follows the ACK in every scene: bytes both ways, then both FINs. */
static const struct step after[] = {
	{C2S, 101, 501, ACK, "MAIL FROM:<a@b>\r\n", false},
	{S2C, 501, 120, ACK, "250 ok\r\n", false},
	{C2S, 118, 509, ACK | FIN, "QUIT\r\n", false},
	{S2C, 509, 125, ACK | FIN, "221 bye\r\n", false},
	END,
};

static void run_steps(struct rig *g, const struct step *s)
{
	for (; !s->end; s++)
		feed(g, s->dir, seg(s->seq, s->ack, s->flags, s->payload));
}

static void assert_same(const struct rig *a, const struct rig *b)
{
	assert_memory_equal(&a->tp, &b->tp, sizeof(a->tp));
	assert_memory_equal(st(a), st(b), sizeof(struct tcp_reasm_stats));
	for (unsigned int d = 0; d < 2; d++) {
		assert_int_equal(a->out[d].len, b->out[d].len);
		assert_memory_equal(a->out[d].buf, b->out[d].buf, a->out[d].len);
		assert_int_equal(a->out[d].fins, b->out[d].fins);
	}
	assert_int_equal(a->chunks, b->chunks);
}

static void test_reasm_bare_ack_fast_is_slow(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenes) / sizeof(scenes[0]); i++) {
		const struct scene *sc = &scenes[i];
		struct rig *fast = rig_new(65536, 1 << 20, 2048);
		struct rig *slow = rig_new(65536, 1 << 20, 2048);
		enum tcp_reasm_status sf, ss;

		print_message("%s\n", sc->name);
		run_steps(fast, sc->steps);
		run_steps(slow, sc->steps);
		for (struct rig *g = fast; g; g = g == fast ? slow : NULL) {
			if (sc->prep == PREP_FLUSH)
				tcp_reasm_flush(g->r, &g->tp);
			else if (sc->prep == PREP_BYPASS)
				tcp_reasm_bypass(g->r, &g->tp);
		}
		sf = feed(fast, sc->ack_dir, seg(sc->ack_seq, sc->ack, ACK, NULL));
		ss = feed(slow, sc->ack_dir, seg(sc->ack_seq, sc->ack, ACK | PSH, NULL));
		assert_int_equal(sf, ss);
		assert_same(fast, slow);
		run_steps(fast, after);
		run_steps(slow, after);
		assert_same(fast, slow);
		rig_free(fast);
		rig_free(slow);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reasm_bare_ack_fast_is_slow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
