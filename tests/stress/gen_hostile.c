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

static uint64_t gen_rand(struct gen *g)
{
	/* xorshift64*: deterministic, no rand() */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 0x2545f4914f6cdd1dull;
}

static uint32_t gen_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(gen_rand(g) % n);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

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
static void gen_record(struct gen *g, const uint8_t *p, uint32_t caplen, uint32_t len)
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

static void legit_pump(struct gen *g);

/* Ethernet + IPv4 + TCP with real lengths and checksums (unless told to damage them). */
static void gen_tcp(struct gen *g, const struct conn *c, int dir, uint8_t flags, uint32_t seq,
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

static void conn_init(struct gen *g, struct conn *c, uint32_t cip, uint16_t cport, uint32_t sip,
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

static void conn_open(struct gen *g, struct conn *c)
{
	for (int k = 0; k < 3; k++)
		conn_hs(g, c, k);
}

/* Bytes from one side, in MSS-sized segments, each acknowledging the peer. */
static void conn_send(struct gen *g, struct conn *c, int dir, const void *p, size_t n)
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

static void conn_sendf(struct gen *g, struct conn *c, int dir, const char *fmt, ...)
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

static void conn_close(struct gen *g, struct conn *c)
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
static void legit_pump(struct gen *g)
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
static void legit_plan(struct gen *g, uint64_t hostile_pkts)
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

/* ---- hostile cases ---- */

/* Hostile clients: 10.0.0.0/8 and random spoofed sources; servers in 192.0.2.0/24. */
static uint32_t hostile_client(uint32_t i)
{
	return 0x0a000000u | (i + 1);
}

static uint32_t spoofed(struct gen *g)
{
	uint32_t top = 1 + gen_below(g, 222);

	if (top == 10 || top == 127 || top == 198 || top == 203)
		top++;
	return top << 24 | (gen_rand(g) & 0xffffff);
}

#define HOSTILE_SERVER(i) (0xc0000200u | (1 + (i) % 64))

static void smtp_prefix(struct gen *g, struct conn *c, uint32_t i)
{
	conn_open(g, c);
	conn_sendf(g, c, S2C, "220 mx%u.example.com ESMTP\r\n", i % 64);
	conn_sendf(g, c, C2S, "EHLO h%u.example\r\n", i);
	conn_sendf(g, c, S2C, "250-mx.example.com\r\n250 PIPELINING\r\n");
}

/* A million SYNs to port 25 from random sources. */
static void case_syn_flood(struct gen *g, uint64_t count)
{
	legit_plan(g, count);
	for (uint64_t i = 0; i < count; i++) {
		struct conn c;

		conn_init(g, &c, spoofed(g), (uint16_t)(1024 + gen_below(g, 64000)),
			  HOSTILE_SERVER(i), 25);
		gen_tcp(g, &c, C2S, F_SYN, c.seq[C2S], NULL, 0, 0);
	}
	printf("syns %llu\n", (unsigned long long)count);
}

#define OOO_SEG	  512
#define OOO_SEGS  40
#define OOO_BATCH 512

/* Out-of-order flood: each flow's first segment is held back (half of them
 * never send it), the others come shuffled, some twice with other bytes. */
static void case_ooo_flood(struct gen *g, uint64_t flows)
{
	static struct conn c[OOO_BATCH];
	static uint8_t order[OOO_BATCH][OOO_SEGS];
	uint8_t seg[OOO_SEG];

	legit_plan(g, flows * (OOO_SEGS + 10));
	for (size_t k = 0; k < sizeof(seg); k++)
		seg[k] = k % 64 == 62 ? '\r' : k % 64 == 63 ? '\n' : 'a' + k % 26;
	for (uint64_t base = 0; base < flows; base += OOO_BATCH) {
		uint32_t nb = flows - base < OOO_BATCH ? (uint32_t)(flows - base) : OOO_BATCH;

		for (uint32_t j = 0; j < nb; j++) {
			uint32_t i = (uint32_t)(base + j);

			conn_init(g, &c[j], hostile_client(i), (uint16_t)(30000 + i % 30000),
				  HOSTILE_SERVER(i), 25);
			smtp_prefix(g, &c[j], i);
			for (uint8_t k = 0; k < OOO_SEGS; k++)
				order[j][k] = k;
			for (uint8_t k = OOO_SEGS - 1; k > 1; k--) { /* shuffle 1..n-1 */
				uint8_t r = (uint8_t)(1 + gen_below(g, k));
				uint8_t t = order[j][k];

				order[j][k] = order[j][r];
				order[j][r] = t;
			}
		}
		/* round-robin over the batch so every flow holds buffers at once */
		for (uint32_t k = 1; k <= OOO_SEGS; k++) {
			for (uint32_t j = 0; j < nb; j++) {
				uint32_t s = k < OOO_SEGS ? order[j][k] : 0;
				uint32_t seq = c[j].seq[C2S] + s * OOO_SEG;

				if (k == OOO_SEGS && (base + j) % 2)
					continue; /* the hole stays */
				gen_tcp(g, &c[j], C2S, F_ACK | F_PSH, seq, seg, sizeof(seg), 0);
				if (k % 8 == 0) { /* overlapping copy, other bytes */
					seg[0] ^= 1;
					gen_tcp(g, &c[j], C2S, F_ACK | F_PSH, seq + 100, seg,
						sizeof(seg), 0);
					seg[0] ^= 1;
				}
			}
		}
		for (uint32_t j = 0; j < nb; j++) {
			c[j].seq[C2S] += OOO_SEGS * OOO_SEG;
			if ((base + j) % 4 <= 1) /* half of the closed ones still have the hole */
				conn_close(g, &c[j]);
		}
	}
	printf("ooo_flows %llu\n", (unsigned long long)flows);
}

/* Lines that never end: client and server side, on the SMTP port and on
 * another port (probing), and one stream of many megabytes. */
static void case_endless_line(struct gen *g, uint64_t sessions)
{
	static uint8_t junk[64 * 1024];
	struct conn c;

	memset(junk, 'A', sizeof(junk));
	legit_plan(g, sessions * 190 + 16 * 1024 * 1024 / GEN_MSS);
	for (uint64_t i = 0; i < sessions; i++) {
		conn_init(g, &c, hostile_client((uint32_t)i), (uint16_t)(30000 + i),
			  HOSTILE_SERVER(i), i % 8 == 7 ? 8025 : 25);
		smtp_prefix(g, &c, (uint32_t)i);
		conn_sendf(g, &c, C2S, "MAIL FROM:<x@example.com>\r\nRCPT TO:<");
		for (int k = 0; k < 4; k++)
			conn_send(g, &c, i % 4 == 3 ? S2C : C2S, junk, sizeof(junk));
		conn_close(g, &c);
	}
	conn_init(g, &c, hostile_client(999999), 29999, HOSTILE_SERVER(0), 25);
	smtp_prefix(g, &c, 0);
	for (int k = 0; k < 256; k++)
		conn_send(g, &c, C2S, junk, sizeof(junk));
	conn_sendf(g, &c, C2S, "\r\nQUIT\r\n");
	conn_close(g, &c);
	printf("endless_sessions %llu\nendless_big_bytes %u\n", (unsigned long long)sessions + 1,
	       256u * (unsigned int)sizeof(junk));
}

#define RCPT_BATCH 32

/* One transaction with count RCPT commands (answered in batches), and one
 * client that pipelines count RCPTs without waiting for any reply. */
static void case_rcpt_flood(struct gen *g, uint64_t count)
{
	char buf[RCPT_BATCH * 48];
	struct conn c;

	legit_plan(g, 2 * count / RCPT_BATCH * 3);
	for (int v = 0; v < 2; v++) {
		bool replies = v == 0;

		conn_init(g, &c, hostile_client(7 + v), 40000, HOSTILE_SERVER(v), 25);
		smtp_prefix(g, &c, v);
		conn_sendf(g, &c, C2S, "MAIL FROM:<bulk%d@example.com>\r\n", v);
		conn_sendf(g, &c, S2C, "250 2.1.0 Ok\r\n");
		for (uint64_t i = 0; i < count; i += RCPT_BATCH) {
			size_t n = 0;
			uint64_t k;

			for (k = i; k < count && k < i + RCPT_BATCH; k++)
				n += (size_t)snprintf(buf + n, sizeof(buf) - n,
						      "RCPT TO:<r%llu@dest%llu.example>\r\n",
						      (unsigned long long)k,
						      (unsigned long long)k % 100);
			conn_send(g, &c, C2S, buf, n);
			if (!replies)
				continue;
			n = 0;
			for (uint64_t j = i; j < k; j++)
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "250 2.1.5 Ok\r\n");
			conn_send(g, &c, S2C, buf, n);
		}
		conn_sendf(g, &c, C2S, "DATA\r\n");
		conn_sendf(g, &c, S2C, "354 go ahead\r\n");
		conn_sendf(g, &c, C2S, "Subject: bulk %d\r\n\r\nbody\r\n.\r\n", v);
		conn_sendf(g, &c, S2C, "250 2.0.0 Ok: queued\r\n");
		conn_sendf(g, &c, C2S, "QUIT\r\n");
		conn_sendf(g, &c, S2C, "221 Bye\r\n");
		conn_close(g, &c);
	}
	printf("rcpts %llu\n", (unsigned long long)count);
}

/* One message of count bytes: headers, then a base64 attachment. */
static void case_big_message(struct gen *g, uint64_t count)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char chunk[GEN_MSS * 8];
	uint64_t sent = 0;
	struct conn c;
	size_t n;

	legit_plan(g, count / GEN_MSS);
	conn_init(g, &c, hostile_client(5), 41000, HOSTILE_SERVER(5), 25);
	smtp_prefix(g, &c, 5);
	conn_sendf(g, &c, C2S, "MAIL FROM:<big@example.com>\r\n");
	conn_sendf(g, &c, S2C, "250 2.1.0 Ok\r\n");
	conn_sendf(g, &c, C2S, "RCPT TO:<someone@example.net>\r\n");
	conn_sendf(g, &c, S2C, "250 2.1.5 Ok\r\n");
	conn_sendf(g, &c, C2S, "DATA\r\n");
	conn_sendf(g, &c, S2C, "354 go ahead\r\n");
	conn_sendf(g, &c, C2S,
		   "From: <big@example.com>\r\nSubject: big one\r\nMIME-Version: 1.0\r\n"
		   "Content-Type: multipart/mixed; boundary=\"BOUND\"\r\n\r\n--BOUND\r\n"
		   "Content-Type: text/plain\r\n\r\nsee attachment\r\n--BOUND\r\n"
		   "Content-Type: application/octet-stream\r\n"
		   "Content-Transfer-Encoding: base64\r\n\r\n");
	/* 76 characters and CRLF per line */
	for (n = 0; n + 78 <= sizeof(chunk); n += 78) {
		for (size_t k = 0; k < 76; k++)
			chunk[n + k] = b64[(n + k * 7) % 64];
		chunk[n + 76] = '\r';
		chunk[n + 77] = '\n';
	}
	while (sent < count) {
		conn_send(g, &c, C2S, chunk, n);
		sent += n;
	}
	conn_sendf(g, &c, C2S, "--BOUND--\r\n.\r\n");
	conn_sendf(g, &c, S2C, "250 2.0.0 Ok: queued\r\n");
	conn_sendf(g, &c, C2S, "QUIT\r\n");
	conn_sendf(g, &c, S2C, "221 Bye\r\n");
	conn_close(g, &c);
	printf("big_message_bytes %llu\n", (unsigned long long)sent);
}

