// SPDX-License-Identifier: BSD-3-Clause
/*
 * sensor/event.c: the text copy every event builder makes. Its short copies
 * (8 to 32 bytes as two overlapping loads) must give what memcpy gives, read
 * nothing past the source and write nothing past the NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/event.h"

#define GUARD 40

/* Every length up to past the biggest field, into every cap an event field
 * has and the edges around the word sizes; the source is a buffer of exactly
 * its length, so ASan sees a read past it. */
static void test_event_copy_text_as_memcpy(void **state)
{
	static const size_t caps[] = {
		0, 1, 2, 8, 9, 15, 16, 17, 32, 33, 64, EVENT_ADDR_MAX, EVENT_TEXT_MAX};
	char dst[EVENT_TEXT_MAX + GUARD];

	(void)state;
	for (size_t n = 0; n <= EVENT_TEXT_MAX + 8; n++) {
		char *src = malloc(n ? n : 1);

		assert_non_null(src);
		for (size_t i = 0; i < n; i++)
			src[i] = (char)('A' + (i * 7 + n) % 50);
		for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
			size_t cap = caps[c], want = cap ? (n < cap - 1 ? n : cap - 1) : 0;
			uint16_t got;

			memset(dst, 0x5a, sizeof(dst));
			got = event_copy_text(dst, cap, src, n);
			assert_int_equal(got, want);
			assert_memory_equal(dst, src, want);
			if (cap) {
				assert_int_equal(dst[want], '\0');
				for (size_t i = want + 1; i < sizeof(dst); i++)
					assert_int_equal(dst[i], 0x5a);
			} else {
				for (size_t i = 0; i < sizeof(dst); i++)
					assert_int_equal(dst[i], 0x5a);
			}
		}
		free(src);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_copy_text_as_memcpy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
