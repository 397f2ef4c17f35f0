// SPDX-License-Identifier: BSD-3-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "exporters/export_json.h"
#include "sensor/netset.h"
#include "privacy_key.h"

static struct smtp_tx *make_tx(void)
{
	static struct smtp_tx tx;
	uint8_t fam;

	smtp_tx_init(&tx, NULL, 1254722767492060000ull);
	memcpy(tx.uid, "CHhAvVGS1DHFjwGM9", 18);
	netset_parse_addr("10.10.1.4", &tx.orig_h, &fam);
	netset_parse_addr("74.53.140.153", &tx.resp_h, &fam);
	tx.family = fam;
	tx.orig_p = 1470;
	tx.resp_p = 25;
	tx.trans_depth = 1;
	smtp_tx_set(&tx, SMTP_F_HELO, "GP", 2);
	smtp_tx_set(&tx, SMTP_F_MAILFROM, "gurpartap@patriots.in", 21);
	smtp_tx_add_rcpt(&tx, "raj_deol2002in@yahoo.co.in", 26);
	tx.rcpt[0].code = 250;
	tx.rcpt[0].enh_class = 2, tx.rcpt[0].enh_subject = 1, tx.rcpt[0].enh_detail = 5;
	tx.n_rcpt_accepted = 1;
	smtp_tx_add_rcpt(&tx, "nobody@example.org", 18);
	tx.rcpt[1].code = 550;
	tx.n_rcpt_rejected = 1;
	smtp_tx_set(&tx, SMTP_F_SUBJECT, "\xe6\x97\xa5\xe6\x9c\xac \"q\"", 10);
	smtp_tx_add_to(&tx, "<raj_deol2002in@yahoo.co.in>", 28);
	smtp_tx_set(&tx, SMTP_F_LAST_REPLY, "250 OK id=1Mugho-0003Dg-Un", 26);
	smtp_tx_set(&tx, SMTP_F_AUTH_USER, "gurpartap", 9);
	tx.auth_result = SMTP_AUTH_SUCCESS;
	tx.flags |= SMTP_TX_F_DATA | SMTP_TX_F_PIPELINED;
	tx.msg_size = 1234;
	return &tx;
}

static void expect_has(const char *line, const char *needle)
{
	if (!strstr(line, needle))
		fail_msg("'%s' not in %s", needle, line);
}

