// SPDX-License-Identifier: BSD-3-Clause
/*
 * gen_traffic: deterministic synthetic tap traffic for bench_pipeline. From a
 * profile and a seed it writes a nanosecond pcap of Ethernet/IPv4 frames:
 * well-formed TCP sessions (handshake, seq/ack, MSS-sized segments, delayed
 * ACKs, FIN), UDP flows and single-packet floods, in packet-time order with
 * RTTs and think times, so flow expiry and the detector see plausible time.
 * Concurrent sessions are interleaved through a heap ordered by the time of
 * each one's next packet; memory stays bounded whatever the output size.
 *
 *   gen_traffic --profile smtp-heavy --seed 1 --bytes 512M -o /tmp/smtp-heavy.pcap
 *
 * Profiles: smtp-heavy, mixed-isp, small-64, syn-flood, short-spam (README).
 * Beside the capture it writes <out>.manifest: what went in (SMTP sessions,
 * messages, recipients, byte shares), which bench_pipeline checks against
 * what the parser saw.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/gen_text.h"
#include "tests/unit/pkt_build.h"

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

static const char *const gen_profile_names[GEN_PROFILE_COUNT] = {
	"smtp-heavy", "mixed-isp", "small-64", "syn-flood", "short-spam",
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

static uint64_t gen_rand(struct gen *g)
{
	/* xorshift64*: fast, and the same stream for the same seed everywhere */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 2685821657736338717ull;
}

static uint32_t gen_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(((gen_rand(g) >> 32) * n) >> 32);
}

static double gen_unit(struct gen *g)
{
	return (double)(gen_rand(g) >> 11) / 9007199254740992.0;
}

/* Log-uniform between lo and hi: many small, some large, like mail and web objects. */
static uint32_t gen_logu(struct gen *g, double lo, double hi)
{
	return (uint32_t)(lo * pow(hi / lo, gen_unit(g)));
}

static uint64_t gen_exp_ns(struct gen *g, double mean_ns)
{
	return (uint64_t)(-log(1.0 - gen_unit(g)) * mean_ns);
}

/* Foreign hosts come from 198.18.0.0/15 (RFC 2544 benchmarking), home ones from 10/8. */
static uint32_t gen_foreign_ip(struct gen *g)
{
	return 0xc6120000u | gen_below(g, 1u << 17);
}

static uint32_t gen_home_ip(struct gen *g, uint32_t n_hosts)
{
	return 0x0a000000u | (1u + gen_below(g, n_hosts));
}

/* Any unicast address outside 0/8, 10/8, 127/8 and multicast: spoofed flood sources. */
static uint32_t gen_spoofed_ip(struct gen *g)
{
	uint32_t a = (uint32_t)gen_rand(g);
	uint32_t top = 1 + gen_below(g, 222);

	if (top == 10 || top == 127)
		top++;
	return top << 24 | (a & 0xffffff);
}

/* ---- pcap output ---- */

static int gen_pcap_open(struct gen *g, const char *path)
{
	/* nanosecond pcap, Ethernet, snaplen 65535 */
	static const uint8_t hdr[24] = {
		0x4d, 0x3c, 0xb2, 0xa1, 2,    0,    4, 0, 0, 0, 0, 0,
		0,    0,    0,	  0,	0xff, 0xff, 0, 0, 1, 0, 0, 0,
	};

	g->out = fopen(path, "wb");
	if (!g->out)
		return -errno;
	setvbuf(g->out, NULL, _IOFBF, 8u << 20);
	if (fwrite(hdr, sizeof(hdr), 1, g->out) != 1)
		return -EIO;
	return 0;
}

static void gen_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void gen_write(struct gen *g, enum gen_kind kind, uint32_t len)
{
	uint64_t ts = GEN_T0_NS + g->now_ns;
	uint8_t rec[16];

	gen_put_le32(rec, (uint32_t)(ts / 1000000000ull));
	gen_put_le32(rec + 4, (uint32_t)(ts % 1000000000ull));
	gen_put_le32(rec + 8, len);
	gen_put_le32(rec + 12, len);
	fwrite_unlocked(rec, sizeof(rec), 1, g->out);
	fwrite_unlocked(g->frame, len, 1, g->out);
	g->pkts++;
	g->bytes += len;
	g->kind_pkts[kind]++;
	g->kind_bytes[kind] += len;
	if ((g->limit_bytes && g->bytes >= g->limit_bytes) ||
	    (g->limit_pkts && g->pkts >= g->limit_pkts))
		g->stopping = true;
}

