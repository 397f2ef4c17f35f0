// SPDX-License-Identifier: BSD-3-Clause
/*
 * detect: the engine's host detectors, direct_mx_bot (from events and from
 * the XDP pre-filter's counters), blocklisted, recipient_harvest and
 * bounce_storm. Events are built the way the SMTP parser emits them
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

/* ---- direct_mx_bot ---- */

static void direct_mx(bool domains, const char *pc, const char *prefix)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;
	char mx[64];

	for (int i = 1; i <= 10; i++) {
		snprintf(mx, sizeof(mx), "%s%d", prefix, i);
		ev_open(f, "Cbot", pc, mx, 25);
		if (i == 9)
			assert_int_equal(f->n, 0);
	}
	a = find(f, ALERT_DIRECT_MX_BOT, pc, "");
	assert_non_null(a);
	assert_true(counter(a, "foreign_mx_servers") == 10);
	fx_free(f);
}

static void test_direct_mx_bot_fires_on_many_foreign_mx(void **state)
{
	(void)state;
	direct_mx(true, PC, "192.0.2.");
	direct_mx(false, PC, "192.0.2.");
	direct_mx(false, "2001:db8:100::77", "2001:db8:ffff::");
}

/* A learned mail server, a PC that retries one MX, a PC that uses its
 * provider's submission port, nine servers: none is a bot. */
static void test_direct_mx_bot_near_misses(void **state)
{
	struct fx *f = fx_new(false);
	char mx[32];

	(void)state;
	ev_banner(f, "Cin", EXT, SRV, 220, "mx.example.net ESMTP");
	for (int i = 1; i <= 20; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i);
		ev_open(f, "Cmta", SRV, mx, 25);
		ev_open(f, "Cretry", PC, MX1, 25);
		ev_open(f, "Csubm", PC2, mx, 587);
		if (i < 10)
			ev_open(f, "Cnine", "198.51.100.79", mx, 25);
	}
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	assert_int_equal(detect_engine_stats(f->de)->servers_learned, 1);
	fx_free(f);
}

/* With mail_servers configured, the list is the truth: a host that answers
 * SMTP but is not listed is not a server. */
static void tune_mail_servers(struct config *cfg)
{
	struct errbuf eb;

	assert_int_equal(netset_add_cidr(&cfg->mail_servers, "198.51.100.26", &eb), 0);
	netset_finish(&cfg->mail_servers);
}

static void test_direct_mx_bot_configured_servers_only(void **state)
{
	struct fx *f = fx_new_tuned(false, tune_mail_servers);
	char mx[32];

	(void)state;
	ev_banner(f, "Cin", EXT, SRV, 220, "rogue ESMTP");
	for (int i = 1; i <= 10; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i);
		ev_open(f, "Crogue", SRV, mx, 25);
		ev_open(f, "Cok", RELAY, mx, 25);
	}
	assert_non_null(find(f, ALERT_DIRECT_MX_BOT, SRV, ""));
	assert_null(find(f, ALERT_DIRECT_MX_BOT, RELAY, NULL));
	fx_free(f);
}

/* ---- direct_mx_bot from the XDP pre-filter's counters (live AF_XDP) ---- */

/* A snapshot of the BPF map's running totals for one source, as main_xdp.c
 * hands it over once a second. */
static void xdp_src(struct fx *f, const char *host, uint64_t syns, uint64_t flows)
{
	union pkt_addr a;
	uint8_t fam;

	assert_true(netset_parse_addr(host, &a, &fam));
	detect_engine_src_counters(f->de, fam, &a, syns, flows, flows * 12, flows * 9000, f->t);
}

/* Encrypted sessions give user space no server list worth counting: the
 * connection rate the pre-filter counted is the evidence. The totals grow
 * between snapshots; only the growth within the window counts. */
static void test_direct_mx_bot_from_xdp_connection_rate(void **state)
{
	struct fx *f = fx_new(false);
	const struct alert *a;

	(void)state;
	for (int i = 1; i <= 9; i++) {
		f->t += 10 * S;
		xdp_src(f, PC, i * 12, i * 11); /* 99 connections after the 9th */
	}
	assert_int_equal(f->n, 0);
	f->t += 10 * S;
	xdp_src(f, PC, 120, 110);
	a = find(f, ALERT_DIRECT_MX_BOT, PC, "");
	assert_non_null(a);
	assert_true(counter(a, "xdp_smtp_flows") == 110);
	assert_true(counter(a, "xdp_smtp_syns") == 120);
	assert_non_null(strstr(a->message, "XDP pre-filter"));
	fx_free(f);
}

