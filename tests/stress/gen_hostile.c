// SPDX-License-Identifier: BSD-3-Clause
/*
 * gen_hostile: captures of hostile traffic for the stress and malformed-input
 * tests, with legitimate SMTP sessions mixed in. Deterministic (seeded), written
 * straight to a nanosecond pcap with packet time advancing 1 us per frame, so
 * a case of a million frames spans about a second of packet time.
 *
 *   gen_hostile --case NAME [--legit N] [--seed S] [--count N] -o FILE.pcap
 *
 * Every legitimate session i sends MAIL FROM:<legit-<i>@example.org> and one
 * whole message; the tests look for each of them in smtp.json. The hostile
 * part of each case (see gen_cases[] below) is spread between their packets.
 * On success it prints "legit N" and, per case, what went in.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_hostile_int.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* ---- pcap ---- */

static int gen_open(struct gen *g, const char *path)
{
	/* nanosecond pcap, Ethernet, snaplen 262144 */
	static const uint8_t hdr[24] = {0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
					0,    0,    0,	  0,	0, 0, 4, 0, 1, 0, 0, 0};

	g->out = fopen(path, "wb");
	if (!g->out)
		return -errno;
	setvbuf(g->out, NULL, _IOFBF, 4u << 20);
	return fwrite(hdr, sizeof(hdr), 1, g->out) == 1 ? 0 : -EIO;
}

/* One record; caplen may be below len (a truncated capture of the frame). */
void gen_record(struct gen *g, const uint8_t *p, uint32_t caplen, uint32_t len)
{
	uint64_t ts = GEN_T0_NS + g->now_ns;
	uint8_t rec[16];

	put_le32(rec, (uint32_t)(ts / 1000000000ull));
	put_le32(rec + 4, (uint32_t)(ts % 1000000000ull));
	put_le32(rec + 8, caplen);
	put_le32(rec + 12, len);
	fwrite(rec, sizeof(rec), 1, g->out);
	if (caplen)
		fwrite(p, caplen, 1, g->out);
	g->pkts++;
	g->bytes += caplen;
	g->now_ns += g->gap_ns;
}

/* Ethernet + IPv4 + TCP with real lengths and checksums (unless told to damage them). */
void gen_tcp(struct gen *g, const struct conn *c, int dir, uint8_t flags, uint32_t seq,
	     const void *payload, size_t n, uint8_t bad)
{
	uint8_t *f = g->frame, *ip = f + 14, *tcp = ip + 20;
	uint32_t s;

	if (n > sizeof(g->frame) - 54)
		n = sizeof(g->frame) - 54;
	memset(f, 0, 54);
	memcpy(f, dir == C2S ? "\x02\x00\x00\x00\x00\x02" : "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(f + 6, dir == C2S ? "\x02\x00\x00\x00\x00\x01" : "\x02\x00\x00\x00\x00\x02", 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(40 + n));
	put16(ip + 4, (uint16_t)g->pkts);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, c->ip[dir]);
	put32(ip + 16, c->ip[!dir]);
	put16(ip + 10, fold(sum16(ip, 20, 0)) ^ (bad & BAD_IP_SUM ? 0x5a5a : 0));
	put16(tcp, c->port[dir]);
	put16(tcp + 2, c->port[!dir]);
	put32(tcp + 4, seq);
	put32(tcp + 8, flags & F_ACK ? c->seq[!dir] : 0);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 65535);
	if (n)
		memcpy(tcp + 20, payload, n);
	s = sum16(ip + 12, 8, 6 + 20 + (uint32_t)n);
	put16(tcp + 16, fold(sum16(tcp, 20 + n, s)) ^ (bad & BAD_TCP_SUM ? 0x1234 : 0));
	gen_record(g, f, (uint32_t)(54 + n), (uint32_t)(54 + n));
	if (!g->in_legit)
		legit_pump(g);
}

void conn_init(struct gen *g, struct conn *c, uint32_t cip, uint16_t cport, uint32_t sip,
	       uint16_t sport)
{
	memset(c, 0, sizeof(*c));
	c->ip[C2S] = cip;
	c->ip[S2C] = sip;
	c->port[C2S] = cport;
	c->port[S2C] = sport;
	c->seq[C2S] = (uint32_t)gen_rand(g);
	c->seq[S2C] = (uint32_t)gen_rand(g);
}

