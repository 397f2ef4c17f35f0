// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/frame.h"

/* Three frames in one buffer, fed split at every offset, come out whole. */
static void test_frame_reader_every_split(void **state)
{
	uint8_t stream[64];
	size_t len = 0;
	const char *msgs[] = {"alpha", "b", "a longer third frame"};

	(void)state;
	for (int i = 0; i < 3; i++) {
		frame_put_header(stream + len, (uint32_t)strlen(msgs[i]));
		memcpy(stream + len + FRAME_HDR, msgs[i], strlen(msgs[i]));
		len += FRAME_HDR + strlen(msgs[i]);
	}
	for (size_t cut = 0; cut <= len; cut++) {
		struct frame_reader fr;
		const uint8_t *chunks[2][2] = {{stream, stream + cut},
					       {stream + cut, stream + len}};
		int got = 0;

		assert_int_equal(frame_reader_init(&fr, 64), 0);
		for (int c = 0; c < 2; c++) {
			const uint8_t *p = chunks[c][0];
			const uint8_t *out;
			uint32_t out_len;
			enum frame_status st;

			while ((st = frame_reader_feed(&fr, &p, chunks[c][1], &out, &out_len)) ==
			       FRAME_OK) {
				assert_int_equal(out_len, strlen(msgs[got]));
				assert_memory_equal(out, msgs[got], out_len);
				got++;
			}
			assert_int_equal(st, FRAME_AGAIN);
			assert_ptr_equal(p, chunks[c][1]);
		}
		assert_int_equal(got, 3);
		frame_reader_fini(&fr);
	}
}

/* A hostile length is an error before any byte of it is buffered. */
static void test_frame_reader_refuses_bad_lengths(void **state)
{
	static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 'x'};
	static const uint8_t zero[] = {0, 0, 0, 0};
	struct frame_reader fr;
	const uint8_t *p, *out;
	uint32_t out_len;

	(void)state;
	assert_int_equal(frame_reader_init(&fr, 1024), 0);
	p = huge;
	assert_int_equal(frame_reader_feed(&fr, &p, huge + sizeof(huge), &out, &out_len),
			 FRAME_TOO_BIG);
	frame_reader_fini(&fr);
	assert_int_equal(frame_reader_init(&fr, 1024), 0);
	p = zero;
	assert_int_equal(frame_reader_feed(&fr, &p, zero + sizeof(zero), &out, &out_len),
			 FRAME_EMPTY);
	frame_reader_fini(&fr);
	assert_int_equal(frame_reader_init(&fr, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_reader_every_split),
		cmocka_unit_test(test_frame_reader_refuses_bad_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
