// SPDX-License-Identifier: BSD-3-Clause
/*
 * The configuration a run gets: the defaults, then --config FILE, then the
 * command line over both, then the cross-checks; the result as component
 * settings (the plan) and the port maps the workers read.
 */
#include "sensor/main_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "common/log.h"
#include "dataplane/source_pcap.h"

/* --home-net is repeatable and each takes a comma-separated list. */
static int cli_home_nets(struct sensor *s, struct errbuf *eb)
{
	struct config *c = &s->cfg;

	netset_fini(&c->home_net);
	netset_init(&c->home_net);
	for (unsigned int i = 0; i < s->opts.n_home_nets; i++) {
		const char *p = s->opts.home_nets[i];

		while (*p) {
			char tok[128];
			size_t n = strcspn(p, ",");
			int err;

			if (n == 0 || n >= sizeof(tok))
				return errbuf_set(eb, -EINVAL, "--home-net: bad entry in '%s'",
						  s->opts.home_nets[i]);
			memcpy(tok, p, n);
			tok[n] = '\0';
			err = netset_add_cidr(&c->home_net, tok, eb);
			if (err)
				return errbuf_set(eb, err, "--home-net: %s", eb->msg);
			p += n + (p[n] == ',');
		}
	}
	netset_finish(&c->home_net);
	return 0;
}

/* --collector, --tls-*, --collector-plaintext, --sensor-id, --spool and
 * --archive override the file's collector: section. */
static int apply_cli_collector(struct sensor *s, struct errbuf *eb)
{
	struct config_collector *c = &s->cfg.collector;
	const struct cli_opts *o = &s->opts;
	const struct {
		const char *opt, *arg;
		char *field;
		size_t cap;
	} strs[] = {
		{"--collector", o->collector, c->address, sizeof(c->address)},
		{"--tls-cert", o->tls_cert, c->tls_cert, sizeof(c->tls_cert)},
		{"--tls-key", o->tls_key, c->tls_key, sizeof(c->tls_key)},
		{"--tls-ca", o->tls_ca, c->tls_ca, sizeof(c->tls_ca)},
		{"--sensor-id", o->sensor_id, c->sensor_id, sizeof(c->sensor_id)},
		{"--spool", o->spool_dir, c->spool_dir, sizeof(c->spool_dir)},
	};

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i].arg &&
		    snprintf(strs[i].field, strs[i].cap, "%s", strs[i].arg) >= (int)strs[i].cap)
			return errbuf_set(eb, -EINVAL, "%s: too long", strs[i].opt);
	if (o->collector_plaintext)
		c->tls_cert[0] = c->tls_key[0] = c->tls_ca[0] = '\0';
	if (o->collector_plaintext || o->tls_cert)
		c->plaintext = o->collector_plaintext;
	if (o->archive)
		c->archive = true;
	return 0;
}

/* The command line overrides the file for the options it has. */
static int apply_cli(struct sensor *s, struct errbuf *eb)
{
	struct config *c = &s->cfg;
	const struct cli_opts *o = &s->opts;
	int err;

	if (o->n_home_nets && (err = cli_home_nets(s, eb)))
		return err;
	if (o->ports_arg && (err = cli_parse_ports(o->ports_arg, NULL, c->smtp_ports,
						   &c->n_smtp_ports, CONFIG_MAX_PORTS, eb)))
		return errbuf_set(eb, err, "--smtp-ports: %s", eb->msg);
	if (o->tls_ports_arg && (err = cli_parse_ports(o->tls_ports_arg, NULL, c->tls_ports,
						       &c->n_tls_ports, CONFIG_MAX_PORTS, eb)))
		return errbuf_set(eb, err, "--tls-ports: %s", eb->msg);
	if (o->any_port >= 0)
		c->detect_any_port = o->any_port;
	if (o->workers)
		c->workers = o->workers;
	if (o->log_dir)
		snprintf(c->log_dir, sizeof(c->log_dir), "%s", o->log_dir);
	if (o->report_given)
		c->report = (enum config_report)o->report;
	if (o->user)
		snprintf(c->live.user, sizeof(c->live.user), "%s", o->user);
	return apply_cli_collector(s, eb);
}

/* The file's live: section where the command line left the default (--user
 * was copied into cfg by apply_cli, so the file's user applies without it). */
static void setup_live_opts(struct sensor *s)
{
	const struct config_live *l = &s->cfg.live;

	if (!s->opts.queues)
		s->opts.queues = l->queues;
	if (s->opts.xdp_mode == SOURCE_XDP_AUTO)
		s->opts.xdp_mode = l->xdp_mode;
	if (s->opts.bind == SOURCE_BIND_AUTO)
		s->opts.bind = l->bind;
	s->opts.busy_poll = s->opts.busy_poll || l->busy_poll;
	s->opts.user = l->user[0] ? l->user : NULL;
	if (l->group[0] && s->opts.user)
		log_warn("live.group '%s': the sensor takes %s's primary group and no other",
			 l->group, s->opts.user);
}

/* Returns a sysexits code: the file's errors are EX_CONFIG, the command line's EX_USAGE. */
int main_setup_config(struct sensor *s, struct errbuf *eb)
{
	int err;

	if (config_init(&s->cfg) != 0)
		return errbuf_set(eb, EX_OSERR, "no memory for the configuration");
	if (s->opts.config_file && config_load(&s->cfg, s->opts.config_file, eb) != 0)
		return EX_CONFIG;
	if (apply_cli(s, eb) != 0)
		return EX_USAGE;
	err = config_validate(&s->cfg, eb);
	if (err)
		return EX_CONFIG;
	/* The live sources and steer read these from opts. */
	s->opts.workers = s->cfg.workers;
	s->opts.log_dir = s->cfg.log_dir[0] ? s->cfg.log_dir : NULL;
	setup_live_opts(s);

	plan_from_config(&s->cfg, &s->plan);
	if (s->opts.mode == SOURCE_PCAP)
		plan_bound_by_capture(&s->plan, source_pcap_size_hint(s->opts.read_file));
	memcpy(s->smtp_ports, s->plan.smtp_ports, sizeof(s->smtp_ports));
	memcpy(s->tls_ports, s->plan.tls_ports, sizeof(s->tls_ports));
	memcpy(s->server_ports, s->plan.server_ports, sizeof(s->server_ports));
	return 0;
}
