// SPDX-License-Identifier: BSD-3-Clause
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
#include "sensor/report.h"

#define S  1000000000ull
#define T0 (1699995600ull * S)

struct fx {
	struct config cfg;
	struct detect_engine *de;
	uint64_t t;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct errbuf eb;

	assert_non_null(f);
	assert_int_equal(config_init(&f->cfg), 0);
	assert_int_equal(netset_add_cidr(&f->cfg.home_net, "198.51.100.0/24", &eb), 0);
	netset_finish(&f->cfg.home_net);
	f->cfg.limits.hosts = 256;
	f->cfg.limits.accounts = 256;
	assert_int_equal(detect_engine_create(&f->cfg, NULL, NULL, &f->de), 0);
	f->t = T0;
	return f;
}

static void fx_free(struct fx *f)
{
	detect_engine_destroy(f->de);
	config_fini(&f->cfg);
	free(f);
}

static void hdr(struct fx *f, struct event_hdr *h, enum event_type t, size_t len, const char *uid,
		const char *cli, const char *srv)
{
	uint8_t fam;

	memset(h, 0, sizeof(*h));
	h->type = (uint16_t)t;
	h->len = (uint32_t)len;
	h->ts_ns = f->t;
	snprintf(h->uid, sizeof(h->uid), "%s", uid);
	assert_true(netset_parse_addr(cli, &h->client, &fam));
	assert_true(netset_parse_addr(srv, &h->server, &h->family));
	h->server_port = 25;
}

static void auth(struct fx *f, const char *cli, enum smtp_auth_result r, const char *user)
{
	struct event_auth e;

	memset(&e, 0, sizeof(e));
	hdr(f, &e.h, EV_AUTH, sizeof(e), "Cauth", cli, "198.51.100.25");
	e.result = (uint8_t)r;
	e.user_len = event_copy_text(e.user, sizeof(e.user), user, strlen(user));
	detect_engine_event(f->de, &e.h);
	f->t += S;
}

static void rcpt(struct fx *f, const char *uid, const char *cli, const char *srv, const char *to)
{
	struct event_rcpt e;

	memset(&e, 0, sizeof(e));
	hdr(f, &e.h, EV_RCPT, sizeof(e), uid, cli, srv);
	e.code = 250;
	e.trans_depth = 1;
	e.mailfrom_len = event_copy_text(e.mailfrom, sizeof(e.mailfrom), "a@spam.example", 14);
	e.rcpt_len = event_copy_text(e.rcpt, sizeof(e.rcpt), to, strlen(to));
	detect_engine_event(f->de, &e.h);
	f->t += S;
}

static char *render(struct fx *f, enum config_report fmt, unsigned int top)
{
	char *buf = NULL, *out;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_int_equal(report_write(m, f->de, fmt, top, NULL), 0);
	fclose(m);
	/* A copy: gcc 12 takes buf, whose address the stream held, for a pointer
	 * into this frame (-Wdangling-pointer in release builds). */
	out = strdup(buf);
	free(buf);
	assert_non_null(out);
	return out;
}

/* The JSON document is fixed to the byte for a given run: order, keys,
 * number formats and UTC times. */
static void test_report_json_is_stable(void **state)
{
	static const char want[] =
		"{\"engine\":{\"home_net_configured\":true,\"hosts\":1,\"hosts_evicted\":0,"
		"\"accounts\":0,\"accounts_evicted\":0,\"servers_learned\":0,"
		"\"domains_learned\":0,\"alerts\":1,\"alerts_updated\":0},"
		"\"hosts\":[{\"rank\":1,\"host\":\"203.0.113.5\",\"score\":14.90,\"sprt\":20.69,"
		"\"home\":false,\"mail_server\":false,\"first_seen\":\"2023-11-14T21:00:00Z\","
		"\"last_seen\":\"2023-11-14T21:00:09Z\",\"kinds\":[\"auth_bruteforce\"],"
		"\"totals\":{\"sessions_out\":0,\"sessions_in\":0,\"messages\":0,\"rcpts\":0,"
		"\"rcpts_rejected\":0,\"auth_ok\":0,\"auth_failed\":10},"
		"\"alerts\":[{\"kind\":\"auth_bruteforce\",\"severity\":\"high\",\"updates\":0,"
		"\"first\":\"2023-11-14T21:00:00Z\",\"last\":\"2023-11-14T21:00:09Z\","
		"\"message\":\"AUTH brute force: 10 failed logins within 10m\","
		"\"counts\":{\"auth_failures\":[10.000,10.000,600]},"
		"\"evidence\":{\"user\":[\"admin\",\"ro\\\"ot\"],\"server\":[\"198.51.100.25\"]},"
		"\"flows\":[\"Cauth\"]}]}],\"accounts\":[]}\n";
	struct fx *f = fx_new();
	char *got;

	(void)state;
	for (int i = 0; i < 10; i++)
		auth(f, "203.0.113.5", SMTP_AUTH_FAILURE, i % 2 ? "ro\"ot" : "admin");
	got = render(f, CONFIG_REPORT_JSON, 0);
	assert_string_equal(got, want);
	free(got);
	fx_free(f);
}

