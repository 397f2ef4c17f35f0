/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_hostile internals shared by gen_hostile.c (frames, connections, the
 * legitimate sessions, the pcap file, main) and gen_hostile_cases.c (the
 * hostile part of each case). The random helpers are static inline: both
 * draw from the one seeded stream in struct gen, in the same order as
 * before. Only these two files include it.
 */
#ifndef RELAYWATCH_TESTS_STRESS_GEN_HOSTILE_INT_H
#define RELAYWATCH_TESTS_STRESS_GEN_HOSTILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GEN_MSS	      1460
#define GEN_FRAME_MAX (14 + 65535)
#define GEN_T0_NS     (1700000000ull * 1000000000ull)
#define GEN_LEGIT_MAX 4096
#define GEN_TEXT_MAX  512

enum { C2S = 0, S2C = 1 };

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* Damage applied to one frame. */
#define BAD_TCP_SUM 0x01
#define BAD_IP_SUM  0x02

struct conn {
	uint32_t ip[2]; /* [C2S] client, [S2C] server */
	uint16_t port[2];
	uint32_t seq[2]; /* next sequence number each side sends */
	uint8_t bad;	 /* BAD_* on every data frame */
};

/* A legitimate session: one step (one frame) per call of legit_step(). */
struct legit {
	struct conn c;
	uint32_t id;
	uint32_t step;
};

struct gen {
	FILE *out;
	uint64_t now_ns;
	uint64_t gap_ns; /* packet time between frames */
	uint64_t rng;
	uint64_t pkts, bytes;
	uint32_t mss;
	/* legitimate sessions spread over the hostile frames */
	struct legit legit[GEN_LEGIT_MAX];
	uint32_t n_legit, legit_started, legit_done;
	uint64_t legit_every, since_legit;
	bool in_legit;
	uint8_t frame[GEN_FRAME_MAX];
};

/* ---- helpers ---- */

static inline uint64_t gen_rand(struct gen *g)
{
	/* xorshift64*: deterministic, no rand() */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dull;
}

static inline uint32_t gen_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(gen_rand(g) % n);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
/* ---- frames and connections (gen_hostile.c) ---- */

void gen_record(struct gen *g, const uint8_t *p, uint32_t caplen, uint32_t len);
void gen_tcp(struct gen *g, const struct conn *c, int dir, uint8_t flags, uint32_t seq,
	     const void *payload, size_t n, uint8_t bad);
void conn_init(struct gen *g, struct conn *c, uint32_t cip, uint16_t cport, uint32_t sip,
	       uint16_t sport);
void conn_open(struct gen *g, struct conn *c);
void conn_send(struct gen *g, struct conn *c, int dir, const void *p, size_t n);
void conn_sendf(struct gen *g, struct conn *c, int dir, const char *fmt, ...);
void conn_close(struct gen *g, struct conn *c);
void legit_pump(struct gen *g);
void legit_plan(struct gen *g, uint64_t hostile_pkts);

/* ---- the hostile cases (gen_hostile_cases.c): count is the case's size ---- */

void case_syn_flood(struct gen *g, uint64_t count);
void case_ooo_flood(struct gen *g, uint64_t flows);
void case_endless_line(struct gen *g, uint64_t sessions);
void case_rcpt_flood(struct gen *g, uint64_t count);
void case_big_message(struct gen *g, uint64_t count);
void case_stuck_data(struct gen *g, uint64_t count);
void case_jumbo(struct gen *g, uint64_t count);
void case_checksums(struct gen *g, uint64_t count);
void case_bad_frames(struct gen *g, uint64_t count);
void case_smtp_garbage(struct gen *g, uint64_t count);

#endif
