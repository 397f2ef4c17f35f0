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

static struct strarena *mk_tab(uint32_t per_class, uint32_t entries)
{
	uint32_t slots[STRARENA_CLASSES];
	struct strarena *a;

	for (int c = 0; c < STRARENA_CLASSES; c++)
		slots[c] = per_class;
	assert_int_equal(strarena_create(slots, entries, &a), 0);
	return a;
}

/* Without a table: every value private. */
static struct strarena *mk(uint32_t per_class)
{
	return mk_tab(per_class, 0);
}

static size_t class_bytes(size_t n)
{
	return (n + STRARENA_GRAIN - 1) / STRARENA_GRAIN * STRARENA_GRAIN;
}

/* Every length reads back exactly, in the smallest class that holds it. */
static void test_strarena_values_read_back_exactly(void **state)
{
	struct strarena *a = mk(STRARENA_MAX);
	uint32_t h[STRARENA_MAX + 1] = {0};
	uint64_t held = 0;

	(void)state;
	for (size_t n = 1; n <= STRARENA_MAX; n++) {
		assert_int_equal(strarena_set(a, &h[n], text + n % 7, n), n);
		assert_int_not_equal(h[n], 0);
		assert_int_equal(strarena_len(a, h[n]), n);
		held += class_bytes(n);
		assert_int_equal(strarena_stats(a)->held_bytes, held);
	}
	for (size_t n = 1; n <= STRARENA_MAX; n++)
		assert_memory_equal(strarena_get(a, h[n]), text + n % 7, n);
	assert_null(strarena_get(a, 0));
	assert_int_equal(strarena_len(a, 0), 0);
	strarena_destroy(a);
}

/* Longer than the largest slot: cut to STRARENA_MAX, as a cap would; shared or not. */
static void test_strarena_cuts_at_max(void **state)
{
	struct strarena *a = mk(4), *t = mk_tab(4, 8);
	uint32_t h = 0, g = 0, k = 0;

	(void)state;
	assert_true(sizeof(text) - 1 > STRARENA_MAX);
	assert_int_equal(strarena_set(a, &h, text, sizeof(text) - 1), STRARENA_MAX);
	assert_memory_equal(strarena_get(a, h), text, STRARENA_MAX);
	assert_int_equal(strarena_len(a, h), STRARENA_MAX);
	/* At the cap and past it: the same value, one slot. */
	assert_int_equal(strarena_set(t, &g, text, STRARENA_MAX), STRARENA_MAX);
	assert_int_equal(strarena_set(t, &k, text, STRARENA_MAX + 1), STRARENA_MAX);
	assert_int_equal(g, k);
	assert_int_equal(strarena_stats(t)->held_bytes, STRARENA_MAX);
	assert_int_equal(strarena_len(t, k), STRARENA_MAX);
	strarena_destroy(a);
	strarena_destroy(t);
}

/* A new value gives its old slot back first; given-back slots are what the next values take. */
static void test_strarena_slots_reused(void **state)
{
	struct strarena *a = mk(2);
	uint32_t h = 0, g = 0, first;

	(void)state;
	strarena_set(a, &h, "abcde", 5);
	first = h;
	strarena_set(a, &h, "abcdefgh", 8); /* same class: the slot it gave back */
	assert_int_equal(strarena_len(a, h), 8);
	assert_memory_equal(strarena_get(a, h), "abcdefgh", 8);
	assert_int_equal(strarena_stats(a)->held_bytes, 8);
	strarena_set(a, &h, "abcdefghi", 9); /* 12-byte class */
	assert_int_equal(strarena_stats(a)->held_bytes, 12);
	strarena_set(a, &g, "uvwxyz", 6); /* takes the 8-byte slot h left */
	assert_int_equal(g & STRARENA_IDX_MASK, first & STRARENA_IDX_MASK);
	strarena_put(a, &g);
	assert_int_equal(g, 0);
	strarena_put(a, &g); /* none: no-op */
	assert_int_equal(strarena_set(a, &h, "", 0), 0);
	assert_int_equal(h, 0);
	assert_int_equal(strarena_stats(a)->held_bytes, 0);
	assert_int_equal(strarena_stats(a)->touched_bytes, 8 + 12);
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
	uint32_t h[3] = {0};

	(void)state;
	assert_int_equal(strarena_set(a, &h[0], "one", 3), 3);
	assert_int_equal(strarena_set(a, &h[1], "two", 3), 3);
	assert_int_equal(strarena_set(a, &h[2], "six", 3), 0);
	assert_int_equal(h[2], 0);
	assert_int_equal(strarena_stats(a)->exhausted, 1);
	assert_memory_equal(strarena_get(a, h[0]), "one", 3);
	assert_memory_equal(strarena_get(a, h[1]), "two", 3);
	strarena_put(a, &h[0]);
	assert_int_equal(strarena_set(a, &h[2], "six", 3), 3); /* the slot "one" left */
	assert_memory_equal(strarena_get(a, h[2]), "six", 3);
	strarena_destroy(a);
}

