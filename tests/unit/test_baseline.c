// SPDX-License-Identifier: BSD-3-Clause
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/baseline.h"

#define S  1000000000ull
#define H  3600ull
#define T0 (1699995600ull * S)

static const struct baseline_cfg day = {.halflife_s = 86400};

static bool near(double got, double want, double rel)
{
	return fabs(got - want) <= rel * want;
}

/* One event every 10 s for two days reads as 0.1/s. */
static void test_baseline_steady_rate(void **state)
{
	struct baseline b = {0};
	uint64_t t = T0;

	(void)state;
	for (; t < T0 + 48 * H * S; t += 10 * S)
		baseline_add(&b, &day, t, 1);
	assert_true(near(baseline_rate(&b, &day, t), 0.1, 0.02));
	assert_int_equal(baseline_age(&b, t), 48 * H);
}

/* A young baseline is not read as quiet: 10 events in 1000 s is 0.01/s,
 * although a day's half-life has barely started to fill. */
static void test_baseline_young_history_is_scaled_by_age(void **state)
{
	struct baseline b = {0};

	(void)state;
	assert_int_equal(baseline_age(&b, T0), 0);
	assert_true(baseline_rate(&b, &day, T0) == 0.0);
	for (int i = 0; i < 10; i++)
		baseline_add(&b, &day, T0 + (uint64_t)i * 100 * S, 1);
	assert_true(near(baseline_rate(&b, &day, T0 + 1000 * S), 0.01, 0.15));
}

/* The window under judgement is left out: a burst of 1000 in the last
 * 10 minutes does not lift the rate it is compared with. */
static void test_baseline_rate_before_leaves_the_burst_out(void **state)
{
	struct baseline b = {0};
	uint64_t t = T0, end = T0 + 24 * H * S;

	(void)state;
	for (; t < end; t += 10 * S)
		baseline_add(&b, &day, t, 1);
	for (int i = 0; i < 1000; i++)
		baseline_add(&b, &day, end + (uint64_t)(i % 600) * S, 1);
	t = end + 600 * S;
	assert_true(baseline_rate(&b, &day, t) > 0.1 * 1.05);
	assert_true(near(baseline_rate_before(&b, &day, t, 600, 1000), 0.1, 0.05));
	/* no history before the window: nothing to compare with */
	assert_true(baseline_rate_before(&b, &day, T0 + 300 * S, 600, 1) == 0.0);
}

/* Silence lowers the rate: after two half-lives it is well under half. */
static void test_baseline_decays_in_silence(void **state)
{
	struct baseline b = {0};
	uint64_t t = T0;
	double before;

	(void)state;
	for (; t < T0 + 72 * H * S; t += 60 * S)
		baseline_add(&b, &day, t, 1);
	before = baseline_rate(&b, &day, t);
	assert_true(baseline_rate(&b, &day, t + 48 * H * S) < 0.45 * before);
}

/* Late events (older than the last one) add without decaying anything. */
static void test_baseline_time_going_backwards(void **state)
{
	struct baseline b = {0};

	(void)state;
	baseline_add(&b, &day, T0 + 100 * S, 1);
	baseline_add(&b, &day, T0 + 50 * S, 1);
	assert_true(fabs(b.s - 2.0) < 1e-9);
	assert_int_equal(b.last_s, T0 / S + 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_steady_rate),
		cmocka_unit_test(test_baseline_young_history_is_scaled_by_age),
		cmocka_unit_test(test_baseline_rate_before_leaves_the_burst_out),
		cmocka_unit_test(test_baseline_decays_in_silence),
		cmocka_unit_test(test_baseline_time_going_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
