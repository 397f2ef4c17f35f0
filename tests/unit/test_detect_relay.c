// SPDX-License-Identifier: BSD-3-Clause
/*
 * detect: the engine's relay detectors, open_relay (confirmed by a relayed
 * copy, the heuristic without an outbound view, an internal hop, the window
 * and learning) and relay_probe. Events are built the way the SMTP parser
 * emits them (sensor/event.h): for every detector one case that must fire on
 * the right host/account with the right kind, and near misses that must not,
 * with home_domains configured and with home_net alone. The fixture and the
 * event builders are detect_fx.h.
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

/* ---- open_relay ---- */

static void open_relay_confirmed(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	relay_in(f, "Cin1", EXT, "victim@gmail.example");
	f->t += 30 * S;
	ev_open(f, "Cout1", SRV, MX1, 25);
	ev_rcpt(f, "Cout1", SRV, MX1, 1, "promo@spam.example", "victim@gmail.example",
		"250 2.1.5 Ok", false);
	a = find(f, ALERT_OPEN_RELAY, SRV, "");
	assert_non_null(a);
	assert_int_equal(a->severity, ALERT_SEV_CRITICAL);
	assert_true(counter(a, "relayed_copies") == 1);
	assert_true(has_uid(a, "Cin1") && has_uid(a, "Cout1"));
	assert_true(has_example(a, "relayed_rcpt", "victim@gmail.example"));
	assert_true(has_example(a, "foreign_client", EXT));
	/* the server is a server: sending out is not direct-to-MX */
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	assert_int_equal(f->n, 1);
	assert_int_equal(detect_engine_stats(f->de)->relay_copies, 1);
	fx_free(f);
}

static void test_open_relay_fires_on_a_relayed_copy(void **state)
{
	(void)state;
	open_relay_confirmed(true);
	open_relay_confirmed(false);
}

/* A correctly configured server refuses; a forwarder sends the mail on to
 * another address; a list server sends after AUTH. None is a relay. */