/* Sessions that reach DATA, send a little and then nothing more, ever. */
static void case_stuck_data(struct gen *g, uint64_t count)
{
	struct conn c;

	legit_plan(g, count * 13);
	for (uint64_t i = 0; i < count; i++) {
		conn_init(g, &c, hostile_client((uint32_t)i), (uint16_t)(10000 + i % 50000),
			  HOSTILE_SERVER(i), 25);
		smtp_prefix(g, &c, (uint32_t)i);
		conn_sendf(g, &c, C2S, "MAIL FROM:<stuck%llu@example.com>\r\n",
			   (unsigned long long)i);
		conn_sendf(g, &c, S2C, "250 2.1.0 Ok\r\n");
		conn_sendf(g, &c, C2S, "RCPT TO:<victim@example.net>\r\n");
		conn_sendf(g, &c, S2C, "250 2.1.5 Ok\r\n");
		conn_sendf(g, &c, C2S, "DATA\r\n");
		conn_sendf(g, &c, S2C, "354 go ahead\r\n");
		conn_sendf(g, &c, C2S,
			   "Subject: stuck %llu\r\nContent-Type: text/plain\r\n\r\n"
			   "This message never ends\r\n",
			   (unsigned long long)i);
	}
	printf("stuck_sessions %llu\n", (unsigned long long)count);
}

