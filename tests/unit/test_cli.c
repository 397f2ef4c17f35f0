// SPDX-License-Identifier: BSD-3-Clause
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/cli.h"

#define ARGV(...)	  ((char *[]){"relaywatch", __VA_ARGS__, NULL})
#define ARGC(...)	  ((int)(sizeof((char *[]){"relaywatch", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, eb, ...) cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (eb))

static void test_cli_offline_run(void **state)
{
	struct errbuf eb = {""};
	struct cli_opts o;

	(void)state;
	assert_int_equal(PARSE(&o, &eb, "-r", "x.pcap", "-l", "out", "--workers", "2", "--home-net",
			       "198.51.100.0/24", "--home-net", "2001:db8::/32", "--report", "json",
			       "--preload"),
			 0);
	assert_int_equal(o.mode, SOURCE_PCAP);
	assert_string_equal(o.read_file, "x.pcap");
	assert_string_equal(o.log_dir, "out");
	assert_int_equal(o.workers, 2);
	assert_int_equal(o.n_home_nets, 2);
	assert_int_equal(o.report, CLI_REPORT_JSON);
	assert_true(o.preload);
	assert_int_equal(o.any_port, -1);
}

/* Everything after "--" belongs to the DPDK EAL, untouched. */
static void test_cli_dpdk_takes_eal_args_after_dashdash(void **state)
{
	struct errbuf eb = {""};
	struct cli_opts o;

	(void)state;
	assert_int_equal(PARSE(&o, &eb, "--dpdk", "-l", "out", "--", "-l", "0-1", "--no-huge",
			       "--vdev", "net_pcap0,rx_pcap=a.pcap"),
			 0);
	assert_int_equal(o.mode, SOURCE_DPDK);
	assert_string_equal(o.log_dir, "out");
	assert_int_equal(o.eal_argc, 5);
	assert_string_equal(o.eal_argv[0], "-l");
	assert_string_equal(o.eal_argv[4], "net_pcap0,rx_pcap=a.pcap");
}

static void expect_error(int rc, const struct errbuf *eb, const char *needle)
{
	assert_int_equal(rc, -EINVAL);
	if (!strstr(eb->msg, needle))
		fail_msg("message '%s' lacks '%s'", eb->msg, needle);
}

/* Every refusal names what is wrong. */
static void test_cli_errors_name_the_problem(void **state)
{
	struct errbuf eb = {""};
	struct cli_opts o;

	(void)state;
	expect_error(PARSE(&o, &eb, "-l", "out"), &eb, "no input");
	expect_error(PARSE(&o, &eb, "-r", "a", "--afxdp", "eth0"), &eb, "exclude each other");
	expect_error(PARSE(&o, &eb, "-r", "a", "--workers", "0"), &eb, "--workers");
	expect_error(PARSE(&o, &eb, "-r", "a", "--workers", "3x"), &eb, "--workers");
	expect_error(PARSE(&o, &eb, "-r", "a", "--report", "xml"), &eb, "--report");
	expect_error(PARSE(&o, &eb, "-r", "a", "--bogus"), &eb, "--bogus");
	expect_error(PARSE(&o, &eb, "-r", "a", "extra"), &eb, "unexpected argument");
	expect_error(PARSE(&o, &eb, "-r", "a", "--", "-l"), &eb, "only for --dpdk");
	expect_error(PARSE(&o, &eb, "--afxdp", "e", "--preload"), &eb, "--preload");
	expect_error(PARSE(&o, &eb, "-r", "a", "--collector", "h:1"), &eb, "--tls-cert");
	expect_error(PARSE(&o, &eb, "-r", "a", "--collector", "h:1", "--collector-plaintext",
			   "--tls-ca", "x"),
		     &eb, "exclude each other");
	expect_error(PARSE(&o, &eb, "-r", "a", "--spool", "/tmp"), &eb, "need --collector");
	expect_error(PARSE(&o, &eb, "-r"), &eb, "missing value");
}

static void test_cli_port_lists(void **state)
{
	struct errbuf eb = {""};
	uint8_t map[8192] = {0};
	uint16_t ports[4], n;

	(void)state;
	assert_int_equal(cli_parse_ports("25,587,2525", map, ports, &n, 4, &eb), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ports[2], 2525);
	assert_true(map[25 >> 3] & (1u << (25 & 7)));
	assert_false(map[26 >> 3] & (1u << (26 & 7)));
	assert_int_equal(cli_parse_ports("25,,26", map, NULL, &n, 4, &eb), -EINVAL);
	assert_int_equal(cli_parse_ports("0", map, NULL, &n, 4, &eb), -EINVAL);
	assert_int_equal(cli_parse_ports("65536", map, NULL, &n, 4, &eb), -EINVAL);
	assert_int_equal(cli_parse_ports("1,2,3,4,5", map, NULL, &n, 4, &eb), -EINVAL);
	assert_int_equal(cli_parse_ports("", map, NULL, &n, 4, &eb), -EINVAL);
}

/* A refused --exit-idle sets nothing: the value it would have read was never
 * written (the earlier good parse leaves its own on the stack). */
static void test_cli_refused_exit_idle_leaves_it_unset(void **state)
{
	struct errbuf eb = {""};
	struct cli_opts o;

	(void)state;
	assert_int_equal(PARSE(&o, &eb, "--dpdk", "--exit-idle", "5"), 0);
	assert_int_equal(o.exit_idle_ms, 5000);
	expect_error(PARSE(&o, &eb, "--dpdk", "--exit-idle", "0"), &eb, "--exit-idle");
	assert_int_equal(o.exit_idle_ms, 0);
	expect_error(PARSE(&o, &eb, "--dpdk", "--exit-idle", "3601"), &eb, "--exit-idle");
	assert_int_equal(o.exit_idle_ms, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_offline_run),
		cmocka_unit_test(test_cli_dpdk_takes_eal_args_after_dashdash),
		cmocka_unit_test(test_cli_errors_name_the_problem),
		cmocka_unit_test(test_cli_port_lists),
		cmocka_unit_test(test_cli_refused_exit_idle_leaves_it_unset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
