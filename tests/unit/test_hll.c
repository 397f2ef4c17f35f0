// SPDX-License-Identifier: BSD-3-Clause
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/hash.h"
#include "sensor/distinct.h"
#include "sensor/hll.h"

#define S  1000000000ull
#define T0 (1699995600ull * S)

static uint64_t item(uint64_t i)
{
	return hash_bytes(&i, sizeof(i), 42);
}

static void test_hll_empty_is_zero(void **state)
{
	static struct hll h;

	(void)state;
	hll_clear(&h);
	assert_true(hll_estimate(&h) == 0.0);
}

/* Small sets come out within 1 + 2 % of the truth (linear-counting range):
 * what is left is register collisions, which no estimator can see. */
static void test_hll_small_sets_nearly_exact(void **state)
{
	static struct hll h;

	(void)state;
	hll_clear(&h);
	for (uint64_t n = 1; n <= 100; n++) {
		hll_add_hash(&h, item(n));
		assert_true(fabs(hll_estimate(&h) - (double)n) <= 1.0 + 0.02 * (double)n);
	}
}

/* 10^3 .. 10^6 distinct items: within three standard errors (9.75 % at
 * p = 10). The items are fixed, so this cannot flake. */
static void test_hll_error_within_bound_1e3_to_1e6(void **state)
{
	static struct hll h;
	const double bound = 3 * hll_std_error();
	uint64_t next = 1, checks[] = {1000, 10000, 100000, 1000000};

	(void)state;
	hll_clear(&h);
	for (size_t c = 0; c < sizeof(checks) / sizeof(checks[0]); c++) {
		double est, err;

		for (; next <= checks[c]; next++)
			hll_add_hash(&h, item(next));
		est = hll_estimate(&h);
		err = fabs(est - (double)checks[c]) / (double)checks[c];
		print_message("n=%llu est=%.0f err=%.2f%%\n", (unsigned long long)checks[c], est,
			      err * 100);
		assert_true(err <= bound);
	}
}

static void test_hll_duplicates_do_not_count(void **state)
{
	static struct hll h;
	double once;

	(void)state;
	hll_clear(&h);
	for (uint64_t i = 0; i < 5000; i++)
		hll_add_hash(&h, item(i));
	once = hll_estimate(&h);
	for (uint64_t i = 0; i < 5000; i++)
		assert_false(hll_add_hash(&h, item(i)));
	assert_true(hll_estimate(&h) == once);
}

/* Union by register max: 5000 + 5000 with 2500 shared is about 7500. */
static void test_hll_union_and_merge_agree(void **state)
{
	static struct hll a, b;
	double u;

	(void)state;
	hll_clear(&a);
	hll_clear(&b);
	for (uint64_t i = 0; i < 5000; i++) {
		hll_add_hash(&a, item(i));
		hll_add_hash(&b, item(i + 2500));
	}
	u = hll_estimate_union(&a, &b);
	assert_true(fabs(u - 7500) / 7500 <= 3 * hll_std_error());
	hll_merge(&a, &b);
	assert_true(hll_estimate(&a) == u);
	hll_clear(&b);
	assert_true(hll_add(&b, "x", 1));
	assert_false(hll_add(&b, "x", 1));
}

/* ---- windowed distinct: sparse exact, dense pooled ---- */

static void test_distinct_small_sets_exact_and_sliding(void **state)
{
	struct distinct_pool *p;
	struct distinct d = {0};

	(void)state;
	assert_int_equal(distinct_pool_create(4, &p), 0);
	/* five servers, one of them three times */
	for (uint64_t i = 0; i < 5; i++)
		assert_true(distinct_add(&d, p, 600, T0 + i * 60 * S, item(i)));
	assert_false(distinct_add(&d, p, 600, T0 + 300 * S, item(2)));
	assert_false(distinct_add(&d, p, 600, T0 + 301 * S, item(2)));
	assert_int_equal(distinct_count(&d, p, 600, T0 + 301 * S), 5);
	assert_int_equal(d.dense, 0);
	/* items slide out one by one (item 2 was seen again at 301 s) */
	assert_int_equal(distinct_count(&d, p, 600, T0 + 610 * S), 4);
	assert_int_equal(distinct_count(&d, p, 600, T0 + 830 * S), 2);
	assert_int_equal(distinct_count(&d, p, 600, T0 + 905 * S), 0);
	/* an item seen again after it slid out counts as new */
	assert_true(distinct_add(&d, p, 600, T0 + 905 * S, item(0)));
	assert_int_equal(distinct_count(&d, p, 600, T0 + 905 * S), 1);
	distinct_pool_destroy(p);
}

static void test_distinct_grows_into_a_sketch(void **state)
{
	struct distinct_pool *p;
	struct distinct d = {0};
	uint32_t n;

	(void)state;
	assert_int_equal(distinct_pool_create(4, &p), 0);
	for (uint64_t i = 0; i < 2000; i++)
		distinct_add(&d, p, 3600, T0 + i * S, item(i));
	assert_int_not_equal(d.dense, 0);
	assert_int_equal(distinct_pool_stats(p)->promoted, 1);
	n = distinct_count(&d, p, 3600, T0 + 2000 * S);
	assert_true(abs((int)n - 2000) <= 2000 * 3 * hll_std_error());
	/* a whole span later the sketch is empty */
	assert_int_equal(distinct_count(&d, p, 3600, T0 + 2000 * S + 7200 * S), 0);
	distinct_release(&d, p);
	assert_int_equal(d.dense, 0);
	assert_int_equal(distinct_pool_stats(p)->in_use, 0);
	distinct_pool_destroy(p);
}

/* Two sketches, three owners: the least recently used owner loses its
 * sketch, is told so (dense = 0) and the loss is counted. */
static void test_distinct_pool_reclaims_oldest(void **state)
{
	struct distinct_pool *p;
	struct distinct d[3];

	(void)state;
	memset(d, 0, sizeof(d));
	assert_int_equal(distinct_pool_create(2, &p), 0);
	for (int k = 0; k < 3; k++)
		for (uint64_t i = 0; i < 50; i++)
			distinct_add(&d[k], p, 600, T0 + i * S, item(i + 1000 * (uint64_t)k));
	assert_int_equal(d[0].dense, 0);
	assert_int_not_equal(d[1].dense, 0);
	assert_int_not_equal(d[2].dense, 0);
	assert_int_equal(distinct_pool_stats(p)->reclaimed, 1);
	assert_int_equal(distinct_pool_stats(p)->in_use, 2);
	distinct_pool_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hll_empty_is_zero),
		cmocka_unit_test(test_hll_small_sets_nearly_exact),
		cmocka_unit_test(test_hll_error_within_bound_1e3_to_1e6),
		cmocka_unit_test(test_hll_duplicates_do_not_count),
		cmocka_unit_test(test_hll_union_and_merge_agree),
		cmocka_unit_test(test_distinct_small_sets_exact_and_sliding),
		cmocka_unit_test(test_distinct_grows_into_a_sketch),
		cmocka_unit_test(test_distinct_pool_reclaims_oldest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
