/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gen_traffic internals shared by gen_traffic.c (frames, the pcap output,
 * packets of a session, scheduling, main) and gen_script.c (the session
 * scripts: what each kind of session says). Not for other tools. The random
 * helpers are inline here so both draw from the one seeded stream in struct
 * gen, in the same order as before the split.
 */
#ifndef RELAYWATCH_BENCH_GEN_TRAFFIC_INT_H
#define RELAYWATCH_BENCH_GEN_TRAFFIC_INT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/gen_text.h"

#define GEN_MSS		1460
#define GEN_UDP_MAX	1232  /* QUIC-sized datagrams */
#define GEN_SEG_GAP_NS	12000 /* back-to-back segments of one sender (1 Gbit/s) */
#define GEN_T0_NS	(1700000000ull * 1000000000ull)
#define GEN_NONE	2
#define GEN_MAX_ACTIVE	4096
#define GEN_SMALL_FLOWS 65536
#define GEN_NOISE_BYTES (1u << 20)
#define GEN_NOISE_OFF	UINT32_MAX /* gen_step.off of noise payload */
#ifndef MIX_SMTP
#define MIX_SMTP 64
#define MIX_UDP	 945
#endif

enum gen_profile {
	GEN_SMTP_HEAVY = 0,
	GEN_MIXED_ISP = 1,
	GEN_SMALL64 = 2,
	GEN_SYN_FLOOD = 3,
	GEN_SHORT_SPAM = 4,
	GEN_PROFILE_COUNT
};

/* What a session carries, for the byte shares. */
enum gen_kind {
	GEN_K_SMTP = 0,
	GEN_K_TCP = 1,
	GEN_K_UDP = 2,
	GEN_K_BG = 3, /* single packets: floods, 64-byte traffic */
	GEN_K_COUNT
};

enum gen_phase {
	GEN_P_SYN = 0,
	GEN_P_SYNACK,
	GEN_P_ACK,
	GEN_P_DATA,
	GEN_P_FIN1,
	GEN_P_FIN2,
	GEN_P_FIN3,
	GEN_P_DONE,
};

struct gen_step {
	uint32_t off, len; /* in the session's text */
	uint32_t think_us; /* before the first byte, after the other side's last */
	uint8_t dir;	   /* 0: client to server, 1: server to client */
};

struct gen_sess {
	uint64_t next_ns;
	uint32_t ip[2]; /* [0] client, [1] server */
	uint16_t port[2];
	uint32_t seq[2]; /* next sequence number each side sends */
	uint32_t rtt_us;
	uint8_t phase;	     /* enum gen_phase */
	uint8_t kind;	     /* enum gen_kind */
	uint8_t ack_from;    /* side that owes a pure ACK, GEN_NONE if none */
	uint8_t unacked;     /* segments since the peer's last ACK */
	uint8_t ack_every;   /* delayed ACK: every second segment (RFC 1122) */
	uint32_t seg_gap_ns; /* between back-to-back segments: the flow's rate */
	uint16_t ip_id[2];
	uint32_t msgs, rcpts, rcpts_ok; /* SMTP: counted into struct gen when the session ends */
	uint32_t slot;			/* index in the session pool */
	uint32_t step, step_off;
	struct gen_text text;
	struct gen_step *steps;
	uint32_t n_steps, cap_steps;
};

struct gen {
	enum gen_profile prof;
	uint64_t rng;
	FILE *out;
	uint64_t now_ns;
	uint64_t limit_bytes, limit_pkts;
	uint64_t pkts, bytes; /* frames written, captured bytes */
	uint64_t kind_bytes[GEN_K_COUNT];
	uint64_t kind_pkts[GEN_K_COUNT];
	uint32_t mix_smtp_slots, mix_udp_slots; /* mixed-isp: slots per kind, rest TCP */
	bool stopping;				/* limit reached: no new session, floods stop */
	struct gen_sess **heap;
	uint32_t n_heap;
	uint32_t concurrency;
	uint64_t bg_gap_ns; /* between flood packets */
	uint64_t smtp_sessions, smtp_msgs, smtp_rcpts, smtp_rcpts_ok, tcp_flows, udp_flows;
	uint64_t syns;
	uint32_t small_seq[GEN_SMALL_FLOWS];
	uint8_t noise[GEN_NOISE_BYTES]; /* payload of web, QUIC, DNS flows */
	uint8_t frame[2048];
};

/* ---- random ---- */

static inline uint64_t gen_rand(struct gen *g)
{
	/* xorshift64*: fast, and the same stream for the same seed everywhere */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 2685821657736338717ull;
}

static inline uint32_t gen_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((gen_rand(g) >> 32) * n) >> 32);
}

static inline double gen_unit(struct gen *g)
{
	return (double)(gen_rand(g) >> 11) / 9007199254740992.0;
}

/* Log-uniform between lo and hi: many small, some large, like mail and web objects. */
static inline uint32_t gen_logu(struct gen *g, double lo, double hi)
{
	return (uint32_t)(lo * pow(hi / lo, gen_unit(g)));
}

static inline uint64_t gen_exp_ns(struct gen *g, double mean_ns)
{
	return (uint64_t)(-log(1.0 - gen_unit(g)) * mean_ns);
}

/* Foreign hosts come from 198.18.0.0/15 (RFC 2544 benchmarking), home ones from 10/8. */
static inline uint32_t gen_foreign_ip(struct gen *g)
{
	return 0xc6120000u | gen_below(g, 1u << 17);
}

static inline uint32_t gen_home_ip(struct gen *g, uint32_t n_hosts)
{
	return 0x0a000000u | (1u + gen_below(g, n_hosts));
}

/* Any unicast address outside 0/8, 10/8, 127/8 and multicast: spoofed flood sources. */
static inline uint32_t gen_spoofed_ip(struct gen *g)
{
	uint32_t a = (uint32_t)gen_rand(g);
	uint32_t top = 1 + gen_below(g, 222);

	if (top == 10 || top == 127)
		top++;
	return top << 24 | (a & 0xffffff);
}

/* ---- session scripts (gen_script.c) ---- */

/* Each fills s's text and steps for a new session of its kind. */
void gen_script_smtp_heavy(struct gen *g, struct gen_sess *s);
/* Banner, HELO, MAIL, one RCPT (often refused), a short spam body, QUIT: ~20 packets. */
void gen_script_short_spam(struct gen *g, struct gen_sess *s);
/* mixed-isp: the kind a session slot always carries (SMTP, UDP or bulk TCP). */
void gen_script_mixed(struct gen *g, struct gen_sess *s);

#endif