/* Frames of 9000 bytes and of the largest IPv4 datagram (65535 bytes), for
 * jumbo-frame taps; the sessions carrying them are legitimate and complete. */
static void case_jumbo(struct gen *g, uint64_t count)
{
	static char body[65535];
	struct conn c;

	for (size_t k = 0; k < sizeof(body); k++)
		body[k] = k % 72 == 70 ? '\r' : k % 72 == 71 ? '\n' : 'j';
	legit_plan(g, count * 14);
	for (uint64_t i = 0; i < count; i++) {
		g->mss = i % 2 ? 65535 - 40 : 9000 - 40;
		conn_init(g, &c, hostile_client((uint32_t)i), (uint16_t)(42000 + i),
			  HOSTILE_SERVER(i), 25);
		smtp_prefix(g, &c, (uint32_t)i);
		conn_sendf(g, &c, C2S, "MAIL FROM:<jumbo-%llu@example.org>\r\n",
			   (unsigned long long)i);
		conn_sendf(g, &c, S2C, "250 2.1.0 Ok\r\n");
		conn_sendf(g, &c, C2S, "RCPT TO:<x@example.net>\r\nDATA\r\n");
		conn_sendf(g, &c, S2C, "250 2.1.5 Ok\r\n354 go ahead\r\n");
		conn_sendf(g, &c, C2S, "Subject: jumbo\r\n\r\n");
		for (int k = 0; k < 3; k++)
			conn_send(g, &c, C2S, body, g->mss);
		conn_sendf(g, &c, C2S, "\r\n.\r\n");
		conn_sendf(g, &c, S2C, "250 2.0.0 Ok: queued\r\n");
		conn_close(g, &c);
		g->mss = GEN_MSS;
	}
	printf("jumbo_sessions %llu\n", (unsigned long long)count);
}

