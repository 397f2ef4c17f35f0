// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/smtp_cmd.h"

#include <endian.h>
#include <string.h>

#include "sensor/smtp_cmd_scan.h"

#define SMTP_BDAT_DIGITS_MAX 19 /* 10^19 - 1 still fits in 64 bits */

struct smtp_verb_def {
	char name[9];
	bool takes_arg; /* strict form needs an argument (false: none allowed) */
	bool arg_optional;
};

/* Indexed by enum smtp_verb. */
static const struct smtp_verb_def smtp_verbs[SMTP_VERB_COUNT] = {
	[SMTP_VERB_NONE] = {"", false, false},
	[SMTP_VERB_HELO] = {"HELO", true, false},
	[SMTP_VERB_EHLO] = {"EHLO", true, false},
	[SMTP_VERB_AUTH] = {"AUTH", true, false},
	[SMTP_VERB_MAIL] = {"MAIL", true, false},
	[SMTP_VERB_RCPT] = {"RCPT", true, false},
	[SMTP_VERB_DATA] = {"DATA", false, false},
	[SMTP_VERB_BDAT] = {"BDAT", true, false},
	[SMTP_VERB_RSET] = {"RSET", false, false},
	[SMTP_VERB_NOOP] = {"NOOP", false, true},
	[SMTP_VERB_VRFY] = {"VRFY", true, false},
	[SMTP_VERB_EXPN] = {"EXPN", true, false},
	[SMTP_VERB_STARTTLS] = {"STARTTLS", false, false},
	[SMTP_VERB_QUIT] = {"QUIT", false, false},
	[SMTP_VERB_HELP] = {"HELP", false, true},
	[SMTP_VERB_UNKNOWN] = {"UNKNOWN", false, false},
};

const char *smtp_verb_name(enum smtp_verb v)
{
	return (unsigned int)v < SMTP_VERB_COUNT ? smtp_verbs[v].name : "UNKNOWN";
}

static bool smtp_is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static uint8_t smtp_upper(uint8_t c)
{
	return (c >= 'a' && c <= 'z') ? (uint8_t)(c - 32) : c;
}

static bool smtp_prefix_ci(const uint8_t *p, uint32_t n, const char *word, uint32_t wlen)
{
	if (n < wlen)
		return false;
	for (uint32_t i = 0; i < wlen; i++)
		if (smtp_upper(p[i]) != (uint8_t)word[i])
			return false;
	return true;
}

static uint32_t smtp_skip_blanks(const uint8_t *p, uint32_t i, uint32_t n)
{
	while (i < n && smtp_is_blank(p[i]))
		i++;
	return i;
}

static uint32_t smtp_trim_end(const uint8_t *p, uint32_t n)
{
	/* Blanks and CR are all at or below ' ': most lines end above it. */
	if (n == 0 || p[n - 1] > ' ')
		return n;
	while (n > 0 && (smtp_is_blank(p[n - 1]) || p[n - 1] == '\r'))
		n--;
	return n;
}

/* "FROM:" / "TO:" then the path and the parameters (RFC 5321 4.1.2, RFC 1870 ...). */
static void smtp_cmd_path(struct smtp_cmd *c, const char *kw, uint32_t kwlen)
{
	const uint8_t *p = c->arg;
	uint32_t n = c->arg_len, i, a, e;

	if (!smtp_prefix_ci(p, n, kw, kwlen))
		return;
	i = kwlen;
	if (kw[kwlen - 1] != ':') {
		/* Tolerate "FROM :" as some clients send it. */
		i = smtp_skip_blanks(p, i, n);
		if (i >= n || p[i] != ':')
			return;
		i++;
	}
	c->path_ok = true;
	c->strict = i == kwlen;
	i = smtp_skip_blanks(p, i, n);
	if (i < n && p[i] == '<') {
		a = i + 1;
		e = smtp_scan_path_end(p, a, n, true);
		c->strict = c->strict && e < n;
		i = e < n ? e + 1 : n;
	} else {
		a = i;
		e = smtp_scan_path_end(p, a, n, false);
		i = e;
		c->strict = false;
	}
	/* Source route (<@a,@b:user@c>): only the mailbox is the address. */
	if (a < e && p[a] == '@') {
		uint32_t colon = a;

		while (colon < e && p[colon] != ':')
			colon++;
		if (colon < e)
			a = colon + 1;
	}
	c->addr = p + a;
	c->addr_len = e - a;
	c->null_path = c->addr_len == 0;
	if (i < n && !smtp_is_blank(p[i]))
		c->strict = false;
	i = smtp_skip_blanks(p, i, n);
	c->params = p + i;
	c->params_len = n - i;
}

