// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/smtp_cmd.h"

#define U8(s) ((const uint8_t *)(s))

static enum smtp_verb parse(const char *line, struct smtp_cmd *c)
{
	return smtp_cmd_parse(U8(line), (uint32_t)strlen(line), c);
}

static void assert_addr(const struct smtp_cmd *c, const char *want)
{
	assert_true(c->path_ok);
	assert_int_equal(c->addr_len, strlen(want));
	assert_memory_equal(c->addr, want, c->addr_len);
}

static void assert_params(const struct smtp_cmd *c, const char *want)
{
	assert_int_equal(c->params_len, strlen(want));
	assert_memory_equal(c->params, want, c->params_len);
}

static void test_smtp_cmd_every_verb(void **state)
{
	static const struct {
		const char *line;
		enum smtp_verb verb;
		bool strict;
	} cases[] = {
		{"HELO relay.example.net", SMTP_VERB_HELO, true},
		{"EHLO [192.0.2.1]", SMTP_VERB_EHLO, true},
		{"AUTH PLAIN AHVzZXIAcGFzcw==", SMTP_VERB_AUTH, true},
		{"MAIL FROM:<a@example.org>", SMTP_VERB_MAIL, true},
		{"RCPT TO:<b@example.org>", SMTP_VERB_RCPT, true},
		{"DATA", SMTP_VERB_DATA, true},
		{"BDAT 100 LAST", SMTP_VERB_BDAT, true},
		{"RSET", SMTP_VERB_RSET, true},
		{"NOOP", SMTP_VERB_NOOP, true},
		{"NOOP anything", SMTP_VERB_NOOP, true},
		{"VRFY postmaster", SMTP_VERB_VRFY, true},
		{"EXPN staff", SMTP_VERB_EXPN, true},
		{"STARTTLS", SMTP_VERB_STARTTLS, true},
		{"QUIT", SMTP_VERB_QUIT, true},
		{"HELP", SMTP_VERB_HELP, true},
		{"HELP MAIL", SMTP_VERB_HELP, true},
		/* case does not matter, trailing blanks do not either */
		{"ehlo client", SMTP_VERB_EHLO, true},
		{"StartTLS", SMTP_VERB_STARTTLS, true},
		{"quit   ", SMTP_VERB_QUIT, true},
		{"mail from:<A@B.example>", SMTP_VERB_MAIL, true},
		/* verbs with the wrong arguments parse, but are not strict */
		{"DATA now", SMTP_VERB_DATA, false},
		{"EHLO", SMTP_VERB_EHLO, false},
		{"RCPT  TO:<b@example.org>", SMTP_VERB_RCPT, false},
		{"VRFY", SMTP_VERB_VRFY, false},
		/* not commands */
		{"XFOO bar", SMTP_VERB_UNKNOWN, false},
		{"From: someone@example.org", SMTP_VERB_UNKNOWN, false},
		{"DATAX", SMTP_VERB_UNKNOWN, false},
		{"   ", SMTP_VERB_NONE, false},
		{"", SMTP_VERB_NONE, false},
		{"\x01\x02\xff\xfe", SMTP_VERB_UNKNOWN, false},
	};
	struct smtp_cmd c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].line, &c), cases[i].verb);
		assert_int_equal(c.verb, cases[i].verb);
		if (c.strict != cases[i].strict)
			fail_msg("%s: strict %d", cases[i].line, c.strict);
	}
	assert_string_equal(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
}

/* The verb a word names, by the letter-by-letter rule: the reference for the parser's lookup. */
static enum smtp_verb verb_by_letters(const uint8_t *w, size_t n)
{
	for (int v = SMTP_VERB_HELO; v < SMTP_VERB_UNKNOWN; v++) {
		const char *name = smtp_verb_name((enum smtp_verb)v);
		size_t i = 0;

		if (strlen(name) != n)
			continue;
		while (i < n && (w[i] == (uint8_t)name[i] || w[i] == (uint8_t)(name[i] + 32)))
			i++;
		if (i == n)
			return (enum smtp_verb)v;
	}
	return SMTP_VERB_UNKNOWN;
}

/*
 * Every verb in every mix of cases, and every verb with each of its bytes
 * replaced by each of the 256 values: the lookup (a masked word compare)
 * must name exactly the verb the letter-by-letter rule names, so a byte that
 * only looks like a letter once bit 5 is cleared (0xc8, '@', '\x08') is not one.
 */