/* The same totals repeated, a slow client over hours, a learned mail server,
 * a foreign source, a map entry that restarted from zero: no alert. */
static void test_direct_mx_bot_xdp_near_misses(void **state)
{
	struct fx *f = fx_new(false);

	(void)state;
	ev_banner(f, "Cin", EXT, SRV, 220, "mx.example.net ESMTP");
	for (int i = 1; i <= 40; i++) {
		f->t += 10 * M;
		xdp_src(f, PC, 50, 50);		 /* no growth after the first */
		xdp_src(f, PC2, i * 12, i * 12); /* 12 per 10 min: 72 an hour */
		xdp_src(f, SRV, i * 500, i * 500);
		xdp_src(f, EXT, i * 500, i * 500);
		xdp_src(f, "198.51.100.79", i < 20 ? 60 : 30, i < 20 ? 60 : 30);
	}
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	fx_free(f);
}

/* ---- blocklisted ---- */

static void blocklisted(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	/* reply text alone (signatures off) */
	ev_rcpt(f, "Cbl1", PC, MX1, 1, "x@example.net", "y@gmail.example",
		"554 5.7.1 Service unavailable; Client host [198.51.100.77] blocked using "
		"zen.spamhaus.org",
		false);
	a = find(f, ALERT_BLOCKLISTED, PC, "");
	assert_non_null(a);
	assert_true(counter(a, "blocklist_replies") == 1);
	assert_true(has_example(a, "server", MX1));
	/* a signature alone */
	ev_sig(f, "Cbl2", PC2, MX1, 1, 3005, EV_SIGCLASS_BLOCKLIST, 3, EV_SCOPE_REPLY,
	       "550 5.7.1 on our block list (S3150)");
	a = find(f, ALERT_BLOCKLISTED, PC2, "");
	assert_non_null(a);
	assert_true(has_example(a, "sig_id", "3005"));
	/* the greeting itself */
	ev_banner(f, "Cbl3", "198.51.100.80", MX1, 554,
		  "mx.gmail.example 554 Your IP is listed at bl.spamcop.net");
	assert_non_null(find(f, ALERT_BLOCKLISTED, "198.51.100.80", ""));
	fx_free(f);
}

static void test_blocklisted_fires_on_text_signature_and_banner(void **state)
{
	(void)state;
	blocklisted(true);
	blocklisted(false);
}

/* Text and signature on the same reply count once; the home server
 * refusing a listed foreign client is not an alert; an unknown user is not
 * a blocklist. */
static void test_blocklisted_near_misses(void **state)
{
	struct fx *f = fx_new(false);
	const char *bl = "554 5.7.1 Client host [203.0.113.5] blocked using zen.spamhaus.org";

	(void)state;
	ev_rcpt(f, "Cbl", PC, MX1, 1, "x@example.net", "y@gmail.example", bl, false);
	ev_sig(f, "Cbl", PC, MX1, 1, 3005, EV_SIGCLASS_BLOCKLIST, 3, EV_SCOPE_REPLY, bl + 4);
	f->t += 6 * M;
	detect_engine_flush(f->de);
	assert_true(counter(find(f, ALERT_BLOCKLISTED, PC, ""), "blocklist_replies") == 1);
	f->n = 0;
	ev_rcpt(f, "Cin", EXT, SRV, 1, "x@spam.example", "y@example.net", bl, false);
	ev_sig(f, "Cin", EXT, SRV, 1, 3005, EV_SIGCLASS_BLOCKLIST, 3, EV_SCOPE_REPLY, bl);
	ev_rcpt(f, "Cuu", PC2, MX1, 1, "x@example.net", "gone@gmail.example",
		"550 5.1.1 <gone@gmail.example>: Recipient address rejected: User unknown", false);
	assert_int_equal(count_kind(f, ALERT_BLOCKLISTED), 0);
	fx_free(f);
}