/* "FROM:<" and "TO:<" as little-endian words, and which of their bits count:
 * bit 5 of a letter is its case (see smtp_verb_find); ':' and '<' are exact. */
#define SMTP_KW_FROM	  0x3c3a4d4f5246ull /* F R O M : < */
#define SMTP_KW_FROM_MASK 0xffffdfdfdfdfull
#define SMTP_KW_TO	  0x3c3a4f54ull /* T O : < */
#define SMTP_KW_TO_MASK	  0xffffdfdfull

/*
 * The shape of nearly every MAIL and RCPT: the keyword, its colon and the
 * '<' at once, then a path with its '>' and no source route. One masked
 * word compare stands for smtp_cmd_path()'s letter walk and blank skips;
 * false leaves *c untouched for smtp_cmd_path(), which gives the same answer
 * on every line this takes (a test holds the two against each other).
 */
static bool smtp_cmd_path_fast(struct smtp_cmd *c, uint64_t kw, uint64_t mask, uint32_t kwlen)
{
	const uint8_t *p = c->arg;
	uint32_t n = c->arg_len, e, i;
	uint64_t w;

	if (n < sizeof(w))
		return false;
	memcpy(&w, p, sizeof(w));
	if ((le64toh(w) & mask) != kw || p[kwlen] == '@')
		return false;
	e = smtp_scan_path_end(p, kwlen, n, true);
	if (e == n)
		return false;
	i = e + 1;
	c->path_ok = true;
	c->strict = i == n || smtp_is_blank(p[i]);
	c->addr = p + kwlen;
	c->addr_len = e - kwlen;
	c->null_path = c->addr_len == 0;
	i = smtp_skip_blanks(p, i, n);
	c->params = p + i;
	c->params_len = n - i;
	return true;
}

static void smtp_cmd_bdat(struct smtp_cmd *c)
{
	const uint8_t *p = c->arg;
	uint32_t n = c->arg_len, i = 0;
	uint64_t v = 0;

	while (i < n && p[i] >= '0' && p[i] <= '9') {
		if (i >= SMTP_BDAT_DIGITS_MAX)
			return; /* absurd chunk size: a syntax error, as servers treat it */
		v = v * 10 + (uint64_t)(p[i] - '0');
		i++;
	}
	if (i == 0)
		return;
	c->bdat_size = v;
	if (i < n) {
		uint32_t j = smtp_skip_blanks(p, i, n);

		if (j == i || n - j != 4 || !smtp_prefix_ci(p + j, 4, "LAST", 4))
			return;
		c->bdat_last = true;
	}
	c->bdat_ok = true;
}

/* A verb's letters as one little-endian word, for the switch below. */
#define SMTP_VERB4(a, b, c, d)                                                                     \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/*
 * The verb of a word of vlen bytes, any case. Every verb is letters only, and
 * clearing bit 5 maps a byte onto an upper-case letter L only when it is L or
 * its lower case: so one masked load compares four letters, exactly as
 * smtp_prefix_ci() would (a test checks every verb in every case against it).
 */
static enum smtp_verb smtp_verb_find(const uint8_t *p, uint32_t vlen)
{
	uint32_t w;

