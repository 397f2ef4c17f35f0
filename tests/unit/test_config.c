// SPDX-License-Identifier: BSD-3-Clause
/*
 * The YAML loader against real YAML text: the shipped example, every key set
 * to a non-default value, list forms, overlays, detector parameters, and
 * the size, duration and boolean grammars. Error messages, bounds, files and
 * the cross-checks of config_validate are in test_config_errors.c; the
 * helpers both use are config_fx.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <yaml.h>

#include "sensor/alert.h"
#include "sensor/config.h"
#include "config_fx.h"

/* ---- key paths of a YAML text (the test's own walk, libyaml document API) ---- */

#define MAX_PATHS 256

struct paths {
	char p[MAX_PATHS][96];
	unsigned int n;
};

static void paths_walk(yaml_document_t *doc, yaml_node_t *map, const char *prefix,
		       struct paths *out)
{
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		char path[96];

		snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "",
			 (const char *)k->data.scalar.value);
		if (v->type == YAML_MAPPING_NODE) {
			paths_walk(doc, v, path, out);
		} else {
			assert_true(out->n < MAX_PATHS);
			memcpy(out->p[out->n++], path, sizeof(path));
		}
	}
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void paths_of(const char *yaml, struct paths *out)
{
	yaml_parser_t yp;
	yaml_document_t doc;

	out->n = 0;
	assert_true(yaml_parser_initialize(&yp));
	yaml_parser_set_input_string(&yp, (const unsigned char *)yaml, strlen(yaml));
	assert_true(yaml_parser_load(&yp, &doc));
	paths_walk(&doc, yaml_document_get_root_node(&doc), "", out);
	yaml_document_delete(&doc);
	yaml_parser_delete(&yp);
	qsort(out->p, out->n, sizeof(out->p[0]), cmp_path);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* ---- the shipped example ---- */

/* deploy/relaywatch.yaml states every default: loading it changes nothing. */
static void test_config_shipped_example_is_the_defaults(void **state)
{
	struct config cfg, def;
	struct errbuf eb = {""};

	(void)state;
	config_init(&def);
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, SHIPPED, &eb), 0);
	assert_string_equal(eb.msg, "");
	assert_string_equal(cfg.file, SHIPPED);
	memset(cfg.file, 0, sizeof(cfg.file));
	assert_int_equal(cfg.n_smtp_ports, 3);
	assert_int_equal(cfg.limits.flows_per_worker, 262144);
	assert_int_equal(cfg.limits.reasm_bytes_per_worker, 64ull << 20);
	assert_true(cfg.detectors[ALERT_RECIPIENT_HARVEST].p[1] == 0.5);
	/* Field by field above for a readable failure; the whole struct here. */
	assert_memory_equal(&cfg, &def, sizeof(cfg));
	assert_int_equal(config_validate(&cfg, &eb), 0);
	config_fini(&cfg);
	config_fini(&def);
}