/*
 * Slots are 4 bytes apart (the bench's strings: a 25-byte HELO costs 28, a
 * 30-byte banner 32), and the 4-byte slots, the least that holds a free
 * slot's link, chain and read back as the others do.
 */
static void test_strarena_grain_of_four(void **state)
{
	static const struct {
		size_t n, cost;
	} edge[] = {{1, 4},   {4, 4},	{5, 8},	  {8, 8},   {9, 12},  {24, 24}, {25, 28},
		    {30, 32}, {32, 32}, {33, 36}, {68, 68}, {69, 72}, {72, 72}};
	struct strarena *a = mk(4);
	uint32_t h[4] = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		assert_int_equal(strarena_set(a, &h[0], text, edge[i].n), edge[i].n);
		assert_int_equal(strarena_stats(a)->held_bytes, edge[i].cost);
		assert_memory_equal(strarena_get(a, h[0]), text, edge[i].n);
	}
	strarena_put(a, &h[0]);
	/* Four 1..4-byte values fill the class; freed and taken again in turn. */
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 4; i++)
			assert_int_equal(strarena_set(a, &h[i], text + round + i, (size_t)i + 1),
					 (size_t)i + 1);
		assert_int_equal(strarena_stats(a)->held_bytes, 16);
		assert_int_equal(strarena_set(a, &h[0], text, 4), 4); /* its own slot back */
		for (int i = 0; i < 4; i++)
			assert_memory_equal(strarena_get(a, h[i]), i ? text + round + i : text,
					    i ? (size_t)i + 1 : 4);
		for (int i = 0; i < 4; i++)
			strarena_put(a, &h[i]);
	}
	assert_int_equal(strarena_stats(a)->touched_bytes,
			 16 + 8 + 12 + 24 + 28 + 32 + 36 + 68 + 72);
	assert_int_equal(strarena_stats(a)->exhausted, 0);
	assert_int_equal(strarena_stats(a)->held_bytes, 0);
	strarena_destroy(a);
}

static void test_strarena_bad_sizes(void **state)
{
	uint32_t slots[STRARENA_CLASSES] = {0};
	struct strarena *a;
	uint32_t h = 0;

	(void)state;
	slots[0] = STRARENA_IDX_MASK;
	assert_int_equal(strarena_create(slots, 0, &a), -EINVAL);
	slots[0] = 0;
	assert_int_equal(strarena_create(slots, 1u << 31, &a), -EINVAL);
	assert_int_equal(strarena_create(slots, 8, &a), 0); /* no slots: every set counted */
	assert_int_equal(strarena_set(a, &h, "x", 1), 0);
	assert_int_equal(h, 0);
	assert_int_equal(strarena_stats(a)->exhausted, 1);
	strarena_destroy(a);
	strarena_destroy(NULL);
}

/* Equal values share one slot; the last handle to go frees it. */
static void test_strarena_interning_shares(void **state)
{
	struct strarena *a = mk_tab(8, 64);
	uint32_t h[4] = {0}, other = 0, before;

	(void)state;
	assert_int_equal(strarena_table_bytes(a), 64 * 8);
	for (int i = 0; i < 4; i++)
		assert_int_equal(strarena_set(a, &h[i], "250 OK", 6), 6);
	assert_int_equal(h[1], h[0]);
	assert_int_equal(h[3], h[0]);
	assert_true(h[0] & STRARENA_SHARED);
	assert_int_equal(strarena_stats(a)->held_bytes, 8); /* once */
	assert_int_equal(strarena_stats(a)->shared, 3);
	assert_memory_equal(strarena_get(a, h[2]), "250 OK", 6);
	assert_int_equal(strarena_len(a, h[2]), 6);
	/* The same value again: the same handle, the same count. */
	before = h[0];
	assert_int_equal(strarena_set(a, &h[0], "250 OK", 6), 6);
	assert_int_equal(h[0], before);
	assert_int_equal(strarena_stats(a)->held_bytes, 8);
	/* Same bytes, other length: another value. */
	assert_int_equal(strarena_set(a, &other, "250 OK.", 7), 7);
	assert_int_not_equal(other, h[0]);
	assert_int_equal(strarena_stats(a)->held_bytes, 16);
	/* Changing one handle leaves the others' value alone. */
	assert_int_equal(strarena_set(a, &h[0], "221 Bye", 7), 7);
	assert_int_not_equal(h[0], other);
	assert_memory_equal(strarena_get(a, h[1]), "250 OK", 6);
	for (int i = 1; i < 4; i++)
		strarena_put(a, &h[i]);
	/* "250 OK" had its last handle put: its slot is free again. */
	assert_int_equal(strarena_stats(a)->held_bytes, 16);
	assert_int_equal(strarena_set(a, &h[1], "250 OK", 6), 6);
	assert_int_equal(strarena_stats(a)->held_bytes, 24);
	strarena_put(a, &h[0]);
	strarena_put(a, &h[1]);
	strarena_put(a, &other);
	assert_int_equal(strarena_stats(a)->held_bytes, 0);
	assert_int_equal(strarena_stats(a)->exhausted, 0);
	strarena_destroy(a);
}

