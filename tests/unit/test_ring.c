// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/ring.h"

/* Capacity rounds up to a power of two and a full ring refuses more. */
static void test_ring_fills_to_capacity_then_refuses(void **state)
{
	struct ring *r;
	uint64_t v[16], out[16];

	(void)state;
	assert_int_equal(ring_create(5, sizeof(uint64_t), &r), 0);
	assert_int_equal(ring_capacity(r), 8);
	for (int i = 0; i < 16; i++)
		v[i] = (uint64_t)i;
	assert_int_equal(ring_enqueue_burst(r, v, 16), 8);
	assert_int_equal(ring_enqueue_burst(r, v, 1), 0);
	assert_int_equal(ring_dequeue_burst(r, out, 3), 3);
	assert_int_equal(out[2], 2);
	assert_int_equal(ring_enqueue_burst(r, v, 16), 3);
	assert_int_equal(ring_count(r), 8);
	ring_destroy(r);
}

static void test_ring_rejects_bad_sizes(void **state)
{
	struct ring *r;

	(void)state;
	assert_int_equal(ring_create(0, 8, &r), -EINVAL);
	assert_int_equal(ring_create(8, 0, &r), -EINVAL);
	ring_destroy(NULL);
}

#define N_ITEMS 2000000u

static void *producer(void *arg)
{
	struct ring *r = arg;

	for (uint64_t i = 0; i < N_ITEMS;) {
		uint64_t burst[7];
		uint32_t n = 0;

		while (n < 7 && i + n < N_ITEMS) {
			burst[n] = i + n;
			n++;
		}
		i += ring_enqueue_burst(r, burst, n);
	}
	return NULL;
}

/* Two threads: every element arrives once, in order, across many wraps. */
static void test_ring_spsc_preserves_order_across_threads(void **state)
{
	struct ring *r;
	pthread_t t;
	uint64_t expect = 0;

	(void)state;
	assert_int_equal(ring_create(64, sizeof(uint64_t), &r), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
	while (expect < N_ITEMS) {
		uint64_t out[13];
		uint32_t n = ring_dequeue_burst(r, out, 13);

		for (uint32_t i = 0; i < n; i++)
			assert_int_equal(out[i], expect++);
	}
	pthread_join(t, NULL);
	assert_int_equal(ring_count(r), 0);
	ring_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_fills_to_capacity_then_refuses),
		cmocka_unit_test(test_ring_rejects_bad_sizes),
		cmocka_unit_test(test_ring_spsc_preserves_order_across_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
