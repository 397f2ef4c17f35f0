// SPDX-License-Identifier: BSD-3-Clause
/*
 * detect: the engine's account detectors, auth_bruteforce, auth_spray and
 * compromised_account (many sources, a rate above its own baseline,
 * bounces). Events are built the way the SMTP parser emits them
 * (sensor/event.h): for every detector one case that must fire on the right
 * host/account with the right kind, and near misses that must not, with
 * home_domains configured and with home_net alone. The fixture and the event
 * builders are detect_fx.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/config.h"
#include "sensor/detect.h"
#include "sensor/event.h"
#include "sensor/netset.h"
#include "detect_fx.h"

/* ---- auth_bruteforce and auth_spray ---- */

static void auth_bruteforce(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	for (int i = 0; i < 10; i++) {
		ev_auth(f, "Cbf", EXT, SRV, SMTP_AUTH_FAILURE, i % 2 ? "admin" : "info");
		f->t += 2 * S;
	}
	a = find(f, ALERT_AUTH_BRUTEFORCE, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "auth_failures") == 10);
	assert_true(has_example(a, "user", "admin") && has_example(a, "user", "info"));
	assert_int_equal(count_kind(f, ALERT_AUTH_SPRAY), 0);
	fx_free(f);
}

static void test_auth_bruteforce_fires_on_many_failures(void **state)
{
	(void)state;
	auth_bruteforce(true);
	auth_bruteforce(false);
}

/* A user who mistypes the password twice, then gets it right. */
static void test_auth_mistyped_password_is_nothing(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	ev_auth(f, "Ctypo", PC, SRV, SMTP_AUTH_FAILURE, "alice@example.net");
	ev_auth(f, "Ctypo", PC, SRV, SMTP_AUTH_FAILURE, "alice@example.net");
	ev_auth(f, "Ctypo", PC, SRV, SMTP_AUTH_SUCCESS, "alice@example.net");
	assert_int_equal(f->n, 0);
	fx_free(f);
}

static void auth_spray(bool domains)
{
	static const char *const users[] = {"alice", "bob", "carol", "dave", "erin"};
	struct fx *f = fx_new(domains);
	const struct alert *a;

	for (int i = 0; i < 5; i++)
		ev_auth(f, "Cspray", EXT, SRV, SMTP_AUTH_FAILURE, users[i]);
	a = find(f, ALERT_AUTH_SPRAY, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "distinct_users") == 5);
	assert_true(has_example(a, "user", "carol"));
	assert_int_equal(count_kind(f, ALERT_AUTH_BRUTEFORCE), 0);
	fx_free(f);
}

static void test_auth_spray_fires_on_many_user_names(void **state)
{
	(void)state;
	auth_spray(true);
	auth_spray(false);
}

static void tune_spray_eight_failures(struct config *cfg)
{
	cfg->detectors[ALERT_AUTH_SPRAY].p[detect_param_index(ALERT_AUTH_SPRAY, "min_failures")] =
		8;
}

/* With min_failures above min_users, five names failing once each are not
 * enough; three more failures are. */
static void test_auth_spray_needs_both_names_and_failures(void **state)
{
	static const char *const users[] = {"alice", "bob", "carol", "dave", "erin"};
	struct fx *f = fx_new_tuned(false, tune_spray_eight_failures);

	(void)state;
	for (int i = 0; i < 5; i++)
		ev_auth(f, "Cspray", EXT, SRV, SMTP_AUTH_FAILURE, users[i]);
	assert_int_equal(count_kind(f, ALERT_AUTH_SPRAY), 0);
	for (int i = 0; i < 3; i++)
		ev_auth(f, "Cspray", EXT, SRV, SMTP_AUTH_FAILURE, users[i]);
	assert_true(counter(find(f, ALERT_AUTH_SPRAY, EXT, ""), "auth_failures") == 8);
	fx_free(f);
}

