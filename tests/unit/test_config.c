// SPDX-License-Identifier: BSD-3-Clause
/*
 * The YAML loader against real YAML text: the shipped example, every key set
 * to a non-default value, one case per error class with its exact message,
 * overlays, list forms, the size and duration grammars, detector parameters
 * and the cross-checks of config_validate on real files.
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

#define SHIPPED TEST_SOURCE_ROOT "/deploy/relaywatch.yaml"

static int load(struct config *cfg, const char *yaml, struct errbuf *eb)
{
	return config_load_buffer(cfg, "t.yaml", yaml, strlen(yaml), eb);
}

static bool has(const struct netset *ns, const char *addr)
{
	union pkt_addr a;
	uint8_t fam;

	assert_true(netset_parse_addr(addr, &a, &fam));
	return netset_contains(ns, &a);
}

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

/* ---- errors: one case per class, the exact message ---- */

struct err_case {
	const char *yaml;
	const char *msg;
};

static const struct err_case err_cases[] = {
	/* values */
	{"limits:\n  flows_per_worker: 12x\n",
	 "t.yaml:2: limits.flows_per_worker: '12x' is not a count"},
	{"limits:\n  flows_per_worker: 10\n",
	 "t.yaml:2: limits.flows_per_worker: '10' is out of range (1024..16777216)"},
	{"limits:\n  smtp_sessions_per_worker: 4194305\n",
	 "t.yaml:2: limits.smtp_sessions_per_worker: '4194305' is out of range (64..4194304)"},
	{"limits:\n  reasm_bytes_per_worker: 1TiB\n",
	 "t.yaml:2: limits.reasm_bytes_per_worker: '1TiB' is out of range (1MiB..16GiB)"},
	{"limits:\n  reasm_bytes_per_flow: 64kilo\n",
	 "t.yaml:2: limits.reasm_bytes_per_flow: '64kilo' is not a size (e.g. 64KiB, 32MiB, 1GiB)"},
	{"limits:\n  event_ring_bytes: 99999999999999999999\n",
	 "t.yaml:2: limits.event_ring_bytes: '99999999999999999999' is out of range (1MiB..4GiB)"},
	{"limits:\n  flow_idle_timeout: 5 minutes\n",
	 "t.yaml:2: limits.flow_idle_timeout: '5 minutes' is not a duration "
	 "(e.g. 90, 90s, 10m, 2h, 1d)"},
	{"limits:\n  flow_idle_timeout: 2d\n",
	 "t.yaml:2: limits.flow_idle_timeout: '2d' is out of range (10s..1d)"},
	{"limits:\n  hosts:\n", "t.yaml:2: limits.hosts: needs a value"},
	{"output: {report: ~}\n", "t.yaml:1: output.report: needs a value"},
	{"capture:\n  checksums: null\n", "t.yaml:2: capture.checksums: needs a value"},
	{"detectors:\n  blocklisted: {severity: }\n",
	 "t.yaml:2: detectors.blocklisted.severity: needs a value"},
	{"limits:\n  hosts: -5\n", "t.yaml:2: limits.hosts: '-5' is not a count"},
	{"detect_any_port: maybe\n",
	 "t.yaml:1: detect_any_port: 'maybe' is not a boolean (true/false, yes/no, on/off)"},
	{"output:\n  report: xml\n",
	 "t.yaml:2: output.report: 'xml' is not one of: table, json, none"},
	{"collector:\n  address: collector.example.net\n",
	 "t.yaml:2: collector.address: 'collector.example.net' is not HOST:PORT with a port "
	 "of 1-65535"},
	{"collector:\n  address: \"2001:db8::1:6514\"\n",
	 "t.yaml:2: collector.address: '2001:db8::1:6514' is not HOST:PORT with a port of "
	 "1-65535"},
	{"output:\n  metrics: \"localhost:0\"\n",
	 "t.yaml:2: output.metrics: 'localhost:0' is not HOST:PORT with a port of 1-65535"},
	{"live:\n  user: \"bad user\"\n",
	 "t.yaml:2: live.user: 'bad user' is not a name (letters, digits, '.', '_', '-')"},
	{"privacy:\n  key_file: \"/etc/a\\0b\"\n",
	 "t.yaml:2: privacy.key_file: a value must not contain a NUL character"},
	{"output:\n  log_dir: \"/var/\\tlog\"\n",
	 "t.yaml:2: output.log_dir: '/var/?log' contains a control character"},
	{"live:\n  queues: 65\n", "t.yaml:2: live.queues: '65' is out of range (1..64)"},
	/* lists */
	{"smtp_ports: [25, 70000]\n", "t.yaml:1: smtp_ports: '70000' is out of range (1..65535)"},
	{"smtp_ports: [0]\n", "t.yaml:1: smtp_ports: '0' is out of range (1..65535)"},
	{"smtp_ports: [smtp]\n", "t.yaml:1: smtp_ports: 'smtp' is not a port"},
	{"smtp_ports: 25, 587, 25\n", "t.yaml:1: smtp_ports: port 25 is listed twice"},
	{"tls_ports: 465,\n", "t.yaml:1: tls_ports: empty list entry"},
	{"home_net:\n  - 10.0.0.0/8\n  - 10.0.0.0/33\n",
	 "t.yaml:3: home_net: '10.0.0.0/33': bad prefix length"},
	{"home_net: 10.0.0.0/8, 192.168.1.1/16\n",
	 "t.yaml:1: home_net: '192.168.1.1/16': host bits set below /16"},
	{"mail_servers: [mx.example.net]\n",
	 "t.yaml:1: mail_servers: 'mx.example.net' is not an address or CIDR"},
	{"home_domains: [exa mple.net]\n",
	 "t.yaml:1: home_domains: 'exa mple.net' is not a domain name"},
	{"home_domains: [example..net]\n",
	 "t.yaml:1: home_domains: 'example..net' is not a domain name"},
	{"home_domains: [-example.net]\n",
	 "t.yaml:1: home_domains: '-example.net' is not a domain name"},
	/* shapes */
	{"smtp_ports: {a: 1}\n", "t.yaml:1: smtp_ports: expected a list, got a map"},
	{"smtp_ports: [[25]]\n", "t.yaml:1: smtp_ports: expected a single value, got a list"},
	{"capture:\n  workers: [1, 2]\n",
	 "t.yaml:2: capture.workers: expected a single value, got a list"},
	{"capture:\n  workers: {n: 1}\n",
	 "t.yaml:2: capture.workers: expected a single value, got a map"},
	{"limits: 5\n", "t.yaml:1: limits: expected a map of keys, got a single value"},
	{"limits: [1]\n", "t.yaml:1: limits: expected a map of keys, got a list"},
	{"? [a]\n: 1\n", "t.yaml:1: a key must be a name, got a list"},
	{"- home_net\n- smtp_ports\n", "t.yaml:1: the top level must be a map of keys, got a list"},
	{"just a sentence\n", "t.yaml:1: the top level must be a map of keys, got a single value"},
	{"smtp_ports: [25]\n---\nsmtp_ports: [26]\n",
	 "t.yaml:2: a second YAML document ('---'): the configuration is one map"},
	/* keys */
	{"home_nett: []\n", "t.yaml:1: home_nett: unknown key; did you mean 'home_net'?"},
	{"limits:\n  flow_per_worker: 5\n",
	 "t.yaml:2: limits.flow_per_worker: unknown key; did you mean 'flows_per_worker'?"},
	{"workers: 4\n", "t.yaml:1: workers: unknown key; did you mean 'capture.workers'?"},
	{"capture:\n  home_net: []\n",
	 "t.yaml:2: capture.home_net: unknown key; did you mean 'home_net'?"},
	{"open_relay: {enabled: false}\n",
	 "t.yaml:1: open_relay: unknown key; did you mean 'detectors.open_relay'?"},
	{"frobnicate: 1\n", "t.yaml:1: frobnicate: unknown key"},
	{"smtp_ports: [25]\nlimits:\n  hosts: 2000\n  hosts: 3000\n",
	 "t.yaml:4: limits.hosts: duplicate key (first at line 3)"},
	{"limits: {}\nlimits: {}\n", "t.yaml:2: limits: duplicate key (first at line 1)"},
	{"\"home_net\\0x\": []\n", "t.yaml:1: a value must not contain a NUL character"},
	/* detectors */
	{"detectors:\n  open_rely: {}\n",
	 "t.yaml:2: detectors.open_rely: unknown detector; did you mean 'open_relay'?"},
	{"detectors:\n  open_relay:\n    min_relay: 2\n",
	 "t.yaml:3: detectors.open_relay.min_relay: unknown parameter; did you mean "
	 "'min_relayed'?"},
	{"detectors:\n  open_relay:\n    relay_window: 5s\n",
	 "t.yaml:3: detectors.open_relay.relay_window: '5s' is out of range (10s..1d)"},
	{"detectors:\n  open_relay:\n    window: 8d\n",
	 "t.yaml:3: detectors.open_relay.window: '8d' is out of range (1m..7d)"},
	{"detectors:\n  recipient_harvest:\n    reject_ratio: 1.5\n",
	 "t.yaml:3: detectors.recipient_harvest.reject_ratio: '1.5' is out of range (0.01..1)"},
	{"detectors:\n  recipient_harvest:\n    reject_ratio: half\n",
	 "t.yaml:3: detectors.recipient_harvest.reject_ratio: 'half' is not a ratio "
	 "(e.g. 0.5 or 50%)"},
	{"detectors:\n  volume_anomaly:\n    factor: inf\n",
	 "t.yaml:3: detectors.volume_anomaly.factor: 'inf' is not a number"},
	{"detectors:\n  volume_anomaly:\n    factor: 1e400\n",
	 "t.yaml:3: detectors.volume_anomaly.factor: '1e400' is out of range (1.5..1e+06)"},
	{"detectors:\n  auth_spray:\n    min_users: 2.5\n",
	 "t.yaml:3: detectors.auth_spray.min_users: '2.5' is not a count"},
	{"detectors:\n  auth_spray:\n    severity: urgent\n",
	 "t.yaml:3: detectors.auth_spray.severity: 'urgent' is not a severity "
	 "(info, low, medium, high, critical)"},
	{"detectors:\n  auth_spray: {enabled: true, enabled: false}\n",
	 "t.yaml:2: detectors.auth_spray.enabled: duplicate key (first at line 2)"},
	{"detectors:\n  auth_spray: off\n",
	 "t.yaml:2: detectors.auth_spray: expected a map (enabled, severity, parameters), "
	 "got a single value"},
	{"detectors: [open_relay]\n", "t.yaml:1: detectors: expected a map of keys, got a list"},
	/* YAML itself */
	{"limits:\n\thosts: 5\n",
	 "t.yaml:2: limits: YAML syntax error: while scanning for the next token: found "
	 "character that cannot start any token (a tab: indent with spaces)"},
	{"home_net: [10.0.0.0/8\n",
	 "t.yaml:2: home_net: YAML syntax error: while parsing a flow sequence: did not find "
	 "expected ',' or ']'"},
	{"limits:\n  hosts: 5000\n bad: 1\n",
	 "t.yaml:3: YAML syntax error: while parsing a block mapping: did not find expected key"},
	{"smtp_ports: &p [25]\ntls_ports: *p\n",
	 "t.yaml:1: smtp_ports: anchors (&p) are not supported: write each value out"},
	{"smtp_ports: [25]\ntls_ports: *p\n",
	 "t.yaml:2: tls_ports: aliases (*p) are not supported: write the value out"},
};