static void test_smtp_cmd_verb_lookup_exact(void **state)
{
	struct smtp_cmd c;
	uint8_t w[8];

	(void)state;
	for (int v = SMTP_VERB_HELO; v < SMTP_VERB_UNKNOWN; v++) {
		const char *name = smtp_verb_name((enum smtp_verb)v);
		size_t n = strlen(name);

		for (unsigned int mix = 0; mix < (1u << n); mix++) {
			for (size_t i = 0; i < n; i++)
				w[i] = (uint8_t)(mix >> i & 1 ? name[i] + 32 : name[i]);
			assert_int_equal(smtp_cmd_parse(w, (uint32_t)n, &c), v);
		}
		for (size_t i = 0; i < n; i++) {
			for (unsigned int b = 0; b < 256; b++) {
				memcpy(w, name, n);
				w[i] = (uint8_t)b;
				/* a blank or CR ends the word early: the rule sees fewer bytes */
				if (b == ' ' || b == '\t' || b == '\r')
					continue;
				assert_int_equal(smtp_cmd_parse(w, (uint32_t)n, &c),
						 verb_by_letters(w, n));
			}
		}
	}
}

/*
 * A four-letter verb is taken from the first four bytes when a blank or the
 * end follows them; a longer word, a blank inside or before it, and the
 * eight-letter STARTTLS still go by the walk to the first blank.
 */
static void test_smtp_cmd_four_letter_verb_without_the_walk(void **state)
{
	static const struct {
		const char *line;
		enum smtp_verb verb;
		const char *arg;
	} cases[] = {
		{"EHLO x.example", SMTP_VERB_EHLO, "x.example"},
		{"helo\tx.example", SMTP_VERB_HELO, "x.example"},
		{"QUIT", SMTP_VERB_QUIT, ""},
		{"QUIT  \r", SMTP_VERB_QUIT, ""},
		{"QUITS", SMTP_VERB_UNKNOWN, NULL},
		{"QUITS now", SMTP_VERB_UNKNOWN, NULL},
		{" QUIT", SMTP_VERB_UNKNOWN, NULL},
		{"QU T x", SMTP_VERB_UNKNOWN, NULL},
		{"QUI", SMTP_VERB_UNKNOWN, NULL},
		{"STARTTLS", SMTP_VERB_STARTTLS, ""},
		{"STARTTLS x", SMTP_VERB_STARTTLS, "x"},
		{"STAR TLS", SMTP_VERB_UNKNOWN, NULL},
	};
	struct smtp_cmd c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *l = cases[i].line;

		assert_int_equal(smtp_cmd_parse(U8(l), (uint32_t)strlen(l), &c), cases[i].verb);
		if (!cases[i].arg)
			continue;
		assert_int_equal(c.arg_len, strlen(cases[i].arg));
		assert_memory_equal(c.arg, cases[i].arg, c.arg_len);
	}
}

/* The trim as it was, one byte at a time: what the parse's fast test must match. */
static uint32_t ref_trim(const uint8_t *p, uint32_t n)
{
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		n--;
	return n;
}

/*
 * The argument ends where the byte-at-a-time trim says, whatever the last
 * byte (every value, those just below and above ' ' among them) and
 * whatever run of blanks and CRs comes before it.
 */
static void test_smtp_cmd_trim_end_as_slow(void **state)
{
	static const char *const tails[] = {"",	    " ",      "\t", "\r", " \r",
					    "\r\r", " \t \r", "x ", "x\r"};
	static const char *const heads[] = {"NOOP x", "RCPT TO:<a@b>", "HELO h"};
	uint8_t line[64];
	struct smtp_cmd c;

	(void)state;
	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
			for (unsigned int last = 0; last < 257; last++) {
				uint32_t n = (uint32_t)strlen(heads[h]);

				memcpy(line, heads[h], n);
				memcpy(line + n, tails[t], strlen(tails[t]));
				n += (uint32_t)strlen(tails[t]);
				if (last < 256)
					line[n++] = (uint8_t)last;
				smtp_cmd_parse(line, n, &c);
				assert_ptr_equal(c.arg + c.arg_len, line + ref_trim(line, n));
			}
		}
	}
	/* Nothing but blanks and CRs: no verb at all. */
	assert_int_equal(smtp_cmd_parse(U8(" \t\r "), 4, &c), SMTP_VERB_NONE);
	assert_int_equal(smtp_cmd_parse(U8(""), 0, &c), SMTP_VERB_NONE);
}