static const char full_yaml[] =
	"home_net: [192.0.2.0/24, \"2001:db8::/32\"]\n"
	"home_domains: example.net, Example.ORG\n"
	"mail_servers:\n"
	"  - 192.0.2.25\n"
	"smtp_ports: [25]\n"
	"tls_ports: \"465, 10465\"\n"
	"detect_any_port: no\n"
	"capture: {workers: 4, checksums: yes, vlan_in_key: off}\n"
	"limits:\n"
	"  flows_per_worker: 1048576\n"
	"  flow_idle_timeout: 10m\n"
	"  flow_embryonic_timeout: 1m\n"
	"  flow_closed_timeout: 10\n"
	"  reasm_bytes_per_flow: 128KiB\n"
	"  reasm_bytes_per_worker: 1GiB\n"
	"  smtp_sessions_per_worker: 32768\n"
	"  smtp_max_line: 4KB\n"
	"  smtp_max_header_bytes: 1 MiB\n"
	"  smtp_max_pipeline: 128\n"
	"  event_ring_bytes: 64M\n"
	"  hosts: 2000000\n"
	"  accounts: 500000\n"
	"alerts:\n"
	"  interval: 1h\n"
	"signatures:\n"
	"  files: [/etc/relaywatch/a.rules, \"/etc/relaywatch/b,c.rules\"]\n"
	"  enabled: false\n"
	"privacy:\n"
	"  pseudonymize: true\n"
	"  pseudonymize_ips: TRUE\n"
	"  key_file: /etc/relaywatch/key\n"
	"  keep_subject: false\n"
	"output:\n"
	"  log_dir: /var/log/relaywatch\n"
	"  report: json\n"
	"  metrics: 127.0.0.1:9100\n"
	"collector:\n"
	"  address: collector.example.net:6514\n"
	"  tls_cert: /etc/relaywatch/sensor.pem\n"
	"  tls_key: /etc/relaywatch/sensor.key\n"
	"  tls_ca: /etc/relaywatch/ca.pem\n"
	"  plaintext: true\n"
	"  sensor_id: tap-fra-1\n"
	"  spool_dir: /var/spool/relaywatch\n"
	"  spool_max_bytes: 1GiB\n"
	"  archive: true\n"
	"  summary_interval: 30s\n"
	"  drain_timeout: 5m\n"
	"live:\n"
	"  user: relaywatch\n"
	"  group: _relaywatch\n"
	"  queues: 8\n"
	"  xdp_mode: native\n"
	"  bind: zero-copy\n"
	"  busy_poll: on\n"
	"  seccomp: off\n";

/* A value for every detector parameter that differs from its default. */
static double other_value(const struct detect_param *dp)
{
	return dp->def != dp->min ? dp->min : dp->max;
}

static void append_detectors(char *buf, size_t cap)
{
	size_t n = strlen(buf);

	n += (size_t)snprintf(buf + n, cap - n, "detectors:\n");
	for (int k = 0; k < ALERT_KIND_COUNT; k++) {
		const struct detect_def *d = &detect_defs[k];

		n += (size_t)snprintf(buf + n, cap - n,
				      "  %s:\n    enabled: false\n"
				      "    severity: %s\n",
				      alert_kind_name(k),
				      alert_severity_name((d->severity + 1) % 5));
		for (unsigned int i = 0; i < d->n_params; i++)
			n += (size_t)snprintf(buf + n, cap - n, "    %s: %.17g\n",
					      d->params[i].name, other_value(&d->params[i]));
	}
	assert_true(n < cap);
}