/* Sessions whose every data frame has a wrong TCP (even) or IP (odd) checksum. */
static void case_checksums(struct gen *g, uint64_t count)
{
	struct conn c;

	legit_plan(g, count * 16);
	for (uint64_t i = 0; i < count; i++) {
		conn_init(g, &c, hostile_client((uint32_t)i), (uint16_t)(43000 + i),
			  HOSTILE_SERVER(i), 25);
		conn_open(g, &c);
		c.bad = i % 2 ? BAD_IP_SUM : BAD_TCP_SUM;
		conn_sendf(g, &c, S2C, "220 mx.example.com ESMTP\r\n");
		conn_sendf(g, &c, C2S, "EHLO badsum%llu.example\r\n", (unsigned long long)i);
		conn_sendf(g, &c, S2C, "250 mx.example.com\r\n");
		conn_sendf(g, &c, C2S, "MAIL FROM:<badsum-%llu@example.org>\r\n",
			   (unsigned long long)i);
		conn_sendf(g, &c, S2C, "250 2.1.0 Ok\r\n");
		conn_sendf(g, &c, C2S, "RSET\r\n");
		conn_sendf(g, &c, S2C, "250 Ok\r\n");
		conn_sendf(g, &c, C2S, "QUIT\r\n");
		conn_sendf(g, &c, S2C, "221 Bye\r\n");
		c.bad = 0;
		conn_close(g, &c);
	}
	printf("badsum_sessions %llu\n", (unsigned long long)count);
}

/* Frames the decoder must refuse: empty, runts, cut headers, bad lengths. */
static void case_bad_frames(struct gen *g, uint64_t count)
{
	uint8_t f[62], *ip = f + 14;
	struct conn c;

	legit_plan(g, count * 8);
	conn_init(g, &c, hostile_client(1), 44000, HOSTILE_SERVER(1), 25);
	for (uint64_t i = 0; i < count; i++) {
		gen_tcp(g, &c, C2S, F_ACK, c.seq[C2S], "EHLO x\r\n", 8, 0);
		memcpy(f, g->frame, sizeof(f)); /* legit_pump() reuses g->frame */
		gen_record(g, f, 0, 0);		/* zero-length record */
		legit_pump(g);
		gen_record(g, f, 0, 60); /* nothing captured of a 60-byte frame */
		legit_pump(g);
		gen_record(g, f, (uint32_t)(7 + i % 40), 62); /* runts and cut headers */
		legit_pump(g);
		ip[0] = (uint8_t)(0x40 | i % 5); /* IHL below 5 */
		gen_record(g, f, 62, 62);
		legit_pump(g);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + i % 20)); /* total length cuts the TCP header */
		gen_record(g, f, 62, 62);
		legit_pump(g);
		put16(ip + 2, 48);
		ip[20 + 12] = (uint8_t)((i % 5) << 4); /* TCP data offset below 5 */
		gen_record(g, f, 62, 62);
		legit_pump(g);
		ip[20 + 12] = 0xf0; /* data offset past the end */
		gen_record(g, f, 62, 62);
		legit_pump(g);
		f[12] = 0x86; /* claims IPv6, holds IPv4 */
		f[13] = 0xdd;
		gen_record(g, f, 62, 62);
		legit_pump(g);
	}
	printf("bad_frames %llu\n", (unsigned long long)count * 8);
}

