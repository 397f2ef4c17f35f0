// SPDX-License-Identifier: BSD-3-Clause
/*
 * sensor/event.c: the text copy every event builder makes. Its short copies
 * (8 to 32 bytes as two overlapping loads) must give what memcpy gives, read
 * nothing past the source and write nothing past the NUL. And the zeroed
 * event a builder writes its fields into, over stale ring bytes.
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

/* event_begin() without a header over ring bytes an earlier event left
 * dirty: every byte zero but the stamp, for every event size, the
 * lengths around the vector sizes and up to 1 KiB, as the ring wraps. */
static void test_event_begin_zeroes_as_memset(void **state)
{
	static const uint32_t sizes[] = {
		sizeof(struct event_session_open), sizeof(struct event_banner),
		sizeof(struct event_auth),	   sizeof(struct event_rcpt),
		sizeof(struct event_reply),	   sizeof(struct event_sig),
		sizeof(struct event_session_close)};
	struct msgring *ring;
	struct event_sink sink = {0};
	uint8_t want[1024];

	(void)state;
	assert_int_equal(msgring_create(64 * 1024, &ring), 0);
	sink.ring = ring;
	sink.worker = 3;
	for (uint32_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]) + 1024 / 8; k++) {
		uint32_t len =
			k < sizeof(sizes) / sizeof(sizes[0])
				? sizes[k]
				: (uint32_t)sizeof(struct event_hdr) +
					  8 * (k - (uint32_t)(sizeof(sizes) / sizeof(sizes[0])));
		uint32_t got_len;

		if (len > sizeof(want))
			break;
		/* Enough rounds to wrap the ring: each lands where others were. */
		for (int round = 0; round < 200; round++) {
			uint8_t *dirty = event_begin_head(&sink, EV_TX, len, 0);
			struct event_hdr *e;

			assert_non_null(dirty);
			memset(dirty, 0xa5, len);
			event_commit(&sink);
			assert_non_null(msgring_peek(ring, &got_len));
			msgring_release(ring);
			e = event_begin(&sink, EV_RCPT, len, NULL);
			assert_non_null(e);
			memset(want, 0, len);
			assert_int_equal(e->type, EV_RCPT);
			assert_int_equal(e->len, len);
			assert_int_equal(e->worker, 3);
			((struct event_hdr *)want)->type = EV_RCPT;
			((struct event_hdr *)want)->worker = 3;
			((struct event_hdr *)want)->len = len;
			((struct event_hdr *)want)->seq = e->seq;
			assert_memory_equal(e, want, len);
			event_commit(&sink);
			assert_non_null(msgring_peek(ring, &got_len));
			assert_int_equal(got_len, len);
			msgring_release(ring);
		}
	}
	msgring_destroy(ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_copy_text_as_memcpy),
		cmocka_unit_test(test_event_begin_zeroes_as_memset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
