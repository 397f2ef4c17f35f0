// SPDX-License-Identifier: BSD-3-Clause
/*
 * The IP address search of Received: and X-Originating-IP values against a
 * reference that tries every offset with no skips: the run filter and the
 * skips inside it must find what the reference finds.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "sensor/smtp_hdr.h"

#define U8(s) ((const uint8_t *)(s))

/* ---- reference: the address search tried at every offset, no skips ---- */

struct ref_hit {
	size_t off, len;
	char text[SMTP_HDR_IP_STRLEN];
};

static size_t ref_v4(const char *p, size_t n, char *text)
{
	unsigned int oct[4];
	size_t i = 0;

	for (int k = 0; k < 4; k++) {
		size_t run = 0, len;
		unsigned int val = 0;

		while (i + run < n && p[i + run] >= '0' && p[i + run] <= '9')
			run++;
		if (run == 0 || (k < 3 && (run > 3 || i + run >= n || p[i + run] != '.')))
			return 0;
		len = run < 3 ? run : 3;
		for (size_t d = 0; d < len; d++)
			val = val * 10 + (unsigned int)(p[i + d] - '0');
		if (val > 255 && k < 3)
			return 0;
		if (val > 255) {
			len = 2;
			val /= 10;
		}
		oct[k] = val;
		i += len + (k < 3);
	}
	snprintf(text, SMTP_HDR_IP_STRLEN, "%u.%u.%u.%u", oct[0], oct[1], oct[2], oct[3]);
	return i;
}

static size_t ref_v6(const char *p, size_t n, char *text)
{
	char buf[SMTP_HDR_IP_STRLEN];
	uint8_t a[16];
	size_t run = 0;

	while (run < n && run < sizeof(buf) - 1 && strchr("0123456789abcdefABCDEF:.", p[run]))
		run++;
	for (size_t len = run; len >= 2; len--) {
		memcpy(buf, p, len);
		buf[len] = '\0';
		if (p[len - 1] != '.' && inet_pton(AF_INET6, buf, a) == 1) {
			inet_ntop(AF_INET6, a, text, SMTP_HDR_IP_STRLEN);
			return len;
		}
	}
	return 0;
}

static bool ref_next(const char *v, size_t n, size_t *pos, struct ref_hit *h)
{
	for (size_t i = *pos; i < n; i++) {
		char t4[SMTP_HDR_IP_STRLEN], t6[SMTP_HDR_IP_STRLEN];
		size_t l4 = ref_v4(v + i, n - i, t4), l6 = ref_v6(v + i, n - i, t6);

		if (!l4 && !l6)
			continue;
		h->off = i;
		h->len = l4 > l6 ? l4 : l6;
		snprintf(h->text, sizeof(h->text), "%s", l4 > l6 ? t4 : t6);
		*pos = i + h->len;
		return true;
	}
	*pos = n;
	return false;
}

/* The skips in the search find what trying every offset finds, on random header text. */
static void test_smtp_hdr_ip_search_matches_reference(void **state)
{
	static const char *const tok[] = {"1",
					  "22",
					  "255",
					  "256",
					  "0",
					  "1234",
					  ".",
					  ":",
					  "::",
					  "a",
					  "f",
					  "g",
					  "x",
					  " ",
					  "[",
					  "]",
					  "(",
					  ")",
					  "fe80",
					  "2001:db8",
					  "10.0.0.1",
					  "id",
					  "Tue, 14 Nov 2023 22:13:20",
					  "ESMTP",
					  "cafe",
					  "-",
					  ";",
					  "22:13:20",
					  "1:2:3",
					  "a::b",
					  "13:20"};
	uint32_t seed = 12345;
	char v[160], ip[SMTP_HDR_IP_STRLEN];

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = 0;
		struct ref_hit h;
		size_t pos;
		bool want, got;

		while (n < 100) {
			const char *t;

			seed = seed * 1103515245u + 12345u;
			t = tok[(seed >> 8) % (sizeof(tok) / sizeof(tok[0]))];
			memcpy(v + n, t, strlen(t));
			n += strlen(t);
		}
		v[n] = '\0';
		/* every suffix: received_ip searches on from each address it found */
		for (size_t k = 0; k < n; k++) {
			pos = k;
			want = ref_next(v, n, &pos, &h);
			got = smtp_hdr_first_ip(U8(v) + k, n - k, ip);
			if (want != got || (want && strcmp(ip, h.text)))
				fail_msg("first_ip '%s': got %s want %s", v + k, got ? ip : "-",
					 want ? h.text : "-");
		}
	}
}

/*
 * Digit runs of every length before a '.' (only the last three digits of
 * one may start an address), after filler of every length: the dot search
 * finds what trying every offset finds.
 */
static void test_smtp_hdr_ip_digits_before_dot_every_offset(void **state)
{
	static const char filler[] = "id 20231114; 22:13:20 +0000 mx.example 7.x 1234567.";
	char v[160], ip[SMTP_HDR_IP_STRLEN];

	(void)state;
	for (size_t k = 0; k < sizeof(filler); k++)
		for (int digits = 1; digits <= 6; digits++) {
			int n = snprintf(v, sizeof(v), "%.*s %.*s.2.3.4 (10.9.8.7)", (int)k, filler,
					 digits, "123456");
			struct ref_hit h;
			size_t pos = 0;
			bool want = ref_next(v, (size_t)n, &pos, &h);

			assert_true(want);
			assert_true(smtp_hdr_first_ip(U8(v), (size_t)n, ip));
			assert_string_equal(ip, h.text);
		}
}

