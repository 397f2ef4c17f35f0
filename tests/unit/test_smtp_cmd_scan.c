// SPDX-License-Identifier: BSD-3-Clause
/*
 * The command parser's fast paths against the slow ones they bypass: the
 * scans of sensor/smtp_cmd_scan.h against their byte-by-byte rules (every
 * length around the word and vector steps, every byte value at every
 * position, quotes and escapes anywhere), and the MAIL/RCPT shape taken at
 * once against the general path walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/smtp_cmd.h"
#include "sensor/smtp_cmd_scan.h"

#define MAXLEN 40

/* A token of every length, then each position set to each byte value. */
static void test_smtp_cmd_scan_token_every_byte_everywhere(void **state)
{
	uint8_t buf[MAXLEN + 8];

	(void)state;
	for (uint32_t n = 0; n <= MAXLEN; n++) {
		for (uint32_t i = 0; i < n; i++)
			buf[i] = (uint8_t)('a' + i % 26);
		assert_int_equal(smtp_scan_token_ok(buf, n), n > 0);
		assert_int_equal(smtp_scan_token_ok(buf, n), smtp_scan_token_ok_rule(buf, n));
		for (uint32_t pos = 0; pos < n; pos++) {
			for (unsigned int b = 0; b < 256; b++) {
				uint8_t keep = buf[pos];

				buf[pos] = (uint8_t)b;
				assert_int_equal(smtp_scan_token_ok(buf, n),
						 smtp_scan_token_ok_rule(buf, n));
				buf[pos] = keep;
			}
		}
	}
}

/* Pairs of bad bytes: a borrow or carry from one must not hide or fake another. */
static void test_smtp_cmd_scan_token_byte_pairs(void **state)
{
	static const uint8_t edge[] = {0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x7d, 0x7e,
				       0x7f, 0x80, 0x81, 0xa0, 0xdf, 0xfe, 0xff, 'Z'};
	uint8_t buf[16];

	(void)state;
	for (uint32_t n = 8; n <= 16; n++)
		for (uint32_t i = 0; i < n; i++)
			for (uint32_t j = 0; j < n; j++)
				for (size_t a = 0; a < sizeof(edge); a++)
					for (size_t b = 0; b < sizeof(edge); b++) {
						memset(buf, 'x', sizeof(buf));
						buf[i] = edge[a];
						buf[j] = edge[b];
						assert_int_equal(smtp_scan_token_ok(buf, n),
								 smtp_scan_token_ok_rule(buf, n));
					}
}

/* Every string over the bytes that matter, up to a length where every mix
 * is tried, from every start; then long ones around the 16-byte steps. */
static void test_smtp_cmd_scan_path_end_against_rule(void **state)
{
	static const uint8_t alpha[] = {'a', '>', '"', '\\', ' ', '\t', '@'};
	const size_t k = sizeof(alpha);
	uint8_t buf[MAXLEN];

	(void)state;
	for (uint32_t n = 0; n <= 6; n++) {
		size_t combos = 1;

		for (uint32_t i = 0; i < n; i++)
			combos *= k;
		for (size_t c = 0; c < combos; c++) {
			size_t v = c;

			for (uint32_t i = 0; i < n; i++, v /= k)
				buf[i] = alpha[v % k];
			for (uint32_t from = 0; from <= n; from++)
				for (int br = 0; br < 2; br++)
					assert_int_equal(smtp_scan_path_end(buf, from, n, br),
							 smtp_scan_path_end_rule(buf, from, n, br));
		}
	}
	for (uint32_t n = 0; n <= MAXLEN; n++)
		for (uint32_t x = 0; x < n; x++)
			for (uint32_t y = 0; y < n; y++)
				for (size_t a = 0; a < k; a++)
					for (size_t b = 1; b < 4; b++) {
						memset(buf, 'u', sizeof(buf));
						buf[x] = alpha[a];
						buf[y] = alpha[b];
						for (uint32_t from = 0; from <= n; from += 3)
							for (int br = 0; br < 2; br++)
								assert_int_equal(
									smtp_scan_path_end(
										buf, from, n, br),
									smtp_scan_path_end_rule(
										buf, from, n, br));
					}
}

/*
 * A span that ends with '>' (nearly every RCPT argument), which the scan
 * answers by asking only whether '>' or '"' comes before it: every length,
 * every start, every byte value at every position before the last.
 */
static void test_smtp_cmd_scan_path_end_closing_last(void **state)
{
	uint8_t buf[MAXLEN];

	(void)state;
	for (uint32_t n = 1; n <= MAXLEN; n++)
		for (uint32_t x = 0; x + 1 < n; x++)
			for (unsigned int c = 0; c < 256; c++) {
				memset(buf, 'u', sizeof(buf));
				buf[x] = (uint8_t)c;
				buf[n - 1] = '>';
				for (uint32_t from = 0; from <= n; from++)
					if (smtp_scan_path_end(buf, from, n, true) !=
					    smtp_scan_path_end_rule(buf, from, n, true))
						fail_msg("%u bytes, %u at %u, from %u", n, c, x,
							 from);
			}
}

