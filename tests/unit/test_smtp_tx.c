// SPDX-License-Identifier: BSD-3-Clause
/*
 * The transaction record: values in its arena, counts that go on past what
 * is stored, cuts flagged, and a prefix copy (smtp_tx_wire_size) that is a
 * complete record — the worker → detector ring copies only that much.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/smtp_tx.h"

static struct smtp_tx *new_tx(void)
{
	struct smtp_tx *tx = malloc(sizeof(*tx));

	assert_non_null(tx);
	memset(tx, 0xa5, sizeof(*tx)); /* init must not rely on a zeroed record */
	smtp_tx_init(tx, NULL, 42);
	return tx;
}

static void assert_field(const struct smtp_tx *tx, enum smtp_field f, const char *want)
{
	size_t n;
	const char *s = smtp_tx_get(tx, f, &n);

	assert_int_equal(n, strlen(want));
	assert_memory_equal(s, want, n);
}

static void test_smtp_tx_set_get_and_overwrite(void **state)
{
	struct smtp_tx *tx = new_tx();

	(void)state;
	assert_int_equal(tx->ts_ns, 42);
	assert_int_equal(tx->flags, 0);
	assert_false(smtp_tx_has(tx, SMTP_F_HELO));
	assert_true(smtp_tx_set(tx, SMTP_F_HELO, "client.example.net", 18));
	assert_true(smtp_tx_set(tx, SMTP_F_MAILFROM, "a@example.org", 13));
	assert_true(smtp_tx_set(tx, SMTP_F_HELO, "other.example.net", 17));
	assert_field(tx, SMTP_F_HELO, "other.example.net");
	assert_field(tx, SMTP_F_MAILFROM, "a@example.org");
	assert_false(smtp_tx_set(tx, SMTP_F_COUNT, "x", 1));
	assert_int_equal(tx->flags & SMTP_TX_F_TRUNCATED, 0);
	free(tx);
}

/* A folded header continues its value, also when another value was stored
 * in between (the value moves to the end of the arena). */
static void test_smtp_tx_append(void **state)
{
	struct smtp_tx *tx = new_tx();

	(void)state;
	assert_true(smtp_tx_append(tx, SMTP_F_SUBJECT, "Hello", 5));
	assert_true(smtp_tx_append(tx, SMTP_F_SUBJECT, " world", 6));
	assert_true(smtp_tx_set(tx, SMTP_F_FROM, "x@example.org", 13));
	assert_true(smtp_tx_append(tx, SMTP_F_SUBJECT, " again", 6));
	assert_field(tx, SMTP_F_SUBJECT, "Hello world again");
	assert_field(tx, SMTP_F_FROM, "x@example.org");
	free(tx);
}

/* A long value that must move keeps all its bytes, or says it did not. */
static void test_smtp_tx_append_long_value_moves_whole(void **state)
{
	struct smtp_tx *tx = new_tx();
	char big[2000], want[2001 + 3];

	(void)state;
	memset(big, 'a', sizeof(big));
	assert_true(smtp_tx_set(tx, SMTP_F_SUBJECT, big, sizeof(big)));
	assert_true(smtp_tx_set(tx, SMTP_F_FROM, "x@example.org", 13));
	assert_true(smtp_tx_append(tx, SMTP_F_SUBJECT, "end", 3));
	memcpy(want, big, sizeof(big));
	memcpy(want + sizeof(big), "end", 4);
	assert_field(tx, SMTP_F_SUBJECT, want);
	assert_int_equal(tx->flags & SMTP_TX_F_TRUNCATED, 0);
	free(tx);
}

/* A full arena cuts and flags; nothing is written past it. */
static void test_smtp_tx_arena_full_is_flagged(void **state)
{
	struct smtp_tx *tx = new_tx();
	static char big[SMTP_TX_ARENA + 100];

	(void)state;
	memset(big, 'b', sizeof(big));
	assert_false(smtp_tx_set(tx, SMTP_F_SUBJECT, big, sizeof(big)));
	assert_true(tx->flags & SMTP_TX_F_TRUNCATED);
	assert_int_equal(tx->f[SMTP_F_SUBJECT].len, SMTP_TX_ARENA);
	assert_int_equal(tx->arena_used, SMTP_TX_ARENA);
	assert_false(smtp_tx_set(tx, SMTP_F_HELO, "h", 1));
	assert_false(smtp_tx_has(tx, SMTP_F_HELO));
	assert_false(smtp_tx_add_rcpt(tx, "r@example.com", 13));
	assert_int_equal(tx->n_rcpt, 1); /* counted though not stored */
	free(tx);
}

