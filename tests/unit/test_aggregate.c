// SPDX-License-Identifier: BSD-3-Clause
/*
 * Aggregation across sensors and the combined score, on a real SQLite store:
 * the numbers below are the formula of aggregate.h worked by hand.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "collector/aggregate.h"
#include "collector/store.h"
#include "store_tmp.h"

#define NS 1000000000ull
#define T0 (1700000000 * NS)

#define setup	 store_tmp_setup
#define teardown store_tmp_teardown

static uint64_t next_seq;

static void put_alert(struct store *st, const char *sensor, const char *host, const char *kind,
		      const char *severity, const char *account, uint32_t alert_seq, uint64_t ts)
{
	struct store_alert a = {
		.key = {sensor, 1, ++next_seq},
		.recv_ns = T0,
		.ts_ns = ts,
		.first_ns = ts - 60 * NS,
		.kind = kind,
		.severity = severity,
		.host = host,
		.account = account,
		.message = "m",
		.alert_seq = alert_seq,
		.evidence_json = "{\"counters\":[],\"examples\":[],\"uids\":[]}",
		.evidence_text = "",
	};

	assert_int_equal(store_put_alert(st, &a), 1);
}

static void put_summary(struct store *st, const char *sensor, uint64_t run, const char *host,
			uint64_t ts, uint64_t blocklist, uint64_t servers)
{
	struct store_summary s = {
		.key = {sensor, run, ++next_seq},
		.recv_ns = T0,
		.ts_ns = ts,
		.period_s = 60,
		.host = host,
		.home = true,
		.first_seen_ns = T0 - 3600 * NS,
		.last_seen_ns = ts,
	};

	s.c[STORE_SUM_blocklist_replies] = blocklist;
	s.c[STORE_SUM_distinct_servers] = servers;
	s.c[STORE_SUM_messages] = 10;
	assert_int_equal(store_put_summary(st, &s), 1);
}

static const struct agg_host *find(const struct agg_result *r, const char *host, size_t *rank)
{
	for (size_t i = 0; i < r->n_hosts; i++) {
		if (strcmp(r->hosts[i].host, host) == 0) {
			if (rank)
				*rank = i + 1;
			return &r->hosts[i];
		}
	}
	return NULL;
}

static void fill(struct store *st)
{
	/* A: one critical open relay on one tap. */
	put_alert(st, "tap-a", "192.0.2.1", "open_relay", "critical", "", 0, T0 + 10 * NS);
	/* B: brute force on tap-a (raised, then updated), relay probing on tap-b. */
	put_alert(st, "tap-a", "192.0.2.2", "auth_bruteforce", "high", "", 0, T0 + 20 * NS);
	put_alert(st, "tap-a", "192.0.2.2", "auth_bruteforce", "high", "", 1, T0 + 30 * NS);
	put_alert(st, "tap-b", "192.0.2.2", "relay_probe", "medium", "", 0, T0 + 25 * NS);
	/* C: no alert anywhere; 3 blocklist replies seen at each of three taps. An
	 * older row of the same run said 100: running totals, only the newest counts. */
	put_summary(st, "tap-a", 1, "192.0.2.3", T0 - 60 * NS, 100, 1);
	put_summary(st, "tap-a", 1, "192.0.2.3", T0, 3, 1);
	put_summary(st, "tap-b", 1, "192.0.2.3", T0, 3, 1);
	put_summary(st, "tap-c", 1, "192.0.2.3", T0, 3, 1);
	/* D: summaries without evidence. */
	put_summary(st, "tap-a", 1, "192.0.2.4", T0, 0, 1);
	/* alice: one account, one detector, two source hosts. */
	put_alert(st, "tap-a", "198.51.100.1", "compromised_account", "high", "alice", 0, T0);
	put_alert(st, "tap-a", "198.51.100.2", "compromised_account", "high", "alice", 0, T0);
}

/* The worked examples of the formula, and the order they rank in. */
static void test_aggregate_scores_and_ranking(void **state)
{
	struct agg_opts o = {.min_score = 2};
	const struct agg_host *h;
	struct agg_result *r;
	size_t rank = 0;

	fill(*state);
	assert_int_equal(aggregate_build(*state, &o, &r), 0);
	assert_int_equal(r->hosts_seen, 6);
	assert_int_equal(r->n_hosts, 5); /* D is below min_score */
	/* A: 16 + 2 log2(2) */
	h = find(r, "192.0.2.1", &rank);
	assert_non_null(h);
	assert_int_equal(rank, 1);
	assert_true(h->score == 18.0);
	/* B: 8 + 2 log2(1 + 2) + 2 (two kinds) + 4 (two sensors) = 17.17 */
	h = find(r, "192.0.2.2", &rank);
	assert_int_equal(rank, 2);
	assert_true(fabs(h->score - 17.17) < 1e-9);
	assert_int_equal(h->alerts, 3);
	assert_int_equal(h->incidents, 2);
	assert_int_equal(h->n_kinds, 2);
	assert_string_equal(h->kinds[0].kind, "auth_bruteforce"); /* worst first */
	assert_int_equal(h->evidence.n, 2);
	/* C: no alert; E = 2 log2(1 + 9) = 6.64, + 4 * (3 sensors - 1) = 14.64 */
	h = find(r, "192.0.2.3", &rank);
	assert_int_equal(rank, 3);
	assert_int_equal(h->c[STORE_SUM_blocklist_replies], 9);
	assert_true(fabs(h->summary_score - 6.64) < 1e-9);
	assert_true(fabs(h->score - 14.64) < 1e-9);
	assert_int_equal(h->n_kinds, 0);
	/* the two hosts alice came from: 8 + 2 each; equal scores rank by name */
	h = find(r, "198.51.100.1", &rank);
	assert_int_equal(rank, 4);
	assert_true(h->score == 10.0);
	assert_string_equal(h->accounts.name[0], "alice");
	assert_null(find(r, "192.0.2.4", NULL));
	aggregate_free(r);
}