	if (vlen == 8)
		return smtp_prefix_ci(p, 8, "STARTTLS", 8) ? SMTP_VERB_STARTTLS : SMTP_VERB_NONE;
	if (vlen != 4)
		return SMTP_VERB_NONE;
	memcpy(&w, p, 4);
	switch (le32toh(w) & 0xdfdfdfdfu) {
	case SMTP_VERB4('H', 'E', 'L', 'O'):
		return SMTP_VERB_HELO;
	case SMTP_VERB4('E', 'H', 'L', 'O'):
		return SMTP_VERB_EHLO;
	case SMTP_VERB4('A', 'U', 'T', 'H'):
		return SMTP_VERB_AUTH;
	case SMTP_VERB4('M', 'A', 'I', 'L'):
		return SMTP_VERB_MAIL;
	case SMTP_VERB4('R', 'C', 'P', 'T'):
		return SMTP_VERB_RCPT;
	case SMTP_VERB4('D', 'A', 'T', 'A'):
		return SMTP_VERB_DATA;
	case SMTP_VERB4('B', 'D', 'A', 'T'):
		return SMTP_VERB_BDAT;
	case SMTP_VERB4('R', 'S', 'E', 'T'):
		return SMTP_VERB_RSET;
	case SMTP_VERB4('N', 'O', 'O', 'P'):
		return SMTP_VERB_NOOP;
	case SMTP_VERB4('V', 'R', 'F', 'Y'):
		return SMTP_VERB_VRFY;
	case SMTP_VERB4('E', 'X', 'P', 'N'):
		return SMTP_VERB_EXPN;
	case SMTP_VERB4('Q', 'U', 'I', 'T'):
		return SMTP_VERB_QUIT;
	case SMTP_VERB4('H', 'E', 'L', 'P'):
		return SMTP_VERB_HELP;
	default:
		return SMTP_VERB_NONE;
	}
}

/* Is the argument what the RFC form of the verb takes? */
static bool smtp_cmd_strict_arg(const struct smtp_cmd *c, const struct smtp_verb_def *d)
{
	switch (c->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		return smtp_scan_token_ok(c->arg, c->arg_len);
	case SMTP_VERB_AUTH: {
		uint32_t m = 0;

		while (m < c->arg_len && !smtp_is_blank(c->arg[m]))
			m++;
		return smtp_scan_token_ok(c->arg, m);
	}
	case SMTP_VERB_BDAT:
		return c->bdat_ok;
	default:
		break;
	}
	if (d->arg_optional)
		return true;
	return d->takes_arg ? c->arg_len > 0 : c->arg_len == 0;
}

enum smtp_verb smtp_cmd_parse(const uint8_t *line, uint32_t n, struct smtp_cmd *out)
{
	const struct smtp_verb_def *d;
	enum smtp_verb v;
	uint32_t vlen = 0, i;

	memset(out, 0, sizeof(*out));
	n = smtp_trim_end(line, n);
	/* Most verbs are four letters and a blank or the end: no walk to the blank.
	 * A verb found is letters only, so it holds no blank either. */
	v = n >= 4 && (n == 4 || smtp_is_blank(line[4])) ? smtp_verb_find(line, 4) : SMTP_VERB_NONE;
	if (v != SMTP_VERB_NONE)
		vlen = 4;
	while (v == SMTP_VERB_NONE && vlen < n && !smtp_is_blank(line[vlen]))
		vlen++;
	if (vlen == 0) {
		out->verb = n ? SMTP_VERB_UNKNOWN : SMTP_VERB_NONE;
		return out->verb;
	}
	if (v == SMTP_VERB_NONE)
		v = smtp_verb_find(line, vlen);
	if (v == SMTP_VERB_NONE) {
		out->verb = SMTP_VERB_UNKNOWN;
		return out->verb;
	}
	d = &smtp_verbs[v];
	out->verb = v;
	i = smtp_skip_blanks(line, vlen, n);
	out->arg = line + i;
	out->arg_len = n - i;

