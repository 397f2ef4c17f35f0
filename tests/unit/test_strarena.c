// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/strarena.h"

static const char text[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "!#$%&()*+,-./:;<=>?@[]^_{|}~";

static struct strarena *mk(uint32_t per_class)
{
	uint32_t slots[STRARENA_CLASSES];
	struct strarena *a;

	for (int c = 0; c < STRARENA_CLASSES; c++)
		slots[c] = per_class;
	assert_int_equal(strarena_create(slots, &a), 0);
	return a;
}

/* Every length reads back exactly, in the smallest class that holds it. */
static void test_strarena_values_read_back_exactly(void **state)
{
	struct strarena *a = mk(STRARENA_MAX);
	uint32_t h[STRARENA_MAX + 1] = {0};

	(void)state;
	for (size_t n = 1; n <= STRARENA_MAX; n++) {
		assert_int_equal(strarena_set(a, &h[n], text + n % 7, n), n);
		assert_int_not_equal(h[n], 0);
		assert_int_equal(strarena_slot_bytes(h[n]),
				 (n + STRARENA_GRAIN - 1) / STRARENA_GRAIN * STRARENA_GRAIN);
	}
	for (size_t n = 1; n <= STRARENA_MAX; n++)
		assert_memory_equal(strarena_get(a, h[n]), text + n % 7, n);
	assert_null(strarena_get(a, 0));
	assert_int_equal(strarena_slot_bytes(0), 0);
	strarena_destroy(a);
}

/* Longer than the largest slot: cut to STRARENA_MAX, as a cap would. */
static void test_strarena_cuts_at_max(void **state)
{
	struct strarena *a = mk(4);
	uint32_t h = 0;

	(void)state;
	assert_true(sizeof(text) - 1 > STRARENA_MAX);
	assert_int_equal(strarena_set(a, &h, text, sizeof(text) - 1), STRARENA_MAX);
	assert_memory_equal(strarena_get(a, h), text, STRARENA_MAX);
	strarena_destroy(a);
}

/* A value of the same class stays in its slot; another class moves it, and
 * given-back slots are what the next values take. */
static void test_strarena_slots_reused(void **state)
{
	struct strarena *a = mk(2);
	uint32_t h = 0, g = 0, first;

	(void)state;
	strarena_set(a, &h, "abc", 3);
	first = h;
	strarena_set(a, &h, "abcdefgh", 8); /* same 8-byte class: in place */
	assert_int_equal(h, first);
	assert_memory_equal(strarena_get(a, h), "abcdefgh", 8);
	strarena_set(a, &h, "abcdefghi", 9); /* 16-byte class */
	assert_int_not_equal(h, first);
	assert_int_equal(strarena_stats(a)->held_bytes, 16);
	strarena_set(a, &g, "xy", 2); /* takes the slot h left */
	assert_int_equal(g, first);
	/* Shorter again: h keeps its bigger slot, with the new bytes. */
	first = h;
	strarena_set(a, &h, "ab", 2);
	assert_int_equal(h, first);
	assert_int_equal(strarena_slot_bytes(h), 16);
	assert_memory_equal(strarena_get(a, h), "ab", 2);
	strarena_put(a, &g);
	assert_int_equal(g, 0);
	strarena_put(a, &g); /* none: no-op */
	assert_int_equal(strarena_set(a, &h, "", 0), 0);
	assert_int_equal(h, 0);
	assert_int_equal(strarena_stats(a)->held_bytes, 0);
	assert_int_equal(strarena_stats(a)->touched_bytes, 8 + 16);
	/* 1000 rounds of set and put stay within the two slots of each class. */
	for (int i = 0; i < 1000; i++) {
		strarena_set(a, &h, text, (size_t)(i % STRARENA_MAX) + 1);
		strarena_set(a, &g, text + 1, (size_t)((i * 7) % STRARENA_MAX) + 1);
		assert_memory_equal(strarena_get(a, h), text, (size_t)(i % STRARENA_MAX) + 1);
		if (i % 3 == 0) {
			strarena_put(a, &h);
			strarena_put(a, &g);
		}
	}
	assert_int_equal(strarena_stats(a)->exhausted, 0);
	strarena_destroy(a);
}

/* An empty class is counted; the value is not kept, the others are untouched. */
static void test_strarena_exhaustion_counted(void **state)
{
	struct strarena *a = mk(2);
	uint32_t h[3] = {0}, big = 0;

	(void)state;
	assert_int_equal(strarena_set(a, &h[0], "one", 3), 3);
	assert_int_equal(strarena_set(a, &h[1], "two", 3), 3);
	assert_int_equal(strarena_set(a, &h[2], "three", 5), 0);
	assert_int_equal(h[2], 0);
	assert_int_equal(strarena_stats(a)->exhausted, 1);
	/* A value that had a slot and cannot move loses it, not another's. */
	assert_int_equal(strarena_set(a, &big, text, 20), 20);
	assert_int_equal(strarena_set(a, &h[1], "two", 3), 3);
	assert_memory_equal(strarena_get(a, h[0]), "one", 3);
	assert_memory_equal(strarena_get(a, h[1]), "two", 3);
	strarena_put(a, &h[0]);
	assert_int_equal(strarena_set(a, &h[2], "three", 5), 5);
	assert_memory_equal(strarena_get(a, h[2]), "three", 5);
	strarena_destroy(a);
}

static void test_strarena_bad_sizes(void **state)
{
	uint32_t slots[STRARENA_CLASSES] = {0};
	struct strarena *a;
	uint32_t h = 0;

	(void)state;
	slots[0] = 1u << 30;
	assert_int_equal(strarena_create(slots, &a), -EINVAL);
	slots[0] = 0;
	assert_int_equal(strarena_create(slots, &a), 0); /* no slots at all: every set counted */
	assert_int_equal(strarena_set(a, &h, "x", 1), 0);
	assert_int_equal(strarena_stats(a)->exhausted, 1);
	strarena_destroy(a);
	strarena_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strarena_values_read_back_exactly),
		cmocka_unit_test(test_strarena_cuts_at_max),
		cmocka_unit_test(test_strarena_slots_reused),
		cmocka_unit_test(test_strarena_exhaustion_counted),
		cmocka_unit_test(test_strarena_bad_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
