// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/url.h"

#define U8(s) ((const uint8_t *)(s))

struct found {
	unsigned int n;
	size_t len[16];
	char u[16][1100];
};

static void on_url(void *arg, const uint8_t *p, size_t n)
{
	struct found *f = arg;

	if (f->n < 16) {
		f->len[f->n] = n;
		snprintf(f->u[f->n], sizeof(f->u[0]), "%.*s", (int)n, (const char *)p);
	}
	f->n++;
}

static struct url u;
static struct found f;

static void scan_cuts(const char *text, size_t a, size_t b)
{
	size_t n = strlen(text);

	memset(&f, 0, sizeof(f));
	url_init(&u);
	url_feed(&u, U8(text), a, on_url, &f);
	url_feed(&u, U8(text) + a, b - a, on_url, &f);
	url_feed(&u, U8(text) + b, n - b, on_url, &f);
	url_end(&u, on_url, &f);
}

static void check(const char *text, const char *const *want)
{
	size_t n = strlen(text);
	unsigned int i;

	for (size_t a = 0; a <= n; a++)
		for (size_t b = a; b <= n; b += (b < a + 12 ? 1 : 5)) {
			scan_cuts(text, a, b);
			for (i = 0; want[i]; i++) {
				if (i >= f.n || strcmp(f.u[i], want[i]))
					fail_msg("cuts %zu/%zu: url %u '%s' want '%s'", a, b, i,
						 i < f.n ? f.u[i] : "", want[i]);
			}
			assert_int_equal(f.n, i);
		}
}

/* Text and HTML, any TCP/decoder split: the same URLs. */
static void test_url_text_and_html(void **state)
{
	static const char *const text_want[] = {
		"http://example.com/a?b=1&c=2", "HTTPS://Login.Example.NET/path",
		"www.example.org/x", "ftp://files.example.com/pub/f.zip", NULL};
	static const char *const html_want[] = {"https://evil.example/x?id=1",
						"http://t.example/track.gif",
						"www.no-scheme.example", NULL};
	static const char *const none[] = {NULL};

	(void)state;
	check("See http://example.com/a?b=1&c=2. Or HTTPS://Login.Example.NET/path, "
	      "(www.example.org/x) and ftp://files.example.com/pub/f.zip!",
	      text_want);
	check("<a href=\"https://evil.example/x?id=1\">click</a><img "
	      "src='http://t.example/track.gif'>"
	      "<a href=www.no-scheme.example>",
	      html_want);
	/* Not URLs: a scheme glued to a word, "www." inside a name, a scheme with nothing after it.
	 */
	check("xhttp://a.example awww.b.example mailto:c@example.com http:// https://", none);
}

/* A URL running to the end of the part is emitted at url_end(). */
static void test_url_at_end(void **state)
{
	static const char *const want[] = {"https://example.com/end", NULL};

	(void)state;
	check("last: https://example.com/end", want);
}

/* Over 1 KiB: cut, counted, and the scan goes on after it. */
static void test_url_cut_at_1k(void **state)
{
	static char text[3000];
	size_t o;

	(void)state;
	o = (size_t)snprintf(text, sizeof(text), "http://example.com/");
	memset(text + o, 'a', 2000);
	o += 2000;
	o += (size_t)snprintf(text + o, sizeof(text) - o, " then www.next.example");
	scan_cuts(text, 700, 1500);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.len[0], URL_MAX);
	assert_memory_equal(f.u[0], "http://example.com/aaaa", 23);
	assert_string_equal(f.u[1], "www.next.example");
	assert_int_equal(u.cut_count, 1);
	assert_int_equal(u.found, 2);
}

/*
 * URL starts at every offset within an 8-byte word, among 8-bit bytes and
 * dots that start nothing: the word-at-a-time scan misses none of them.
 */
static void test_url_every_alignment(void **state)
{
	static const char *const want[] = {"http://a.example/p", "www.b.example", NULL};
	char text[128];

	(void)state;
	for (int k = 0; k < 17; k++) {
		snprintf(text, sizeof(text),
			 "%.*s http://a.example/p \xc3\xa9\xe2\x80\x94.../x www.b.example", k,
			 "\xff\xfe..........abcdefgh");
		check(text, want);
	}
}

/*
 * The first mark ('/' or '.') at every lane of a 16-byte vector and past it,
 * after mark-free text of every length: the vector scan misses none and
 * finds no mark that is not there.
 */
static void test_url_mark_in_every_vector_lane(void **state)
{
	static const char *const want[] = {"http://a.example", "www.b.example", NULL};
	char text[160];

	(void)state;
	for (int k = 0; k < 40; k++)
		for (int m = 0; m < 18; m++) {
			snprintf(text, sizeof(text), "%.*s http://a.example %.*s www.b.example", k,
				 "zzzzzzzzzzzzzzzzzzzz\xe2\x80\x94zzzzzzzzzzzzzzzzzzzzzz", m,
				 "yyyyyyy\xff\x80yyyyyyyyyy");
			check(text, want);
		}
}