/* A NAT with many users who log in fine, and four names failing. */
static void test_auth_spray_near_misses(void **state)
{
	static const char *const users[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
	struct fx *f = fx_new(true);

	(void)state;
	for (int i = 0; i < 6; i++)
		ev_auth(f, "Cnat", EXT, SRV, SMTP_AUTH_SUCCESS, users[i]);
	for (int i = 0; i < 4; i++)
		ev_auth(f, "Cfour", "203.0.113.99", SRV, SMTP_AUTH_FAILURE, users[i]);
	assert_int_equal(count_kind(f, ALERT_AUTH_SPRAY), 0);
	assert_int_equal(count_kind(f, ALERT_AUTH_BRUTEFORCE), 0);
	fx_free(f);
}

/* ---- compromised_account ---- */

static void compromised_sources(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;
	char src[32];

	for (int i = 1; i <= 5; i++) {
		snprintf(src, sizeof(src), "203.0.113.%d", 100 + i);
		ev_auth(f, "Cbot", src, SRV, SMTP_AUTH_SUCCESS, "alice@example.net");
		if (i == 4)
			assert_int_equal(count_kind(f, ALERT_COMPROMISED_ACCOUNT), 0);
		f->t += M;
	}
	a = find(f, ALERT_COMPROMISED_ACCOUNT, SRV, "alice@example.net");
	assert_non_null(a);
	assert_true(counter(a, "auth_sources") == 5);
	assert_true(has_example(a, "source", "203.0.113.101"));
	fx_free(f);
}

/* Phone, laptop, home and office: four sources are a person. */
static void test_compromised_account_from_many_sources(void **state)
{
	(void)state;
	compromised_sources(true);
	compromised_sources(false);
}

/* One authenticated message from user to n recipients. */
static void auth_msg(struct fx *f, const char *user, uint32_t depth, int n)
{
	struct smtp_tx *tx = tx_new(f, "Csub", PC, SRV, depth, "bob@example.net");
	char rcpt[64];

	tx_auth(tx, user);
	for (int i = 0; i < n; i++) {
		snprintf(rcpt, sizeof(rcpt), "r%d@dest%d.example", i, i % 7);
		tx_rcpt(tx, rcpt, 250);
	}
	tx_send(f);
}

/* Eight hours of 5 recipients an hour, then 300 in half an hour. */
static void test_compromised_account_rate_above_own_baseline(void **state)
{
	struct fx *f = fx_new(true);
	const struct alert *a;

	(void)state;
	for (int h = 0; h < 8; h++) {
		auth_msg(f, "bob", 1, 5);
		f->t += H;
	}
	for (int i = 0; i < 6; i++) {
		auth_msg(f, "bob", 1, 50);
		f->t += 5 * M;
	}
	a = find(f, ALERT_COMPROMISED_ACCOUNT, SRV, "bob");
	assert_non_null(a);
	assert_true(counter(a, "recipients") >= 200);
	assert_true(counter(a, "baseline_recipients") < 10);
	fx_free(f);
}

/* The same burst with two hours of history says nothing yet; a list owner
 * who always sends 300 an hour is normal for itself. */
static void test_compromised_account_rate_near_misses(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	for (int h = 0; h < 2; h++) {
		auth_msg(f, "young", 1, 5);
		f->t += H;
	}
	for (int i = 0; i < 6; i++) {
		auth_msg(f, "young", 1, 50);
		f->t += 5 * M;
	}
	for (int h = 0; h < 10; h++)
		for (int i = 0; i < 6; i++) {
			auth_msg(f, "lists", 1, 50);
			f->t += 10 * M;
		}
	assert_int_equal(count_kind(f, ALERT_COMPROMISED_ACCOUNT), 0);
	fx_free(f);
}

/* Bounces back to the address a user sends as count against the user. */
static void compromised_bounces(bool domains)
{
	struct fx *f = fx_new(domains);
	struct smtp_tx *tx = tx_new(f, "Csent", PC, SRV, 1, "carol@example.net");
	const struct alert *a;

	tx_auth(tx, "carol");
	tx_rcpt(tx, "someone@gmail.example", 250);
	tx_send(f);
	for (uint32_t i = 0; i < 20; i++) {
		bounce(f, i % 2 ? MX1 : "192.0.2.81", "carol@example.net", i + 1);
		f->t += 10 * S;
	}
	a = find(f, ALERT_COMPROMISED_ACCOUNT, SRV, "carol");
	assert_non_null(a);
	assert_true(counter(a, "bounces_to_sender") == 20);
	assert_true(has_example(a, "mailbox", "carol@example.net"));
	a = find(f, ALERT_BOUNCE_STORM, SRV, "carol@example.net");
	assert_non_null(a);
	assert_true(counter(a, "bounces") == 20);
	fx_free(f);
}

static void test_compromised_account_bounces_back(void **state)
{
	(void)state;
	compromised_bounces(true);
	compromised_bounces(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_auth_bruteforce_fires_on_many_failures),
		cmocka_unit_test(test_auth_mistyped_password_is_nothing),
		cmocka_unit_test(test_auth_spray_fires_on_many_user_names),
		cmocka_unit_test(test_auth_spray_near_misses),
		cmocka_unit_test(test_auth_spray_needs_both_names_and_failures),
		cmocka_unit_test(test_compromised_account_from_many_sources),
		cmocka_unit_test(test_compromised_account_rate_above_own_baseline),
		cmocka_unit_test(test_compromised_account_rate_near_misses),
		cmocka_unit_test(test_compromised_account_bounces_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
