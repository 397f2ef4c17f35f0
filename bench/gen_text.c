// SPDX-License-Identifier: BSD-3-Clause
#include "bench/gen_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define GEN_B64_RAW_LINE 57 /* 76 characters a line, as MUAs write */

static const char *const gen_words[] = {
	"the",	    "meeting", "report",   "attached", "please",   "find",   "invoice",
	"schedule", "quarter", "project",  "update",   "review",   "thanks", "regards",
	"team",	    "budget",  "customer", "order",    "delivery", "monday", "friday",
	"next",	    "week",    "call",	   "document", "draft",	   "final",  "version",
	"changes",  "agenda",  "minutes",  "office",   "contract", "signed", "payment",
	"received", "account", "shipping", "address",  "confirm",  "about",  "with",
	"from",	    "this",    "that",	   "will",     "have",	   "been",   "network",
	"server",   "backup",  "tonight",  "holiday",  "lunch",	   "photos", "family",
	"tickets",  "travel",  "hotel",	   "booking",  "question", "answer", "later",
	"soon",
};

/* Positive examples of the body rules in rules/spam.rules and rules/phish.rules. */
static const char *const gen_spam[] = {
	"Dear Beneficiary, we have been instructed to release your overdue payment.",
	"I have the sum of US$10.5 Million deposited in your name.",
	"Buy Viagra online without prescription, 90% discount!",
	"Congratulations! You have won the Euro Millions lottery prize of 850,000 EUR.",
	"Click here to claim your prize before it expires.",
	"Our trading robot offers guaranteed daily returns of 3.5% on every deposit.",
};

static const char *const gen_phish[] = {
	"Dear user, your email account will be suspended within 24 hours unless you confirm "
	"your details below.",
	"Please verify your password to keep using Office 365.",
	"Your mailbox has exceeded its storage limit. Click below to increase your quota.",
	"We detected unusual sign-in activity on your account.",
};

static const char *const gen_phish_urls[] = {
	"http://198.51.100.23:8080/secure/paypal/webscr/login.php",
	"http://www.paypal.com@203.0.113.77/signin",
	"http://xn--pypal-4ve.com/login",
	"https://secure-docs-3721.web.app/office365/login.html",
};

static const char *const gen_domains[] = {
	"example.com",	"example.net",	"example.org", "mail.example",
	"corp.example", "shop.example", "isp.example", "univ.example",
};

static uint64_t gen_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint32_t gen_pick(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((gen_next(s) >> 32) * n) >> 32);
}

static bool gen_reserve(struct gen_text *t, size_t n)
{
	size_t cap = t->cap ? t->cap : 4096;
	char *nb;

	if (t->failed)
		return false;
	if (t->len + n + 1 <= t->cap)
		return true;
	while (cap < t->len + n + 1)
		cap *= 2;
	nb = realloc(t->buf, cap);
	if (!nb) {
		t->failed = true;
		return false;
	}
	t->buf = nb;
	t->cap = cap;
	return true;
}

static void gen_put(struct gen_text *t, const void *p, size_t n)
{
	if (!gen_reserve(t, n))
		return;
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

void gen_text_vprintf(struct gen_text *t, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || !gen_reserve(t, (size_t)n))
		return;
	vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
	t->len += (size_t)n;
}

void gen_text_printf(struct gen_text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gen_text_vprintf(t, fmt, ap);
	va_end(ap);
}

static void gen_b64(struct gen_text *t, const uint8_t *p, size_t n)
{
	if (!gen_reserve(t, (n + 2) / 3 * 4 + 2))
		return;
	t->len += (size_t)EVP_EncodeBlock((unsigned char *)t->buf + t->len, p, (int)n);
	gen_put(t, "\r\n", 2);
}

void gen_text_b64_line(struct gen_text *t, const char *s)
{
	gen_b64(t, (const uint8_t *)s, strlen(s));
}

void gen_text_b64_plain(struct gen_text *t, const char *user, const char *pass)
{
	uint8_t buf[256];
	size_t u = strlen(user), p = strlen(pass);

	if (u + p + 2 > sizeof(buf))
		return;
	buf[0] = 0;
	memcpy(buf + 1, user, u);
	buf[1 + u] = 0;
	memcpy(buf + 2 + u, pass, p);
	gen_b64(t, buf, u + p + 2);
}

const char *gen_text_domain(uint32_t i)
{
	return gen_domains[i % (sizeof(gen_domains) / sizeof(gen_domains[0]))];
}

const char *gen_text_rcpt_reply(unsigned int kind)
{
	static const char *const r[] = {
		"250 2.1.5 Ok\r\n",
		"550 5.1.1 <user@example.com>: Recipient address rejected: User unknown in local "
		"recipient table\r\n",
		"554 5.7.1 <user@example.com>: Relay access denied\r\n",
		"554 5.7.1 Service unavailable; Client host [198.18.0.9] blocked using "
		"zen.spamhaus.org\r\n",
	};

	return r[kind % 4];
}

