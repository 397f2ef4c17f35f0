// SPDX-License-Identifier: BSD-3-Clause
/*
 * gen_traffic's session scripts: what each kind of session says, as steps
 * (who sends which bytes of the session's text, after what think time).
 * SMTP sessions (greeting, AUTH, envelopes, messages), short spam, web-like
 * TCP and QUIC or DNS over UDP; gen_traffic.c turns the steps into packets.
 */
#include "bench/gen_traffic_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "bench/gen_text.h"

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

void gen_script_smtp_heavy(struct gen *g, struct gen_sess *s)
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
void gen_script_short_spam(struct gen *g, struct gen_sess *s)
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
void gen_script_mixed(struct gen *g, struct gen_sess *s)
{
	if (s->slot < g->mix_smtp_slots)
		gen_script_smtp_heavy(g, s);
	else if (s->slot < g->mix_smtp_slots + g->mix_udp_slots)
		gen_udp(g, s);
	else
		gen_bulk_tcp(g, s);
}
