// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/jsonw.h"

static void test_jsonw_nested_object_and_commas(void **state)
{
	char buf[256];
	struct jsonw w;
	long n;

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_obj_open(&w);
	jsonw_kv_cstr(&w, "a", "x");
	jsonw_kv_u64(&w, "n", 42);
	jsonw_key(&w, "l");
	jsonw_arr_open(&w);
	jsonw_cstr(&w, "p");
	jsonw_bool(&w, true);
	jsonw_obj_open(&w);
	jsonw_obj_close(&w);
	jsonw_arr_close(&w);
	jsonw_kv_double(&w, "ts", 1.5, 6);
	jsonw_obj_close(&w);
	n = jsonw_finish_line(&w);
	assert_int_equal(n, (long)strlen(buf));
	assert_string_equal(buf, "{\"a\":\"x\",\"n\":42,\"l\":[\"p\",true,{}],\"ts\":1.500000}\n");
}

/* Quotes, controls, valid UTF-8 kept, invalid bytes as Zeek's \xNN text. */
static void test_jsonw_escapes_and_invalid_utf8(void **state)
{
	static const char in[] = "q\"b\\\n\x01 \xe3\x81\x82 \xff\xc0\x80 \xed\xa0\x80";
	char buf[256];
	struct jsonw w;

	(void)state;
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_str(&w, in, sizeof(in) - 1);
	jsonw_finish_line(&w);
	assert_string_equal(buf, "\"q\\\"b\\\\\\n\\u0001 \xe3\x81\x82 \\\\xff\\\\xc0\\\\x80 "
				 "\\\\xed\\\\xa0\\\\x80\"\n");
}

/* A record that does not fit is reported, never written past the end. */
static void test_jsonw_overflow_is_reported(void **state)
{
	char buf[16];
	struct jsonw w;

	(void)state;
	memset(buf, 'Z', sizeof(buf));
	jsonw_init(&w, buf, 12);
	jsonw_obj_open(&w);
	jsonw_kv_cstr(&w, "key", "a long value");
	jsonw_obj_close(&w);
	assert_true(w.overflow);
	assert_int_equal(jsonw_finish_line(&w), -1);
	assert_int_equal(buf[12], 'Z');
}

static void test_jsonw_utf8_sequence_lengths(void **state)
{
	(void)state;
	assert_int_equal(jsonw_utf8_seq_len((const uint8_t *)"a", 1), 1);
	assert_int_equal(jsonw_utf8_seq_len((const uint8_t *)"\xc3\xa9", 2), 2);
	assert_int_equal(jsonw_utf8_seq_len((const uint8_t *)"\xc3", 1), 0);
	assert_int_equal(jsonw_utf8_seq_len((const uint8_t *)"\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(jsonw_utf8_seq_len((const uint8_t *)"\xf4\x90\x80\x80", 4), 0);
	assert_int_equal(jsonw_utf8_seq_len((const uint8_t *)"\xe0\x80\x80", 3), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jsonw_nested_object_and_commas),
		cmocka_unit_test(test_jsonw_escapes_and_invalid_utf8),
		cmocka_unit_test(test_jsonw_overflow_is_reported),
		cmocka_unit_test(test_jsonw_utf8_sequence_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
