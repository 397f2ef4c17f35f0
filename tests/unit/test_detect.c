// SPDX-License-Identifier: BSD-3-Clause
/*
 * The detection engine driven by events built the way the SMTP parser
 * emits them (sensor/event.h): what every detector shares -- the alert rate
 * limit and the final flush, bounded tables, malformed events, the XDP
 * source counters, the host totals of the periodic summaries, no home_net.
 * The detectors' own cases are test_detect_relay.c, test_detect_auth.c,
 * test_detect_host.c and test_detect_msg.c; the fixture and the event
 * builders they share are detect_fx.h.
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

/* ---- rate limiting, flush, bounds ---- */

/* One alert per host + kind per interval: repeats update it; the update
 * goes out after the interval (next firing or tick); the end of the run
 * emits the final counts once. */
static void test_alert_rate_limit_updates_and_final_flush(void **state)
{
	struct fx *f = fx_new(true);
	const struct detect_stats *st = detect_engine_stats(f->de);

	(void)state;
	for (int i = 0; i < 30; i++)
		ev_auth(f, "Crl", EXT, SRV, SMTP_AUTH_FAILURE, "admin");
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].seq, 0);
	assert_true(counter(&f->got[0], "auth_failures") == 10);
	assert_int_equal(st->alerts_suppressed, 20);
	f->t += 301 * S;
	detect_engine_tick(f->de, f->t);
	assert_int_equal(f->n, 2);
	assert_int_equal(f->got[1].seq, 1);
	assert_true(counter(&f->got[1], "auth_failures") == 30);
	ev_auth(f, "Crl2", EXT, SRV, SMTP_AUTH_FAILURE, "root");
	ev_auth(f, "Crl2", EXT, SRV, SMTP_AUTH_FAILURE, "root");
	assert_int_equal(f->n, 2);
	detect_engine_flush(f->de);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->got[2].seq, 2);
	assert_true(has_uid(&f->got[2], "Crl2"));
	assert_true(has_example(&f->got[2], "user", "root"));
	detect_engine_flush(f->de);
	assert_int_equal(f->n, 3);
	assert_int_equal(st->alerts, 1);
	assert_int_equal(st->alerts_by_kind[ALERT_AUTH_BRUTEFORCE], 1);
	fx_free(f);
}

static void tune_tiny_tables(struct config *cfg)
{
	cfg->limits.hosts = 16;
	cfg->limits.accounts = 16;
}

static void test_engine_tables_bounded_and_evictions_counted(void **state)
{
	struct fx *f = fx_new_tuned(true, tune_tiny_tables);
	const struct detect_stats *st;
	char src[32];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(src, sizeof(src), "203.0.113.%d", i);
		ev_auth(f, "Cev", src, SRV, SMTP_AUTH_SUCCESS, src);
	}
	st = detect_engine_stats(f->de);
	assert_int_equal(st->hosts, 16);
	assert_int_equal(st->hosts_evicted, 100 - 16);
	assert_int_equal(st->accounts, 16);
	assert_int_equal(st->accounts_evicted, 100 - 16);
	assert_true(st->host_bytes > 0 && st->host_bytes < 1024);
	assert_true(st->account_bytes > 0 && st->account_bytes < 512);
	fx_free(f);
}

/* Short records and transactions whose strings point outside their arena
 * are counted and dropped, never read. */
static void test_engine_drops_malformed_events(void **state)
{
	struct fx *f = fx_new(true);
	struct event_rcpt r;
	struct smtp_tx *tx;

	(void)state;
	memset(&r, 0, sizeof(r));
	hdr(f, &r.h, EV_RCPT, 32, "Cbad", EXT, SRV, 25);
	detect_engine_event(f->de, &r.h);
	tx = tx_new(f, "Cbad", EXT, SRV, 1, "x@example.net");
	tx_rcpt(tx, "y@example.net", 250);
	tx->rcpt[0].addr.off = SMTP_TX_ARENA - 2;
	tx_send(f);
	tx = tx_new(f, "Cbad", EXT, SRV, 1, "x@example.net");
	tx->n_rcpt_stored = SMTP_TX_MAX_RCPT + 1;
	tx_send(f);
	r.h.type = EV_TYPE_COUNT;
	detect_engine_event(f->de, &r.h);
	assert_int_equal(detect_engine_stats(f->de)->bad_events, 4);
	assert_int_equal(detect_engine_stats(f->de)->events, 0);
	fx_free(f);
}

