// SPDX-License-Identifier: BSD-3-Clause
/*
 * detect: the engine's message detectors, mass_recipients,
 * spoofed_home_domain, content_signature and volume_anomaly. Events are
 * built the way the SMTP parser emits them (sensor/event.h): for every
 * detector one case that must fire on the right host/account with the right
 * kind, and near misses that must not, with home_domains configured and with
 * home_net alone. The fixture and the event builders are detect_fx.h.
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

/* ---- mass_recipients ---- */

static void mass_msg(struct fx *f, int to, int cc, const char *user)
{
	struct smtp_tx *tx = tx_new(f, "Cmass", PC, SRV, 1, "dave@example.net");
	char a[64];

	if (user)
		tx_auth(tx, user);
	for (int i = 0; i < to; i++) {
		snprintf(a, sizeof(a), "customer%d@c%d.example", i, i);
		smtp_tx_add_to(tx, a, strlen(a));
	}
	for (int i = 0; i < cc; i++) {
		snprintf(a, sizeof(a), "cc%d@c.example", i);
		smtp_tx_add_cc(tx, a, strlen(a));
	}
	tx_rcpt(tx, "customer0@c0.example", 250);
	tx_send(f);
}

static void test_mass_recipients_fires_on_a_bcc_mistake(void **state)
{
	for (int d = 0; d < 2; d++) {
		struct fx *f = fx_new(d);
		const struct alert *a;

		(void)state;
		mass_msg(f, 80, 30, "dave");
		a = find(f, ALERT_MASS_RECIPIENTS, PC, "dave");
		assert_non_null(a);
		assert_true(counter(a, "header_addresses") == 110);
		assert_true(has_example(a, "to", "customer0@c0.example"));
		assert_true(has_uid(a, "Cmass"));
		fx_free(f);
	}
}

/* Forty in To and ten in Cc; a list server sending one copy per member. */
static void test_mass_recipients_near_misses(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	mass_msg(f, 40, 10, NULL);
	for (int i = 0; i < 100; i++)
		mass_msg(f, 1, 0, "list");
	assert_int_equal(count_kind(f, ALERT_MASS_RECIPIENTS), 0);
	fx_free(f);
}

/* A copy of the 110-address message that CLI passes on to a foreign MX; its
 * Received: path names the customer PC it came from. */
static void mass_copy(struct fx *f, const char *uid, const char *cli)
{
	struct smtp_tx *tx = tx_new(f, uid, cli, MX1, 1, "dave@example.net");
	char a[64];

	for (int i = 0; i < 110; i++) {
		snprintf(a, sizeof(a), "customer%d@c%d.example", i, i);
		smtp_tx_add_to(tx, a, strlen(a));
	}
	assert_true(smtp_tx_add_path(tx, MX1, strlen(MX1)));
	assert_true(smtp_tx_add_path(tx, cli, strlen(cli)));
	assert_true(smtp_tx_add_path(tx, PC, strlen(PC)));
	tx_rcpt(tx, "customer0@c0.example", 250);
	tx_send(f);
}

/* The customer's own message alerts; the home relay (a mail server: it was
 * seen answering) sending the copy on does not. A home host that is not a
 * mail server still does, Received: headers or not. */
static void test_mass_recipients_not_on_the_relaying_server(void **state)
{
	for (int d = 0; d < 2; d++) {
		struct fx *f = fx_new(d);

		(void)state;
		ev_banner(f, "Cbanner", PC, RELAY, 220, "relay.example.net ESMTP Postfix");
		mass_msg(f, 80, 30, "dave");
		mass_copy(f, "Ccopy", RELAY);
		assert_non_null(find(f, ALERT_MASS_RECIPIENTS, PC, "dave"));
		assert_null(find(f, ALERT_MASS_RECIPIENTS, RELAY, NULL));
		mass_copy(f, "Cpc2", PC2);
		assert_non_null(find(f, ALERT_MASS_RECIPIENTS, PC2, NULL));
		fx_free(f);
	}
}

/* ---- spoofed_home_domain ---- */