/* Handshake step k (0..2) */
static void conn_hs(struct gen *g, struct conn *c, int k)
{
	if (k == 0) {
		gen_tcp(g, c, C2S, F_SYN, c->seq[C2S]++, NULL, 0, 0);
	} else if (k == 1) {
		gen_tcp(g, c, S2C, F_SYN | F_ACK, c->seq[S2C]++, NULL, 0, 0);
	} else {
		gen_tcp(g, c, C2S, F_ACK, c->seq[C2S], NULL, 0, 0);
	}
}

void conn_open(struct gen *g, struct conn *c)
{
	for (int k = 0; k < 3; k++)
		conn_hs(g, c, k);
}

/* Bytes from one side, in MSS-sized segments, each acknowledging the peer. */
void conn_send(struct gen *g, struct conn *c, int dir, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		size_t k = n < g->mss ? n : g->mss;

		gen_tcp(g, c, dir, F_ACK | F_PSH, c->seq[dir], b, k, c->bad);
		c->seq[dir] += (uint32_t)k;
		b += k;
		n -= k;
	}
}

void conn_sendf(struct gen *g, struct conn *c, int dir, const char *fmt, ...)
{
	char buf[GEN_TEXT_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		conn_send(g, c, dir, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Close step k (0..2): client FIN, server FIN, client ACK. */
static void conn_fin(struct gen *g, struct conn *c, int k)
{
	if (k == 0) {
		gen_tcp(g, c, C2S, F_FIN | F_ACK, c->seq[C2S]++, NULL, 0, 0);
	} else if (k == 1) {
		gen_tcp(g, c, S2C, F_FIN | F_ACK, c->seq[S2C]++, NULL, 0, 0);
	} else {
		gen_tcp(g, c, C2S, F_ACK, c->seq[C2S], NULL, 0, 0);
	}
}

void conn_close(struct gen *g, struct conn *c)
{
	for (int k = 0; k < 3; k++)
		conn_fin(g, c, k);
}

/* ---- legitimate sessions ---- */

/* 198.51.100.0/24 clients (TEST-NET-2), the MX is 203.0.113.25 (TEST-NET-3). */
#define LEGIT_SERVER 0xcb007119u
#define LEGIT_STEPS  19

static void legit_step(struct gen *g, struct legit *l)
{
	struct conn *c = &l->c;
	uint32_t i = l->id;

	switch (l->step++) {
	case 0:
	case 1:
	case 2:
		conn_hs(g, c, (int)l->step - 1);
		break;
	case 3:
		conn_sendf(g, c, S2C, "220 mx.example.net ESMTP\r\n");
		break;
	case 4:
		conn_sendf(g, c, C2S, "EHLO legit%u.example.org\r\n", i);
		break;
	case 5:
		conn_sendf(g, c, S2C, "250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
		break;
	case 6:
		conn_sendf(g, c, C2S, "MAIL FROM:<legit-%u@example.org>\r\n", i);
		break;
	case 7:
		conn_sendf(g, c, S2C, "250 2.1.0 Ok\r\n");
		break;
	case 8:
		conn_sendf(g, c, C2S, "RCPT TO:<rcpt-%u@example.net>\r\n", i);
		break;
	case 9:
		conn_sendf(g, c, S2C, "250 2.1.5 Ok\r\n");
		break;
	case 10:
		conn_sendf(g, c, C2S, "DATA\r\n");
		break;
	case 11:
		conn_sendf(g, c, S2C, "354 End data with <CR><LF>.<CR><LF>\r\n");
		break;
	case 12:
		conn_sendf(g, c, C2S,
			   "From: Legit Sender <legit-%u@example.org>\r\n"
			   "To: <rcpt-%u@example.net>\r\nSubject: legit message %u\r\n"
			   "Message-ID: <legit%u@example.org>\r\n\r\n"
			   "Hello, this is legitimate mail number %u.\r\n.\r\n",
			   i, i, i, i, i);
		break;
	case 13:
		conn_sendf(g, c, S2C, "250 2.0.0 Ok: queued as L%u\r\n", i);
		break;
	case 14:
		conn_sendf(g, c, C2S, "QUIT\r\n");
		break;
	case 15:
		conn_sendf(g, c, S2C, "221 2.0.0 Bye\r\n");
		break;
	default:
		conn_fin(g, c, (int)l->step - 17);
		break;
	}
}

static void legit_start(struct gen *g)
{
	struct legit *l = &g->legit[g->legit_started];
	uint32_t i = g->legit_started++;

	l->id = i;
	l->step = 0;
	conn_init(g, &l->c, 0xc6336400u | (1 + i % 250), (uint16_t)(20000 + i), LEGIT_SERVER, 25);
}

/* Every legit_every hostile frames, one frame of a legitimate session; at most
 * four are in flight at once, so their frames interleave with each other too. */
void legit_pump(struct gen *g)
{
	uint32_t active;

	if (++g->since_legit < g->legit_every || g->legit_done == g->n_legit)
		return;
	g->since_legit = 0;
	g->in_legit = true;
	while (g->legit_started < g->n_legit && g->legit_started - g->legit_done < 4)
		legit_start(g);
	active = g->legit_started - g->legit_done;
	if (active) {
		struct legit *l = &g->legit[g->legit_done + gen_below(g, active)];

		legit_step(g, l);
		/* finished sessions are swapped to the done end of the array */
		if (l->step == LEGIT_STEPS) {
			struct legit t = *l;

			*l = g->legit[g->legit_done];
			g->legit[g->legit_done++] = t;
		}
	}
	g->in_legit = false;
}

/* Spread the legitimate sessions over about hostile_pkts frames. */
void legit_plan(struct gen *g, uint64_t hostile_pkts)
{
	uint64_t legit_pkts = (uint64_t)g->n_legit * LEGIT_STEPS;

	g->legit_every = legit_pkts ? hostile_pkts / legit_pkts : 1;
	if (g->legit_every == 0)
		g->legit_every = 1;
}

static void legit_drain(struct gen *g)
{
	g->legit_every = 1;
	for (uint64_t n = 0; g->legit_done < g->n_legit && n < 100ull * GEN_LEGIT_MAX * LEGIT_STEPS;
	     n++)
		legit_pump(g);
}

struct gen_case {
	const char *name;
	void (*run)(struct gen *g, uint64_t count);
	uint64_t count; /* default size */
};

static const struct gen_case gen_cases[] = {
	{"syn-flood", case_syn_flood, 1000000},
	{"ooo-flood", case_ooo_flood, 2048},
	{"endless-line", case_endless_line, 64},
	{"rcpt-flood", case_rcpt_flood, 100000},
	{"big-message", case_big_message, 50000000},
	{"stuck-data", case_stuck_data, 10000},
	{"jumbo", case_jumbo, 8},
	{"checksums", case_checksums, 32},
	{"bad-frames", case_bad_frames, 200},
	{"smtp-garbage", case_smtp_garbage, 24},
	{"legit-only", NULL, 0},
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s --case NAME [--legit N] [--seed S] [--count N] -o FILE.pcap\ncases:",
		prog);
	for (size_t i = 0; i < sizeof(gen_cases) / sizeof(gen_cases[0]); i++)
		fprintf(f, " %s", gen_cases[i].name);
	fputc('\n', f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"case", required_argument, NULL, 'c'},
		{"legit", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, 's'},
		{"count", required_argument, NULL, 'k'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct gen g;
	const struct gen_case *gc = NULL;
	const char *out = NULL;
	uint64_t count = 0;
	int o, err;

	g.rng = 0x9e3779b97f4a7c15ull;
	g.gap_ns = 1000;
	g.mss = GEN_MSS;
	g.n_legit = 16;
	while ((o = getopt_long(argc, argv, "c:n:s:k:o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			for (size_t i = 0; i < sizeof(gen_cases) / sizeof(gen_cases[0]); i++)
				if (strcmp(optarg, gen_cases[i].name) == 0)
					gc = &gen_cases[i];
			break;
		case 'n':
			g.n_legit = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			g.rng ^= strtoull(optarg, NULL, 10) * 0x9e3779b97f4a7c15ull;
			break;
		case 'k':
			count = strtoull(optarg, NULL, 10);
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 64;
		}
	}
	if (!gc || !out || g.n_legit > GEN_LEGIT_MAX || !g.rng) {
		usage(stderr, argv[0]);
		return 64;
	}
	err = gen_open(&g, out);
	if (err) {
		fprintf(stderr, "%s: %s\n", out, strerror(-err));
		return 73;
	}
	if (gc->run)
		gc->run(&g, count ? count : gc->count);
	legit_drain(&g);
	if (fclose(g.out) != 0) {
		fprintf(stderr, "%s: write error\n", out);
		return 74;
	}
	printf("legit %u\npackets %llu\nbytes %llu\n", g.n_legit, (unsigned long long)g.pkts,
	       (unsigned long long)g.bytes);
	return 0;
}
