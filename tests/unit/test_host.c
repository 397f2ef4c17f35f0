// SPDX-License-Identifier: BSD-3-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/hash.h"
#include "sensor/account.h"
#include "sensor/host.h"

#define S  1000000000ull
#define T0 (1699995600ull * S)

static union pkt_addr v4(uint32_t x)
{
	union pkt_addr a = {0};

	a.b[10] = a.b[11] = 0xff;
	a.b[12] = (uint8_t)(x >> 24);
	a.b[13] = (uint8_t)(x >> 16);
	a.b[14] = (uint8_t)(x >> 8);
	a.b[15] = (uint8_t)x;
	return a;
}

static void test_host_get_find_and_seen(void **state)
{
	struct distinct_pool *p;
	struct host_table t;
	union pkt_addr a = v4(0xc6336419), b = v4(0xc633641a);
	struct host *h;
	bool created;

	(void)state;
	assert_int_equal(distinct_pool_create(16, &p), 0);
	assert_int_equal(host_table_init(&t, 64, p), 0);
	assert_null(host_find(&t, 4, &a));
	h = host_get(&t, 4, &a, T0, &created);
	assert_true(created);
	assert_int_equal(h->first_s, T0 / S);
	assert_ptr_equal(host_get(&t, 4, &a, T0 + 5 * S, &created), h);
	assert_false(created);
	assert_int_equal(h->last_s, T0 / S + 5);
	/* a late event does not move last seen back */
	host_get(&t, 4, &a, T0 + 2 * S, &created);
	assert_int_equal(h->last_s, T0 / S + 5);
	assert_null(host_find(&t, 4, &b));
	assert_int_equal(host_count(&t), 1);
	host_table_fini(&t);
	distinct_pool_destroy(p);
}

/* A million distinct sources through a table of 4096: the table never
 * holds more, every eviction is counted, the newest hosts are the ones
 * kept, and HLL sketches of evicted hosts go back to the pool. */
static void test_host_eviction_bounded_under_a_million_hosts(void **state)
{
	const uint32_t cap = 4096, n = 1000000;
	struct distinct_pool *p;
	struct host_table t;
	size_t mem;

	(void)state;
	assert_int_equal(distinct_pool_create(64, &p), 0);
	assert_int_equal(host_table_init(&t, cap, p), 0);
	mem = lru_mem_bytes(&t.lru);
	for (uint32_t i = 0; i < n; i++) {
		union pkt_addr a = v4(0x0a000000u + i);
		bool created;
		struct host *h = host_get(&t, 4, &a, T0 + i * 1000ull, &created);

		assert_true(created);
		/* every 100th host talks to many servers: it needs a sketch */
		if (i % 100 == 0)
			for (uint64_t k = 0; k < 10; k++)
				distinct_add(&h->d[HOST_D_MX], p, 3600, T0, hash_bytes(&k, 8, i));
	}
	assert_int_equal(host_count(&t), cap);
	assert_int_equal(host_evicted(&t), n - cap);
	assert_int_equal(lru_mem_bytes(&t.lru), mem);
	for (uint32_t i = n - cap; i < n; i++) {
		union pkt_addr a = v4(0x0a000000u + i);

		assert_non_null(host_find(&t, 4, &a));
	}
	{
		union pkt_addr old = v4(0x0a000000u + n - cap - 1);

		assert_null(host_find(&t, 4, &old));
	}
	/* only the kept hosts can hold sketches: 4096 / 100 of them at most */
	assert_true(distinct_pool_stats(p)->in_use <= cap / 100 + 1);
	print_message("host entry %zu bytes with its index\n", lru_entry_bytes(&t.lru));
	host_table_fini(&t);
	distinct_pool_destroy(p);
}

/* Least recently *seen*: touching an old host saves it from eviction. */
static void test_host_touch_protects_from_eviction(void **state)
{
	struct distinct_pool *p;
	struct host_table t;
	union pkt_addr first = v4(1);
	bool created;

	(void)state;
	assert_int_equal(distinct_pool_create(4, &p), 0);
	assert_int_equal(host_table_init(&t, 16, p), 0);
	for (uint32_t i = 1; i <= 16; i++) {
		union pkt_addr a = v4(i);

		host_get(&t, 4, &a, T0, &created);
	}
	host_get(&t, 4, &first, T0 + S, &created);
	{
		union pkt_addr a = v4(100);

		host_get(&t, 4, &a, T0 + 2 * S, &created);
	}
	assert_non_null(host_find(&t, 4, &first));
	{
		union pkt_addr second = v4(2);

		assert_null(host_find(&t, 4, &second));
	}
	assert_int_equal(host_evicted(&t), 1);
	host_table_fini(&t);
	distinct_pool_destroy(p);
}

static void test_host_recent_domains(void **state)
{
	struct host h;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_true(host_note_domain(&h, hash_bytes("gmail.com", 9, 7)));
	assert_false(host_note_domain(&h, hash_bytes("gmail.com", 9, 7)));
	assert_true(host_note_domain(&h, hash_bytes("example.org", 11, 7)));
	/* the filter forgets rather than fills up */
	for (uint64_t i = 0; i < 1000; i++)
		host_note_domain(&h, hash_bytes(&i, 8, 7));
	assert_true(__builtin_popcountll(h.dom_bloom) <= 34);
}

/* Accounts: case-insensitive names, kept cut for display, evicted and
 * counted like hosts. */
static void test_account_keys_and_eviction(void **state)
{
	struct distinct_pool *p;
	struct account_table t;
	struct account *a;
	bool created;
	char name[32];

	(void)state;
	assert_int_equal(distinct_pool_create(4, &p), 0);
	assert_int_equal(account_table_init(&t, 16, p), 0);
	a = account_get(&t, ACCOUNT_USER, "Alice@Example.NET", 17, T0, &created);
	assert_true(created);
	assert_string_equal(a->name, "Alice@Example.NET");
	assert_ptr_equal(account_get(&t, ACCOUNT_USER, "alice@example.net", 17, T0, &created), a);
	assert_false(created);
	/* the same name as a mailbox is another account */
	assert_ptr_not_equal(
		account_get(&t, ACCOUNT_MAILBOX, "alice@example.net", 17, T0, &created), a);
	assert_int_not_equal(account_key(ACCOUNT_USER, "bob", 3),
			     account_key(ACCOUNT_MAILBOX, "bob", 3));
	for (int i = 0; i < 100; i++) {
		int n = snprintf(name, sizeof(name), "user%d", i);

		account_get(&t, ACCOUNT_USER, name, (size_t)n, T0 + (uint64_t)i * S, &created);
	}
	assert_int_equal(account_count(&t), 16);
	assert_int_equal(account_evicted(&t), 102 - 16);
	assert_null(account_find(&t, account_key(ACCOUNT_USER, "alice@example.net", 17)));
	assert_string_equal(account_type_name(ACCOUNT_MAILBOX), "mailbox");
	account_table_fini(&t);
	distinct_pool_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_get_find_and_seen),
		cmocka_unit_test(test_host_eviction_bounded_under_a_million_hosts),
		cmocka_unit_test(test_host_touch_protects_from_eviction),
		cmocka_unit_test(test_host_recent_domains),
		cmocka_unit_test(test_account_keys_and_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
