// SPDX-License-Identifier: BSD-3-Clause
/*
 * backoff: the sequence of waits for a sequence of empty and non-empty
 * polls (spins, yields, naps doubling to the cap, starting over when work
 * comes), and periodic work due by the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/backoff.h"

/*
 * Plays polls ('.' empty, 'x' work) and writes what each empty poll does:
 * 's' spin, 'y' yield, or the nap in microseconds and a space; work writes
 * '|'.
 */
static void play(const struct backoff_cfg *c, const char *polls, char *out, size_t cap)
{
	struct backoff b = {0};
	size_t n = 0;

	for (const char *p = polls; *p; p++) {
		uint32_t nap = 0;

		if (*p == 'x') {
			backoff_reset(&b);
			n += (size_t)snprintf(out + n, cap - n, "|");
			continue;
		}
		switch (backoff_next(&b, c, &nap)) {
		case BACKOFF_SPIN:
			n += (size_t)snprintf(out + n, cap - n, "s");
			break;
		case BACKOFF_YIELD:
			n += (size_t)snprintf(out + n, cap - n, "y");
			break;
		case BACKOFF_NAP:
			n += (size_t)snprintf(out + n, cap - n, "%u ", nap / 1000);
			break;
		}
		assert_true(n < cap);
	}
}

/* Spin, yield, then naps doubling to the cap and staying there; the first
 * poll with work starts it all over, from the first nap again. */
static void test_backoff_naps_double_to_the_cap_and_reset(void **state)
{
	const struct backoff_cfg c = {
		.spins = 2, .yields = 4, .nap_min_ns = 50000, .nap_max_ns = 200000};
	char out[256];

	(void)state;
	play(&c, "..........", out, sizeof(out));
	assert_string_equal(out, "ssyy50 100 200 200 200 200 ");
	play(&c, ".......x........x.", out, sizeof(out));
	assert_string_equal(out, "ssyy50 100 200 |ssyy50 100 200 200 |s");
	/* Work between naps: back to spinning, not to the last nap. */
	play(&c, "......x......", out, sizeof(out));
	assert_string_equal(out, "ssyy50 100 |ssyy50 100 ");
}

/* A cap that is not a power-of-two multiple of the start is reached, not
 * passed; a start above the cap naps at the cap; the worker's, steering's
 * and the detector's shapes. */
static void test_backoff_cap_edges(void **state)
{
	const struct backoff_cfg odd = {
		.spins = 0, .yields = 0, .nap_min_ns = 50000, .nap_max_ns = 130000};
	const struct backoff_cfg big = {
		.spins = 0, .yields = 1, .nap_min_ns = 500000, .nap_max_ns = 200000};
	const struct backoff_cfg steer = {
		.spins = 0, .yields = 63, .nap_min_ns = 50000, .nap_max_ns = 200000};
	char polls[80], out[512];

	(void)state;
	play(&odd, "....", out, sizeof(out));
	assert_string_equal(out, "50 100 130 130 ");
	play(&big, "...", out, sizeof(out));
	assert_string_equal(out, "y200 200 ");
	memset(polls, '.', 66);
	polls[66] = '\0';
	play(&steer, polls, out, sizeof(out));
	assert_string_equal(out + 63, "50 100 200 ");
	for (int i = 0; i < 63; i++)
		assert_int_equal(out[i], 'y');
}

/* No nap configured (offline, busy polling, DPDK): spin, then yield forever. */
static void test_backoff_without_naps_yields_on(void **state)
{
	const struct backoff_cfg c = {
		.spins = 3, .yields = 5, .nap_min_ns = 0, .nap_max_ns = 200000};
	struct backoff b = {0};
	uint32_t nap = 7;
	char out[64];

	(void)state;
	play(&c, "..........", out, sizeof(out));
	assert_string_equal(out, "sssyyyyyyy");
	/* The count saturates: still a yield after as many polls as it holds. */
	b.empty = UINT32_MAX - 1;
	assert_int_equal(backoff_next(&b, &c, &nap), BACKOFF_YIELD);
	assert_int_equal(backoff_next(&b, &c, &nap), BACKOFF_YIELD);
	assert_int_equal(b.empty, UINT32_MAX);
	assert_int_equal(nap, 7);
}

/* Due by the clock: at once from 0, then once a period, however many polls
 * come between; after a long stall once, with the next period from then. */
static void test_backoff_due_by_time(void **state)
{
	const uint64_t ms = 1000000;
	uint64_t next = 0;
	unsigned int runs = 0;

	(void)state;
	assert_true(backoff_due(&next, 1000 * ms, 50 * ms));
	assert_int_equal(next, 1050 * ms);
	/* A poll every 10 us for 200 ms: due 4 times (1050, 1100, 1150, 1200). */
	for (uint64_t t = 1000 * ms + 10000; t <= 1200 * ms; t += 10000)
		runs += backoff_due(&next, t, 50 * ms);
	assert_int_equal(runs, 4);
	/* Polls 200 us apart (the longest nap) do not change the period. */
	runs = 0;
	for (uint64_t t = 1200 * ms + 200000; t <= 1400 * ms; t += 200000)
		runs += backoff_due(&next, t, 50 * ms);
	assert_int_equal(runs, 4);
	assert_false(backoff_due(&next, next - 1, 50 * ms));
	/* A stall of a second: once, not twenty times. */
	assert_true(backoff_due(&next, 2500 * ms, 50 * ms));
	assert_false(backoff_due(&next, 2500 * ms + 1, 50 * ms));
	assert_int_equal(next, 2550 * ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_naps_double_to_the_cap_and_reset),
		cmocka_unit_test(test_backoff_cap_edges),
		cmocka_unit_test(test_backoff_without_naps_yields_on),
		cmocka_unit_test(test_backoff_due_by_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