	if (v == SMTP_VERB_MAIL) {
		if (!smtp_cmd_path_fast(out, SMTP_KW_FROM, SMTP_KW_FROM_MASK, 6))
			smtp_cmd_path(out, "FROM:", 5);
		out->strict = out->strict && i == vlen + 1;
		if (!out->path_ok)
			smtp_cmd_path(out, "FROM", 4);
		return out->verb;
	}
	if (v == SMTP_VERB_RCPT) {
		if (!smtp_cmd_path_fast(out, SMTP_KW_TO, SMTP_KW_TO_MASK, 4))
			smtp_cmd_path(out, "TO:", 3);
		out->strict = out->strict && i == vlen + 1;
		if (!out->path_ok)
			smtp_cmd_path(out, "TO", 2);
		return out->verb;
	}
	if (v == SMTP_VERB_BDAT)
		smtp_cmd_bdat(out);
	out->strict = smtp_cmd_strict_arg(out, d) && (out->arg_len == 0 || i == vlen + 1);
	return out->verb;
}

static bool smtp_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* d.ddd.ddd followed by a blank or the end (RFC 3463). */
static void smtp_reply_enhanced(struct smtp_reply *r)
{
	const uint8_t *p = r->text;
	uint32_t n = r->text_len, i = 2, v, k;
	uint32_t part[2];

	uint32_t w;

	if (n < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5'))
		return;
	/* Nearly every code has one-digit parts ("2.1.0 Ok", "5.7.1 <x>"): no
	 * loop, and ".d.d" read as one word: the dots by a mask, the digits
	 * by their high nibble before and after adding 6 (no carry crosses a
	 * byte: '.' gets 0, a digit 0x3f at most). */
	memcpy(&w, p + 1, sizeof(w));
	w = le32toh(w);
	if ((w & 0xf0fff0ffu) == 0x302e302eu && ((w + 0x06000600u) & 0xf000f000u) == 0x30003000u &&
	    (n == 5 || smtp_is_blank(p[5]))) {
		r->enh_class = (uint8_t)(p[0] - '0');
		r->enh_subject = (uint8_t)(w >> 8 & 0xf);
		r->enh_detail = (uint16_t)(w >> 24 & 0xf);
		return;
	}
	if (p[1] != '.')
		return;
	for (int f = 0; f < 2; f++) {
		v = 0;
		for (k = 0; k < 3 && i < n && smtp_digit(p[i]); k++, i++)
			v = v * 10 + (p[i] - '0');
		if (k == 0)
			return;
		part[f] = v;
		if (f == 0) {
			if (i >= n || p[i] != '.')
				return;
			i++;
		}
	}
	if (i < n && !smtp_is_blank(p[i]))
		return;
	r->enh_class = (uint8_t)(p[0] - '0');
	r->enh_subject = (uint8_t)part[0];
	r->enh_detail = (uint16_t)part[1];
}

bool smtp_reply_parse(const uint8_t *line, uint32_t n, struct smtp_reply *out)
{
	uint32_t i = 3, d0, d1, d2;

	memset(out, 0, sizeof(*out));
	n = smtp_trim_end(line, n);
	if (n < 3)
		return false;
	/* RFC 5321 says 2xx..5xx; Zeek takes 1xx too, some servers send it. */
	d0 = (uint32_t)line[0] - '1';
	d1 = (uint32_t)line[1] - '0';
	d2 = (uint32_t)line[2] - '0';
	if (d0 > 4 || d1 > 9 || d2 > 9)
		return false;
	out->code = (uint16_t)(100 + d0 * 100 + d1 * 10 + d2);
	memcpy(out->head, line, 3);
	out->head[3] = ' ';
	if (n > 3) {
		/* "250 text", "250-text": the text starts at 4; the blank skip then
		 * looks at one byte. */
		out->more = line[3] == '-';
		i += out->more || line[3] == ' ';
		i = smtp_skip_blanks(line, i, n);
	}
	out->text = line + i;
	out->text_len = n - i;
	smtp_reply_enhanced(out);
	return true;
}