/* An account across hosts: 8 + 2 log2(1 + 2) + 2 log2(2 hosts) = 13.17. */
static void test_aggregate_accounts_across_hosts(void **state)
{
	struct agg_opts o = {.min_score = 0};
	struct agg_result *r;

	fill(*state);
	assert_int_equal(aggregate_build(*state, &o, &r), 0);
	assert_int_equal(r->n_accounts, 1);
	assert_string_equal(r->accounts[0].account, "alice");
	assert_int_equal(r->accounts[0].hosts.n, 2);
	assert_true(fabs(r->accounts[0].score - 13.17) < 1e-9);
	assert_int_equal(r->n_hosts, 6); /* min_score 0: D too */
	aggregate_free(r);
}

/* top cuts the ranking; a host filter sees one host only. */
static void test_aggregate_top_and_host_filter(void **state)
{
	struct agg_opts o = {.min_score = 0, .top = 2};
	struct agg_result *r;

	fill(*state);
	assert_int_equal(aggregate_build(*state, &o, &r), 0);
	assert_int_equal(r->n_hosts, 2);
	assert_string_equal(r->hosts[0].host, "192.0.2.1");
	aggregate_free(r);
	o = (struct agg_opts){.host = "192.0.2.2", .min_score = -1};
	assert_int_equal(aggregate_build(*state, &o, &r), 0);
	assert_int_equal(r->n_hosts, 1);
	assert_int_equal(r->hosts[0].alerts, 3);
	aggregate_free(r);
}

/* The summary terms one by one, and the cap. */
static void test_aggregate_summary_evidence_terms(void **state)
{
	struct agg_host h = {.home = true};

	(void)state;
	assert_true(aggregate_summary_score(&h) == 0);
	h.c[STORE_SUM_recipients] = 40;
	h.c[STORE_SUM_rcpt_rejected] = 20; /* half rejected, enough volume: 4 * 0.5 */
	assert_true(fabs(aggregate_summary_score(&h) - 2.0) < 1e-9);
	h.c[STORE_SUM_recipients] = 4;
	h.c[STORE_SUM_rcpt_rejected] = 2; /* same share, 4 of 20 recipients: 2 * 0.2 */
	assert_true(fabs(aggregate_summary_score(&h) - 0.4) < 1e-9);
	memset(h.c, 0, sizeof(h.c));
	h.c[STORE_SUM_distinct_servers] = 31; /* direct to MX: log2(32) - 1 */
	assert_true(fabs(aggregate_summary_score(&h) - 4.0) < 1e-9);
	h.mail_server = true; /* a mail server talks to many servers */
	assert_true(aggregate_summary_score(&h) == 0);
	h.c[STORE_SUM_signature_hits] = 1u << 20;
	h.c[STORE_SUM_auth_failure] = 1u << 20;
	assert_true(aggregate_summary_score(&h) == AGG_SUMMARY_CAP);
	assert_true(aggregate_severity_weight("critical") == 16);
	assert_true(aggregate_severity_weight("info") == 1);
	assert_true(aggregate_severity_weight("bogus") == 0);
}

/* An alert seen only as updates (its first frame never arrived) is one incident. */
static void test_aggregate_updates_only_count_once(void **state)
{
	struct agg_opts o = {.min_score = 0};
	struct agg_result *r;

	put_alert(*state, "tap-a", "192.0.2.8", "volume_anomaly", "medium", "", 3, T0);
	put_alert(*state, "tap-a", "192.0.2.8", "volume_anomaly", "medium", "", 4, T0 + NS);
	assert_int_equal(aggregate_build(*state, &o, &r), 0);
	assert_int_equal(r->n_hosts, 1);
	assert_int_equal(r->hosts[0].incidents, 1);
	assert_true(r->hosts[0].score == 6.0); /* 4 + 2 log2(2) */
	aggregate_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aggregate_scores_and_ranking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_accounts_across_hosts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_aggregate_top_and_host_filter, setup,
						teardown),
		cmocka_unit_test(test_aggregate_summary_evidence_terms),
		cmocka_unit_test_setup_teardown(test_aggregate_updates_only_count_once, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