/* 100 recipients: 64 stored, 100 counted; To: the same with its own cap. */
static void test_smtp_tx_lists_count_past_capacity(void **state)
{
	struct smtp_tx *tx = new_tx();
	char a[32];

	(void)state;
	for (int i = 0; i < 100; i++) {
		int n = snprintf(a, sizeof(a), "u%d@example.com", i);

		smtp_tx_add_rcpt(tx, a, (size_t)n);
		smtp_tx_add_to(tx, a, (size_t)n);
	}
	assert_int_equal(tx->n_rcpt, 100);
	assert_int_equal(tx->n_rcpt_stored, SMTP_TX_MAX_RCPT);
	assert_int_equal(tx->n_to, 100);
	assert_int_equal(tx->n_to_stored, SMTP_TX_MAX_HDR_ADDRS);
	assert_true(tx->flags & SMTP_TX_F_TRUNCATED);
	assert_int_equal(tx->rcpt[63].addr.len, strlen("u63@example.com"));
	assert_memory_equal(smtp_tx_str(tx, tx->rcpt[63].addr), "u63@example.com", 15);
	free(tx);
}

/* The ring copies wire_size bytes: that prefix alone is the whole record. */
static void test_smtp_tx_wire_prefix_is_complete(void **state)
{
	struct smtp_tx *tx = new_tx(), *copy = malloc(sizeof(*copy));
	size_t n;

	(void)state;
	assert_non_null(copy);
	smtp_tx_set(tx, SMTP_F_HELO, "mx.example.net", 14);
	smtp_tx_add_rcpt(tx, "v@example.com", 13);
	smtp_tx_add_path(tx, "198.51.100.7", 12);
	n = smtp_tx_wire_size(tx);
	assert_int_equal(n, offsetof(struct smtp_tx, arena) + 14 + 13 + 12);
	assert_int_equal(tx->wire_size, n);
	memset(copy, 0, sizeof(*copy));
	memcpy(copy, tx, n);
	assert_field(copy, SMTP_F_HELO, "mx.example.net");
	assert_memory_equal(smtp_tx_str(copy, copy->rcpt[0].addr), "v@example.com", 13);
	assert_memory_equal(smtp_tx_str(copy, copy->path[0]), "198.51.100.7", 12);
	free(copy);
	free(tx);
}

static void test_smtp_tx_auth_result_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_auth_result_name(SMTP_AUTH_SUCCESS), "success");
	assert_string_equal(smtp_auth_result_name(SMTP_AUTH_FAILURE), "failure");
	assert_null(smtp_auth_result_name(SMTP_AUTH_NONE)); /* no AUTH: field left out */
}

/* A record is reused from its pool: init clears only what is read before it
 * is written. Over a record full of stale bytes, and over one used to the
 * brim, it must read as a record cleared whole. */
static void fill_lists(struct smtp_tx *tx)
{
	char v[32];

	for (int i = 0; i < SMTP_TX_MAX_RCPT + 2; i++) {
		snprintf(v, sizeof(v), "rcpt%d@example.org", i);
		smtp_tx_add_rcpt(tx, v, strlen(v));
	}
	for (int i = 0; i < SMTP_TX_MAX_HDR_ADDRS + 2; i++) {
		snprintf(v, sizeof(v), "to%d@example.org", i);
		smtp_tx_add_to(tx, v, strlen(v));
		smtp_tx_add_cc(tx, v, strlen(v));
	}
	for (int i = 0; i < SMTP_TX_MAX_PATH + 2; i++) {
		snprintf(v, sizeof(v), "192.0.2.%d", i);
		smtp_tx_add_path(tx, v, strlen(v));
	}
	for (int f = 0; f < SMTP_F_COUNT; f++)
		smtp_tx_set(tx, (enum smtp_field)f, "value", 5);
	tx->rcpt[0].code = 250;
	tx->flags |= SMTP_TX_F_DATA;
	tx->n_commands = 7;
}