static void check_full(const struct config *c)
{
	assert_true(has(&c->home_net, "192.0.2.77") && has(&c->home_net, "2001:db8::1"));
	assert_false(has(&c->home_net, "198.51.100.1"));
	assert_true(domset_contains(&c->home_domains, "mx.example.org", 14));
	assert_true(has(&c->mail_servers, "192.0.2.25") && !has(&c->mail_servers, "192.0.2.26"));
	assert_int_equal(c->n_smtp_ports, 1);
	assert_int_equal(c->smtp_ports[0], 25);
	assert_int_equal(c->n_tls_ports, 2);
	assert_int_equal(c->tls_ports[1], 10465);
	assert_false(c->detect_any_port);
	assert_int_equal(c->workers, 4);
	assert_true(c->verify_checksums);
	assert_false(c->vlan_in_key);
	assert_int_equal(c->limits.flows_per_worker, 1048576);
	assert_int_equal(c->limits.flow_idle_timeout_s, 600);
	assert_int_equal(c->limits.flow_embryonic_timeout_s, 60);
	assert_int_equal(c->limits.flow_closed_timeout_s, 10);
	assert_int_equal(c->limits.reasm_bytes_per_flow, 128 * 1024);
	assert_int_equal(c->limits.reasm_bytes_per_worker, 1ull << 30);
	assert_int_equal(c->limits.smtp_sessions_per_worker, 32768);
	assert_int_equal(c->limits.smtp_max_line, 4000);
	assert_int_equal(c->limits.smtp_max_header_bytes, 1 << 20);
	assert_int_equal(c->limits.smtp_max_pipeline, 128);
	assert_int_equal(c->limits.event_ring_bytes, 64ull << 20);
	assert_int_equal(c->limits.hosts, 2000000);
	assert_int_equal(c->limits.accounts, 500000);
	assert_int_equal(c->alert_interval_s, 3600);
	assert_int_equal(c->n_sig_files, 2);
	assert_string_equal(c->sig_files[1], "/etc/relaywatch/b,c.rules");
	assert_false(c->sigs_enabled);
	assert_true(c->pseudonymize && c->pseudonymize_ips && !c->keep_subject);
	assert_string_equal(c->key_file, "/etc/relaywatch/key");
	assert_string_equal(c->log_dir, "/var/log/relaywatch");
	assert_int_equal(c->report, CONFIG_REPORT_JSON);
	assert_string_equal(c->metrics_addr, "127.0.0.1:9100");
	assert_string_equal(c->collector.address, "collector.example.net:6514");
	assert_string_equal(c->collector.tls_cert, "/etc/relaywatch/sensor.pem");
	assert_string_equal(c->collector.tls_key, "/etc/relaywatch/sensor.key");
	assert_string_equal(c->collector.tls_ca, "/etc/relaywatch/ca.pem");
	assert_true(c->collector.plaintext && c->collector.archive);
	assert_string_equal(c->collector.sensor_id, "tap-fra-1");
	assert_string_equal(c->collector.spool_dir, "/var/spool/relaywatch");
	assert_int_equal(c->collector.spool_max_bytes, 1ull << 30);
	assert_int_equal(c->collector.summary_interval_s, 30);
	assert_int_equal(c->collector.drain_timeout_s, 300);
	assert_string_equal(c->live.user, "relaywatch");
	assert_string_equal(c->live.group, "_relaywatch");
	assert_int_equal(c->live.queues, 8);
	assert_int_equal(c->live.xdp_mode, SOURCE_XDP_NATIVE);
	assert_int_equal(c->live.bind, SOURCE_BIND_ZEROCOPY);
	assert_true(c->live.busy_poll && !c->live.seccomp);
}

/* Every key set to something else lands in its field; and the shipped file
 * documents exactly these keys, every detector parameter included. */
static void test_config_every_key_reaches_its_field(void **state)
{
	static char yaml[16384];
	static struct paths mine, shipped;
	struct config cfg;
	struct errbuf eb = {""};
	char *text;

	(void)state;
	memcpy(yaml, full_yaml, sizeof(full_yaml));
	append_detectors(yaml, sizeof(yaml));
	config_init(&cfg);
	assert_int_equal(load(&cfg, yaml, &eb), 0);
	check_full(&cfg);
	for (int k = 0; k < ALERT_KIND_COUNT; k++) {
		const struct detect_def *d = &detect_defs[k];

		assert_false(cfg.detectors[k].enabled);
		assert_int_equal(cfg.detectors[k].severity, (d->severity + 1) % 5);
		for (unsigned int i = 0; i < d->n_params; i++)
			assert_true(cfg.detectors[k].p[i] == other_value(&d->params[i]));
	}
	config_fini(&cfg);

	text = read_text(SHIPPED);
	paths_of(yaml, &mine);
	paths_of(text, &shipped);
	free(text);
	assert_int_equal(shipped.n, mine.n);
	for (unsigned int i = 0; i < mine.n; i++)
		assert_string_equal(shipped.p[i], mine.p[i]);
}

/* ---- lists, overlays, detectors ---- */

static void test_config_list_forms(void **state)
{
	static const char *const forms[] = {
		"home_net: [10.0.0.0/8, 192.168.0.0/16]\n",
		"home_net:\n  - 10.0.0.0/8\n  - \"192.168.0.0/16\"\n",
		"home_net: 10.0.0.0/8,192.168.0.0/16\n",
		"home_net: \" 10.0.0.0/8 , 192.168.0.0/16 \"\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct config cfg;
		struct errbuf eb = {""};

		config_init(&cfg);
		assert_int_equal(load(&cfg, forms[i], &eb), 0);
		assert_int_equal(cfg.home_net.n, 2);
		assert_true(has(&cfg.home_net, "10.1.2.3") && has(&cfg.home_net, "192.168.9.9"));
		assert_false(has(&cfg.home_net, "172.16.0.1"));
		config_fini(&cfg);
	}
}