/* Set up: an open relay (critical), a brute forcer (high + SPRT), a
 * compromised account, and a quiet host that must not be listed. */
static struct fx *three_findings(void)
{
	struct fx *f = fx_new();
	char src[32];

	rcpt(f, "Cin", "203.0.113.9", "198.51.100.25", "victim@gmail.example");
	rcpt(f, "Cout", "198.51.100.25", "192.0.2.80", "victim@gmail.example");
	for (int i = 0; i < 10; i++)
		auth(f, "203.0.113.5", SMTP_AUTH_FAILURE, "admin");
	for (int i = 1; i <= 5; i++) {
		snprintf(src, sizeof(src), "192.0.2.%d", 10 + i);
		auth(f, src, SMTP_AUTH_SUCCESS, "alice");
	}
	auth(f, "198.51.100.200", SMTP_AUTH_SUCCESS, "quiet");
	return f;
}

static void test_report_ranks_relays_first(void **state)
{
	struct fx *f = three_findings();
	char *got = render(f, CONFIG_REPORT_JSON, 0), *srv, *ext, *acct;

	(void)state;
	srv = strstr(got, "\"host\":\"198.51.100.25\"");
	ext = strstr(got, "\"host\":\"203.0.113.5\"");
	acct = strstr(got, "\"account\":\"alice\",\"type\":\"user\"");
	assert_non_null(srv);
	assert_non_null(ext);
	assert_non_null(acct);
	assert_true(srv < ext && ext < acct);
	assert_non_null(strstr(got, "\"rank\":1,\"host\":\"198.51.100.25\",\"score\":24.00"));
	assert_non_null(strstr(got, "\"kinds\":[\"open_relay\",\"compromised_account\"]"));
	assert_null(strstr(got, "198.51.100.200"));
	assert_null(strstr(got, "quiet"));
	free(got);
	/* top 1: the relay only */
	got = render(f, CONFIG_REPORT_JSON, 1);
	assert_non_null(strstr(got, "198.51.100.25"));
	assert_null(strstr(got, "\"host\":\"203.0.113.5\""));
	free(got);
	fx_free(f);
}

static void test_report_table_is_readable(void **state)
{
	struct fx *f = three_findings();
	char *got = render(f, CONFIG_REPORT_TABLE, 0);

	(void)state;
	assert_non_null(strstr(got, "2 host(s) and 1 account(s) with evidence"));
	assert_non_null(strstr(got, "  1  198.51.100.25"));
	assert_non_null(
		strstr(got, "open_relay (critical, 0 updates): relayed_copies 1 >= 1 in 1h\n"));
	assert_non_null(strstr(got, "relayed_rcpt: victim@gmail.example"));
	assert_non_null(strstr(got, "flows: Cin Cout"));
	assert_non_null(strstr(got, "compromised_account (high, account alice"));
	assert_non_null(strstr(got, "\naccounts\n"));
	free(got);
	got = render(f, CONFIG_REPORT_NONE, 0);
	assert_string_equal(got, "");
	free(got);
	fx_free(f);
}

/* The host iterator gives every host once, with its summary counters. */
static void test_report_host_iterator(void **state)
{
	struct fx *f = three_findings();
	struct detect_host_summary hs;
	uint32_t cur = 0, n = 0, fails = 0;

	(void)state;
	while (detect_engine_host_next(f->de, &cur, &hs)) {
		n++;
		fails += hs.auth_fail;
		if (hs.kinds & (1u << ALERT_OPEN_RELAY))
			assert_true(hs.home);
	}
	assert_int_equal(n, detect_engine_stats(f->de)->hosts);
	assert_int_equal(fails, 10);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_json_is_stable),
		cmocka_unit_test(test_report_ranks_relays_first),
		cmocka_unit_test(test_report_table_is_readable),
		cmocka_unit_test(test_report_host_iterator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