/* Through the parser: both scans on the lines they serve. */
static void test_smtp_cmd_scan_in_the_parser(void **state)
{
	static const struct {
		const char *line;
		bool strict;
		const char *addr; /* NULL: not a path */
	} cases[] = {
		{"EHLO mail.example.org", true, NULL},
		{"EHLO a-very-long-host-name.relay.example.org", true, NULL},
		{"EHLO mail.example.org\x7f", false, NULL},
		{"EHLO mail.ex\xc3\xa9mple.org", false, NULL},
		{"EHLO mail.example.org x", false, NULL},
		{"EHLO abcdefg", true, NULL},
		{"EHLO abcdefgh", true, NULL},
		{"EHLO abcdefghi", true, NULL},
		{"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", true, NULL},
		{"AUTH PL\x01IN", false, NULL},
		{"MAIL FROM:<alice@example.org>", true, "alice@example.org"},
		{"MAIL FROM:<a-rather-long-local-part.with.dots@sub.example.org> SIZE=1", true,
		 "a-rather-long-local-part.with.dots@sub.example.org"},
		{"MAIL FROM:<\"x>y\"@example.org> SMTPUTF8", true, "\"x>y\"@example.org"},
		{"MAIL FROM:<al\"ice@example.org>", false, "al\"ice@example.org>"},
		{"MAIL FROM:<alice@example.org", false, "alice@example.org"},
		{"MAIL FROM:<alice@example.org>x", false, "alice@example.org"},
		{"RCPT TO:<bob@example.org> NOTIFY=NEVER", true, "bob@example.org"},
		{"RCPT TO:bob@example.org\tNOTIFY=NEVER", false, "bob@example.org"},
	};
	struct smtp_cmd c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *l = cases[i].line;

		smtp_cmd_parse((const uint8_t *)l, (uint32_t)strlen(l), &c);
		assert_int_equal(c.strict, cases[i].strict);
		if (!cases[i].addr)
			continue;
		assert_true(c.path_ok);
		assert_int_equal(c.addr_len, strlen(cases[i].addr));
		assert_memory_equal(c.addr, cases[i].addr, c.addr_len);
	}
}

static void assert_same_path(const struct smtp_cmd *a, const struct smtp_cmd *b)
{
	assert_int_equal(a->verb, b->verb);
	assert_int_equal(a->strict, b->strict);
	assert_int_equal(a->path_ok, b->path_ok);
	assert_int_equal(a->null_path, b->null_path);
	assert_int_equal(a->addr_len, b->addr_len);
	assert_memory_equal(a->addr, b->addr, a->addr_len);
	assert_int_equal(a->params_len, b->params_len);
	assert_memory_equal(a->params, b->params, a->params_len);
}

/*
 * "MAIL FROM:<..." takes the fast path when it can; "MAIL FROM: <..." (a blank
 * after the colon, strict all the same) always takes smtp_cmd_path(). Both
 * must read every rest alike: verbs and keywords in every case, rests of
 * every mix of the bytes that matter and of every length around the 8-byte
 * load, SMTPUTF8 bytes, and overlong lines.
 */
static void test_smtp_cmd_path_fast_against_slow(void **state)
{
	static const char *const heads[][2] = {
		{"MAIL FROM:<", "MAIL FROM: <"},  {"mail from:<", "mail from: <"},
		{"Mail From:<", "Mail From:\t<"}, {"RCPT TO:<", "RCPT TO: <"},
		{"rcpt to:<", "rcpt to:  <"},	  {"rCpT tO:<", "rCpT tO: <"},
	};
	static const char *const parts[] = {"a", ">", "\"",	  "\\",	     " ",	"\t", "@",
					    ":", "<", "\xc3\xa9", "b@x.org", " SIZE=1", "\r"};
	const size_t k = sizeof(parts) / sizeof(parts[0]);
	char fast[4200], slow[4200];
	struct smtp_cmd a, b;

	(void)state;
	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		for (size_t c = 0; c < k * k * k * k; c++) {
			char rest[64];
			size_t v = c, len = 0;

			for (int i = 0; i < 4; i++, v /= k)
				len += (size_t)snprintf(rest + len, sizeof(rest) - len, "%s",
							parts[v % k]);
			snprintf(fast, sizeof(fast), "%s%s", heads[h][0], rest);
			snprintf(slow, sizeof(slow), "%s%s", heads[h][1], rest);
			smtp_cmd_parse((const uint8_t *)fast, (uint32_t)strlen(fast), &a);
			smtp_cmd_parse((const uint8_t *)slow, (uint32_t)strlen(slow), &b);
			assert_same_path(&a, &b);
		}
		/* An overlong path: the '>' far beyond any 16-byte step. */
		memset(fast, 'x', sizeof(fast));
		memcpy(fast, heads[h][0], strlen(heads[h][0]));
		memcpy(fast + 4000, "> SMTPUTF8", 11);
		memset(slow, 'x', sizeof(slow));
		memcpy(slow, heads[h][1], strlen(heads[h][1]));
		memcpy(slow + 4000 + strlen(heads[h][1]) - strlen(heads[h][0]), "> SMTPUTF8", 11);
		smtp_cmd_parse((const uint8_t *)fast, (uint32_t)strlen(fast), &a);
		smtp_cmd_parse((const uint8_t *)slow, (uint32_t)strlen(slow), &b);
		assert_same_path(&a, &b);
		assert_true(a.strict);
		assert_int_equal(a.params_len, 8);
	}
}

