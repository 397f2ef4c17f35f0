// SPDX-License-Identifier: BSD-3-Clause
/*
 * The YAML loader's errors and bounds: one case per error class with its
 * exact message, an empty file, deep nesting and size; then real files
 * (config_load_file) and the cross-checks of config_validate on them. The
 * helpers are config_fx.h.
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

#include "sensor/alert.h"
#include "sensor/config.h"
#include "config_fx.h"

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
		cmocka_unit_test(test_config_errors_name_file_line_and_key),
		cmocka_unit_test(test_config_empty_is_the_defaults),
		cmocka_unit_test(test_config_deep_nesting_and_size_are_bounded),
		cmocka_unit_test(test_config_load_file),
		cmocka_unit_test(test_config_validate_cross_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