/* SMTP with bytes parsers choke on: invalid UTF-8, NUL, invalid base64 in
 * AUTH and in MIME parts, broken RFC 2047 words. */
static const char garbage_nul_line[] = "MAIL FROM:<nul\0byte@example.com>\r\n";
static const char garbage_msg[] =
	"From: =?utf-8?B?!!!bad?= <a\xff@example.com>\r\n"
	"Subject: =?utf-8?Q?=ZZ=F0=28?= =?x-unknown?B?AAAA?= \xc3\r\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	"--b\r\nContent-Type: text/plain\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\n"
	"!!!!****====\xff\xfe\x00\x01 AAA= =A= \r\nQUJD\r\n--b\r\n"
	"Content-Type: text/html; charset=\"\xff\"\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	"=\r\n=Z=\xff=0=\r\n<a href=\"http://\xff\xfe/\">x</a>\0\r\n--b--\r\n.\r\n";

static void case_smtp_garbage(struct gen *g, uint64_t count)
{
	struct conn c;

	legit_plan(g, count * 30);
	for (uint64_t i = 0; i < count; i++) {
		conn_init(g, &c, hostile_client((uint32_t)i), (uint16_t)(45000 + i),
			  HOSTILE_SERVER(i), i % 3 == 2 ? 587 : 25);
		conn_open(g, &c);
		conn_sendf(g, &c, S2C, "220 mx.example.com \xff\xfe ESMTP \xc3\x28\r\n");
		conn_sendf(g, &c, C2S, "EHLO \xf0\x28\x8c\xbc.\xc0\xaf.example\r\n");
		conn_sendf(g, &c, S2C, "250-mx\r\n250 AUTH PLAIN LOGIN\r\n");
		conn_sendf(g, &c, C2S, "AUTH PLAIN ***not*base64***=\r\n");
		conn_sendf(g, &c, S2C, "535 5.7.8 Error\r\n");
		conn_sendf(g, &c, C2S, "AUTH LOGIN\r\n");
		conn_sendf(g, &c, S2C, "334 VXNlcm5hbWU6\r\n");
		conn_sendf(g, &c, C2S, "%%%%%%%%\xff\xfe==\r\n");
		conn_sendf(g, &c, S2C, "334 UGFzc3dvcmQ6\r\n");
		conn_sendf(g, &c, C2S, "!!!!\r\n");
		conn_sendf(g, &c, S2C, "535 5.7.8 Error\r\n");
		conn_send(g, &c, C2S, garbage_nul_line, sizeof(garbage_nul_line) - 1);
		conn_sendf(g, &c, S2C, "250 2.1.0 Ok\r\n");
		conn_sendf(g, &c, C2S, "RCPT TO:<\xe2\x82\x28\xff@example.net>\r\n");
		conn_sendf(g, &c, S2C, "250 2.1.5 Ok \xff\r\n");
		conn_sendf(g, &c, C2S, "DATA\r\n");
		conn_sendf(g, &c, S2C, "354 go ahead\r\n");
		conn_send(g, &c, C2S, garbage_msg, sizeof(garbage_msg) - 1);
		conn_sendf(g, &c, S2C, "250 2.0.0 Ok: queued\r\n");
		conn_sendf(g, &c, C2S, "QUIT\r\n");
		conn_sendf(g, &c, S2C, "221 Bye\r\n");
		conn_close(g, &c);
	}
	printf("garbage_sessions %llu\n", (unsigned long long)count);
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