/* Zeek smtp.log names and forms for the fields the corpus compares. */
static void test_export_json_zeek_field_names(void **state)
{
	char buf[8192];
	long n;

	(void)state;
	n = export_json_format_tx(make_tx(), NULL, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	expect_has(buf, "{\"ts\":1254722767.492060,\"uid\":\"CHhAvVGS1DHFjwGM9\"");
	expect_has(buf, "\"id.orig_h\":\"10.10.1.4\",\"id.orig_p\":1470");
	expect_has(buf, "\"id.resp_h\":\"74.53.140.153\",\"id.resp_p\":25,\"trans_depth\":1");
	expect_has(buf, "\"helo\":\"GP\",\"mailfrom\":\"gurpartap@patriots.in\"");
	expect_has(buf, "\"rcptto\":[\"raj_deol2002in@yahoo.co.in\",\"nobody@example.org\"]");
	expect_has(buf, "{\"addr\":\"raj_deol2002in@yahoo.co.in\",\"code\":250,\"accepted\":true,"
			"\"status\":\"2.1.5\"}");
	expect_has(buf, "{\"addr\":\"nobody@example.org\",\"code\":550,\"accepted\":false}");
	expect_has(buf, "\"to\":[\"<raj_deol2002in@yahoo.co.in>\"]");
	expect_has(buf, "\"subject\":\"\xe6\x97\xa5\xe6\x9c\xac \\\"q\\\"\"");
	expect_has(buf, "\"last_reply\":\"250 OK id=1Mugho-0003Dg-Un\"");
	expect_has(buf, "\"tls\":false");
	expect_has(buf, "\"auth_user\":\"gurpartap\",\"auth_result\":\"success\"");
	expect_has(buf, "\"msg_size\":1234");
	expect_has(buf, "\"pipelined\":true");
	assert_null(strstr(buf, "\"cc\""));
	assert_null(strstr(buf, "\"session_only\""));
}

/* A session record has no trans_depth and no envelope. */
static void test_export_json_session_record(void **state)
{
	struct smtp_tx *tx = make_tx();
	char buf[8192];

	(void)state;
	tx->flags |= SMTP_TX_F_SESSION;
	assert_true(export_json_format_tx(tx, NULL, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "trans_depth"));
	assert_null(strstr(buf, "mailfrom"));
	expect_has(buf, "\"session_only\":true");
}

static void test_export_json_small_buffer_fails_cleanly(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(export_json_format_tx(make_tx(), NULL, buf, sizeof(buf)), -1);
}

static void test_export_json_files(void **state)
{
	char dir[] = "/tmp/rw-ej-XXXXXX", path[256], line[8192];
	struct errbuf eb = {""};
	struct export_json *ej;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(export_json_open(dir, &ej, &eb), 0);
	export_json_tx(ej, make_tx());
	export_json_tx(ej, make_tx());
	assert_int_equal(export_json_flush(ej), 0);
	assert_int_equal(export_json_stats(ej)->tx_lines, 2);
	export_json_close(ej);
	snprintf(path, sizeof(path), "%s/smtp.json", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_non_null(fgets(line, sizeof(line), f));
	assert_null(fgets(line, sizeof(line), f));
	fclose(f);
	unlink(path);
	snprintf(path, sizeof(path), "%s/alerts.json", dir);
	unlink(path);
	rmdir(dir);
	assert_int_equal(export_json_open("/proc/no/such/dir", &ej, &eb), -ENOENT);
}

/* privacy.pseudonymize_ips: the endpoints, the path, a HELO address literal,
 * X-Originating-IP, Received: and the reply name only the pseudonyms
 * privacy_ip gives; without the setting the same record is as seen. */
static void test_export_json_ip_pseudonyms(void **state)
{
	static const char *const clear[] = {"10.10.1.4", "74.53.140.153", "192.0.2.99",
					    "2001:db8::25"};
	struct privacy *p = privacy_key_make("export-json-test-key-0123456789abcdef");
	struct smtp_tx *tx = make_tx();
	char buf[8192], want[64], a[INET6_ADDRSTRLEN];

	(void)state;
	smtp_tx_set(tx, SMTP_F_HELO, "[192.0.2.99]", 12);
	smtp_tx_set(tx, SMTP_F_X_ORIGINATING_IP, "192.0.2.99", 10);
	smtp_tx_set(tx, SMTP_F_FIRST_RECEIVED, "from x ([IPv6:2001:db8::25]) by y", 33);
	smtp_tx_add_path(tx, "74.53.140.153", 13);
	smtp_tx_add_path(tx, "10.10.1.4", 9);
	assert_true(export_json_format_tx(tx, NULL, buf, sizeof(buf)) > 0);
	for (size_t k = 0; k < sizeof(clear) / sizeof(clear[0]); k++)
		expect_has(buf, clear[k]);

	assert_true(export_json_format_tx(tx, p, buf, sizeof(buf)) > 0);
	for (size_t k = 0; k < sizeof(clear) / sizeof(clear[0]); k++)
		if (strstr(buf, clear[k]))
			fail_msg("'%s' in %s", clear[k], buf);
	snprintf(want, sizeof(want), "\"id.orig_h\":\"%s\"",
		 privacy_ip_text(p, 4, &tx->orig_h, a, sizeof(a)));
	expect_has(buf, want);
	snprintf(want, sizeof(want), "\"path\":[\"%s\",",
		 privacy_ip_text(p, 4, &tx->resp_h, a, sizeof(a)));
	expect_has(buf, want);
	expect_has(buf, "\"helo\":\"[2"); /* 240.0.0.0/4 */
	expect_has(buf, "([IPv6:100::");
	expect_has(buf, "\"mailfrom\":\"gurpartap@patriots.in\""); /* not this setting's */
	privacy_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_json_zeek_field_names),
		cmocka_unit_test(test_export_json_session_record),
		cmocka_unit_test(test_export_json_small_buffer_fails_cleanly),
		cmocka_unit_test(test_export_json_files),
		cmocka_unit_test(test_export_json_ip_pseudonyms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
