// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "sensor/byte_scan.h"

#define SPAN_MAX 70 /* four 16-byte blocks and a tail of every length */

/*
 * The bytes in a buffer of exactly n bytes (n > 0): a read past the end is
 * an ASan error, so the tail loads are checked too.
 */
static uint8_t *exact(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, src, n);
	return p;
}

static void test_byte_scan2_every_start_and_hit(void **state)
{
	uint8_t src[SPAN_MAX];

	(void)state;
	for (size_t n = 0; n <= SPAN_MAX; n++)
		for (size_t i = 0; i <= n; i++)
			for (size_t k = i; k <= n; k++) { /* k == n: no hit */
				memset(src, 'x', sizeof(src));
				if (i > 0)
					src[i - 1] = ','; /* before the start: not seen */
				if (k < n)
					src[k] = (k & 1) ? '"' : ',';
				if (k + 1 < n)
					src[k + 1] = '"'; /* after the first: not reported */
				uint8_t *p = exact(src, n);

				assert_int_equal(byte_scan2(p, i, n, '"', ','), k);
				free(p);
			}
}

static void test_byte_scan2_high_bytes_do_not_match(void **state)
{
	uint8_t src[SPAN_MAX];

	(void)state;
	memset(src, 0xac, sizeof(src)); /* '"' | 0x80, ',' | 0x80 */
	src[SPAN_MAX - 1] = ',';
	assert_int_equal(byte_scan2(src, 0, SPAN_MAX, '"', ','), SPAN_MAX - 1);
	memset(src, 0xa2, sizeof(src));
	assert_int_equal(byte_scan2(src, 3, SPAN_MAX, '"', ','), SPAN_MAX);
}

static void test_byte_scan_has_zero_every_length_and_position(void **state)
{
	uint8_t src[SPAN_MAX];

	(void)state;
	for (size_t n = 0; n <= SPAN_MAX; n++) {
		memset(src, 0x80, sizeof(src)); /* 0x80 - 1 borrows into no high bit */
		uint8_t *p = exact(src, n);

		assert_false(byte_scan_has_zero(p, n));
		free(p);
		for (size_t k = 0; k < n; k++) {
			memset(src, 'a', sizeof(src));
			src[k] = 0;
			p = exact(src, n);
			assert_true(byte_scan_has_zero(p, n));
			/* the same zero just past the span is not in it */
			assert_false(byte_scan_has_zero(p, k));
			free(p);
		}
	}
}

static void test_byte_scan_has_zero_near_misses(void **state)
{
	/* 0x01 and 0x100-borrow patterns: a zero test that is not exact fails here */
	static const uint8_t ones[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
	static const uint8_t mixed[] = {0xff, 0x01, 0x80, 0x7f, 0x01, 0x00, 0x01, 0xff};

	(void)state;
	for (size_t n = 0; n <= sizeof(ones); n++)
		assert_false(byte_scan_has_zero(ones, n));
	assert_false(byte_scan_has_zero(mixed, 5));
	assert_true(byte_scan_has_zero(mixed, 6));
	assert_true(byte_scan_has_zero(mixed, 8));
}

/* The rule byte_scan_has2 stands for: a memchr for each byte. */
static bool has2_rule(const uint8_t *p, size_t n, uint8_t a, uint8_t b)
{
	return n && (memchr(p, a, n) || memchr(p, b, n));
}

/*
 * byte_scan_has2 against two memchr: every length to four blocks and a
 * tail, every byte value at every position, for the gates' class pair, a
 * pair of one byte twice and pairs with a high byte; the span is followed by
 * a, which is not in it, and ends the buffer (a read further is an ASan error).
 */
static void test_byte_scan_has2_every_length_byte_and_position(void **state)
{
	static const uint8_t pairs[][2] = {{'%', '!'}, {'%', '%'}, {0, 0xff}, {0x80, '>'}};
	uint8_t src[SPAN_MAX + 1];

	(void)state;
	for (size_t q = 0; q < sizeof(pairs) / sizeof(pairs[0]); q++) {
		uint8_t a = pairs[q][0], b = pairs[q][1];

		for (size_t n = 0; n <= SPAN_MAX; n++) {
			for (size_t k = 0; k < n; k++) {
				for (unsigned int c = 0; c < 256; c++) {
					memset(src, 'a' == a || 'a' == b ? 'b' : 'a', sizeof(src));
					src[k] = (uint8_t)c;
					src[n] = a; /* past the span: not in it */
					uint8_t *p = exact(src, n + 1);

					if (byte_scan_has2(p, n, a, b) != has2_rule(p, n, a, b))
						fail_msg("%zu bytes, %u at %zu, '%c' '%c'", n, c, k,
							 a, b);
					free(p);
				}
			}
		}
	}
}

/*
 * byte_scan_lower_eq against the strncasecmp it replaced: the literals the
 * parsers compare with (letters, digits, '-'; lengths 2 to 25, so every word
 * width and overlap), each byte of the input replaced by every value, in a
 * buffer of exactly n bytes (a read past it is an ASan error).
 */
static void test_byte_scan_lower_eq_every_byte(void **state)
{
	static const char *const lits[] = {
		"to",
		"cc",
		"text",
		"html",
		"name",
		"rfc822",
		"base64",
		"global",
		"message",
		"subject",
		"boundary",
		"filename",
		"multipart",
		"attachment",
		"content-type",
		"x-mailer-9",
		"abcdefghijklmnopqrstuvwxy",
		"quoted-printable",
		"content-disposition",
		"content-transfer-encoding",
	};

	(void)state;
	for (size_t l = 0; l < sizeof(lits) / sizeof(lits[0]); l++) {
		size_t n = strlen(lits[l]);
		uint8_t src[32];

		for (size_t k = 0; k < n; k++)
			for (int c = 0; c < 256; c++) {
				uint8_t *p;

				memcpy(src, lits[l], n);
				/* upper case elsewhere: folded, whatever k holds */
				for (size_t j = 0; j < n; j++)
					if (j != k && (j & 1) && src[j] >= 'a' && src[j] <= 'z')
						src[j] = (uint8_t)(src[j] - 'a' + 'A');
				src[k] = (uint8_t)c;
				p = exact(src, n);
				if (byte_scan_lower_eq(p, lits[l], n) !=
				    (c != 0 && strncasecmp((const char *)p, lits[l], n) == 0))
					fail_msg("'%s' byte %zu = %d", lits[l], k, c);
				free(p);
			}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_scan2_every_start_and_hit),
		cmocka_unit_test(test_byte_scan2_high_bytes_do_not_match),
		cmocka_unit_test(test_byte_scan_has_zero_every_length_and_position),
		cmocka_unit_test(test_byte_scan_has_zero_near_misses),
		cmocka_unit_test(test_byte_scan_has2_every_length_byte_and_position),
		cmocka_unit_test(test_byte_scan_lower_eq_every_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