static void test_smtp_cmd_mail_forms(void **state)
{
	struct smtp_cmd c;

	(void)state;
	parse("MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME AUTH=<>", &c);
	assert_addr(&c, "alice@example.org");
	assert_params(&c, "SIZE=1024 BODY=8BITMIME AUTH=<>");
	assert_true(c.strict);
	assert_false(c.null_path);

	parse("MAIL FROM: <alice@example.org>", &c); /* blank after the colon */
	assert_addr(&c, "alice@example.org");
	assert_true(c.strict);

	parse("MAIL FROM : <alice@example.org>", &c);
	assert_addr(&c, "alice@example.org");
	assert_false(c.strict);

	parse("MAIL FROM:alice@example.org SIZE=5", &c); /* without <> */
	assert_addr(&c, "alice@example.org");
	assert_params(&c, "SIZE=5");
	assert_false(c.strict);

	parse("MAIL FROM:<>", &c);
	assert_true(c.null_path);
	assert_int_equal(c.addr_len, 0);
	assert_true(c.strict);

	parse("MAIL FROM:<\"john >doe\"@example.org> SMTPUTF8", &c);
	assert_addr(&c, "\"john >doe\"@example.org");
	assert_params(&c, "SMTPUTF8");

	parse("MAIL FROM:<\"a\\\"b c\"@example.org>", &c);
	assert_addr(&c, "\"a\\\"b c\"@example.org");

	/* a quote after the path's '>' is a parameter's, not the path's */
	parse("MAIL FROM:<a@example.org> X-NOTE=\"b>c\"", &c);
	assert_addr(&c, "a@example.org");
	assert_params(&c, "X-NOTE=\"b>c\"");

	/* an unclosed quote hides every '>' after it */
	parse("MAIL FROM:<\"a>b@example.org>", &c);
	assert_addr(&c, "\"a>b@example.org>");
	assert_false(c.strict);

	parse("MAIL FROM:<user@[IPv6:2001:db8::1]>", &c);
	assert_addr(&c, "user@[IPv6:2001:db8::1]");

	parse("MAIL FROM:<@relay1.example,@relay2.example:bob@example.org>", &c);
	assert_addr(&c, "bob@example.org");

	parse("MAIL FROM:<unterminated@example.org", &c);
	assert_addr(&c, "unterminated@example.org");
	assert_false(c.strict);

	parse("MAIL alice@example.org", &c);
	assert_int_equal(c.verb, SMTP_VERB_MAIL);
	assert_false(c.path_ok);
	assert_false(c.strict);
}

static void test_smtp_cmd_rcpt_forms(void **state)
{
	struct smtp_cmd c;

	(void)state;
	parse("RCPT TO:<bob@example.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org", &c);
	assert_addr(&c, "bob@example.org");
	assert_params(&c, "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org");
	assert_true(c.strict);

	parse("rcpt to: <Postmaster>", &c);
	assert_addr(&c, "Postmaster");

	parse("RCPT TO:bob@example.org", &c);
	assert_addr(&c, "bob@example.org");

	parse("RCPT FROM:<x@example.org>", &c);
	assert_false(c.path_ok);
}

static void test_smtp_cmd_bdat(void **state)
{
	struct smtp_cmd c;

	(void)state;
	parse("BDAT 86 LAST", &c);
	assert_true(c.bdat_ok);
	assert_true(c.bdat_last);
	assert_int_equal(c.bdat_size, 86);

	parse("bdat 0 last", &c);
	assert_true(c.bdat_ok);
	assert_true(c.bdat_last);
	assert_int_equal(c.bdat_size, 0);

	parse("BDAT 4096", &c);
	assert_true(c.bdat_ok);
	assert_false(c.bdat_last);

	parse("BDAT 5 X", &c); /* bad tail */
	assert_false(c.bdat_ok);
	assert_false(c.strict);

	parse("BDAT 184467440737095516150 LAST", &c); /* does not fit in 64 bits */
	assert_false(c.bdat_ok);

	parse("BDAT", &c);
	assert_false(c.bdat_ok);

	parse("BDAT 12LAST", &c);
	assert_false(c.bdat_ok);
}

static bool reply(const char *line, struct smtp_reply *r)
{
	return smtp_reply_parse(U8(line), (uint32_t)strlen(line), r);
}