static void test_config_errors_name_file_line_and_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		struct config cfg;
		struct errbuf eb = {""};

		config_init(&cfg);
		if (load(&cfg, err_cases[i].yaml, &eb) != -EINVAL ||
		    strcmp(eb.msg, err_cases[i].msg))
			fail_msg("case %zu:\n  yaml: %s\n  got:  %s\n  want: %s", i,
				 err_cases[i].yaml, eb.msg, err_cases[i].msg);
		config_fini(&cfg);
	}
}

/* Empty, comments only, a bare "---" or an empty map: the defaults. */
static void test_config_empty_is_the_defaults(void **state)
{
	static const char *const empty[] = {"", "# nothing here\n\n", "---\n", "{}\n", "~\n"};

	(void)state;
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		struct config cfg, def;
		struct errbuf eb = {""};

		config_init(&cfg);
		config_init(&def);
		assert_int_equal(load(&cfg, empty[i], &eb), 0);
		memset(cfg.file, 0, sizeof(cfg.file));
		assert_memory_equal(&cfg, &def, sizeof(cfg));
		config_fini(&cfg);
		config_fini(&def);
	}
}

/* 100000 opening brackets under a list key: refused at the second, no stack growth. */
static void test_config_deep_nesting_and_size_are_bounded(void **state)
{
	size_t deep = 100000, big = (1u << 20) + 1;
	char *yaml = malloc(big + 1);
	struct config cfg;
	struct errbuf eb = {""};

	(void)state;
	assert_non_null(yaml);
	memcpy(yaml, "smtp_ports: ", 12);
	memset(yaml + 12, '[', deep);
	yaml[12 + deep] = '\0';
	config_init(&cfg);
	assert_int_equal(load(&cfg, yaml, &eb), -EINVAL);
	assert_string_equal(eb.msg, "t.yaml:1: smtp_ports: expected a single value, got a list");

	memset(yaml, '#', big);
	assert_int_equal(config_load_buffer(&cfg, "t.yaml", yaml, big, &eb), -EINVAL);
	assert_string_equal(eb.msg, "t.yaml: more than 1 MiB; a configuration file is a few KiB "
				    "(is it the right file?)");
	/* exactly 1 MiB of comment is still a (strange) configuration */
	assert_int_equal(config_load_buffer(&cfg, "t.yaml", yaml, big - 1, &eb), 0);
	config_fini(&cfg);
	free(yaml);
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

/* ---- files and cross-checks ---- */

struct tmp {
	char dir[64];
	char path[8][128];
	unsigned int n;
};

static const char *tmp_file(struct tmp *t, const char *name, const char *data, size_t len,
			    mode_t mode)
{
	char *p = t->path[t->n++];
	size_t dl = strlen(t->dir), nl = strlen(name);
	int fd;

	assert_true(dl + 1 + nl < sizeof(t->path[0]));
	memcpy(p, t->dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return p;
}

static void tmp_clean(struct tmp *t)
{
	for (unsigned int i = 0; i < t->n; i++)
		unlink(t->path[i]);
	rmdir(t->dir);
}

static void test_config_load_file(void **state)
{
	static const char bad[] = "smtp_ports: [25]\nlimits:\n  hosts: x\n";
	struct tmp t = {.dir = "/tmp/rw-config-XXXXXX"};
	struct config cfg;
	struct errbuf eb = {""};
	const char *p;
	char *big;

	(void)state;
	assert_non_null(mkdtemp(t.dir));
	config_init(&cfg);
	p = tmp_file(&t, "ok.yaml", bad, strlen(bad), 0600);
	assert_int_equal(config_load(&cfg, p, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "ok.yaml:3: limits.hosts: 'x' is not a count"));
	assert_int_equal(strncmp(eb.msg, t.dir, strlen(t.dir)), 0);

	p = tmp_file(&t, "empty.yaml", "", 0, 0600);
	assert_int_equal(config_load(&cfg, p, &eb), 0);
	assert_string_equal(cfg.file, p);

	big = malloc((1 << 20) + 2);
	assert_non_null(big);
	memset(big, '#', (1 << 20) + 1);
	p = tmp_file(&t, "big.yaml", big, (1 << 20) + 1, 0600);
	free(big);
	assert_int_equal(config_load(&cfg, p, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "big.yaml: more than 1 MiB"));

	assert_int_equal(config_load(&cfg, "/nonexistent/relaywatch.yaml", &eb), -ENOENT);
	assert_string_equal(eb.msg, "/nonexistent/relaywatch.yaml: No such file or directory");
	assert_int_equal(config_load(&cfg, t.dir, &eb), -EISDIR);
	config_fini(&cfg);
	tmp_clean(&t);
}

static int validate(const struct config *cfg, struct errbuf *eb)
{
	eb->msg[0] = '\0';
	return config_validate(cfg, eb);
}

static void test_config_validate_cross_checks(void **state)
{
	static const char key32[] = "0123456789abcdef0123456789abcdef";
	struct tmp t = {.dir = "/tmp/rw-config-XXXXXX"};
	struct config cfg;
	struct errbuf eb;
	char missing[128];

	(void)state;
	assert_non_null(mkdtemp(t.dir));
	snprintf(missing, sizeof(missing), "%s/missing.pem", t.dir);
	config_init(&cfg);
	assert_int_equal(validate(&cfg, &eb), 0);

	/* collector: TLS needs three readable files; plaintext excludes them */
	snprintf(cfg.collector.address, sizeof(cfg.collector.address),
		 "collector.example.net:6514");
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg,
			    "collector.address 'collector.example.net:6514' is reached over "
			    "TLS: set collector.tls_cert, collector.tls_key and "
			    "collector.tls_ca, or collector.plaintext: true");
	snprintf(cfg.collector.tls_cert, sizeof(cfg.collector.tls_cert), "%s",
		 tmp_file(&t, "cert.pem", "cert", 4, 0644));
	snprintf(cfg.collector.tls_key, sizeof(cfg.collector.tls_key), "%s",
		 tmp_file(&t, "key.pem", "key", 3, 0600));
	snprintf(cfg.collector.tls_ca, sizeof(cfg.collector.tls_ca), "%s", missing);
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "collector.tls_ca: '"));
	assert_non_null(strstr(eb.msg, "missing.pem': No such file or directory"));
	snprintf(cfg.collector.tls_ca, sizeof(cfg.collector.tls_ca), "%s", t.dir);
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "' is a directory"));
	snprintf(cfg.collector.tls_ca, sizeof(cfg.collector.tls_ca), "%s",
		 tmp_file(&t, "ca.pem", "ca", 2, 0644));
	assert_int_equal(validate(&cfg, &eb), 0);
	cfg.collector.plaintext = true;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg, "collector.plaintext and collector.tls_cert/tls_key/tls_ca "
				    "exclude each other: plain TCP or TLS, not both");
	memset(&cfg.collector, 0, sizeof(cfg.collector));
	cfg.collector.archive = true;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg, "collector.archive needs collector.address");
	cfg.collector.archive = false;

	/* ports */
	cfg.tls_ports[cfg.n_tls_ports++] = 587;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg, "port 587 is in both smtp_ports and tls_ports: a port is plain "
				    "SMTP (maybe STARTTLS) or implicit TLS");
	cfg.n_tls_ports--;
	/* What the parser refuses already, refused for a caller that fills the struct. */
	cfg.n_smtp_ports = CONFIG_MAX_PORTS + 1;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg, "smtp_ports, tls_ports: more than 32 ports");
	cfg.n_smtp_ports = 1;
	cfg.smtp_ports[0] = 0;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg, "smtp_ports: port 0 is not a port");
	cfg.smtp_ports[0] = 25;
	cfg.tls_ports[cfg.n_tls_ports++] = 0;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg, "tls_ports: port 0 is not a port");
	cfg.n_tls_ports--;
	cfg.live.queues = 0;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg, "live.queues: 0 is outside 1..64");
	cfg.live.queues = 1;
	assert_int_equal(validate(&cfg, &eb), 0);

	/* privacy: a readable key of 32 bytes or more */
	cfg.pseudonymize = true;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg,
			    "privacy.pseudonymize needs privacy.key_file (at least 32 random "
			    "bytes: head -c 32 /dev/urandom > FILE)");
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s",
		 tmp_file(&t, "short.key", key32, 31, 0600));
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "privacy.key_file: key file '"));
	assert_non_null(strstr(eb.msg, "short.key' has 31 bytes; a key needs at least 32"));
	assert_null(strstr(eb.msg, "0123456789")); /* never a key byte */
	snprintf(cfg.key_file, sizeof(cfg.key_file), "%s",
		 tmp_file(&t, "good.key", key32, 32, 0600));
	assert_int_equal(validate(&cfg, &eb), 0);
	cfg.pseudonymize = false;

	/* signature files exist; limits agree with each other; workers */
	snprintf(cfg.sig_files[0], sizeof(cfg.sig_files[0]), "%s", missing);
	cfg.n_sig_files = 1;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_non_null(strstr(eb.msg, "signatures.files: '"));
	cfg.sigs_enabled = false; /* not loaded, not checked */
	assert_int_equal(validate(&cfg, &eb), 0);
	cfg.limits.reasm_bytes_per_flow = 2 << 20;
	cfg.limits.reasm_bytes_per_worker = 1 << 20;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg, "limits.reasm_bytes_per_flow (2MiB) is larger than "
				    "limits.reasm_bytes_per_worker (1MiB)");
	cfg.limits.reasm_bytes_per_worker = 64 << 20;
	cfg.workers = 65;
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	assert_string_equal(eb.msg, "capture.workers: 65 is more than 64");
	cfg.workers = 0;
	snprintf(cfg.metrics_addr, sizeof(cfg.metrics_addr), "[::1]:9100");
	assert_int_equal(validate(&cfg, &eb), 0);
	snprintf(cfg.metrics_addr, sizeof(cfg.metrics_addr), "::1:9100");
	assert_int_equal(validate(&cfg, &eb), -EINVAL);
	config_fini(&cfg);
	tmp_clean(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_shipped_example_is_the_defaults),
		cmocka_unit_test(test_config_every_key_reaches_its_field),
		cmocka_unit_test(test_config_errors_name_file_line_and_key),
		cmocka_unit_test(test_config_empty_is_the_defaults),
		cmocka_unit_test(test_config_deep_nesting_and_size_are_bounded),
		cmocka_unit_test(test_config_list_forms),
		cmocka_unit_test(test_config_overlay),
		cmocka_unit_test(test_config_detector_params_by_name),
		cmocka_unit_test(test_config_parse_size_table),
		cmocka_unit_test(test_config_parse_duration_table),
		cmocka_unit_test(test_config_booleans),
		cmocka_unit_test(test_config_load_file),
		cmocka_unit_test(test_config_validate_cross_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