/* XDP per-source counters: kept for home hosts (the fan-out of a bot goes
 * with its alert); unknown foreign sources do not take table space. */
static void test_engine_xdp_source_counters(void **state)
{
	struct fx *f = fx_new(false);
	union pkt_addr a;
	uint8_t fam;
	char mx[32];

	(void)state;
	assert_true(netset_parse_addr("203.0.113.200", &a, &fam));
	detect_engine_src_counters(f->de, 4, &a, 5000, 5000, 10000, 600000, f->t);
	assert_int_equal(detect_engine_stats(f->de)->hosts, 0);
	assert_true(netset_parse_addr(PC, &a, &fam));
	detect_engine_src_counters(f->de, 4, &a, 800, 790, 2000, 90000, f->t);
	for (int i = 1; i <= 10; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i);
		ev_open(f, "Cbot", PC, mx, 25);
	}
	assert_true(counter(find(f, ALERT_DIRECT_MX_BOT, PC, ""), "xdp_smtp_syns") == 800);
	fx_free(f);
}

/* ---- host totals for the periodic summaries ---- */

static bool host_summary(const struct fx *f, const char *host, struct detect_host_summary *out)
{
	union pkt_addr x;
	uint32_t cur = 0;
	uint8_t fam;

	assert_true(netset_parse_addr(host, &x, &fam));
	while (detect_engine_host_next(f->de, &cur, out))
		if (memcmp(out->addr.b, x.b, 16) == 0)
			return true;
	return false;
}

/* A home PC: five foreign MX is below direct_mx_bot's threshold, so only
 * the summary carries it; a blocklist reply, bounces of its mail. */
static void totals_client(struct fx *f)
{
	const char *bl = "554 5.7.1 Client host [198.51.100.77] blocked using zen.spamhaus.org";
	struct smtp_tx *tx;
	char mx[32];

	/* five foreign MX (one of them twice), min_servers is 10 */
	for (int i = 1; i <= 6; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i == 6 ? 1 : i);
		ev_open(f, "Cmx", PC, mx, 25);
	}
	ev_rcpt(f, "Cd", PC, MX1, 1, "pc@example.net", "a@one.example", "250 2.1.5 Ok", false);
	ev_rcpt(f, "Cd", PC, MX1, 1, "pc@example.net", "b@two.example", "250 2.1.5 Ok", false);
	ev_rcpt(f, "Cd", PC, MX1, 1, "pc@example.net", "c@one.example", "250 2.1.5 Ok", false);
	ev_rcpt(f, "Cd", PC, MX1, 1, "pc@example.net", "d@three.example", "550 5.1.1 User unknown",
		false);
	/* one transaction refused by text and by the rule: once */
	ev_rcpt(f, "Cbl", PC, MX1, 1, "pc@example.net", "y@gmail.example", bl, false);
	ev_sig(f, "Cbl", PC, MX1, 1, 3005, EV_SIGCLASS_BLOCKLIST, 3, EV_SCOPE_REPLY, bl + 4);
	/* it sends as carol; two bounces come back to carol */
	tx = tx_new(f, "Csent", PC, SRV, 1, "carol@example.net");
	tx_auth(tx, "carol");
	tx_rcpt(tx, "someone@gmail.example", 250);
	tx_send(f);
	bounce(f, MX1, "carol@example.net", 1);
	bounce(f, MX1, "carol@example.net", 2);
}