/* Zeek's pick over the reference's hits: wrapped ones, the second if several. */
static bool ref_received(const char *v, size_t n, char *out)
{
	struct ref_hit cur, next, found[2];
	size_t pos = 0, prev_end = 0, nfound = 0;
	bool have = ref_next(v, n, &pos, &cur);

	while (have && nfound < 2) {
		bool more = ref_next(v, n, &pos, &next);
		size_t end = cur.off + cur.len, next_off = more ? next.off : n;
		bool p1 = cur.off == prev_end, p3 = end == next_off;
		char b = p1 ? 0 : v[cur.off - 1], a = p3 ? 0 : v[end];

		if ((p1 && p3) || (!p1 && !p3 &&
				   ((b == '[' && a == ']') || (b == '(' && a == ')') ||
				    (b == '{' && a == '}') || (b == ' ' && a == ' '))))
			found[nfound++] = cur;
		prev_end = end;
		cur = next;
		have = more;
	}
	if (nfound)
		snprintf(out, SMTP_HDR_IP_STRLEN, "%s", found[nfound - 1].text);
	return nfound != 0;
}

static void check_received_cuts(const char *v)
{
	size_t n = strlen(v);

	for (size_t k = 0; k < n; k++)
		for (size_t m = k; m <= n; m++) {
			char want[SMTP_HDR_IP_STRLEN] = "", got[SMTP_HDR_IP_STRLEN] = "";
			bool w = ref_received(v + k, m - k, want);
			bool g = smtp_hdr_received_ip(U8(v) + k, m - k, got);
			struct ref_hit h;
			size_t pos = 0;

			if (w != g || (w && strcmp(want, got)))
				fail_msg("received '%.*s': got %s want %s", (int)(m - k), v + k,
					 g ? got : "-", w ? want : "-");
			w = ref_next(v + k, m - k, &pos, &h);
			g = smtp_hdr_first_ip(U8(v) + k, m - k, got);
			if (w != g || (w && strcmp(h.text, got)))
				fail_msg("first_ip '%.*s': got %s want %s", (int)(m - k), v + k,
					 g ? got : "-", w ? h.text : "-");
		}
}

/*
 * Every IPv4 and IPv6 form the search finds (and near misses), in every
 * place of a Received field (after the helo name, wrapped, in the by part,
 * in the id, in the date), each value cut at every start and end: the same
 * answer as the reference.
 */
static void test_smtp_hdr_received_ip_forms_every_place_and_cut(void **state)
{
	static const char *const form[] = {
		"1.2.3.4",
		"10.000.000.002",
		"255.255.255.255",
		"256.1.1.1",
		"1.2.3.256",
		"1234.5.6.7",
		"1.2.3.4.5",
		"1.2.3",
		"1..2.3.4",
		"2001:db8::25",
		"::1",
		"::",
		"fe80::1",
		"::ffff:1.2.3.4",
		"1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:1.2.3.4",
		"a:b:c:d:e:f::",
		"IPv6:2001:db8::1",
		"22:13:20",
		"1:2:3:4:5:6:7",
		"cafe::beef",
		"a1.2.3.4",
		"1.2.3.4:25",
		"::1.2.3.4",
		"12345678901234567890:1::2",
		/* times, dates and near misses of the time filter */
		"1:2:3",
		"a::b",
		"13:20",
		"22:13:2",
		"22:1:20",
		"22:13:200",
		"22:13:20:01",
		"22:13:20::",
		"22:13::20",
		"22:13:20.1.2.3",
		"1.2.3.22:13:20",
		"2.2.2.2:13:20",
		"::22:13:20",
		"fe80::22:13:20",
		"1:2:3:4:5:22:13:20",
		"aa:bb:cc",
		"ag:13:20",
		"22.13:20",
		"Tue, 14 Nov 2023 22:13:20 +0000",
	};
	/* '@' stands for the form */
	static const char *const place[] = {
		"from @ (@ [198.51.100.7]) by mx.example.net with ESMTP id F91D7069; Tue, 14 Nov "
		"2023 22:13:20 +0000",
		"from client.example ([@]) by mx.example.net id @; Tue, 14 Nov 2023 22:13:20 +0000",
		"from h (h (@)) by @.example {@}",
		"by x id ab@cd; Tue, 14 Nov 2023 @ +0000",
		"@@ @:@ @.@",
		"x; @",
	};
	char v[512];

	(void)state;
	for (size_t f = 0; f < sizeof(form) / sizeof(form[0]); f++)
		for (size_t p = 0; p < sizeof(place) / sizeof(place[0]); p++) {
			size_t n = 0, fl = strlen(form[f]);

			for (const char *c = place[p]; *c; c++) {
				if (*c == '@') {
					memcpy(v + n, form[f], fl);
					n += fl;
				} else {
					v[n++] = *c;
				}
			}
			v[n] = '\0';
			check_received_cuts(v);
		}
	check_received_cuts("x [1.2.3.4] [::1] [fe80::2] y");
	check_received_cuts("from [10.0.0.1] (helo=[10.0.0.2]) by [10.0.0.3]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_hdr_ip_search_matches_reference),
		cmocka_unit_test(test_smtp_hdr_ip_digits_before_dot_every_offset),
		cmocka_unit_test(test_smtp_hdr_received_ip_forms_every_place_and_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
