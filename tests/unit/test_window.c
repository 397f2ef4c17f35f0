// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/window.h"

#define S 1000000000ull
/* On a boundary of 1 min, 6 min and 1 h buckets alike. */
#define T0 (1699995600ull * S)

/* Events on both sides of a bucket boundary are all in the window, and the
 * oldest bucket leaves it exactly one bucket width later. */
static void test_window_sums_across_bucket_boundaries(void **state)
{
	struct window_cfg c;
	struct window w = {0};

	(void)state;
	window_cfg_init(&c, 600);
	assert_int_equal(c.bucket_ns, 60 * S);
	assert_true(window_add(&w, &c, T0, 1));
	assert_true(window_add(&w, &c, T0 + 59 * S, 2));
	assert_true(window_add(&w, &c, T0 + 61 * S, 3));
	assert_true(window_add(&w, &c, T0 + 599 * S, 4));
	assert_int_equal(window_sum(&w, &c, T0 + 599 * S), 10);
	/* bucket 0 (1 + 2) slides out at 600 s */
	assert_int_equal(window_sum(&w, &c, T0 + 600 * S), 7);
	assert_int_equal(window_sum(&w, &c, T0 + 660 * S), 4);
	/* the last event's bucket (9) is gone ten buckets later */
	assert_int_equal(window_sum(&w, &c, T0 + 1139 * S), 4);
	assert_int_equal(window_sum(&w, &c, T0 + 1140 * S), 0);
}

/* Events from a lagging worker land in their own (older) bucket while it is
 * in the window; older than the window they are refused, not misplaced. */
static void test_window_time_going_backwards(void **state)
{
	struct window_cfg c;
	struct window w = {0};

	(void)state;
	window_cfg_init(&c, 600);
	assert_true(window_add(&w, &c, T0 + 300 * S, 5));
	assert_true(window_add(&w, &c, T0 + 250 * S, 1));     /* one bucket back */
	assert_true(window_add(&w, &c, T0 - 120 * S, 2));     /* seven buckets back */
	assert_false(window_add(&w, &c, T0 - 1200 * S, 100)); /* before the window */
	assert_int_equal(window_sum(&w, &c, T0 + 300 * S), 8);
	/* a query stamped before the newest bucket sees the window as of it */
	assert_int_equal(window_sum(&w, &c, T0 + 100 * S), 8);
	/* the late events expire with their own buckets, not with the head */
	assert_int_equal(window_sum(&w, &c, T0 + 480 * S), 6);
	assert_int_equal(window_sum(&w, &c, T0 + 900 * S), 0);
}

/* One long counter answers shorter windows by whole buckets. */
static void test_window_sum_last_reads_a_shorter_window(void **state)
{
	struct window_cfg c;
	struct window w = {0};

	(void)state;
	window_cfg_init(&c, 3600); /* 6 min buckets */
	for (int m = 0; m < 60; m++)
		window_add(&w, &c, T0 + (uint64_t)m * 60 * S, 1);
	assert_int_equal(window_sum(&w, &c, T0 + 59 * 60 * S), 60);
	/* 10 min rounds up to two 6-minute buckets: minutes 48..59 */
	assert_int_equal(window_sum_last(&w, &c, T0 + 59 * 60 * S, 600), 12);
	assert_int_equal(window_sum_last(&w, &c, T0 + 59 * 60 * S, 1), 6);
	assert_int_equal(window_sum_last(&w, &c, T0 + 59 * 60 * S, 7 * 86400), 60);
}

static void test_window_saturates_and_clears_after_a_long_gap(void **state)
{
	struct window_cfg c;
	struct window w = {0};

	(void)state;
	window_cfg_init(&c, 60); /* 6 s buckets */
	window_add(&w, &c, T0, 60000);
	window_add(&w, &c, T0, 60000);
	assert_int_equal(window_sum(&w, &c, T0), UINT16_MAX);
	window_add(&w, &c, T0 + 6 * S, 7);
	assert_int_equal(window_sum(&w, &c, T0 + 6 * S), UINT16_MAX + 7);
	/* a day later every bucket is stale */
	window_add(&w, &c, T0 + 86400 * S, 1);
	assert_int_equal(window_sum(&w, &c, T0 + 86400 * S), 1);
	window_clear(&w);
	assert_int_equal(window_sum(&w, &c, T0 + 86400 * S), 0);
}

/* Spans shorter than the bucket count still get whole-second buckets. */
static void test_window_tiny_span(void **state)
{
	struct window_cfg c;
	struct window w = {0};

	(void)state;
	window_cfg_init(&c, 5);
	assert_int_equal(c.bucket_ns, S);
	window_add(&w, &c, T0, 1);
	window_add(&w, &c, T0 + 4 * S, 1);
	assert_int_equal(window_sum(&w, &c, T0 + 4 * S), 2);
	/* ten 1 s buckets: the span rounds up to what the buckets hold */
	assert_int_equal(window_sum(&w, &c, T0 + 10 * S), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_sums_across_bucket_boundaries),
		cmocka_unit_test(test_window_time_going_backwards),
		cmocka_unit_test(test_window_sum_last_reads_a_shorter_window),
		cmocka_unit_test(test_window_saturates_and_clears_after_a_long_gap),
		cmocka_unit_test(test_window_tiny_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