static struct smtp_tx *inbound_msg(struct fx *f, const char *cli, const char *from)
{
	struct smtp_tx *tx = tx_new(f, "Cspoof", cli, SRV, 1, from);

	smtp_tx_set(tx, SMTP_F_HELO, "bulk.example", 12);
	tx_rcpt(tx, "staff@example.net", 250);
	return tx;
}

static void test_spoofed_home_domain_with_configured_domains(void **state)
{
	struct fx *f = fx_new(true);
	const struct alert *a;

	(void)state;
	inbound_msg(f, EXT, "ceo@example.net");
	tx_send(f);
	a = find(f, ALERT_SPOOFED_HOME_DOMAIN, EXT, "");
	assert_non_null(a);
	assert_true(has_example(a, "mailfrom", "ceo@example.net"));
	assert_true(has_example(a, "helo", "bulk.example"));
	fx_free(f);
}

/* Logged in; forwarded back home through a home host (Received path); a
 * foreign sender domain; a home client. None is spoofing. */
static void test_spoofed_home_domain_near_misses(void **state)
{
	struct fx *f = fx_new(true);
	struct smtp_tx *tx;

	(void)state;
	tx = inbound_msg(f, EXT, "ceo@example.net");
	tx_auth(tx, "ceo");
	tx_send(f);
	tx = inbound_msg(f, "203.0.113.60", "ceo@example.net");
	smtp_tx_add_path(tx, SRV, strlen(SRV));
	smtp_tx_add_path(tx, "203.0.113.60", 12);
	smtp_tx_add_path(tx, "198.51.100.25", 13);
	tx_send(f);
	inbound_msg(f, EXT, "news@shop.example");
	tx_send(f);
	inbound_msg(f, PC, "ceo@example.net");
	tx_send(f);
	assert_int_equal(count_kind(f, ALERT_SPOOFED_HOME_DOMAIN), 0);
	fx_free(f);
}

/* home_net only: nothing is a home domain until one is learned (accepted
 * from outside, never left again), then spoofing it alerts. */
static void test_spoofed_home_domain_learned(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	inbound_msg(f, EXT, "ceo@example.net");
	tx_send(f);
	assert_int_equal(count_kind(f, ALERT_SPOOFED_HOME_DOMAIN), 0);
	ev_open(f, "Cvis", SRV, MX1, 25);
	ev_rcpt(f, "Cin", "203.0.113.40", SRV, 1, "friend@gmail.example", "staff@example.net",
		"250 2.1.5 Ok", false);
	f->t += 11 * M;
	detect_engine_tick(f->de, f->t);
	assert_int_equal(detect_engine_stats(f->de)->domains_learned, 1);
	inbound_msg(f, EXT, "ceo@example.net");
	tx_send(f);
	assert_non_null(find(f, ALERT_SPOOFED_HOME_DOMAIN, EXT, ""));
	fx_free(f);
}

/* ---- content_signature ---- */

static void test_content_signature_fires_at_severity(void **state)
{
	for (int d = 0; d < 2; d++) {
		struct fx *f = fx_new(d);
		const struct alert *a;

		(void)state;
		ev_sig(f, "Csig", EXT, SRV, 1, 2001, EV_SIGCLASS_PHISH, 3, EV_SCOPE_URL,
		       "http://paypal.example.login-verify.example/");
		a = find(f, ALERT_CONTENT_SIGNATURE, EXT, "");
		assert_non_null(a);
		assert_int_equal(a->severity, ALERT_SEV_HIGH);
		assert_true(has_example(a, "sig_id", "2001"));
		assert_true(
			has_example(a, "snippet", "http://paypal.example.login-verify.example/"));
		fx_free(f);
	}
}

static void tune_three_hits(struct config *cfg)
{
	cfg->detectors[ALERT_CONTENT_SIGNATURE]
		.p[detect_param_index(ALERT_CONTENT_SIGNATURE, "min_hits")] = 3;
}

/* Below min_severity, reply classes that have their own detectors, and a
 * rule that needs three hits before the third. */