/* Near misses of the word compare: a byte that matches only once bit 5 is
 * cleared, or a keyword one byte short, goes the general way, same answer. */
static void test_smtp_cmd_path_fast_near_misses(void **state)
{
	static const struct {
		const char *line;
		bool path_ok, strict;
		const char *addr;
	} cases[] = {
		{"MAIL FROM:<>", true, true, ""},
		{"MAIL FROM:<a>", true, true, "a"},
		{"MAIL FROM:<ab>", true, true, "ab"},
		{"MAIL FROM\x1a<a@b.org>", false, false, NULL},
		{"MAIL FRO\x0d:<a@b.org>", false, false, NULL},
		{"MAIL FROM:\x1c"
		 "a@b.org>",
		 true, false,
		 "\x1c"
		 "a@b.org>"},
		{"MAIL FROM:<@r.example:a@b.org>", true, true, "a@b.org"},
		{"MAIL FROM:a@b.org", true, false, "a@b.org"},
		{"MAIL  FROM:<a@b.org>", true, false, "a@b.org"},
		{"MAIL\tFROM:<a@b.org>", true, true, "a@b.org"}, /* one blank, a tab: as before */
		{"RCPT TO:<>", true, true, ""},
		{"RCPT TO:<a>", true, true, "a"},
		{"RCPT T\x0f:<a@b.org>", false, false, NULL},
		{"RCPT TO:<a@b.org>SIZE", true, false, "a@b.org"},
		{"RCPT TO:<a@b.org>  \t X=1  ", true, true, "a@b.org"},
	};
	struct smtp_cmd c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *l = cases[i].line;

		smtp_cmd_parse((const uint8_t *)l, (uint32_t)strlen(l), &c);
		assert_int_equal(c.path_ok, cases[i].path_ok);
		assert_int_equal(c.strict, cases[i].strict);
		if (!cases[i].addr)
			continue;
		assert_int_equal(c.addr_len, strlen(cases[i].addr));
		assert_memory_equal(c.addr, cases[i].addr, c.addr_len);
	}
}

/*
 * Each byte of the keyword the word compare reads, set to each of the 256
 * values: the path is there exactly when the byte is that letter in either
 * case (the letter-by-letter rule of smtp_cmd_path()), whatever bit it is
 * that tells them apart.
 */
static void test_smtp_cmd_path_fast_keyword_bytes(void **state)
{
	static const char *const kws[][2] = {{"MAIL ", "FROM"}, {"RCPT ", "TO"}};
	char line[64];
	struct smtp_cmd c;

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		size_t vlen = strlen(kws[k][0]), klen = strlen(kws[k][1]);

		for (size_t pos = 0; pos < klen; pos++) {
			for (unsigned int b = 1; b < 256; b++) {
				char letter = kws[k][1][pos];
				bool same =
					b == (unsigned int)letter || b == (unsigned int)letter + 32;

				snprintf(line, sizeof(line), "%s%s:<a@b.org> X=1", kws[k][0],
					 kws[k][1]);
				line[vlen + pos] = (char)b;
				smtp_cmd_parse((const uint8_t *)line, (uint32_t)strlen(line), &c);
				assert_int_equal(c.path_ok, same);
				if (!same)
					continue;
				assert_true(c.strict);
				assert_int_equal(c.addr_len, 7);
				assert_memory_equal(c.addr, "a@b.org", 7);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_cmd_scan_token_every_byte_everywhere),
		cmocka_unit_test(test_smtp_cmd_scan_token_byte_pairs),
		cmocka_unit_test(test_smtp_cmd_scan_path_end_against_rule),
		cmocka_unit_test(test_smtp_cmd_scan_path_end_closing_last),
		cmocka_unit_test(test_smtp_cmd_scan_in_the_parser),
		cmocka_unit_test(test_smtp_cmd_path_fast_against_slow),
		cmocka_unit_test(test_smtp_cmd_path_fast_near_misses),
		cmocka_unit_test(test_smtp_cmd_path_fast_keyword_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