/* A second load overlays: its keys win, others stay, lists are replaced. */
static void test_config_overlay(void **state)
{
	static const char first[] = "home_net: [10.0.0.0/8]\n"
				    "smtp_ports: [25, 587]\n"
				    "limits: {hosts: 5000, accounts: 6000}\n"
				    "detectors:\n  auth_spray: {min_users: 7, window: 20m}\n";
	static const char second[] = "home_net: 192.0.2.0/24\n"
				     "smtp_ports: 2525\n"
				     "limits: {hosts: 7000}\n"
				     "detectors:\n  auth_spray: {window: 30m}\n";
	struct config cfg;
	struct errbuf eb = {""};
	int spray_users = detect_param_index(ALERT_AUTH_SPRAY, "min_users");
	int spray_window = detect_param_index(ALERT_AUTH_SPRAY, "window");

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_buffer(&cfg, "a.yaml", first, strlen(first), &eb), 0);
	assert_int_equal(config_load_buffer(&cfg, "b.yaml", second, strlen(second), &eb), 0);
	assert_string_equal(cfg.file, "b.yaml");
	assert_false(has(&cfg.home_net, "10.0.0.1"));
	assert_true(has(&cfg.home_net, "192.0.2.1"));
	assert_int_equal(cfg.n_smtp_ports, 1);
	assert_int_equal(cfg.smtp_ports[0], 2525);
	assert_int_equal(cfg.smtp_ports[1], 0);
	assert_int_equal(cfg.limits.hosts, 7000);
	assert_int_equal(cfg.limits.accounts, 6000);
	assert_true(cfg.detectors[ALERT_AUTH_SPRAY].p[spray_users] == 7);
	assert_true(cfg.detectors[ALERT_AUTH_SPRAY].p[spray_window] == 1800);

	/* A bad entry leaves the previous list whole. */
	assert_int_equal(load(&cfg, "home_net: [198.51.100.0/24, bogus]\n", &eb), -EINVAL);
	assert_true(has(&cfg.home_net, "192.0.2.1"));
	assert_false(has(&cfg.home_net, "198.51.100.1"));
	/* An empty list empties. */
	assert_int_equal(load(&cfg, "home_net: []\nmail_servers:\n", &eb), 0);
	assert_true(netset_is_empty(&cfg.home_net));
	config_fini(&cfg);
}

static void test_config_detector_params_by_name(void **state)
{
	static const char yaml[] = "detectors:\n"
				   "  recipient_harvest:\n"
				   "    enabled: no\n"
				   "    severity: critical\n"
				   "    reject_ratio: 75%\n"
				   "    min_rcpts: 40\n"
				   "    window: 2h\n"
				   "  volume_anomaly: {factor: 2.5, baseline_halflife: 7d}\n"
				   "  open_relay:\n";
	struct config cfg;
	struct errbuf eb = {""};

	(void)state;
	config_init(&cfg);
	assert_int_equal(load(&cfg, yaml, &eb), 0);
	assert_false(cfg.detectors[ALERT_RECIPIENT_HARVEST].enabled);
	assert_int_equal(cfg.detectors[ALERT_RECIPIENT_HARVEST].severity, ALERT_SEV_CRITICAL);
	assert_true(detect_param(cfg.detectors, ALERT_RECIPIENT_HARVEST, "reject_ratio") == 0.75);
	assert_true(detect_param(cfg.detectors, ALERT_RECIPIENT_HARVEST, "min_rcpts") == 40);
	assert_true(detect_param(cfg.detectors, ALERT_RECIPIENT_HARVEST, "window") == 7200);
	assert_true(detect_param(cfg.detectors, ALERT_VOLUME_ANOMALY, "factor") == 2.5);
	assert_true(detect_param(cfg.detectors, ALERT_VOLUME_ANOMALY, "baseline_halflife") ==
		    7 * 86400);
	/* untouched parameters and detectors keep their defaults */
	assert_true(detect_param(cfg.detectors, ALERT_VOLUME_ANOMALY, "min_messages") == 50);
	assert_true(cfg.detectors[ALERT_OPEN_RELAY].enabled);
	config_fini(&cfg);
}

