// SPDX-License-Identifier: BSD-3-Clause
/*
 * The collector's relay report in its three forms, from a real store that
 * holds hostile text: the HTML page must be self-contained (no reference to
 * anything outside it in any tag or attribute, a CSP that forbids fetching)
 * and escape what sensors sent; JSON keeps its field names; the table lists
 * the hosts in rank order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include "collector/report.h"
#include "collector/store.h"
#include "store_tmp.h"

#define NS 1000000000ull
#define T0 (1700000000 * NS)

static void put_alert(struct store *st, uint64_t seq, const char *host, const char *kind,
		      const char *severity, const char *message, const char *example)
{
	char ev[512];
	struct store_alert a = {
		.key = {"tap-a", 1, seq},
		.recv_ns = T0,
		.ts_ns = T0 + seq * NS,
		.first_ns = T0,
		.kind = kind,
		.severity = severity,
		.host = host,
		.account = "",
		.message = message,
		.evidence_json = ev,
		.evidence_text = example,
	};

	snprintf(ev, sizeof(ev),
		 "{\"counters\":[],\"examples\":[{\"field\":\"url\",\"value\":"
		 "\"x\"}],\"uids\":[]}");
	assert_int_equal(store_put_alert(st, &a), 1);
}

static int setup(void **state)
{
	struct store *st;

	if (store_tmp_setup(state))
		return -1;
	st = *state;
	put_alert(st, 1, "192.0.2.10", "open_relay", "critical",
		  "relay for <script>alert(1)</script>", "rcpt_domain=victim.example");
	put_alert(st, 2, "192.0.2.10", "content_signature", "medium", "phish \"link\"",
		  "url=https://evil.example/login?a=1&b=2 and http://x.example/");
	put_alert(st, 3, "2001:db8::5", "auth_bruteforce", "high", "user' onmouseover='alert(2)",
		  "user=<img src=http://track.example/p.gif>");
	{
		struct store_summary s = {.key = {"tap-b", 2, 1},
					  .recv_ns = T0,
					  .ts_ns = T0,
					  .period_s = 60,
					  .host = "192.0.2.10",
					  .home = true,
					  .first_seen_ns = T0,
					  .last_seen_ns = T0};

		s.c[STORE_SUM_messages] = 40;
		assert_int_equal(store_put_summary(st, &s), 1);
	}
	return 0;
}

#define teardown store_tmp_teardown

static char *render(struct store *st, enum report_format fmt)
{
	struct report_opts o = {.min_score = 1};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(report_write(f, st, fmt, &o), 0);
	fclose(f);
	return buf;
}

/* Inside every tag: no scheme-qualified or protocol-relative URL, no src/href
 * to elsewhere; text between tags may mention URLs (escaped evidence). */
static void assert_tags_self_contained(const char *html)
{
	const char *p = html;

	while ((p = strchr(p, '<')) != NULL) {
		const char *end = strchr(p, '>');
		char tag[4096];
		size_t n;

		assert_non_null(end);
		n = (size_t)(end - p) < sizeof(tag) - 1 ? (size_t)(end - p) : sizeof(tag) - 1;
		memcpy(tag, p, n);
		tag[n] = '\0';
		if (strcasestr(tag, "http://") || strcasestr(tag, "https://") ||
		    strstr(tag, "//") || strcasestr(tag, "src=") || strcasestr(tag, "url(") ||
		    strcasestr(tag, "<link") || strcasestr(tag, "<iframe") ||
		    strcasestr(tag, "<img") || strcasestr(tag, "@import"))
			fail_msg("external reference in tag: %s", tag);
		if (strcasestr(tag, "href=") && !strstr(tag, "href=\"#"))
			fail_msg("link out of the page: %s", tag);
		p = end + 1;
	}
}

static void test_report_html_is_self_contained(void **state)
{
	char *html = render(*state, REPORT_HTML);

	assert_tags_self_contained(html);
	assert_non_null(strstr(html, "<!DOCTYPE html>"));
	assert_non_null(strstr(html, "Content-Security-Policy\" content=\"default-src 'none'"));
	/* inline only: a style block, one script block without src */
	assert_non_null(strstr(html, "<style>"));
	assert_non_null(strstr(html, "<script>\n"));
	assert_null(strstr(html, "<script src"));
	/* the hosts and a timeline per host */
	assert_non_null(strstr(html, "192.0.2.10"));
	assert_non_null(strstr(html, "2001:db8::5"));
	assert_non_null(strstr(html, "<svg class=\"timeline\""));
	assert_non_null(strstr(html, "<polyline")); /* tap-b's message counter */
	free(html);
}

/* What sensors sent is text: markup from the wire is escaped, never live. */
static void test_report_html_escapes_sensor_text(void **state)
{
	char *html = render(*state, REPORT_HTML);

	assert_null(strstr(html, "<script>alert(1)"));
	assert_non_null(strstr(html, "relay for &lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_null(strstr(html, "<img"));
	assert_non_null(strstr(html, "user=&lt;img src=http://track.example/p.gif&gt;"));
	assert_non_null(strstr(html, "user&#39; onmouseover=&#39;alert(2)"));
	assert_non_null(strstr(html, "a=1&amp;b=2"));
	free(html);
}

static void test_report_json_field_names(void **state)
{
	static const char *const keys[] = {
		"\"generated_at\":",
		"\"hosts_seen\":2",
		"\"score_formula\":",
		"\"rank\":1",
		"\"host\":\"192.0.2.10\"",
		"\"score\":",
		"\"score_parts\":{\"severity_weight\":16,",
		"\"first_seen\":",
		"\"last_seen\":",
		"\"sensors\":[\"tap-a\",\"tap-b\"]",
		"\"kinds\":[{\"kind\":\"open_relay\",\"severity\":\"critical\"",
		"\"evidence_text\":",
		"\"examples\":[{\"field\":\"url\"",
		"\"summary\":{\"home\":true,",
		"\"messages\":40",
		"\"accounts\":[]",
	};
	char *json = render(*state, REPORT_JSON);

	for (unsigned int i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strstr(json, keys[i]))
			fail_msg("JSON report lacks %s:\n%s", keys[i], json);
	assert_non_null(strstr(json, "relay for <script>alert(1)</script>")); /* JSON: as is */
	free(json);
}

static void test_report_table_ranks_hosts(void **state)
{
	char *t = render(*state, REPORT_TABLE);
	char *first = strstr(t, "192.0.2.10"), *second = strstr(t, "2001:db8::5");

	assert_non_null(first);
	assert_non_null(second);
	assert_true(first < second);
	assert_non_null(strstr(t, "2 hosts ranked of 2 seen"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report_html_is_self_contained, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_report_html_escapes_sensor_text, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_report_json_field_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_table_ranks_hosts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
