// SPDX-License-Identifier: BSD-3-Clause
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "exporters/alert_json.h"
#include "sensor/netset.h"
#include "privacy_key.h"

static void sample(struct alert *a)
{
	uint8_t fam;

	memset(a, 0, sizeof(*a));
	a->ts_ns = 1699995660123456789ull;
	a->first_ns = 1699995600000000000ull;
	a->kind = ALERT_COMPROMISED_ACCOUNT;
	a->severity = ALERT_SEV_HIGH;
	assert_true(netset_parse_addr("198.51.100.25", &a->host, &fam));
	a->family = fam;
	a->seq = 2;
	a->score = 13.5;
	snprintf(a->account, sizeof(a->account), "alice@example.net");
	snprintf(a->message, sizeof(a->message), "compromised account: alice logged in from 5");
	alert_add_counter(a, "auth_sources", 5, 5, 3600);
	alert_add_example(a, "source", "203.0.113.101", 13);
	alert_add_example(a, "source", "2001:db8::1", 11);
	alert_add_uid(a, "CHhAvVGS1DHFjwGM9");
	alert_add_uid(a, "C4J4Th3PJpwUYZZ6gc");
}

/* Every field the brief names, in a fixed order, as one line. */
static void test_alert_json_line_has_every_field(void **state)
{
	static const char want[] =
		"{\"ts\":1699995660.123457,\"first_ts\":1699995600.000000,"
		"\"kind\":\"compromised_account\",\"severity\":\"high\",\"host\":\"198.51.100.25\","
		"\"account\":\"alice@example.net\",\"score\":13.50,"
		"\"message\":\"compromised account: alice logged in from 5\","
		"\"counters\":[{\"name\":\"auth_sources\",\"value\":5.000,\"threshold\":5.000,"
		"\"window\":3600}],"
		"\"examples\":[{\"field\":\"source\",\"value\":\"203.0.113.101\"},"
		"{\"field\":\"source\",\"value\":\"2001:db8::1\"}],"
		"\"uids\":[\"CHhAvVGS1DHFjwGM9\",\"C4J4Th3PJpwUYZZ6gc\"],\"seq\":2}\n";
	struct alert a;
	char buf[ALERT_JSON_LINE_MAX];
	long n;

	(void)state;
	sample(&a);
	n = alert_json_format(&a, NULL, buf, sizeof(buf));
	assert_int_equal(n, (long)strlen(want));
	assert_string_equal(buf, want);
}

/* Wire text in examples (quotes, control bytes, broken UTF-8) stays valid
 * JSON; a host-only alert has no account key; IPv6 hosts print as such. */
static void test_alert_json_escapes_wire_text(void **state)
{
	struct alert a;
	char buf[ALERT_JSON_LINE_MAX];
	uint8_t fam;

	(void)state;
	sample(&a);
	a.account[0] = '\0';
	assert_true(netset_parse_addr("2001:db8:100::77", &a.host, &fam));
	a.family = fam;
	a.n_examples = 0;
	alert_add_example(&a, "reply", "550 \"no\"\r\n\x01\xff", 13);
	assert_true(alert_json_format(&a, NULL, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "\"account\""));
	assert_non_null(strstr(buf, "\"host\":\"2001:db8:100::77\""));
	assert_non_null(strstr(buf, "550 \\\"no\\\"\\r\\n\\u0001\\\\xff"));
	assert_null(strchr(buf, '\r'));
}

/* A full alert at its largest fits ALERT_JSON_LINE_MAX; a short buffer is
 * refused, never overrun. */
static void test_alert_json_bounds(void **state)
{
	struct alert a;
	char buf[ALERT_JSON_LINE_MAX + 16];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(a.account, '"', sizeof(a.account) - 1);
	memset(a.message, '\x01', sizeof(a.message) - 1);
	for (int i = 0; i < ALERT_MAX_COUNTERS; i++)
		alert_add_counter(&a, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1e300, -1e300, UINT32_MAX);
	for (int i = 0; i < ALERT_MAX_EXAMPLES; i++) {
		char v[ALERT_EXAMPLE_MAX];

		memset(v, '\x02', sizeof(v));
		v[0] = (char)('a' + i);
		alert_add_example(&a, "field_name_is_long_yes", v, sizeof(v));
	}
	for (int i = 0; i < ALERT_MAX_UIDS; i++) {
		char u[FLOW_UID_LEN + 1];

		snprintf(u, sizeof(u), "C%017d", i);
		alert_add_uid(&a, u);
	}
	assert_true(alert_json_format(&a, NULL, buf, ALERT_JSON_LINE_MAX) > 0);
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(alert_json_format(&a, NULL, buf, 100), -1);
	assert_int_equal(buf[100], 'Z');
}

/* privacy.pseudonymize_ips: the host and the addresses in the examples and
 * the message are pseudonyms; the account (a pseudonym already when
 * privacy.pseudonymize is on) and the rest are as given. */
static void test_alert_json_ip_pseudonyms(void **state)
{
	struct privacy *p = privacy_key_make("alert-json-test-key-0123456789abcdef");
	struct alert a;
	char buf[ALERT_JSON_LINE_MAX], want[128], h[INET6_ADDRSTRLEN];

	(void)state;
	sample(&a);
	snprintf(a.message, sizeof(a.message), "open relay: 198.51.100.25 relayed for 2001:db8::1");
	assert_true(alert_json_format(&a, p, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "198.51.100.25"));
	assert_null(strstr(buf, "203.0.113.101"));
	assert_null(strstr(buf, "2001:db8::1"));
	snprintf(want, sizeof(want), "\"host\":\"%s\"",
		 privacy_ip_text(p, a.family, &a.host, h, sizeof(h)));
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "\"message\":\"open relay: %s relayed for 100::", h);
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "{\"field\":\"source\",\"value\":\"100::"));
	assert_non_null(strstr(buf, "\"account\":\"alice@example.net\""));
	privacy_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alert_json_line_has_every_field),
		cmocka_unit_test(test_alert_json_escapes_wire_text),
		cmocka_unit_test(test_alert_json_bounds),
		cmocka_unit_test(test_alert_json_ip_pseudonyms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