/* ---- frames ---- */

struct gen_l4 {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint16_t ip_id;
	uint8_t proto; /* 6 or 17 */
	uint8_t flags; /* TCP */
	uint32_t seq, ack;
	const uint8_t *payload;
	uint32_t n;
};

/* Ethernet + IPv4 + TCP/UDP with real lengths and checksums; at least 60 bytes. */
static uint32_t gen_frame(struct gen *g, const struct gen_l4 *f)
{
	static const uint8_t mss[4] = {2, 4, GEN_MSS >> 8, GEN_MSS & 0xff};
	struct pkt_build pb;
	size_t len;
	int ip;

	pkt_build_init(&pb, g->frame, sizeof(g->frame));
	pkt_build_eth(&pb, 0);
	ip = pkt_build_ipv4(&pb, &(struct pkt_build_ipv4){.src = "0.0.0.0",
							  .dst = "0.0.0.0",
							  .id = f->ip_id,
							  .frag = PKT_BUILD_IP_DF});
	/* Addresses go in as numbers; finish() computes the checksums over them. */
	pkt_build_put32(g->frame + ip + 12, f->src);
	pkt_build_put32(g->frame + ip + 16, f->dst);
	if (f->proto == 17)
		pkt_build_udp(&pb, f->sport, f->dport);
	else
		pkt_build_tcp(&pb,
			      &(struct pkt_build_tcp){
				      .sport = f->sport,
				      .dport = f->dport,
				      .seq = f->seq,
				      .ack = f->ack,
				      .flags = f->flags,
				      .win = 64240,
				      .opt = (f->flags & PKT_BUILD_TCP_SYN) ? mss : NULL,
				      .opt_len = (f->flags & PKT_BUILD_TCP_SYN) ? sizeof(mss) : 0});
	pkt_build_payload(&pb, f->payload, f->n);
	len = pkt_build_finish(&pb);
	if (len < 60)
		len = pkt_build_pad_to(&pb, 60, 0);
	return (uint32_t)len;
}

/* One segment (TCP) or datagram (UDP) of session s sent by side `from`. */
static void gen_seg(struct gen *g, struct gen_sess *s, int from, uint8_t flags, const uint8_t *p,
		    uint32_t n)
{
	bool udp = s->kind == GEN_K_UDP;
	struct gen_l4 f = {
		.src = s->ip[from],
		.dst = s->ip[!from],
		.sport = s->port[from],
		.dport = s->port[!from],
		.ip_id = s->ip_id[from]++,
		.proto = udp ? 17 : 6,
		.flags = flags,
		.seq = s->seq[from],
		.ack = (flags & PKT_BUILD_TCP_ACK) ? s->seq[!from] : 0,
		.payload = p,
		.n = n,
	};

	gen_write(g, s->kind, gen_frame(g, &f));
	if (!udp)
		s->seq[from] += n + ((flags & (PKT_BUILD_TCP_SYN | PKT_BUILD_TCP_FIN)) ? 1 : 0);
}

/* ---- session scripts ---- */