static void assert_text(const struct smtp_reply *r, const char *want)
{
	assert_int_equal(r->text_len, strlen(want));
	assert_memory_equal(r->text, want, r->text_len);
}

static void test_smtp_reply_forms(void **state)
{
	struct smtp_reply r;

	(void)state;
	assert_true(reply("250 OK", &r));
	assert_int_equal(r.code, 250);
	assert_false(r.more);
	assert_int_equal(r.enh_class, 0);
	assert_text(&r, "OK");

	assert_true(reply("250-PIPELINING", &r));
	assert_true(r.more);
	assert_text(&r, "PIPELINING");

	assert_true(reply("550 5.7.1 <x@example.org>: Relay access denied", &r));
	assert_int_equal(r.code, 550);
	assert_int_equal(r.enh_class, 5);
	assert_int_equal(r.enh_subject, 7);
	assert_int_equal(r.enh_detail, 1);
	assert_text(&r, "5.7.1 <x@example.org>: Relay access denied");

	assert_true(reply("421-4.7.0 [192.0.2.1] Try again later", &r));
	assert_true(r.more);
	assert_int_equal(r.enh_class, 4);

	assert_true(reply("250 2.1.0", &r));
	assert_int_equal(r.enh_class, 2);
	assert_int_equal(r.enh_subject, 1);
	assert_int_equal(r.enh_detail, 0);

	assert_true(reply("552 5.3.4 Message too big", &r));
	assert_int_equal(r.enh_detail, 4);

	assert_true(reply("220", &r)); /* bare code */
	assert_int_equal(r.code, 220);
	assert_int_equal(r.text_len, 0);

	assert_true(reply("354 End data with <CR><LF>.<CR><LF>", &r));
	assert_int_equal(r.enh_class, 0);

	/* not enhanced codes */
	assert_true(reply("250 1.2.3 x", &r));
	assert_int_equal(r.enh_class, 0);
	assert_true(reply("250 2.1000.0 x", &r));
	assert_int_equal(r.enh_class, 0);
	assert_true(reply("250 2.1.0x", &r));
	assert_int_equal(r.enh_class, 0);

	/* garbage */
	assert_false(reply("", &r));
	assert_false(reply("25", &r));
	assert_false(reply("25O ok", &r));
	assert_false(reply("099 low", &r));
	assert_false(reply("600 high", &r));
	assert_false(reply("HTTP/1.1 200 OK", &r));
	assert_false(reply("\xff\xfe\x00", &r));
}

/* The reply parser as it was before its enhanced code fast path: the slow
 * path, kept here to check the fast one against. */