static void assert_same_record(const struct smtp_tx *a, const struct smtp_tx *b)
{
	/* Everything a reader may read: the scalars and single values, the
	 * lists up to their counts, the strings they point at. */
	assert_memory_equal(a, b, offsetof(struct smtp_tx, rcpt));
	assert_int_equal(a->arena_used, b->arena_used);
	for (unsigned int i = 0; i < a->n_rcpt_stored; i++) {
		assert_memory_equal(&a->rcpt[i], &b->rcpt[i], sizeof(a->rcpt[i]));
		assert_memory_equal(smtp_tx_str(a, a->rcpt[i].addr),
				    smtp_tx_str(b, b->rcpt[i].addr), a->rcpt[i].addr.len);
	}
	for (unsigned int i = 0; i < a->n_to_stored; i++)
		assert_memory_equal(&a->to[i], &b->to[i], sizeof(a->to[i]));
	for (unsigned int i = 0; i < a->n_cc_stored; i++)
		assert_memory_equal(&a->cc[i], &b->cc[i], sizeof(a->cc[i]));
	for (unsigned int i = 0; i < a->n_path; i++)
		assert_memory_equal(&a->path[i], &b->path[i], sizeof(a->path[i]));
	assert_memory_equal(a->arena, b->arena, a->arena_used);
}

static void test_smtp_tx_init_over_stale_bytes(void **state)
{
	static const uint8_t fills[] = {0xa5, 0xff, '-', 0x00};
	struct smtp_tx *clean = malloc(sizeof(*clean));
	struct smtp_tx *stale = malloc(sizeof(*stale));

	(void)state;
	assert_non_null(clean);
	assert_non_null(stale);
	for (size_t k = 0; k <= sizeof(fills); k++) {
		memset(clean, 0, sizeof(*clean));
		smtp_tx_init(clean, NULL, 42);
		if (k < sizeof(fills)) {
			memset(stale, fills[k], sizeof(*stale));
		} else {
			/* A record used to the brim, then started again. */
			smtp_tx_init(stale, NULL, 7);
			fill_lists(stale);
			assert_int_not_equal(stale->n_rcpt_stored, 0);
		}
		smtp_tx_init(stale, NULL, 42);
		assert_same_record(clean, stale);
		assert_int_equal(stale->n_rcpt, 0);
		assert_int_equal(stale->n_path, 0);
		for (int f = 0; f < SMTP_F_COUNT; f++)
			assert_false(smtp_tx_has(stale, (enum smtp_field)f));
		assert_int_equal(smtp_tx_wire_size(stale), offsetof(struct smtp_tx, arena));
		assert_int_equal(smtp_tx_wire_size(clean), offsetof(struct smtp_tx, arena));
		/* Filled the same way, both read the same: a new entry is whole. */
		smtp_tx_add_rcpt(clean, "a@example.org", 13);
		smtp_tx_add_rcpt(stale, "a@example.org", 13);
		assert_int_equal(stale->rcpt[0].code, 0);
		assert_int_equal(stale->rcpt[0].enh_class, 0);
		fill_lists(clean);
		fill_lists(stale);
		assert_same_record(clean, stale);
	}
	free(clean);
	free(stale);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtp_tx_set_get_and_overwrite),
		cmocka_unit_test(test_smtp_tx_append),
		cmocka_unit_test(test_smtp_tx_append_long_value_moves_whole),
		cmocka_unit_test(test_smtp_tx_arena_full_is_flagged),
		cmocka_unit_test(test_smtp_tx_lists_count_past_capacity),
		cmocka_unit_test(test_smtp_tx_wire_prefix_is_complete),
		cmocka_unit_test(test_smtp_tx_auth_result_names),
		cmocka_unit_test(test_smtp_tx_init_over_stale_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