static int gen_step_push(struct gen_sess *s, const struct gen_step *st)
{
	if (s->n_steps == s->cap_steps) {
		uint32_t cap = s->cap_steps ? s->cap_steps * 2 : 32;
		struct gen_step *n = realloc(s->steps, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->steps = n;
		s->cap_steps = cap;
	}
	s->steps[s->n_steps++] = *st;
	return 0;
}

/* The text written since off, sent in one go by dir; nothing when empty. */
static int gen_step_add(struct gen_sess *s, int dir, uint32_t think_us, uint32_t off)
{
	if (s->text.len == off)
		return 0;
	return gen_step_push(s, &(struct gen_step){.off = off,
						   .len = (uint32_t)(s->text.len - off),
						   .think_us = think_us,
						   .dir = (uint8_t)dir});
}

/* Payload of a non-mail flow: bytes of the shared noise block, nothing stored. */
static int gen_noise_step(struct gen_sess *s, int dir, uint32_t think_us, uint32_t len)
{
	return gen_step_push(s, &(struct gen_step){.off = GEN_NOISE_OFF,
						   .len = len,
						   .think_us = think_us,
						   .dir = (uint8_t)dir});
}

/* One application message: printf-style text sent in one go by `dir`. */
static void gen_say(struct gen_sess *s, int dir, uint32_t think_us, const char *fmt, ...)
{
	uint32_t off = (uint32_t)s->text.len;
	va_list ap;

	va_start(ap, fmt);
	gen_text_vprintf(&s->text, fmt, ap);
	va_end(ap);
	gen_step_add(s, dir, think_us, off);
}

static void gen_sess_reset(struct gen *g, struct gen_sess *s, enum gen_kind kind)
{
	s->text.len = 0;
	s->n_steps = 0;
	s->step = s->step_off = 0;
	s->msgs = s->rcpts = s->rcpts_ok = 0;
	s->kind = (uint8_t)kind;
	s->phase = kind == GEN_K_UDP ? GEN_P_DATA : GEN_P_SYN;
	s->ack_from = GEN_NONE;
	s->unacked = 0;
	s->ack_every = 2;
	s->seq[0] = (uint32_t)gen_rand(g);
	s->seq[1] = (uint32_t)gen_rand(g);
	s->ip_id[0] = (uint16_t)gen_rand(g);
	s->ip_id[1] = (uint16_t)gen_rand(g);
	s->rtt_us = gen_logu(g, 2000, 120000);
	/* 1500-byte frames at 10 Mbit/s to 1 Gbit/s */
	s->seg_gap_ns = gen_logu(g, GEN_SEG_GAP_NS, GEN_SEG_GAP_NS * 100);
	s->port[0] = (uint16_t)(32768 + gen_below(g, 28000));
}

/* EHLO with its capability list, then AUTH LOGIN or PLAIN (submission clients). */
static void gen_smtp_greet(struct gen *g, struct gen_sess *s, bool auth)
{
	gen_say(s, 1, 1000 + gen_below(g, 20000), "220 mx%u.example.net ESMTP Postfix\r\n",
		s->ip[1] & 0xff);
	gen_say(s, 0, 200, "EHLO host-%u.client.example\r\n", s->ip[0] & 0xffff);
	gen_say(s, 1, 300,
		"250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n"
		"250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n"
		"250 SMTPUTF8\r\n");
	if (!auth)
		return;
	if (gen_below(g, 2)) {
		uint32_t off;

		gen_say(s, 0, 300, "AUTH LOGIN\r\n");
		gen_say(s, 1, 200, "334 VXNlcm5hbWU6\r\n");
		off = (uint32_t)s->text.len;
		gen_text_b64_line(&s->text, "user@example.net");
		gen_step_add(s, 0, 2000, off);
		gen_say(s, 1, 200, "334 UGFzc3dvcmQ6\r\n");
		off = (uint32_t)s->text.len;
		gen_text_b64_line(&s->text, "not-a-real-secret");
		gen_step_add(s, 0, 2000, off);
	} else {
		uint32_t off = (uint32_t)s->text.len;

		gen_text_printf(&s->text, "AUTH PLAIN ");
		gen_text_b64_plain(&s->text, "user@example.net", "not-a-real-secret");
		gen_step_add(s, 0, 300, off);
	}
	gen_say(s, 1, 5000, "235 2.7.0 Authentication successful\r\n");
}

/* MAIL, RCPTs and DATA pipelined (or one by one); returns accepted recipients. */
static uint32_t gen_smtp_envelope(struct gen *g, struct gen_sess *s, uint32_t n_rcpt,
				  bool pipelined, uint32_t reject_pct)
{
	uint32_t ok = 0, off = (uint32_t)s->text.len, roff;
	uint8_t kind[64];

	n_rcpt = n_rcpt < 64 ? n_rcpt : 64;
	for (uint32_t i = 0; i < n_rcpt; i++) {
		kind[i] = gen_below(g, 100) < reject_pct ? (uint8_t)(1 + gen_below(g, 3)) : 0;
		ok += kind[i] == 0;
	}
	gen_text_printf(&s->text, "MAIL FROM:<sender%u@example.org> SIZE=%u\r\n",
			gen_below(g, 100000), 1000 + gen_below(g, 100000));
	if (!pipelined) {
		gen_step_add(s, 0, 300, off);
		gen_say(s, 1, 500, "250 2.1.0 Ok\r\n");
	}
	for (uint32_t i = 0; i < n_rcpt; i++) {
		if (!pipelined)
			off = (uint32_t)s->text.len;
		gen_text_printf(&s->text, "RCPT TO:<user%u@%s>\r\n", gen_below(g, 50000),
				gen_text_domain(gen_below(g, 1000)));
		if (pipelined)
			continue;
		gen_step_add(s, 0, 200, off);
		gen_say(s, 1, 800, "%s", gen_text_rcpt_reply(kind[i]));
	}
	if (!pipelined)
		off = (uint32_t)s->text.len;
	if (ok)
		gen_text_printf(&s->text, "DATA\r\n");
	gen_step_add(s, 0, 200, off); /* nothing when one by one and all refused */
	roff = (uint32_t)s->text.len;
	if (pipelined)
		gen_text_printf(&s->text, "250 2.1.0 Ok\r\n");
	for (uint32_t i = 0; pipelined && i < n_rcpt; i++)
		gen_text_printf(&s->text, "%s", gen_text_rcpt_reply(kind[i]));
	if (ok)
		gen_text_printf(&s->text, "354 End data with <CR><LF>.<CR><LF>\r\n");
	gen_step_add(s, 1, 800, roff);
	return ok;
}

/* One whole transaction: envelope, content, the queued reply. */
static void gen_smtp_message(struct gen *g, struct gen_sess *s, uint32_t n_rcpt,
			     uint32_t body_bytes, bool pipelined, uint32_t reject_pct)
{
	struct gen_msg_opts mo = {
		.n_rcpt = n_rcpt,
		.body_bytes = body_bytes,
		.spam = gen_below(g, 100) < 15,
		.phish = gen_below(g, 100) < 8,
		.urls = gen_below(g, 2),
		.seed = gen_rand(g),
	};
	uint32_t off, ok = gen_smtp_envelope(g, s, n_rcpt, pipelined, reject_pct);

	s->rcpts += n_rcpt;
	s->rcpts_ok += ok;
	if (!ok)
		return;
	off = (uint32_t)s->text.len;
	gen_text_message(&s->text, &mo);
	gen_text_printf(&s->text, ".\r\n");
	gen_step_add(s, 0, 500, off);
	gen_say(s, 1, 3000 + gen_below(g, 30000), "250 2.0.0 Ok: queued as %08X\r\n",
		(uint32_t)gen_rand(g));
	s->msgs++;
}

static void gen_smtp_heavy(struct gen *g, struct gen_sess *s)
{
	bool submission = gen_below(g, 100) < 40;
	uint32_t n_msgs = 1 + gen_below(g, 3);

	gen_sess_reset(g, s, GEN_K_SMTP);
	s->ip[0] = submission ? gen_home_ip(g, 50000) : gen_foreign_ip(g);
	s->ip[1] = 0x0a010000u | (1 + gen_below(g, 64));
	s->port[1] = submission ? 587 : 25;
	gen_smtp_greet(g, s, submission);
	for (uint32_t m = 0; m < n_msgs; m++) {
		if (m && gen_below(g, 4) == 0) {
			gen_say(s, 0, 200, "RSET\r\n");
			gen_say(s, 1, 200, "250 2.0.0 Ok\r\n");
		}
		gen_smtp_message(g, s, 1 + gen_logu(g, 1, 50), gen_logu(g, 1024, 200 * 1024),
				 gen_below(g, 100) < 70, 8);
	}
	gen_say(s, 0, 300, "QUIT\r\n");
	gen_say(s, 1, 200, "221 2.0.0 Bye\r\n");
}

/* Banner, HELO, MAIL, one RCPT (often refused), a short spam body, QUIT: ~20 packets. */
static void gen_short_spam(struct gen *g, struct gen_sess *s)
{
	gen_sess_reset(g, s, GEN_K_SMTP);
	s->ip[0] = gen_foreign_ip(g);
	s->ip[1] = 0x0a010000u | (1 + gen_below(g, 16));
	s->port[1] = 25;
	s->rtt_us = gen_logu(g, 20000, 300000);
	gen_say(s, 1, 500 + gen_below(g, 3000), "220 mx%u.example.net ESMTP\r\n", s->ip[1] & 0xff);
	gen_say(s, 0, 100, gen_below(g, 2) ? "EHLO %u.%u.example\r\n" : "HELO %u.%u.example\r\n",
		s->ip[0] >> 8 & 0xff, s->ip[0] & 0xff);
	gen_say(s, 1, 200, "250 mx.example.net\r\n");
	gen_smtp_message(g, s, 1, 300 + gen_below(g, 1200), false, 40);
	gen_say(s, 0, 100, "QUIT\r\n");
	gen_say(s, 1, 100, "221 2.0.0 Bye\r\n");
}

/* A web-like TCP flow: small requests, large responses (or an upload). */
static void gen_bulk_tcp(struct gen *g, struct gen_sess *s)
{
	static const uint16_t ports[] = {443, 443, 443, 443, 443, 443, 443, 80, 80, 8080};
	uint32_t rounds = 1 + gen_below(g, 3);

	gen_sess_reset(g, s, GEN_K_TCP);
	s->ip[0] = gen_home_ip(g, 1u << 20);
	s->ip[1] = gen_foreign_ip(g);
	s->port[1] = gen_below(g, 10) ? ports[gen_below(g, 10)] : 1024 + gen_below(g, 60000);
	for (uint32_t r = 0; r < rounds; r++) {
		bool upload = gen_below(g, 20) == 0;

		gen_noise_step(s, 0, 1000 + gen_below(g, 50000),
			       upload ? gen_logu(g, 4096, 1u << 20) : 200 + gen_below(g, 600));
		gen_noise_step(s, 1, 2000 + gen_below(g, 20000),
			       upload ? 100 + gen_below(g, 400) : gen_logu(g, 2048, 4u << 20));
	}
	g->tcp_flows++;
}

/* QUIC-like bulk on 443 or a DNS exchange on 53. */
static void gen_udp(struct gen *g, struct gen_sess *s)
{
	bool dns = gen_below(g, 4) == 0;

	gen_sess_reset(g, s, GEN_K_UDP);
	s->ip[0] = gen_home_ip(g, 1u << 20);
	s->ip[1] = gen_foreign_ip(g);
	s->port[1] = dns ? 53 : 443;
	gen_noise_step(s, 0, 100, dns ? 40 + gen_below(g, 30) : 1200);
	gen_noise_step(s, 1, 1000 + gen_below(g, 20000),
		       dns ? 100 + gen_below(g, 300) : gen_logu(g, 5000, 256u << 10));
	g->udp_flows++;
}

/*
 * mixed-isp: each session slot always carries one kind, so the byte shares
 * hold steady over any window of the capture. The slot counts were set from
 * measured bytes per slot (bench/README): about 1% SMTP and 15% UDP bytes.
 */
static void gen_mixed(struct gen *g, struct gen_sess *s)
{
	if (s->slot < g->mix_smtp_slots)
		gen_smtp_heavy(g, s);
	else if (s->slot < g->mix_smtp_slots + g->mix_udp_slots)
		gen_udp(g, s);
	else
		gen_bulk_tcp(g, s);
}

/* ---- packets of a session ---- */

static void gen_emit_data(struct gen *g, struct gen_sess *s)
{
	const struct gen_step *st = &s->steps[s->step];
	uint32_t max = s->kind == GEN_K_UDP ? GEN_UDP_MAX : GEN_MSS;
	uint32_t left = st->len - s->step_off, n = left < max ? left : max;
	const uint8_t *p =
		st->off == GEN_NOISE_OFF
			? g->noise + (st->len + s->step_off) % (GEN_NOISE_BYTES - GEN_MSS)
			: (const uint8_t *)s->text.buf + st->off + s->step_off;
	int dir = st->dir;

	gen_seg(g, s, dir, PKT_BUILD_TCP_ACK | (n == left ? PKT_BUILD_TCP_PSH : 0), p, n);
	s->step_off += n;
	s->unacked++;
	s->next_ns = g->now_ns + s->seg_gap_ns;
	if (s->step_off < st->len) {
		if (s->unacked >= s->ack_every && s->kind != GEN_K_UDP) {
			s->ack_from = (uint8_t)!dir;
			s->unacked = 0;
		}
		return;
	}
	s->step++;
	s->step_off = 0;
	s->unacked = 0;
	if (s->step < s->n_steps && s->steps[s->step].dir != dir) {
		/* the reply carries the ACK */
		s->next_ns = g->now_ns + s->rtt_us * 500ull + s->steps[s->step].think_us * 1000ull;
	} else if (s->kind != GEN_K_UDP) {
		s->ack_from = (uint8_t)!dir;
		s->next_ns = g->now_ns + s->rtt_us * 500ull;
	} else if (s->step == s->n_steps) {
		s->phase = GEN_P_DONE;
	}
}

/*
 * Past the size asked for: sessions that sent nothing yet are dropped, web and
 * UDP flows stop their payload and close; SMTP sessions finish, so every
 * message in the file is whole. Returns true when s is done.
 */
static bool gen_wind_down(struct gen_sess *s)
{
	if (s->phase == GEN_P_SYN || s->kind == GEN_K_UDP) {
		s->phase = GEN_P_DONE;
		return true;
	}
	if (s->kind == GEN_K_TCP && s->phase == GEN_P_DATA && s->ack_from == GEN_NONE) {
		s->step = s->n_steps;
		s->phase = GEN_P_FIN1;
	}
	return false;
}

static void gen_emit(struct gen *g, struct gen_sess *s)
{
	uint64_t half = s->rtt_us * 500ull;

	if (g->stopping && gen_wind_down(s))
		return;

	switch (s->phase) {
	case GEN_P_SYN:
		gen_seg(g, s, 0, PKT_BUILD_TCP_SYN, NULL, 0);
		s->phase = GEN_P_SYNACK;
		s->next_ns = g->now_ns + half;
		return;
	case GEN_P_SYNACK:
		gen_seg(g, s, 1, PKT_BUILD_TCP_SYN | PKT_BUILD_TCP_ACK, NULL, 0);
		s->phase = GEN_P_ACK;
		s->next_ns = g->now_ns + half;
		return;
	case GEN_P_ACK:
		gen_seg(g, s, 0, PKT_BUILD_TCP_ACK, NULL, 0);
		s->phase = GEN_P_DATA;
		s->next_ns = g->now_ns + 1000ull * (s->n_steps ? s->steps[0].think_us : 0) +
			     (s->n_steps && s->steps[0].dir ? half : 0);
		return;
	case GEN_P_DATA:
		if (s->ack_from != GEN_NONE) {
			gen_seg(g, s, s->ack_from, PKT_BUILD_TCP_ACK, NULL, 0);
			s->ack_from = GEN_NONE;
			s->next_ns = g->now_ns + GEN_SEG_GAP_NS;
		} else {
			gen_emit_data(g, s);
		}
		if (s->phase == GEN_P_DATA && s->kind != GEN_K_UDP && s->step == s->n_steps &&
		    s->ack_from == GEN_NONE) {
			s->phase = GEN_P_FIN1;
			s->next_ns = g->now_ns + half;
		}
		return;
	case GEN_P_FIN1:
	case GEN_P_FIN2:
		gen_seg(g, s, s->phase == GEN_P_FIN2, PKT_BUILD_TCP_FIN | PKT_BUILD_TCP_ACK, NULL,
			0);
		s->phase++;
		s->next_ns = g->now_ns + half;
		return;
	case GEN_P_FIN3:
		gen_seg(g, s, 0, PKT_BUILD_TCP_ACK, NULL, 0);
		s->phase = GEN_P_DONE;
		if (s->kind == GEN_K_SMTP) {
			g->smtp_sessions++;
			g->smtp_msgs += s->msgs;
			g->smtp_rcpts += s->rcpts;
			g->smtp_rcpts_ok += s->rcpts_ok;
		}
		return;
	default:
		return;
	}
}

/* ---- floods and 64-byte traffic ---- */

static void gen_emit_bg(struct gen *g, struct gen_sess *s)
{
	struct gen_l4 f = {.ip_id = (uint16_t)gen_rand(g), .proto = 6};

	if (g->prof == GEN_SYN_FLOOD) {
		f.src = gen_spoofed_ip(g);
		f.dst = 0x0a010000u | (1 + gen_below(g, 64));
		f.sport = (uint16_t)(1024 + gen_below(g, 64000));
		f.dport = 25;
		f.flags = PKT_BUILD_TCP_SYN;
		f.seq = (uint32_t)gen_rand(g);
		g->syns++;
	} else {
		/* 64 kinds of long-lived flows: pure ACKs of TCP, small UDP datagrams */
		uint32_t i = gen_below(g, GEN_SMALL_FLOWS);

		f.src = 0x0a000000u | (i * 2654435761u >> 12);
		f.dst = 0xc6120000u | (i & 0x1ffff);
		f.sport = (uint16_t)(1024 + (i * 7919u) % 60000);
		f.dport = i % 5 == 0 ? 53 : 443;
		f.proto = i % 5 == 0 ? 17 : 6;
		f.flags = PKT_BUILD_TCP_ACK;
		f.seq = g->small_seq[i]++;
		f.ack = ~f.seq;
		f.n = f.proto == 17 ? 18 : 0; /* 60 bytes captured, 64 on the wire */
		f.payload = (const uint8_t *)"relaywatch-bench-x";
	}
	gen_write(g, GEN_K_BG, gen_frame(g, &f));
	s->next_ns = g->now_ns + g->bg_gap_ns;
}

/* ---- scheduling ---- */

static bool gen_before(const struct gen_sess *a, const struct gen_sess *b)
{
	return a->next_ns < b->next_ns;
}

static void gen_heap_down(struct gen *g, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;

		if (l < g->n_heap && gen_before(g->heap[l], g->heap[m]))
			m = l;
		if (l + 1 < g->n_heap && gen_before(g->heap[l + 1], g->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		struct gen_sess *t = g->heap[i];

		g->heap[i] = g->heap[m];
		g->heap[m] = t;
		i = m;
	}
}

static void gen_heap_push(struct gen *g, struct gen_sess *s)
{
	uint32_t i = g->n_heap++;

	g->heap[i] = s;
	while (i && gen_before(g->heap[i], g->heap[(i - 1) / 2])) {
		struct gen_sess *t = g->heap[i];

		g->heap[i] = g->heap[(i - 1) / 2];
		g->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* A new session for this profile's mix, starting a little after now. */
static void gen_start(struct gen *g, struct gen_sess *s)
{
	switch (g->prof) {
	case GEN_SMTP_HEAVY:
	case GEN_SYN_FLOOD:
		gen_smtp_heavy(g, s);
		break;
	case GEN_MIXED_ISP:
		gen_mixed(g, s);
		break;
	case GEN_SHORT_SPAM:
		gen_short_spam(g, s);
		break;
	default:
		return;
	}
	s->next_ns = g->now_ns + gen_exp_ns(g, 2e6);
}

static void gen_profile_setup(struct gen *g, uint32_t *n_sess, uint32_t *n_bg)
{
	static const uint32_t conc[GEN_PROFILE_COUNT] = {256, 4096, 0, 8, 1024};

	*n_sess = conc[g->prof];
	*n_bg = (g->prof == GEN_SMALL64 || g->prof == GEN_SYN_FLOOD) ? 1 : 0;
	/* small-64: 10GbE line rate; syn-flood: 1 Mpps of SYNs beside the real sessions */
	g->bg_gap_ns = g->prof == GEN_SMALL64 ? 67 : 1000;
	g->mix_smtp_slots = MIX_SMTP;
	g->mix_udp_slots = MIX_UDP;
}

/* Pop the session whose packet comes next, send it, start a new one in its place. */
static int gen_loop(struct gen *g, struct gen_sess *pool, uint32_t n_sess)
{
	while (g->n_heap) {
		struct gen_sess *s = g->heap[0];
		bool bg = s >= pool + n_sess;

		g->now_ns = s->next_ns;
		if (bg)
			gen_emit_bg(g, s);
		else
			gen_emit(g, s);
		if (!bg && s->phase == GEN_P_DONE && !g->stopping) {
			gen_start(g, s);
			if (s->text.failed)
				return -ENOMEM;
		}
		if ((!bg && s->phase == GEN_P_DONE) || (bg && g->stopping))
			g->heap[0] = g->heap[--g->n_heap]; /* finished, or the flood stops */
		gen_heap_down(g, 0);
	}
	return 0;
}

static int gen_run(struct gen *g)
{
	uint32_t n_sess, n_bg;
	struct gen_sess *pool;
	int err = -ENOMEM;

	gen_profile_setup(g, &n_sess, &n_bg);
	pool = calloc(n_sess + n_bg, sizeof(*pool));
	g->heap = calloc(n_sess + n_bg, sizeof(*g->heap));
	if (!pool || !g->heap)
		goto out;
	for (uint32_t i = 0; i < n_sess; i++) {
		pool[i].slot = i;
		gen_start(g, &pool[i]);
		if (pool[i].text.failed)
			goto out;
		gen_heap_push(g, &pool[i]);
	}
	for (uint32_t i = 0; i < n_bg; i++)
		gen_heap_push(g, &pool[n_sess + i]);
	err = gen_loop(g, pool, n_sess);
out:
	for (uint32_t i = 0; pool && i < n_sess; i++) {
		free(pool[i].text.buf);
		free(pool[i].steps);
	}
	free(pool);
	free(g->heap);
	g->heap = NULL;
	return err;
}

/* ---- main ---- */

static int gen_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	default:
		break;
	}
	if (*end || v == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int gen_manifest(const struct gen *g, const char *path, uint64_t seed)
{
	char mpath[4096];
	FILE *f;

	snprintf(mpath, sizeof(mpath), "%s.manifest", path);
	f = fopen(mpath, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"profile %s\nseed %llu\npackets %llu\nbytes %llu\navg_frame %.1f\n"
		"smtp_sessions %llu\nsmtp_messages %llu\nsmtp_recipients %llu\n"
		"smtp_recipients_accepted %llu\ntcp_flows %llu\nudp_flows %llu\nsyns %llu\n"
		"smtp_byte_share %.4f\nudp_byte_share %.4f\nduration_s %.3f\n",
		gen_profile_names[g->prof], (unsigned long long)seed, (unsigned long long)g->pkts,
		(unsigned long long)g->bytes, g->pkts ? (double)g->bytes / g->pkts : 0.0,
		(unsigned long long)g->smtp_sessions, (unsigned long long)g->smtp_msgs,
		(unsigned long long)g->smtp_rcpts, (unsigned long long)g->smtp_rcpts_ok,
		(unsigned long long)g->tcp_flows, (unsigned long long)g->udp_flows,
		(unsigned long long)g->syns,
		(double)g->kind_bytes[GEN_K_SMTP] / (g->bytes ? g->bytes : 1),
		(double)g->kind_bytes[GEN_K_UDP] / (g->bytes ? g->bytes : 1),
		(double)g->now_ns / 1e9);
	return fclose(f) ? -errno : 0;
}

static void gen_usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"usage: %s --profile NAME [--seed N] (--bytes SIZE | --packets N) -o FILE\n"
		"profiles: smtp-heavy mixed-isp small-64 syn-flood short-spam\n"
		"SIZE takes K, M, G suffixes (powers of 1024). The same arguments always give\n"
		"the same file; FILE.manifest says what it holds.\n",
		argv0);
}

static int gen_args(int argc, char **argv, struct gen *g, uint64_t *seed, const char **out)
{
	static const struct option opts[] = {
		{"profile", required_argument, NULL, 'p'},
		{"seed", required_argument, NULL, 's'},
		{"bytes", required_argument, NULL, 'b'},
		{"packets", required_argument, NULL, 'n'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, prof = -1;

	while ((c = getopt_long(argc, argv, "p:s:b:n:o:h", opts, NULL)) != -1) {
		for (int i = 0; c == 'p' && i < GEN_PROFILE_COUNT; i++)
			if (strcmp(optarg, gen_profile_names[i]) == 0)
				prof = i;
		if ((c == 's' && gen_parse_size(optarg, seed) && strcmp(optarg, "0")) ||
		    (c == 'b' && gen_parse_size(optarg, &g->limit_bytes)) ||
		    (c == 'n' && gen_parse_size(optarg, &g->limit_pkts)) || c == '?' || c == 'h')
			return -EINVAL;
		if (c == 's' && strcmp(optarg, "0") == 0)
			*seed = 0;
		if (c == 'o')
			*out = optarg;
	}
	if (prof < 0 || !*out || (!g->limit_bytes && !g->limit_pkts) || optind != argc)
		return -EINVAL;
	g->prof = (enum gen_profile)prof;
	return 0;
}

int main(int argc, char **argv)
{
	static struct gen g;
	const char *out = NULL;
	uint64_t seed = 1;
	int err;

	if (gen_args(argc, argv, &g, &seed, &out)) {
		gen_usage(stderr, argv[0]);
		return 2;
	}
	/* splitmix the seed so 1, 2, 3 give unrelated streams; never 0 for xorshift */
	g.rng = (seed + 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
	g.rng = (g.rng ^ (g.rng >> 31)) | 1;
	gen_text_noise(g.noise, sizeof(g.noise), g.rng);
	err = gen_pcap_open(&g, out);
	if (!err)
		err = gen_run(&g);
	if (g.out && fclose(g.out) && !err)
		err = -errno;
	if (!err)
		err = gen_manifest(&g, out, seed);
	if (err) {
		fprintf(stderr, "gen_traffic: %s: %s\n", out, strerror(-err));
		return 1;
	}
	printf("%s: %s seed %llu: %llu packets, %llu bytes (%.0f B/frame), %llu SMTP sessions, "
	       "%llu messages, %.2f s of packet time\n",
	       out, gen_profile_names[g.prof], (unsigned long long)seed, (unsigned long long)g.pkts,
	       (unsigned long long)g.bytes, g.pkts ? (double)g.bytes / g.pkts : 0.0,
	       (unsigned long long)g.smtp_sessions, (unsigned long long)g.smtp_msgs,
	       (double)g.now_ns / 1e9);
	return 0;
}