/*
 * Every byte value after a URL: RFC 3986 characters and '%' go on with it,
 * anything else (controls, space, 8-bit, " ' < > \\ ^ ` { | }) ends it, as
 * the character table must say.
 */
static void test_url_every_byte_after_the_url(void **state)
{
	(void)state;
	for (unsigned int c = 0; c < 256; c++) {
		bool goes_on = c > ' ' && c < 0x7f && !strchr("\"'<>`{}|\\^", (int)c);
		uint8_t text[] = "see http://a.example/pXz tail";

		text[sizeof("see http://a.example/p") - 1] = (uint8_t)c;
		memset(&f, 0, sizeof(f));
		url_init(&u);
		url_feed(&u, text, sizeof(text) - 1, on_url, &f);
		url_end(&u, on_url, &f);
		assert_int_equal(f.n, 1);
		if (goes_on)
			assert_int_equal(f.len[0], strlen("http://a.example/pXz"));
		else
			assert_string_equal(f.u[0], "http://a.example/p");
	}
}

/* The plain loop url_mark_next stands for. */
static size_t mark_next_slow(const uint8_t *p, size_t i, size_t n)
{
	while (i < n && p[i] != '/' && p[i] != '.')
		i++;
	return i;
}

/*
 * Every byte value at every offset of a 300-byte text (two 128-byte blocks,
 * each two 64-byte ones, and a tail), scanned from offsets on both sides of
 * the block edges and of the byte: the 128-byte step (AVX2) and the 64-byte
 * one find what the plain loop finds. Bytes that differ from '.' or '/' in
 * one bit ('.' | 1 == '/', 0xae, 0xaf) are in it. The text is a buffer of
 * its exact length, and ends cut it short there: a load past it is an ASan
 * error.
 */
static void test_url_mark_next_matches_plain_loop(void **state)
{
	static const size_t from[] = {0,   1,	15,  16,  17,  48,  63,	 64,  65,  127, 128,
				      129, 149, 150, 172, 191, 192, 193, 255, 256, 257, 300};
	const size_t len = 300;
	uint8_t *text = malloc(len), *end = malloc(len);

	(void)state;
	assert_true(text && end);
	for (unsigned int c = 0; c < 256; c++)
		for (size_t at = 0; at < len; at++) {
			memset(text, 'x', len);
			text[at] = (uint8_t)c;
			for (size_t k = 0; k < sizeof(from) / sizeof(from[0]); k++) {
				size_t n = len;

				assert_int_equal(url_mark_next(text, from[k], n),
						 mark_next_slow(text, from[k], n));
				/* ends that cut the blocks short */
				n = at + 1 < len ? at + 1 : at;
				if (from[k] <= n)
					assert_int_equal(url_mark_next(text, from[k], n),
							 mark_next_slow(text, from[k], n));
			}
			assert_int_equal(url_mark_next(text, at, len),
					 mark_next_slow(text, at, len));
			/* the text cut after the byte, ending where its buffer ends */
			memcpy(end + len - (at + 1), text, at + 1);
			for (size_t k = 0; k < sizeof(from) / sizeof(from[0]) && from[k] <= at + 1;
			     k++)
				assert_int_equal(
					url_mark_next(end + len - (at + 1), from[k], at + 1),
					mark_next_slow(text, from[k], at + 1));
		}
	free(text);
	free(end);
}

/*
 * A URL after mark-free text long enough for the 64-byte step, at every
 * offset across two blocks, with the text cut in three anywhere: the same
 * URLs as always.
 */
static void test_url_after_long_plain_text(void **state)
{
	static const char *const want[] = {"https://a.example/p?q=1", "www.b.example", NULL};
	char text[300];

	(void)state;
	for (int k = 60; k < 140; k += 7) {
		snprintf(text, sizeof(text), "%.*s https://a.example/p?q=1 %.*s www.b.example.", k,
			 "abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefghijkl"
			 "mnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz",
			 70,
			 "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
			 "Z");
		check(text, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_text_and_html),
		cmocka_unit_test(test_url_at_end),
		cmocka_unit_test(test_url_cut_at_1k),
		cmocka_unit_test(test_url_every_alignment),
		cmocka_unit_test(test_url_mark_in_every_vector_lane),
		cmocka_unit_test(test_url_every_byte_after_the_url),
		cmocka_unit_test(test_url_mark_next_matches_plain_loop),
		cmocka_unit_test(test_url_after_long_plain_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