/* ---- grammars ---- */

static void test_config_parse_size_table(void **state)
{
	static const struct {
		const char *s;
		int err;
		uint64_t v;
	} t[] = {
		{"0", 0, 0},
		{"65536", 0, 65536},
		{"64KiB", 0, 65536},
		{"64kib", 0, 65536},
		{"64K", 0, 65536},
		{"64KB", 0, 64000},
		{"32MiB", 0, 32u << 20},
		{"32MB", 0, 32000000},
		{"1GiB", 0, 1u << 30},
		{"2 GiB", 0, 2ull << 30},
		{"1GB", 0, 1000000000},
		{"1TiB", 0, 1ull << 40},
		{"512B", 0, 512},
		{"", -EINVAL, 0},
		{"KiB", -EINVAL, 0},
		{"-1", -EINVAL, 0},
		{"1.5GiB", -EINVAL, 0},
		{"64 ", -EINVAL, 0},
		{"64  KiB", -EINVAL, 0},
		{"64KiBs", -EINVAL, 0},
		{"0x10", -EINVAL, 0},
		{" 64", -EINVAL, 0},
		{"64PiB", -EINVAL, 0},
		{"18446744073709551615", 0, UINT64_MAX},
		{"18446744073709551616", -ERANGE, 0},
		{"17179869184GiB", -ERANGE, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 12345;
		int err = config_parse_size(t[i].s, &v);

		if (err != t[i].err || (!err && v != t[i].v))
			fail_msg("'%s': err %d v %llu", t[i].s, err, (unsigned long long)v);
	}
	assert_int_equal(config_parse_size(NULL, NULL), -EINVAL);
}

static void test_config_parse_duration_table(void **state)
{
	static const struct {
		const char *s;
		int err;
		uint32_t v;
	} t[] = {
		{"90", 0, 90},
		{"90s", 0, 90},
		{"10m", 0, 600},
		{"2h", 0, 7200},
		{"1d", 0, 86400},
		{"0", 0, 0},
		{"4294967295", 0, UINT32_MAX},
		{"4294967296", -ERANGE, 0},
		{"49711d", -ERANGE, 0},
		{"", -EINVAL, 0},
		{"s", -EINVAL, 0},
		{"1.5h", -EINVAL, 0},
		{"10M", -EINVAL, 0},
		{"1h30m", -EINVAL, 0},
		{"10 m", -EINVAL, 0},
		{"10ms", -EINVAL, 0},
		{"-5s", -EINVAL, 0},
		{"1w", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint32_t v = 12345;
		int err = config_parse_duration(t[i].s, &v);

		if (err != t[i].err || (!err && v != t[i].v))
			fail_msg("'%s': err %d v %u", t[i].s, err, v);
	}
}

static void test_config_booleans(void **state)
{
	static const char *const yes[] = {"true", "True", "yes", "YES", "on", "\"on\""};
	static const char *const no[] = {"false", "FALSE", "no", "No", "off", "'off'"};

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		struct config cfg;
		struct errbuf eb = {""};
		char yaml[64];

		config_init(&cfg);
		snprintf(yaml, sizeof(yaml), "detect_any_port: %s\ncapture: {checksums: %s}\n",
			 no[i], yes[i]);
		assert_int_equal(load(&cfg, yaml, &eb), 0);
		assert_false(cfg.detect_any_port);
		assert_true(cfg.verify_checksums);
		config_fini(&cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_shipped_example_is_the_defaults),
		cmocka_unit_test(test_config_every_key_reaches_its_field),
		cmocka_unit_test(test_config_list_forms),
		cmocka_unit_test(test_config_overlay),
		cmocka_unit_test(test_config_detector_params_by_name),
		cmocka_unit_test(test_config_parse_size_table),
		cmocka_unit_test(test_config_parse_duration_table),
		cmocka_unit_test(test_config_booleans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
