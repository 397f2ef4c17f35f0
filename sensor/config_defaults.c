// SPDX-License-Identifier: BSD-3-Clause
/*
 * Default values of every setting, and the helpers that do not need YAML.
 * Each default is what a sensor on a busy ISP tap should start with.
 */
#include "sensor/config.h"

#include <string.h>

#include "rw_config.h"

int config_init(struct config *cfg)
{
	static const uint16_t smtp[] = {25, 587, 2525};

	memset(cfg, 0, sizeof(*cfg));
	netset_init(&cfg->home_net);
	domset_init(&cfg->home_domains);
	netset_init(&cfg->mail_servers);
	memcpy(cfg->smtp_ports, smtp, sizeof(smtp));
	cfg->n_smtp_ports = 3;
	cfg->tls_ports[0] = 465;
	cfg->n_tls_ports = 1;
	cfg->detect_any_port = true;
	cfg->vlan_in_key = true;

	/* ~64 MB of flows and 64 MiB of reassembly per worker: a 10 Gbit/s tap
	 * with a few hundred thousand concurrent TCP connections fits. */
	cfg->limits.flows_per_worker = 262144;
	cfg->limits.flow_idle_timeout_s = 300;
	cfg->limits.flow_embryonic_timeout_s = 30;
	cfg->limits.flow_closed_timeout_s = 5;
	cfg->limits.reasm_bytes_per_flow = 64 * 1024;
	cfg->limits.reasm_bytes_per_worker = 64ull << 20;
	cfg->limits.smtp_sessions_per_worker = 16384;
	cfg->limits.smtp_max_line = 2048;
	cfg->limits.smtp_max_header_bytes = 64 * 1024;
	cfg->limits.smtp_max_pipeline = 64;
	cfg->limits.event_ring_bytes = 32ull << 20;
	cfg->limits.hosts = 1000000;
	cfg->limits.accounts = 262144;

	detect_cfg_default(cfg->detectors);
	cfg->alert_interval_s = 300;

	cfg->sigs_enabled = true;
	cfg->keep_subject = false; /* privacy by default: a subject is personal data */
	cfg->report = CONFIG_REPORT_TABLE;

	cfg->collector.spool_max_bytes = 256ull << 20;
	cfg->collector.summary_interval_s = 60;
	cfg->collector.drain_timeout_s = 60;
	cfg->live.queues = 1;
	cfg->live.seccomp = true;
	return 0;
}

void config_fini(struct config *cfg)
{
	if (!cfg)
		return;
	netset_fini(&cfg->home_net);
	domset_fini(&cfg->home_domains);
	netset_fini(&cfg->mail_servers);
}

void config_port_map(const uint16_t *ports, uint16_t n, uint8_t map[8192])
{
	memset(map, 0, 8192);
	for (uint16_t i = 0; i < n; i++)
		map[ports[i] >> 3] |= (uint8_t)(1u << (ports[i] & 7));
}