static void test_content_signature_near_misses(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	ev_sig(f, "Clow", EXT, SRV, 1, 2002, EV_SIGCLASS_SPAM, 1, EV_SCOPE_BODY, "cheap meds");
	ev_sig(f, "Cuu", EXT, SRV, 1, 2003, EV_SIGCLASS_USER_UNKNOWN, 3, EV_SCOPE_REPLY, "unknown");
	assert_int_equal(f->n, 0);
	fx_free(f);

	f = fx_new_tuned(true, tune_three_hits);
	ev_sig(f, "C3", EXT, SRV, 1, 2004, EV_SIGCLASS_MAILER, 2, EV_SCOPE_HEADER, "X-Mailer: kit");
	ev_sig(f, "C3", EXT, SRV, 2, 2004, EV_SIGCLASS_MAILER, 2, EV_SCOPE_HEADER, "X-Mailer: kit");
	assert_int_equal(count_kind(f, ALERT_CONTENT_SIGNATURE), 0);
	ev_sig(f, "C3", EXT, SRV, 3, 2004, EV_SIGCLASS_MAILER, 2, EV_SCOPE_HEADER, "X-Mailer: kit");
	assert_true(counter(find(f, ALERT_CONTENT_SIGNATURE, EXT, ""), "sig_hits") == 3);
	fx_free(f);
}

/* ---- volume_anomaly ---- */

static void volume_history(struct fx *f, const char *host, int hours, int per_hour)
{
	for (int h = 0; h < hours; h++)
		for (int i = 0; i < per_hour; i++) {
			struct smtp_tx *tx = tx_new(f, "Cvol", host, SRV, 1, "pc@example.net");

			tx_rcpt(tx, "friend@gmail.example", 250);
			tx_send(f);
			f->t += H / (uint64_t)per_hour;
		}
}

static void volume_burst(struct fx *f, const char *host, int n)
{
	for (int i = 0; i < n; i++) {
		struct smtp_tx *tx = tx_new(f, "Cburst", host, SRV, 1, "pc@example.net");

		tx_rcpt(tx, "x@gmail.example", 250);
		tx_send(f);
		f->t += 5 * S;
	}
}

static void test_volume_anomaly_fires_far_above_baseline(void **state)
{
	for (int d = 0; d < 2; d++) {
		struct fx *f = fx_new(d);
		const struct alert *a;

		(void)state;
		volume_history(f, PC, 8, 1);
		volume_burst(f, PC, 60);
		a = find(f, ALERT_VOLUME_ANOMALY, PC, "");
		assert_non_null(a);
		assert_true(counter(a, "messages") >= 50);
		assert_true(counter(a, "baseline_messages") < 1);
		assert_true(has_example(a, "server", SRV));
		assert_true(has_example(a, "mailfrom", "pc@example.net"));
		assert_true(has_example(a, "rcpt", "x@gmail.example"));
		assert_true(has_uid(a, "Cburst"));
		fx_free(f);
	}
}

/* Too young a baseline; a host that always sends this much. */
static void test_volume_anomaly_near_misses(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	volume_history(f, PC, 2, 1);
	volume_burst(f, PC, 60);
	volume_history(f, PC2, 8, 360);
	volume_burst(f, PC2, 60);
	assert_int_equal(count_kind(f, ALERT_VOLUME_ANOMALY), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mass_recipients_fires_on_a_bcc_mistake),
		cmocka_unit_test(test_mass_recipients_near_misses),
		cmocka_unit_test(test_mass_recipients_not_on_the_relaying_server),
		cmocka_unit_test(test_spoofed_home_domain_with_configured_domains),
		cmocka_unit_test(test_spoofed_home_domain_near_misses),
		cmocka_unit_test(test_spoofed_home_domain_learned),
		cmocka_unit_test(test_content_signature_fires_at_severity),
		cmocka_unit_test(test_content_signature_near_misses),
		cmocka_unit_test(test_volume_anomaly_fires_far_above_baseline),
		cmocka_unit_test(test_volume_anomaly_near_misses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