static void open_relay_near_misses(bool domains)
{
	struct fx *f = fx_new(domains);

	ev_open(f, "Cref", EXT, SRV, 25);
	ev_banner(f, "Cref", EXT, SRV, 220, "mx.example.net ESMTP");
	ev_rcpt(f, "Cref", EXT, SRV, 1, "promo@spam.example", "victim@gmail.example",
		"554 5.7.1 <victim@gmail.example>: Relay access denied", false);
	/* forwarder: alias at home, forwarded to the owner's mailbox elsewhere */
	relay_in(f, "Cfw1", "203.0.113.50", "alias@example.net");
	f->t += M;
	ev_open(f, "Cfw2", SRV, MX1, 25);
	ev_rcpt(f, "Cfw2", SRV, MX1, 1, "SRS0=ab=cd=gmail.example=x@example.net",
		"alias.owner@gmail.example", "250 2.1.5 Ok", false);
	/* a roaming user: a foreign address, but logged in; the copy leaves */
	ev_auth(f, "Croam", "203.0.113.77", SRV, SMTP_AUTH_SUCCESS, "alice@example.net");
	ev_rcpt(f, "Croam", "203.0.113.77", SRV, 1, "alice@example.net", "friend@gmail.example",
		"250 2.1.5 Ok", true);
	ev_rcpt(f, "Croam2", SRV, MX1, 1, "alice@example.net", "friend@gmail.example",
		"250 2.1.5 Ok", false);
	/* a mailing list: members submit after AUTH, the server sends to many */
	for (int i = 0; i < 30; i++) {
		char rcpt[64];

		snprintf(rcpt, sizeof(rcpt), "member%d@domain%d.example", i, i);
		ev_auth(f, "Clist", PC, SRV, SMTP_AUTH_SUCCESS, "list@example.net");
		ev_rcpt(f, "Clist", PC, SRV, 1, "list@example.net", rcpt, "250 2.1.5 Ok", true);
		ev_rcpt(f, "Clout", SRV, MX1, 1, "list@example.net", rcpt, "250 2.1.5 Ok", false);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	fx_free(f);
}

static void test_open_relay_near_misses(void **state)
{
	(void)state;
	open_relay_near_misses(true);
	open_relay_near_misses(false);
}

/* A copy leaving after relay_window is not tied to the accepted mail; the
 * domain that never left is learned as hosted by the server. */
static void test_open_relay_window_and_learning(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	ev_open(f, "Cvis", SRV, MX1, 25); /* the server's outbound is visible */
	relay_in(f, "Cin2", EXT, "info@customer.example");
	f->t += 11 * M;
	detect_engine_tick(f->de, f->t);
	ev_rcpt(f, "Cout2", SRV, MX1, 1, "x@spam.example", "info@customer.example", "250 2.1.5 Ok",
		false);
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	assert_int_equal(detect_engine_stats(f->de)->domains_learned, 1);
	fx_free(f);
}

/* Gateway -> internal relay -> Internet: the relay is the gateway's. */
static void test_open_relay_through_an_internal_hop(void **state)
{
	struct fx *f = fx_new(false);
	const struct alert *a;

	(void)state;
	relay_in(f, "Chop1", EXT, "victim@gmail.example");
	f->t += 10 * S;
	ev_rcpt(f, "Chop2", SRV, RELAY, 1, "promo@spam.example", "victim@gmail.example",
		"250 2.1.5 Ok", false);
	f->t += 10 * S;
	ev_rcpt(f, "Chop3", RELAY, MX1, 1, "promo@spam.example", "victim@gmail.example",
		"250 2.1.5 Ok", false);
	a = find(f, ALERT_OPEN_RELAY, SRV, "");
	assert_non_null(a);
	assert_true(has_uid(a, "Chop1") && has_uid(a, "Chop3"));
	assert_null(find(f, ALERT_OPEN_RELAY, RELAY, NULL));
	fx_free(f);
}

/* Outbound not visible: many unrelated foreign domains accepted from
 * foreign clients is a probable relay, one severity lower. */
static void open_relay_heuristic(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;
	char rcpt[64];

	for (int i = 0; i < 19; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@target%d.example", i, i);
		relay_in(f, "Cheu", EXT, rcpt);
	}
	/* home-domain recipients never count */
	for (int i = 0; i < 10; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@example.net", i);
		relay_in(f, "Cheu", EXT, rcpt);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), domains ? 0 : 1);
	if (!domains)
		assert_true(counter(find(f, ALERT_OPEN_RELAY, SRV, ""), "foreign_domains") == 20);
	relay_in(f, "Cheu", EXT, "last@target19.example");
	a = find(f, ALERT_OPEN_RELAY, SRV, "");
	assert_non_null(a);
	assert_int_equal(a->severity, ALERT_SEV_HIGH);
	assert_non_null(strstr(a->message, "unconfirmed"));
	assert_true(has_example(a, "rcpt_domain", "target0.example"));
	fx_free(f);
}

static void test_open_relay_heuristic_without_outbound_view(void **state)
{
	(void)state;
	open_relay_heuristic(true);
	open_relay_heuristic(false);
}

/* Near misses of the heuristic: the server's outbound is in view (only a
 * copy counts then), or the sender writes to its own domain. */