void gen_text_noise(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t s = seed | 1;

	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t v = gen_next(&s);

		memcpy(p + i, &v, 8);
	}
	for (size_t i = n & ~(size_t)7; i < n; i++)
		p[i] = (uint8_t)gen_next(&s);
}

/* Lines of ordinary words up to about n bytes, a phrase or link dropped in. */
static void gen_plain(struct gen_text *t, const struct gen_msg_opts *o, uint64_t *s, size_t n)
{
	size_t end = t->len + n, line = 0;

	if (o->spam)
		gen_text_printf(t, "%s\r\n", gen_spam[gen_pick(s, 6)]);
	if (o->phish)
		gen_text_printf(t, "%s\r\n%s\r\n", gen_phish[gen_pick(s, 4)],
				gen_phish_urls[gen_pick(s, 4)]);
	while (t->len < end && !t->failed) {
		const char *w = gen_words[gen_pick(s, 64)];
		size_t wl = strlen(w);

		if (line + wl + 1 > 72) {
			gen_put(t, "\r\n", 2);
			line = 0;
			if (o->urls && gen_pick(s, 16) == 0)
				gen_text_printf(t, "https://www.%s/%s/%u\r\n",
						gen_text_domain(gen_pick(s, 8)), w,
						gen_pick(s, 9999));
			continue;
		}
		if (line)
			gen_put(t, " ", 1);
		gen_put(t, w, wl);
		line += wl + 1;
	}
	gen_put(t, "\r\n", 2);
}

static void gen_headers(struct gen_text *t, const struct gen_msg_opts *o, uint64_t *s)
{
	static const char *const subj[] = {
		"Re: project update",	  "Invoice",
		"Meeting on monday",	  "Photos from the trip",
		"Your order has shipped", "Weekly report",
	};

	gen_text_printf(t,
			"Received: from client.example ([198.18.%u.%u]) by mx.example.net "
			"with ESMTP id %08X; Tue, 14 Nov 2023 22:13:20 +0000\r\n",
			gen_pick(s, 256), gen_pick(s, 256), (uint32_t)gen_next(s));
	gen_text_printf(t, "From: \"Sender %u\" <sender%u@%s>\r\nTo: ", gen_pick(s, 999),
			gen_pick(s, 99999), gen_text_domain(gen_pick(s, 8)));
	for (uint32_t i = 0; i < o->n_rcpt; i++)
		gen_text_printf(t, "%s<user%u@%s>", i == 0 ? "" : (i % 3 ? ", " : ",\r\n "),
				gen_pick(s, 50000), gen_text_domain(gen_pick(s, 8)));
	gen_text_printf(t, "\r\nSubject: ");
	if (o->spam)
		gen_text_printf(t, "Congratulations! You have won\r\n");
	else
		gen_text_printf(t, "%s %u", subj[gen_pick(s, 6)], gen_pick(s, 99999));
	gen_text_printf(t,
			"%sDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
			"Message-ID: <%016llx@example.org>\r\nMIME-Version: 1.0\r\n%s",
			o->spam ? "" : "\r\n", (unsigned long long)gen_next(s),
			o->spam ? "X-Mailer: PHPMailer 5.1 (phpmailer.sourceforge.net)\r\n" : "");
}

/* base64 lines of random bytes, about n characters. */
static void gen_attachment(struct gen_text *t, uint64_t *s, size_t n)
{
	uint8_t raw[GEN_B64_RAW_LINE];

	for (size_t done = 0; done < n && !t->failed; done += 78) {
		gen_text_noise(raw, sizeof(raw), gen_next(s));
		gen_b64(t, raw, sizeof(raw));
	}
}

void gen_text_message(struct gen_text *t, const struct gen_msg_opts *o)
{
	uint64_t s = o->seed | 1;
	size_t text_bytes = o->body_bytes < 4096 ? o->body_bytes : 1024 + gen_pick(&s, 3072);
	unsigned long long b = (unsigned long long)gen_next(&s);

	gen_headers(t, o, &s);
	if (o->body_bytes < 4096) {
		gen_text_printf(t, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
		gen_plain(t, o, &s, text_bytes);
		return;
	}
	gen_text_printf(t,
			"Content-Type: multipart/mixed; boundary=\"=_b%016llx\"\r\n\r\n"
			"This is a multi-part message in MIME format.\r\n\r\n--=_b%016llx\r\n"
			"Content-Type: text/plain; charset=utf-8\r\n"
			"Content-Transfer-Encoding: 7bit\r\n\r\n",
			b, b);
	gen_plain(t, o, &s, text_bytes);
	gen_text_printf(t,
			"\r\n--=_b%016llx\r\nContent-Type: application/pdf; name=\"doc%u.pdf\""
			"\r\nContent-Transfer-Encoding: base64\r\n"
			"Content-Disposition: attachment; filename=\"doc%u.pdf\"\r\n\r\n",
			b, gen_pick(&s, 999), gen_pick(&s, 999));
	gen_attachment(t, &s, o->body_bytes - text_bytes);
	gen_text_printf(t, "\r\n--=_b%016llx--\r\n", b);
}