/* A full table keeps new values private; they read back and are freed as any. */
static void test_strarena_full_table_falls_back(void **state)
{
	struct strarena *a = mk_tab(16, 1); /* one bucket */
	uint32_t h[STRARENA_BUCKET + 2] = {0}, again = 0;
	char v[STRARENA_BUCKET + 2][4];

	(void)state;
	for (int i = 0; i < STRARENA_BUCKET + 2; i++) {
		memcpy(v[i], "v", 1);
		v[i][1] = (char)('a' + i);
		assert_int_equal(strarena_set(a, &h[i], v[i], 2), 2);
		assert_int_equal((h[i] & STRARENA_SHARED) != 0, i < STRARENA_BUCKET);
	}
	assert_int_equal(strarena_stats(a)->unshared, 2);
	for (int i = 0; i < STRARENA_BUCKET + 2; i++)
		assert_memory_equal(strarena_get(a, h[i]), v[i], 2);
	/* An equal value of a private one is private too (the table never had it). */
	assert_int_equal(strarena_set(a, &again, v[STRARENA_BUCKET], 2), 2);
	assert_false(again & STRARENA_SHARED);
	assert_int_equal(strarena_stats(a)->held_bytes, 4 * (STRARENA_BUCKET + 3));
	/* An entry freed: the next new value goes into the table again. */
	strarena_put(a, &h[0]);
	assert_int_equal(strarena_set(a, &h[0], "new", 3), 3);
	assert_true(h[0] & STRARENA_SHARED);
	for (int i = 0; i < STRARENA_BUCKET + 2; i++)
		strarena_put(a, &h[i]);
	strarena_put(a, &again);
	assert_int_equal(strarena_stats(a)->held_bytes, 0);
	strarena_destroy(a);
}

/*
 * A freed entry in the middle of a bucket: the values after it are still
 * found (shared, same handle), and a new value takes the freed entry.
 */
static void test_strarena_hole_in_bucket(void **state)
{
	struct strarena *a = mk_tab(16, 1); /* one bucket */
	uint32_t h[STRARENA_BUCKET] = {0}, late = 0, fresh = 0, hole;
	char v[STRARENA_BUCKET][2];

	(void)state;
	for (int i = 0; i < STRARENA_BUCKET; i++) {
		v[i][0] = 'w';
		v[i][1] = (char)('a' + i);
		assert_int_equal(strarena_set(a, &h[i], v[i], 2), 2);
	}
	hole = h[3];
	strarena_put(a, &h[3]);
	assert_int_equal(strarena_set(a, &late, v[STRARENA_BUCKET - 1], 2), 2);
	assert_int_equal(late, h[STRARENA_BUCKET - 1]);
	assert_int_equal(strarena_set(a, &fresh, "new", 3), 3);
	assert_int_equal(fresh, hole);
	assert_memory_equal(strarena_get(a, fresh), "new", 3);
	assert_int_equal(strarena_stats(a)->unshared, 0);
	for (int i = 0; i < STRARENA_BUCKET; i++)
		strarena_put(a, &h[i]);
	strarena_put(a, &late);
	strarena_put(a, &fresh);
	assert_int_equal(strarena_stats(a)->held_bytes, 0);
	strarena_destroy(a);
}

/* An entry's count stops at its limit: a further equal value gets a slot of its own. */
static void test_strarena_refs_limit(void **state)
{
	static uint32_t h[UINT16_MAX + 1];
	struct strarena *a = mk_tab(4, 8);

	(void)state;
	memset(h, 0, sizeof(h));
	for (uint32_t i = 0; i <= UINT16_MAX; i++)
		assert_int_equal(strarena_set(a, &h[i], "EHLO x", 6), 6);
	assert_int_equal(h[UINT16_MAX - 1], h[0]);
	assert_int_not_equal(h[UINT16_MAX], h[0]);
	assert_memory_equal(strarena_get(a, h[UINT16_MAX]), "EHLO x", 6);
	assert_int_equal(strarena_stats(a)->held_bytes, 16);
	for (uint32_t i = 0; i <= UINT16_MAX; i++)
		strarena_put(a, &h[i]);
	assert_int_equal(strarena_stats(a)->held_bytes, 0);
	strarena_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strarena_values_read_back_exactly),
		cmocka_unit_test(test_strarena_cuts_at_max),
		cmocka_unit_test(test_strarena_slots_reused),
		cmocka_unit_test(test_strarena_grain_of_four),
		cmocka_unit_test(test_strarena_exhaustion_counted),
		cmocka_unit_test(test_strarena_bad_sizes),
		cmocka_unit_test(test_strarena_interning_shares),
		cmocka_unit_test(test_strarena_full_table_falls_back),
		cmocka_unit_test(test_strarena_hole_in_bucket),
		cmocka_unit_test(test_strarena_refs_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
