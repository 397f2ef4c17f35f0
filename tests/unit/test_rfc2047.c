// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/rfc2047.h"

#define U8(s) ((const uint8_t *)(s))

static char out[4096];

static const char *dec(const char *in)
{
	size_t n = rfc2047_decode(U8(in), strlen(in), out, sizeof(out) - 1);

	out[n] = '\0';
	return out;
}

/* Subjects as Japanese mail clients send them: ISO-2022-JP and Shift_JIS in B, UTF-8 in B and Q. */
static void test_rfc2047_japanese(void **state)
{
	(void)state;
	assert_string_equal(dec("=?ISO-2022-JP?B?GyRCRnxLXDhsJE43b0w+GyhC?="), "日本語の件名");
	assert_string_equal(dec("=?iso-2022-jp?b?GyRCRnxLXDhsJE43b0w+GyhC?="), "日本語の件名");
	assert_string_equal(dec("=?Shift_JIS?B?g2WDWINn?="), "テスト");
	assert_string_equal(dec("=?UTF-8?B?44OG44K544OI?="), "テスト");
	assert_string_equal(dec("=?UTF-8?Q?=E3=83=86=E3=82=B9=E3=83=88?="), "テスト");
	assert_string_equal(dec("=?EUC-JP?B?xvzL3Ljs?="), "日本語");
	/* Two ISO-2022-JP words (each returns to ASCII), folded: joined without the fold. */
	assert_string_equal(
		dec("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\r\n =?ISO-2022-JP?B?GyRCJE43b0w+GyhC?="),
		"日本語の件名");
	/* A UTF-8 character split between two words comes out whole. */
	assert_string_equal(dec("=?UTF-8?B?44OG4w==?= =?UTF-8?B?grnjg4g=?="), "テスト");
}

static void test_rfc2047_charsets(void **state)
{
	(void)state;
	assert_string_equal(dec("=?windows-1251?B?z/Do4uXy?="), "Привет");
	assert_string_equal(dec("=?KOI8-R?B?8NLJ18XU?="), "Привет");
	assert_string_equal(dec("=?gb2312?B?1tDOxNPKvP4=?="), "中文邮件");
	assert_string_equal(dec("=?GBK?B?1tDOxNPKvP4=?="), "中文邮件");
	assert_string_equal(dec("=?GB18030?B?1tDOxNPKvP4=?="), "中文邮件");
	assert_string_equal(dec("=?big5?B?pKSk5bZspfM=?="), "中文郵件");
	assert_string_equal(dec("=?euc-kr?B?x9Gxub7u?="), "한국어");
	assert_string_equal(dec("=?ks_c_5601-1987?B?x9Gxub7u?="), "한국어");
	assert_string_equal(dec("=?ISO-8859-2?Q?=AF=F3=B3=E6?="), "Żółć");
	assert_string_equal(dec("=?iso-8859-7?B?xevr5+3p6tw=?="), "Ελληνικά");
	assert_string_equal(dec("=?us-ascii?Q?plain_text?="), "plain text");
	/* RFC 2231 language suffix inside an encoded word. */
	assert_string_equal(dec("=?utf-8*en?q?caf=C3=A9?="), "café");
}

/* Whitespace between encoded words goes; between a word and plain text it stays. */
static void test_rfc2047_mixed_words(void **state)
{
	(void)state;
	assert_string_equal(dec("Re: =?utf-8?q?caf=C3=A9?= and more"), "Re: café and more");
	assert_string_equal(dec("=?utf-8?q?a?= =?utf-8?q?b?=  \t=?utf-8?q?c?= d"), "abc d");
	assert_string_equal(dec("x=?utf-8?q?y?=z"), "xyz");
	assert_string_equal(dec("no encoded words at all"), "no encoded words at all");
	assert_string_equal(dec("=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?="), "éé");
}

/* Arkime's captures: the exact subjects Arkime's tests expect. */
static void test_rfc2047_arkime_subjects(void **state)
{
	static const char q[] =
		"=?iso-8859-1?Q?=E9_=EE_=F8_=FC____________?="
		" =?iso-8859-1?Q?_________________________________________________________?="
		" =?iso-8859-1?Q?_________________________________________________________?="
		" =?iso-8859-1?Q?_____?= =?iso-8859-1?Q?_?="
		"                                                     test";
	static const char mixed[] =
		"=?utf-8?B?6L+Z5piv55So56m65qC85rWL6K+VICAg?="
		" =?utf-8?Q?______________________________________________________________?="
		" =?utf-8?Q?_________________________________________________=C3=A5_=C3=A9_?="
		" =?utf-8?B?w64gw7ggw7wgICAgICAgICAgICAgICAgICAg?= =?utf-8?Q?_?="
		"                                                          test";
	static const char empty[] = "=?ISO-8859-1?B?Qw==?==?ISO-8859-1?B?YW4=?==?ISO-8859-1?B?"
				    "IHRoaXMgMTAgU2Vjb25kIFRyaWNrIEhlbA==?==?ISO-8859-1?B?"
				    "?==?ISO-8859-1?B?"
				    "cCBQcmV2ZW50IFlPVVIgSGVhcnQgQQ==?==?ISO-8859-1?B?dHRhY2s/?=";
	char want[512];

	(void)state;
	snprintf(want, sizeof(want), "é î ø ü%185stest", "");
	assert_string_equal(dec(q), want);
	snprintf(want, sizeof(want), "这是用空格测试%114så é î ø ü%78stest", "", "");
	assert_string_equal(dec(mixed), want);
	assert_string_equal(dec(empty), "Can this 10 Second Trick Help Prevent YOUR Heart Attack?");
}

