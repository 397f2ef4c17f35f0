// SPDX-License-Identifier: BSD-3-Clause
/*
 * smtp_hdr's word-at-a-time paths against the byte loops they replaced:
 * the field-name lookup and the end of a quoted display name.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/smtp_hdr.h"

#define U8(s) ((const uint8_t *)(s))

static const char *const known[] = {
	"to",
	"cc",
	"date",
	"from",
	"subject",
	"received",
	"reply-to",
	"x-mailer",
	"message-id",
	"user-agent",
	"in-reply-to",
	"x-user-agent",
	"dkim-signature",
	"x-originating-ip",
	"authentication-results",
};

#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* The lookup as it was: a byte at a time, ASCII case folded. */
static const char *known_slow(const char *name, size_t n)
{
	for (size_t k = 0; k < N_KNOWN; k++) {
		size_t i = 0;

		if (strlen(known[k]) != n)
			continue;
		while (i < n && lower((uint8_t)name[i]) == (uint8_t)known[k][i])
			i++;
		if (i == n)
			return known[k];
	}
	return NULL;
}

static void check_name(const char *name, size_t n)
{
	const char *fast = smtp_hdr_name_known(name, n), *slow = known_slow(name, n);

	if (fast != slow && (!fast || !slow || strcmp(fast, slow)))
		fail_msg("'%.*s' (%zu): fast %s, slow %s", (int)n, name, n, fast ? fast : "-",
			 slow ? slow : "-");
}

/*
 * Every byte value at every position of every name the record reads, in
 * lower and upper case: only the letter's two cases match, a '-' only
 * itself (CR, '-' ^ 0x20, must not), and the name one byte shorter or
 * longer matches nothing.
 */
static void test_smtp_hdr_name_every_byte_every_position(void **state)
{
	char name[32];

	(void)state;
	for (size_t k = 0; k < N_KNOWN; k++) {
		size_t n = strlen(known[k]);

		for (int upper = 0; upper < 2; upper++)
			for (size_t at = 0; at < n; at++)
				for (unsigned int c = 0; c < 256; c++) {
					for (size_t i = 0; i < n; i++)
						name[i] = upper && known[k][i] != '-'
								  ? (char)(known[k][i] - 32)
								  : known[k][i];
					name[at] = (char)c;
					check_name(name, n);
				}
		memcpy(name, known[k], n);
		name[n] = 'x';
		check_name(name, n + 1);
		check_name(name, n - 1);
		check_name(name, n);
	}
	check_name("", 0);
	check_name("t", 1);
	check_name("MiMe-VeRsIoN", 12);
	check_name("Content-Type", 12);
}

static void count(void *arg, const uint8_t *p, size_t len)
{
	(void)p;
	(void)len;
	++*(unsigned int *)arg;
}

/*
 * A quoted display name with an escaped quote and backslash at every offset
 * across three 16-byte vectors, an unclosed quote ending in a backslash: the
 * name and the entries the byte loop gave.
 */
static void test_smtp_hdr_quoted_name_every_offset(void **state)
{
	static const char as[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	char v[160], want[128], out[256];

	(void)state;
	for (int k = 0; k < 48; k++) {
		unsigned int entries = 0;
		size_t n;

		/* "aaa\"b\\c" <x@y> -> aaa"b\c */
		snprintf(v, sizeof(v), "\"%.*s\\\"b\\\\c\" <x@y>", k, as);
		snprintf(want, sizeof(want), "%.*s\"b\\c", k, as);
		n = smtp_hdr_display_name(U8(v), strlen(v), out, sizeof(out) - 1);
		out[n] = '\0';
		assert_string_equal(out, want);
		/* the commas in the quotes split nothing; the one after does */
		snprintf(v, sizeof(v), "\"%.*s,\\\",\\\\\" <x@y>, b@c", k, as);
		assert_int_equal(smtp_hdr_split_addrs(U8(v), strlen(v), count, &entries), 2);
		/* unclosed, a backslash last: the quote is a plain byte, every comma splits */
		snprintf(v, sizeof(v), "\"%.*s, b@c, d@e\\", k, as);
		entries = 0;
		assert_int_equal(smtp_hdr_split_addrs(U8(v), strlen(v), count, &entries), 3);
		/* an escaped quote last: not closed either */
		snprintf(v, sizeof(v), "\"%.*s, b@c\\\"", k, as);
		entries = 0;
		assert_int_equal(smtp_hdr_split_addrs(U8(v), strlen(v), count, &entries), 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_hdr_name_every_byte_every_position),
		cmocka_unit_test(test_smtp_hdr_quoted_name_every_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
