// SPDX-License-Identifier: BSD-3-Clause
/*
 * The cross-checks, after the file and the command line: what no single key
 * can say on its own (ports in two lists, TLS files that must exist, a
 * per-flow limit above the per-worker one, a pseudonym key that must be read).
 */
#include "sensor/config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/config_int.h"
#include "sensor/privacy.h"

static int check_readable(const char *key, const char *path, struct errbuf *eb)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int err = 0;

	if (fd < 0)
		return errbuf_set(eb, -EINVAL, "%s: '%s': %s", key, path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		err = errbuf_set(eb, -EINVAL, "%s: '%s' is a directory", key, path);
	close(fd);
	return err;
}

static int validate_ports(const struct config *cfg, struct errbuf *eb)
{
	if (cfg->n_smtp_ports > CONFIG_MAX_PORTS || cfg->n_tls_ports > CONFIG_MAX_PORTS)
		return errbuf_set(eb, -EINVAL, "smtp_ports, tls_ports: more than %d ports",
				  CONFIG_MAX_PORTS);
	for (unsigned int i = 0; i < cfg->n_smtp_ports; i++) {
		if (cfg->smtp_ports[i] == 0)
			return errbuf_set(eb, -EINVAL, "smtp_ports: port 0 is not a port");
		for (unsigned int j = 0; j < cfg->n_tls_ports; j++)
			if (cfg->smtp_ports[i] == cfg->tls_ports[j])
				return errbuf_set(
					eb, -EINVAL,
					"port %u is in both smtp_ports and tls_ports: a "
					"port is plain SMTP (maybe STARTTLS) or implicit TLS",
					cfg->smtp_ports[i]);
	}
	for (unsigned int j = 0; j < cfg->n_tls_ports; j++)
		if (cfg->tls_ports[j] == 0)
			return errbuf_set(eb, -EINVAL, "tls_ports: port 0 is not a port");
	return 0;
}

static int validate_collector_tls(const struct config_collector *c, struct errbuf *eb)
{
	int err;

	if (!c->tls_cert[0] || !c->tls_key[0] || !c->tls_ca[0])
		return errbuf_set(eb, -EINVAL,
				  "collector.address '%s' is reached over TLS: set "
				  "collector.tls_cert, collector.tls_key and collector.tls_ca, "
				  "or collector.plaintext: true",
				  c->address);
	if ((err = check_readable("collector.tls_cert", c->tls_cert, eb)) ||
	    (err = check_readable("collector.tls_key", c->tls_key, eb)) ||
	    (err = check_readable("collector.tls_ca", c->tls_ca, eb)))
		return err;
	return 0;
}

static int validate_collector(const struct config_collector *c, struct errbuf *eb)
{
	bool tls_any = c->tls_cert[0] || c->tls_key[0] || c->tls_ca[0];

	if (c->plaintext && tls_any)
		return errbuf_set(
			eb, -EINVAL,
			"collector.plaintext and collector.tls_cert/tls_key/tls_ca exclude "
			"each other: plain TCP or TLS, not both");
	if (!c->address[0]) {
		if (c->spool_dir[0])
			return errbuf_set(eb, -EINVAL,
					  "collector.spool_dir needs collector.address");
		if (c->archive)
			return errbuf_set(eb, -EINVAL, "collector.archive needs collector.address");
		return 0;
	}
	if (!config_hostport_ok(c->address, false))
		return errbuf_set(eb, -EINVAL,
				  "collector.address: '%s' is not HOST:PORT with a port of 1-65535",
				  c->address);
	return c->plaintext ? 0 : validate_collector_tls(c, eb);
}

static int validate_privacy(const struct config *cfg, struct errbuf *eb)
{
	const char *key = cfg->pseudonymize ? "privacy.pseudonymize" : "privacy.pseudonymize_ips";
	struct errbuf why = {""};

	if (!cfg->pseudonymize && !cfg->pseudonymize_ips)
		return 0;
	if (!cfg->key_file[0])
		return errbuf_set(eb, -EINVAL,
				  "%s needs privacy.key_file (at least %d random bytes: "
				  "head -c 32 /dev/urandom > FILE)",
				  key, PRIVACY_KEY_MIN);
	if (privacy_key_check(cfg->key_file, &why))
		return errbuf_set(eb, -EINVAL, "privacy.key_file: %s", why.msg);
	return 0;
}

static int validate_limits(const struct config *cfg, struct errbuf *eb)
{
	const struct config_limits *l = &cfg->limits;
	char a[32], b[32];

	if (cfg->workers > SOURCE_MAX_QUEUES)
		return errbuf_set(eb, -EINVAL, "capture.workers: %u is more than %d", cfg->workers,
				  SOURCE_MAX_QUEUES);
	if (cfg->live.queues < 1 || cfg->live.queues > SOURCE_MAX_QUEUES)
		return errbuf_set(eb, -EINVAL, "live.queues: %u is outside 1..%d", cfg->live.queues,
				  SOURCE_MAX_QUEUES);
	if (l->reasm_bytes_per_flow > l->reasm_bytes_per_worker)
		return errbuf_set(eb, -EINVAL,
				  "limits.reasm_bytes_per_flow (%s) is larger than "
				  "limits.reasm_bytes_per_worker (%s)",
				  config_fmt_size(l->reasm_bytes_per_flow, a, sizeof(a)),
				  config_fmt_size(l->reasm_bytes_per_worker, b, sizeof(b)));
	if (l->smtp_max_line > l->smtp_max_header_bytes)
		return errbuf_set(eb, -EINVAL,
				  "limits.smtp_max_line (%s) is larger than "
				  "limits.smtp_max_header_bytes (%s)",
				  config_fmt_size(l->smtp_max_line, a, sizeof(a)),
				  config_fmt_size(l->smtp_max_header_bytes, b, sizeof(b)));
	if (l->flow_embryonic_timeout_s > l->flow_idle_timeout_s ||
	    l->flow_closed_timeout_s > l->flow_idle_timeout_s)
		return errbuf_set(eb, -EINVAL,
				  "limits.flow_embryonic_timeout and limits.flow_closed_timeout "
				  "must not be longer than limits.flow_idle_timeout (%s)",
				  config_fmt_duration(l->flow_idle_timeout_s, a, sizeof(a)));
	return 0;
}

int config_validate(const struct config *cfg, struct errbuf *eb)
{
	int err;

	if ((err = validate_ports(cfg, eb)) || (err = validate_limits(cfg, eb)) ||
	    (err = validate_collector(&cfg->collector, eb)) || (err = validate_privacy(cfg, eb)))
		return err;
	if (cfg->metrics_addr[0] && !config_hostport_ok(cfg->metrics_addr, true))
		return errbuf_set(eb, -EINVAL,
				  "output.metrics: '%s' is not HOST:PORT with a port of 1-65535",
				  cfg->metrics_addr);
	if (cfg->n_sig_files > CONFIG_MAX_SIG_FILES)
		return errbuf_set(eb, -EINVAL, "signatures.files: more than %d files",
				  CONFIG_MAX_SIG_FILES);
	for (unsigned int i = 0; cfg->sigs_enabled && i < cfg->n_sig_files; i++)
		if ((err = check_readable("signatures.files", cfg->sig_files[i], eb)))
			return err;
	return 0;
}