static void test_open_relay_heuristic_near_misses(void **state)
{
	struct fx *f = fx_new(false);
	char rcpt[64], from[64];

	(void)state;
	ev_open(f, "Cvis", SRV, MX1, 25);
	for (int i = 0; i < 30; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@target%d.example", i, i);
		relay_in(f, "Cvis2", EXT, rcpt);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	fx_free(f);

	f = fx_new(false);
	for (int i = 0; i < 30; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@target%d.example", i, i);
		snprintf(from, sizeof(from), "news@target%d.example", i);
		ev_rcpt(f, "Cown", EXT, SRV, 1, from, rcpt, "250 2.1.5 Ok", false);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	fx_free(f);
}

/* ---- relay_probe ---- */

static void relay_probe(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	for (uint32_t d = 1; d <= 3; d++) {
		ev_rcpt(f, "Cprobe", EXT, SRV, d, "test@probe.example", "check@relay-test.example",
			"554 5.7.1 <check@relay-test.example>: Relay access denied", false);
		/* the rule matching the same reply does not count again */
		ev_sig(f, "Cprobe", EXT, SRV, d, 1001, EV_SIGCLASS_RELAY_DENIED, 2, EV_SCOPE_REPLY,
		       "Relay access denied");
		if (d == 2)
			assert_int_equal(count_kind(f, ALERT_RELAY_PROBE), 0);
		f->t += S;
	}
	a = find(f, ALERT_RELAY_PROBE, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "relay_denied") == 3);
	assert_true(counter(a, "refusing_servers") == 1);
	assert_true(has_example(a, "server", SRV));
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	fx_free(f);
}

static void test_relay_probe_fires_on_repeated_refusals(void **state)
{
	(void)state;
	relay_probe(true);
	relay_probe(false);
}

/* What postfix and smtplib really send: one session, MAIL / RCPT refused /
 * RSET three times. trans_depth stays 1 (no message was answered), and each
 * transaction's record (EV_TX) goes by before the next MAIL: three refused
 * transactions, a probe. The same reply seen again before the record (its
 * signature) still counts once. */
static void test_relay_probe_counts_transactions_split_by_rset(void **state)
{
	struct fx *f = fx_new(false);
	const struct alert *a;
	struct smtp_tx *tx;

	(void)state;
	for (int i = 0; i < 3; i++) {
		ev_rcpt(f, "Crset", EXT, SRV, 1, "probe@probe.example", "check@relay-test.example",
			"554 5.7.1 <check@relay-test.example>: Relay access denied", false);
		ev_sig(f, "Crset", EXT, SRV, 1, 1001, EV_SIGCLASS_RELAY_DENIED, 2, EV_SCOPE_REPLY,
		       "Relay access denied");
		if (i < 2)
			assert_int_equal(count_kind(f, ALERT_RELAY_PROBE), 0);
		tx = tx_new(f, "Crset", EXT, SRV, 1, "probe@probe.example");
		tx->flags = 0; /* no DATA: ended by RSET */
		tx->data_code = 0;
		tx_rcpt(tx, "check@relay-test.example", 554);
		tx_send(f);
		f->t += S;
	}
	a = find(f, ALERT_RELAY_PROBE, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "relay_denied") == 3);
	fx_free(f);
}

/* One message with three refused recipients is one refused transaction: a
 * misconfigured client, not a probe. A blocklist reply with 5.7.1 is not a
 * relay refusal either. */
static void test_relay_probe_near_misses(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	for (int i = 0; i < 3; i++)
		ev_rcpt(f, "Cmis", EXT, SRV, 1, "me@home.example", "friend@other.example",
			"554 5.7.1 <friend@other.example>: Relay access denied", false);
	ev_rcpt(f, "Cmis2", EXT, SRV, 1, "me@home.example", "friend@other.example",
		"554 5.7.1 <friend@other.example>: Relay access denied", false);
	for (uint32_t d = 1; d <= 3; d++)
		ev_rcpt(f, "Cbl", PC, MX1, d, "me@example.net", "x@gmail.example",
			"554 5.7.1 Service unavailable; Client host [198.51.100.77] blocked using "
			"zen.spamhaus.org",
			false);
	assert_int_equal(count_kind(f, ALERT_RELAY_PROBE), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_relay_fires_on_a_relayed_copy),
		cmocka_unit_test(test_open_relay_near_misses),
		cmocka_unit_test(test_open_relay_window_and_learning),
		cmocka_unit_test(test_open_relay_through_an_internal_hop),
		cmocka_unit_test(test_open_relay_heuristic_without_outbound_view),
		cmocka_unit_test(test_open_relay_heuristic_near_misses),
		cmocka_unit_test(test_relay_probe_fires_on_repeated_refusals),
		cmocka_unit_test(test_relay_probe_counts_transactions_split_by_rset),
		cmocka_unit_test(test_relay_probe_near_misses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
