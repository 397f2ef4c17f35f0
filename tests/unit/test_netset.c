// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/netset.h"

static bool has(const struct netset *ns, const char *addr)
{
	union pkt_addr a;
	uint8_t fam;

	assert_true(netset_parse_addr(addr, &a, &fam));
	return netset_contains(ns, &a);
}

static void test_netset_v4_v6_prefixes_and_hosts(void **state)
{
	struct errbuf eb;
	struct netset ns;

	(void)state;
	netset_init(&ns);
	assert_int_equal(netset_add_cidr(&ns, "198.51.100.0/24", &eb), 0);
	assert_int_equal(netset_add_cidr(&ns, "2001:db8:1::/48", &eb), 0);
	assert_int_equal(netset_add_cidr(&ns, "192.0.2.7", &eb), 0);
	assert_int_equal(netset_add_cidr(&ns, "198.51.100.128/25", &eb), 0); /* nested */
	netset_finish(&ns);
	assert_int_equal(ns.n, 3);
	assert_true(has(&ns, "198.51.100.0"));
	assert_true(has(&ns, "198.51.100.255"));
	assert_false(has(&ns, "198.51.101.0"));
	assert_true(has(&ns, "192.0.2.7"));
	assert_false(has(&ns, "192.0.2.8"));
	assert_true(has(&ns, "2001:db8:1:ffff::1"));
	assert_false(has(&ns, "2001:db8:2::1"));
	/* an IPv6 address whose low 32 bits look like a home IPv4 is not inside */
	assert_false(has(&ns, "::c633:6401"));
	netset_fini(&ns);
}

static void test_netset_rejects_typos(void **state)
{
	struct errbuf eb;
	struct netset ns;

	(void)state;
	netset_init(&ns);
	assert_int_equal(netset_add_cidr(&ns, "198.51.100.1/24", &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "host bits"));
	assert_int_equal(netset_add_cidr(&ns, "198.51.100.0/33", &eb), -EINVAL);
	assert_int_equal(netset_add_cidr(&ns, "example.net/24", &eb), -EINVAL);
	assert_int_equal(netset_add_cidr(&ns, "/8", &eb), -EINVAL);
	assert_int_equal(netset_add_cidr(&ns, "10.0.0.0/", &eb), -EINVAL);
	assert_int_equal(ns.n, 0);
	netset_fini(&ns);
}

static void test_domset_matches_parents_case_insensitively(void **state)
{
	struct errbuf eb;
	struct domset ds;

	(void)state;
	domset_init(&ds);
	assert_int_equal(domset_add(&ds, "Example.NET.", &eb), 0);
	assert_int_equal(domset_add(&ds, "mail.example.org", &eb), 0);
	assert_int_equal(domset_add(&ds, "bad domain", &eb), -EINVAL);
	domset_finish(&ds);
	assert_true(domset_contains(&ds, "example.net", 11));
	assert_true(domset_contains(&ds, "a.b.EXAMPLE.net", 15));
	assert_false(domset_contains(&ds, "notexample.net", 14));
	assert_false(domset_contains(&ds, "example.org", 11));
	assert_true(domset_contains(&ds, "x.mail.example.org", 18));
	domset_fini(&ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netset_v4_v6_prefixes_and_hosts),
		cmocka_unit_test(test_netset_rejects_typos),
		cmocka_unit_test(test_domset_matches_parents_case_insensitively),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
