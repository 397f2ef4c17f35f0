// SPDX-License-Identifier: BSD-3-Clause
/*
 * plan: a capture file bounds every table by what it could fill; a live
 * source (no bound) keeps the configured sizes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sensor/config.h"
#include "sensor/plan.h"

static struct config *defaults(void)
{
	struct config *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(config_init(c), 0);
	return c;
}

static void test_plan_live_keeps_configured_sizes(void **state)
{
	struct config *c = defaults();
	struct plan *p = calloc(1, sizeof(*p));

	(void)state;
	assert_non_null(p);
	plan_from_config(c, p);
	assert_int_equal(p->hosts, c->limits.hosts);
	assert_int_equal(p->accounts, c->limits.accounts);
	assert_int_equal(p->event_ring_bytes, c->limits.event_ring_bytes);
	plan_bound_by_capture(p, 0); /* size unknown (a pipe): no bound */
	assert_int_equal(p->hosts, c->limits.hosts);
	free(p);
	config_fini(c);
	free(c);
}

/* 2 MB of capture: at most ~30,000 packets, so at most ~60,000 addresses
 * and far fewer sessions; never below the floors, never above the config. */
static void test_plan_capture_bounds_tables(void **state)
{
	struct config *c = defaults();
	struct plan *p = calloc(1, sizeof(*p));

	(void)state;
	assert_non_null(p);
	plan_from_config(c, p);
	plan_bound_by_capture(p, 2u << 20);
	assert_true(p->hosts >= 2 * ((2u << 20) / 70));
	assert_true(p->hosts < c->limits.hosts / 10);
	assert_true(p->accounts >= 256 && p->accounts < c->limits.accounts);
	assert_true(p->flow.capacity >= 1024 && p->flow.capacity <= c->limits.flows_per_worker);
	assert_true(p->smtp.max_sessions >= 256);
	plan_bound_by_capture(p, 100); /* tiny file: the floors */
	assert_int_equal(p->hosts, 1024);
	assert_int_equal(p->accounts, 256);
	free(p);
	config_fini(c);
	free(c);
}

/* A configured size below the capture's need is kept: the bound only lowers. */
static void test_plan_bound_never_raises(void **state)
{
	struct config *c = defaults();
	struct plan *p = calloc(1, sizeof(*p));

	(void)state;
	assert_non_null(p);
	c->limits.hosts = 2000;
	plan_from_config(c, p);
	plan_bound_by_capture(p, 1ull << 30);
	assert_int_equal(p->hosts, 2000);
	free(p);
	config_fini(c);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_live_keeps_configured_sizes),
		cmocka_unit_test(test_plan_capture_bounds_tables),
		cmocka_unit_test(test_plan_bound_never_raises),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
