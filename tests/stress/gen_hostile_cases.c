// SPDX-License-Identifier: BSD-3-Clause
/*
 * gen_hostile: the hostile part of each case (gen_cases[] in gen_hostile.c
 * picks one), spread between the legitimate sessions' packets by
 * legit_plan() and legit_pump(). What each case writes and prints is told
 * at the top of gen_hostile.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_hostile_int.h"

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
void case_syn_flood(struct gen *g, uint64_t count)
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
void case_ooo_flood(struct gen *g, uint64_t flows)
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
void case_endless_line(struct gen *g, uint64_t sessions)
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
void case_rcpt_flood(struct gen *g, uint64_t count)
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
void case_big_message(struct gen *g, uint64_t count)
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
void case_stuck_data(struct gen *g, uint64_t count)
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
void case_jumbo(struct gen *g, uint64_t count)
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
void case_checksums(struct gen *g, uint64_t count)
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
void case_bad_frames(struct gen *g, uint64_t count)
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

void case_smtp_garbage(struct gen *g, uint64_t count)
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