static bool ref_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool ref_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static void ref_enhanced(struct smtp_reply *r)
{
	const uint8_t *p = r->text;
	uint32_t n = r->text_len, i = 2, v, k;
	uint32_t part[2];

	if (n < 5 || (p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] != '.')
		return;
	for (int f = 0; f < 2; f++) {
		v = 0;
		for (k = 0; k < 3 && i < n && ref_digit(p[i]); k++, i++)
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
	if (i < n && !ref_blank(p[i]))
		return;
	r->enh_class = (uint8_t)(p[0] - '0');
	r->enh_subject = (uint8_t)part[0];
	r->enh_detail = (uint16_t)part[1];
}

static bool ref_reply(const uint8_t *line, uint32_t n, struct smtp_reply *out)
{
	char head[sizeof(out->head) + 1];
	uint32_t i;

	memset(out, 0, sizeof(*out));
	while (n > 0 && (ref_blank(line[n - 1]) || line[n - 1] == '\r'))
		n--;
	if (n < 3 || !ref_digit(line[0]) || !ref_digit(line[1]) || !ref_digit(line[2]))
		return false;
	out->code = (uint16_t)((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
	if (out->code < 100 || out->code > 599) {
		out->code = 0;
		return false;
	}
	/* The head from the code, not from the line: the digits must agree. */
	snprintf(head, sizeof(head), "%03u ", out->code);
	memcpy(out->head, head, sizeof(out->head));
	out->more = n > 3 && line[3] == '-';
	for (i = out->more ? 4 : 3; i < n && ref_blank(line[i]); i++)
		;
	out->text = line + i;
	out->text_len = n - i;
	ref_enhanced(out);
	return true;
}

static void assert_same_reply(const uint8_t *line, uint32_t n)
{
	struct smtp_reply a, b;
	bool ok_a = smtp_reply_parse(line, n, &a), ok_b = ref_reply(line, n, &b);

	if (ok_a != ok_b || memcmp(&a, &b, sizeof(a)))
		fail_msg("'%.*s': %d %u %d.%u.%u, reference %d %u %d.%u.%u", (int)n,
			 (const char *)line, ok_a, a.code, a.enh_class, a.enh_subject, a.enh_detail,
			 ok_b, b.code, b.enh_class, b.enh_subject, b.enh_detail);
}

/* The fast path against the slow one: every text of up to 6 bytes from the
 * characters enhanced codes are made of, after each kind of code and
 * separator, and the shapes at the edges of the digit counts. */
static void test_smtp_reply_fast_path_as_slow(void **state)
{
	static const char alpha[] = "0125.x \t";
	static const char *const heads[] = {"250 ", "421-", "250", "550  "};
	static const char *const edges[] = {
		"250 2.1.0",
		"250 2.1.0 ",
		"250 2.1.0\r",
		"250 2.1.0x",
		"250 2.1.10",
		"250 2.10.1 ok",
		"250 2.100.100 ok",
		"250 2.1000.0 x",
		"250 2.1.1000",
		"550 5.7.26 dmarc",
		"550 5.7.1\t<a@b>",
		"250 2..0 x",
		"250 2.1. x",
		"250 .1.0 x",
		"250 3.1.0 x",
		"250 2.a.0 x",
		"250 2.1.a x",
		"250 2-1-0 x",
		"250-2.1.0-x",
		"250 2.1.0.5",
		"250",
		"250 ",
		"250-",
		"250\r",
		"099 2.1.0",
		"600 2.1.0",
		"6xx 2.1.0",
		"25",
		"2\xff"
		"0 2.1.0",
		"250 5.5.5\t\t\r\r",
		"421 4.4.2 \r",
		"250\t2.1.0 tab",
		/* Bytes next to the digits and the dot, for the word-wide test. */
		"250 2.:.0 x",
		"250 2.1.? x",
		"250 2/1.0 x",
		"250 2.1/0 x",
		"250 2.1.0/x",
		"250 2.\xb1.0 x",
		"250 2.1.\xff x",
		"250 2.\x01.0 x",
		"250 \xb2.1.0 x",
		"250 2\xae"
		"1.0 x",
		"250 2.1\xae"
		"0 x",
		/* Separators and blanks after the code. */
		"250\t\t2.1.0",
		"250 \t2.1.0",
		"250- 2.1.0",
		"250-\t2.1.0",
		"250x2.1.0",
		"250--2.1.0",
		"250-\t",
		"250 \r",
		"\x31\x30\x30 ok",
		"599 ok",
		"/50 ok",
		":50 ok",
		"2:0 ok",
		"25: ok",
		"25/ ok",
	};
	uint8_t line[16];

	(void)state;
	for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++)
		assert_same_reply(U8(edges[e]), (uint32_t)strlen(edges[e]));
	/* Every three digits, in range or not: the code and its head. */
	for (unsigned int c = 0; c <= 999; c++) {
		snprintf((char *)line, sizeof(line), "%03u ok", c);
		assert_same_reply(line, 6);
	}
	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		size_t hl = strlen(heads[h]);

		memcpy(line, heads[h], hl);
		for (uint32_t len = 0; len <= 6; len++) {
			uint32_t combos = 1;

			for (uint32_t k = 0; k < len; k++)
				combos *= sizeof(alpha) - 1;
			for (uint32_t c = 0; c < combos; c++) {
				uint32_t x = c;

				for (uint32_t k = 0; k < len; k++, x /= sizeof(alpha) - 1)
					line[hl + k] = (uint8_t)alpha[x % (sizeof(alpha) - 1)];
				assert_same_reply(line, (uint32_t)(hl + len));
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_cmd_every_verb),
		cmocka_unit_test(test_smtp_cmd_verb_lookup_exact),
		cmocka_unit_test(test_smtp_cmd_four_letter_verb_without_the_walk),
		cmocka_unit_test(test_smtp_cmd_trim_end_as_slow),
		cmocka_unit_test(test_smtp_cmd_mail_forms),
		cmocka_unit_test(test_smtp_cmd_rcpt_forms),
		cmocka_unit_test(test_smtp_cmd_bdat),
		cmocka_unit_test(test_smtp_reply_forms),
		cmocka_unit_test(test_smtp_reply_fast_path_as_slow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