static void test_host_summary_totals(void **state)
{
	struct fx *f = fx_new(true);
	struct detect_host_summary hs;

	(void)state;
	totals_client(f);
	/* spam rules at min_severity (2) count; a severity-1 rule does not */
	ev_sig(f, "Csp", EXT, SRV, 1, 2002, EV_SIGCLASS_SPAM, 2, EV_SCOPE_BODY, "cheap meds");
	ev_sig(f, "Csp", EXT, SRV, 1, 2003, EV_SIGCLASS_PHISH, 3, EV_SCOPE_URL, "http://x.example");
	ev_sig(f, "Csp", EXT, SRV, 1, 2004, EV_SIGCLASS_MAILER, 1, EV_SCOPE_HEADER, "X-Mailer: a");
	assert_int_equal(count_kind(f, ALERT_DIRECT_MX_BOT), 0);
	/* two home servers refuse to relay for EXT */
	ev_rcpt(f, "Cr1", EXT, SRV, 1, "t@probe.example", "c@relay-test.example",
		"554 5.7.1 Relay access denied", false);
	ev_rcpt(f, "Cr2", EXT, RELAY, 1, "t@probe.example", "c@relay-test.example",
		"554 5.7.1 Relay access denied", false);

	/* the windows pass: the sketches forget, the totals do not */
	f->t += 3 * H;
	ev_open(f, "Clate", PC, "192.0.2.9", 25);

	assert_true(host_summary(f, PC, &hs));
	assert_int_equal(hs.distinct_servers, 5);
	assert_int_equal(hs.distinct_rcpt_domains, 2);
	assert_int_equal(hs.blocklist_replies, 1);
	assert_int_equal(hs.bounces, 2);
	assert_int_equal(hs.sig_hits, 0);
	assert_true(host_summary(f, EXT, &hs));
	assert_int_equal(hs.sig_hits, 2);
	assert_int_equal(hs.distinct_servers, 2);
	assert_int_equal(hs.blocklist_replies, 0);
	assert_int_equal(hs.bounces, 0);
	assert_true(host_summary(f, MX1, &hs));
	assert_int_equal(hs.bounces + hs.blocklist_replies + hs.sig_hits + hs.distinct_servers, 0);
	fx_free(f);
}

/* A home server taking mail for foreign domains from foreign clients: the
 * recipient domains it accepted, below the open relay heuristic. */
static void test_host_summary_server_domains(void **state)
{
	struct fx *f = fx_new(false);
	struct detect_host_summary hs;
	char rcpt[64];

	(void)state;
	for (int i = 0; i < 8; i++) {
		snprintf(rcpt, sizeof(rcpt), "user%d@target%d.example", i, i % 4);
		relay_in(f, "Cheu", EXT, rcpt);
	}
	assert_int_equal(count_kind(f, ALERT_OPEN_RELAY), 0);
	assert_true(host_summary(f, SRV, &hs));
	assert_int_equal(hs.distinct_rcpt_domains, 4);
	assert_int_equal(hs.distinct_servers, 0);
	fx_free(f);
}

/* Without home_net nothing is home: a relayed copy and a bot go unjudged,
 * and the engine says home_net is missing; per-source detectors still work. */
static void test_engine_without_home_net(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char mx[32];

	(void)state;
	assert_non_null(f);
	assert_int_equal(config_init(&f->cfg), 0);
	assert_int_equal(detect_engine_create(&f->cfg, on_alert, f, &f->de), 0);
	f->t = T0;
	assert_false(detect_engine_home_configured(f->de));
	relay_in(f, "Cin", EXT, "victim@gmail.example");
	ev_rcpt(f, "Cout", SRV, MX1, 1, "a@spam.example", "victim@gmail.example", "250 2.1.5 Ok",
		false);
	for (int i = 1; i <= 10; i++) {
		snprintf(mx, sizeof(mx), "192.0.2.%d", i);
		ev_open(f, "Cbot", PC, mx, 25);
	}
	for (int i = 0; i < 10; i++)
		ev_auth(f, "Cbf", EXT, SRV, SMTP_AUTH_FAILURE, "admin");
	assert_int_equal(f->n, 1);
	assert_int_equal(f->got[0].kind, ALERT_AUTH_BRUTEFORCE);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alert_rate_limit_updates_and_final_flush),
		cmocka_unit_test(test_engine_tables_bounded_and_evictions_counted),
		cmocka_unit_test(test_engine_drops_malformed_events),
		cmocka_unit_test(test_engine_xdp_source_counters),
		cmocka_unit_test(test_engine_without_home_net),
		cmocka_unit_test(test_host_summary_totals),
		cmocka_unit_test(test_host_summary_server_domains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