/* ---- recipient_harvest ---- */

static void harvest_run(struct fx *f, const char *cli, int n, int unknown)
{
	char rcpt[64];

	for (int i = 0; i < n; i++) {
		snprintf(rcpt, sizeof(rcpt), "guess%d@example.net", i);
		ev_rcpt(f, "Chv", cli, SRV, 1, "x@spam.example", rcpt,
			i < unknown ? "550 5.1.1 <guess@example.net>: Recipient address rejected: "
				      "User unknown in virtual mailbox table"
				    : "250 2.1.5 Ok",
			false);
	}
}

static void harvest(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	harvest_run(f, EXT, 20, 12);
	a = find(f, ALERT_RECIPIENT_HARVEST, EXT, "");
	assert_non_null(a);
	assert_true(counter(a, "rcpts") == 20);
	assert_true(counter(a, "unknown_rcpts") == 12);
	assert_true(has_example(a, "rcpt", "guess0@example.net"));
	fx_free(f);
}

static void test_recipient_harvest_fires_on_mostly_unknown(void **state)
{
	(void)state;
	harvest(true);
	harvest(false);
}

/* A few stale addresses in a list run; all unknown but too few to judge. */
static void test_recipient_harvest_near_misses(void **state)
{
	struct fx *f = fx_new(true);

	(void)state;
	harvest_run(f, EXT, 20, 2);
	harvest_run(f, "203.0.113.6", 10, 10);
	/* the same unknown user without an enhanced code, text only */
	ev_rcpt(f, "Cplain", "203.0.113.7", SRV, 1, "x@y.example", "nobody@example.net",
		"550 No such user here", false);
	assert_int_equal(count_kind(f, ALERT_RECIPIENT_HARVEST), 0);
	fx_free(f);
}

/* ---- bounce_storm ---- */

static void test_bounce_storm_near_misses(void **state)
{
	struct fx *f = fx_new(true);
	struct smtp_tx *tx;

	(void)state;
	for (uint32_t i = 0; i < 5; i++)
		bounce(f, MX1, "postmaster@example.net", i + 1);
	/* bounces between two foreign hosts for a foreign address */
	for (uint32_t i = 0; i < 30; i++) {
		tx = tx_new(f, "Cfar", EXT, MX1, i + 1, "");
		tx_rcpt(tx, "someone@gmail.example", 250);
		tx_send(f);
	}
	assert_int_equal(count_kind(f, ALERT_BOUNCE_STORM), 0);
	fx_free(f);
}

static void bounce_storm(bool domains)
{
	struct fx *f = fx_new(domains);
	const struct alert *a;

	for (uint32_t i = 0; i < 20; i++) {
		bounce(f, i % 3 ? MX1 : "192.0.2.90", "postmaster@example.net", i + 1);
		f->t += 5 * S;
	}
	a = find(f, ALERT_BOUNCE_STORM, SRV, "postmaster@example.net");
	assert_non_null(a);
	assert_true(counter(a, "bounces") == 20);
	assert_true(has_example(a, "bounce_from", "192.0.2.90"));
	/* nobody sends as postmaster: no account to blame */
	assert_int_equal(count_kind(f, ALERT_COMPROMISED_ACCOUNT), 0);
	fx_free(f);
}

static void test_bounce_storm_fires_on_backscatter(void **state)
{
	(void)state;
	bounce_storm(true);
	bounce_storm(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_mx_bot_fires_on_many_foreign_mx),
		cmocka_unit_test(test_direct_mx_bot_near_misses),
		cmocka_unit_test(test_direct_mx_bot_from_xdp_connection_rate),
		cmocka_unit_test(test_direct_mx_bot_xdp_near_misses),
		cmocka_unit_test(test_direct_mx_bot_configured_servers_only),
		cmocka_unit_test(test_blocklisted_fires_on_text_signature_and_banner),
		cmocka_unit_test(test_blocklisted_near_misses),
		cmocka_unit_test(test_recipient_harvest_fires_on_mostly_unknown),
		cmocka_unit_test(test_recipient_harvest_near_misses),
		cmocka_unit_test(test_bounce_storm_fires_on_backscatter),
		cmocka_unit_test(test_bounce_storm_near_misses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
