// SPDX-License-Identifier: BSD-3-Clause
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/msgring.h"

/* Records of odd sizes come out whole and in order, padding skipped at the wrap. */
static void test_msgring_variable_records_wrap(void **state)
{
	struct msgring *mr;
	uint32_t len;

	(void)state;
	assert_int_equal(msgring_create(4096, &mr), 0);
	for (int round = 0; round < 100; round++) {
		uint32_t sz = 100 + (uint32_t)(round * 37) % 900;
		uint8_t *p = msgring_reserve(mr, sz);
		const uint8_t *q;

		assert_non_null(p);
		memset(p, round, sz);
		msgring_commit(mr);
		q = msgring_peek(mr, &len);
		assert_non_null(q);
		assert_int_equal(len, sz);
		assert_int_equal(q[0], (uint8_t)round);
		assert_int_equal(q[sz - 1], (uint8_t)round);
		msgring_release(mr);
	}
	assert_null(msgring_peek(mr, &len));
	assert_int_equal(msgring_used(mr), 0);
	msgring_destroy(mr);
}

/* Full means NULL from reserve, never an overwrite; too large is refused. */
static void test_msgring_full_refuses(void **state)
{
	struct msgring *mr;
	uint32_t len;
	int n = 0;

	(void)state;
	assert_int_equal(msgring_create(4096, &mr), 0);
	assert_null(msgring_reserve(mr, 2048));
	while (msgring_reserve(mr, 500)) {
		msgring_commit(mr);
		n++;
	}
	assert_true(n >= 7 && n <= 8);
	assert_non_null(msgring_peek(mr, &len));
	msgring_release(mr);
	assert_non_null(msgring_reserve(mr, 500));
	msgring_destroy(mr);
}

#define N_MSGS 300000u

static void *producer(void *arg)
{
	struct msgring *mr = arg;

	for (uint32_t i = 0; i < N_MSGS;) {
		uint32_t sz = 8 + (i % 61) * 4;
		uint32_t *p = msgring_reserve(mr, sz);

		if (!p)
			continue;
		for (uint32_t k = 0; k < sz / 4; k++)
			p[k] = i;
		msgring_commit(mr);
		i++;
	}
	return NULL;
}

static void test_msgring_spsc_threads(void **state)
{
	struct msgring *mr;
	pthread_t t;
	uint32_t next = 0, len;

	(void)state;
	assert_int_equal(msgring_create(8192, &mr), 0);
	assert_int_equal(pthread_create(&t, NULL, producer, mr), 0);
	while (next < N_MSGS) {
		const uint32_t *p = msgring_peek(mr, &len);

		if (!p)
			continue;
		assert_int_equal(len, 8 + (next % 61) * 4);
		assert_int_equal(p[0], next);
		assert_int_equal(p[len / 4 - 1], next);
		msgring_release(mr);
		next++;
	}
	pthread_join(t, NULL);
	msgring_destroy(mr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msgring_variable_records_wrap),
		cmocka_unit_test(test_msgring_full_refuses),
		cmocka_unit_test(test_msgring_spsc_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
