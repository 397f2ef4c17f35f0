// SPDX-License-Identifier: BSD-3-Clause
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/sprt.h"

static struct sprt_cfg cfg;

static int setup(void **state)
{
	(void)state;
	sprt_cfg_init(&cfg, 0.001, 0.01);
	return 0;
}

/* The bounds and per-observation ratios are the documented ones. */
static void test_sprt_bounds_and_ratios_as_documented(void **state)
{
	(void)state;
	assert_true(fabs(cfg.upper - log(0.99 / 0.001)) < 1e-4);
	assert_true(fabs(cfg.lower - log(0.01 / 0.999)) < 1e-4);
	for (int o = 0; o < SPRT_OBS_COUNT; o++) {
		double p1, p0;

		sprt_obs_probs((enum sprt_obs)o, &p1, &p0);
		assert_true(p1 > 0 && p1 < 1 && p0 > 0 && p0 < 1);
		assert_true(fabs(cfg.llr[o] - log(p1 / p0)) < 1e-4);
		assert_string_not_equal(sprt_obs_name((enum sprt_obs)o), "unknown");
	}
	/* signs: good news lowers, bad news raises */
	assert_true(cfg.llr[SPRT_RCPT_ACCEPTED] < 0 && cfg.llr[SPRT_AUTH_OK] < 0);
	assert_true(cfg.llr[SPRT_BLOCKLIST] > cfg.llr[SPRT_RCPT_REJECTED]);
}

/* Three unknown-mailbox rejections in a row cross on the third. */
static void test_sprt_crosses_on_repeated_bad_signs(void **state)
{
	struct sprt s = {0};

	(void)state;
	assert_false(sprt_observe(&s, &cfg, SPRT_RCPT_UNKNOWN, 1));
	assert_false(sprt_observe(&s, &cfg, SPRT_RCPT_UNKNOWN, 1));
	assert_true(sprt_observe(&s, &cfg, SPRT_RCPT_UNKNOWN, 1));
	assert_int_equal(s.crossings, 1);
	/* staying above is not a new crossing */
	assert_false(sprt_observe(&s, &cfg, SPRT_RCPT_UNKNOWN, 1));
	assert_int_equal(s.crossings, 1);
	assert_true(sprt_score(&s) > cfg.upper);
}

/* A normal sender: one stale address in ten over a thousand recipients,
 * and a user who mistypes a password twice. Never crosses. */
static void test_sprt_normal_sender_never_crosses(void **state)
{
	struct sprt s = {0}, u = {0};

	(void)state;
	for (int i = 0; i < 1000; i++) {
		bool bad = i % 10 == 9;

		assert_false(
			sprt_observe(&s, &cfg, bad ? SPRT_RCPT_UNKNOWN : SPRT_RCPT_ACCEPTED, 1));
		if (!bad)
			sprt_observe(&s, &cfg, i % 3 ? SPRT_OLD_DOMAIN : SPRT_NEW_DOMAIN, 1);
	}
	assert_int_equal(s.crossings, 0);
	assert_true(sprt_score(&s) < cfg.upper / 2);
	assert_false(sprt_observe(&u, &cfg, SPRT_AUTH_FAIL, 1));
	assert_false(sprt_observe(&u, &cfg, SPRT_AUTH_FAIL, 1));
	assert_false(sprt_observe(&u, &cfg, SPRT_AUTH_OK, 1));
	assert_int_equal(u.crossings, 0);
}

/* Reaching the lower bound decides "normal" and restarts at 0, and the
 * capped sum lets a cleaned-up host come back under the bound. */
static void test_sprt_restart_and_cap(void **state)
{
	struct sprt s = {0};
	int n = 0;

	(void)state;
	for (int i = 0; i < 20; i++)
		sprt_observe(&s, &cfg, SPRT_RCPT_ACCEPTED, 1);
	assert_true(s.llr >= cfg.lower && s.llr <= 0);
	sprt_observe(&s, &cfg, SPRT_BLOCKLIST, 1000);
	assert_true(s.llr <= cfg.cap);
	while (s.llr >= cfg.upper && n < 1000) {
		sprt_observe(&s, &cfg, SPRT_RCPT_ACCEPTED, 1);
		n++;
	}
	assert_true(n > 0 && n < 40);
	assert_int_equal(s.above, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sprt_bounds_and_ratios_as_documented),
		cmocka_unit_test(test_sprt_crosses_on_repeated_bad_signs),
		cmocka_unit_test(test_sprt_normal_sender_never_crosses),
		cmocka_unit_test(test_sprt_restart_and_cap),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