/* Anything that is not a valid encoded word is left exactly as it was. */
static void test_rfc2047_invalid_passes_through(void **state)
{
	static const char *const bad[] = {
		"=?x-unknown-charset?q?abc?=",
		"=?utf-8?x?abc?=",
		"=?utf-8?b?not*base64?=",
		"=?utf-8?q?no end",
		"=?utf-8?q?sp ace?=",
		"=??q?abc?=",
		"=?utf-8?q?",
		"=?",
		"=",
		"?=",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_equal(dec(bad[i]), bad[i]);
	assert_string_equal(dec("ok =?bogus?q?x?= =?utf-8?q?=C3=A9?="), "ok =?bogus?q?x?= é");
	/* Bytes a charset cannot hold become U+FFFD, the rest still decodes. */
	assert_string_equal(dec("=?shift_jis?q?=83=65=FF=83=67?="), "テ\xef\xbf\xbdト");
	/* 8-bit text outside encoded words is not touched. */
	assert_string_equal(dec("caf\xe9 =?utf-8?q?x?="), "caf\xe9 x");
}

/* Output never passes cap, whatever the input grows to. */
static void test_rfc2047_bounded(void **state)
{
	char small[17];
	char big[8192];
	size_t o = 0, n;

	(void)state;
	while (o + 40 < sizeof(big))
		o += (size_t)snprintf(big + o, sizeof(big) - o,
				      "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= ");
	for (size_t cap = 0; cap < 16; cap++) {
		memset(small, 'Z', sizeof(small));
		n = rfc2047_decode(U8(big), o, small, cap);
		assert_true(n <= cap);
		for (size_t i = cap; i < sizeof(small); i++)
			assert_int_equal(small[i], 'Z');
		n = rfc2047_decode(U8("plain text that is long"), 23, small, cap);
		assert_true(n <= cap);
		assert_int_equal(small[cap], 'Z');
	}
	n = rfc2047_decode(U8(big), o, out, sizeof(out));
	assert_true(n <= sizeof(out));
	assert_memory_equal(out, "日本語日本語", strlen("日本語日本語"));
}

/* RFC 2231 extended parameter values (filename*=). */
static void test_rfc2047_param_values(void **state)
{
	char buf[64];
	size_t n;

	(void)state;
	n = rfc2047_param_decode(U8("utf-8''%E2%82%AC%20rates.pdf"),
				 strlen("utf-8''%E2%82%AC%20rates.pdf"), buf, sizeof(buf));
	assert_memory_equal(buf, "€ rates.pdf", n);
	assert_int_equal(n, strlen("€ rates.pdf"));
	n = rfc2047_param_decode(U8("iso-8859-1'en'%A3rates"), strlen("iso-8859-1'en'%A3rates"),
				 buf, sizeof(buf));
	assert_memory_equal(buf, "£rates", n);
	n = rfc2047_param_decode(U8("Shift_JIS''%83e%83X%83g.txt"),
				 strlen("Shift_JIS''%83e%83X%83g.txt"), buf, sizeof(buf));
	assert_memory_equal(buf, "テスト.txt", n);
	n = rfc2047_param_decode(U8("no-quotes%41"), strlen("no-quotes%41"), buf, sizeof(buf));
	assert_memory_equal(buf, "no-quotesA", n);
}

/* Converters opened up front give the same results (the worker's start-up path). */
static void test_rfc2047_thread_init(void **state)
{
	(void)state;
	rfc2047_thread_fini();
	assert_int_equal(rfc2047_thread_init(), 0);
	assert_string_equal(dec("=?Shift_JIS?B?g2WDWINn?="), "テスト");
	rfc2047_thread_fini();
	assert_string_equal(dec("=?Shift_JIS?B?g2WDWINn?="), "テスト");
}

/* Writes a byte pattern where the decoder's frame (and its run buffer) will be. */
static __attribute__((noinline)) void dirty_stack(uint8_t fill)
{
	volatile uint8_t junk[4096];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = fill;
}

/*
 * The decoder's run buffer is not cleared: only the bytes a word put there
 * are read. Characters split between words and charsets held across words
 * decode the same over a stack full of any byte.
 */
static void test_rfc2047_run_buffer_not_cleared(void **state)
{
	static const uint8_t fills[] = {0x00, 0xff, 0x1b, 0xe3};

	(void)state;
	for (size_t i = 0; i < sizeof(fills); i++) {
		dirty_stack(fills[i]);
		assert_string_equal(dec("=?UTF-8?B?44OG4w==?= =?UTF-8?B?grnjg4g=?="), "テスト");
		dirty_stack(fills[i]);
		assert_string_equal(dec("=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=\r\n "
					"=?ISO-2022-JP?B?GyRCJE43b0w+GyhC?="),
				    "日本語の件名");
		dirty_stack(fills[i]);
		assert_string_equal(dec("a =?Shift_JIS?B?g2WDWINn?= b"), "a テスト b");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2047_japanese),
		cmocka_unit_test(test_rfc2047_charsets),
		cmocka_unit_test(test_rfc2047_mixed_words),
		cmocka_unit_test(test_rfc2047_arkime_subjects),
		cmocka_unit_test(test_rfc2047_invalid_passes_through),
		cmocka_unit_test(test_rfc2047_bounded),
		cmocka_unit_test(test_rfc2047_param_values),
		cmocka_unit_test(test_rfc2047_thread_init),
		cmocka_unit_test(test_rfc2047_run_buffer_not_cleared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
