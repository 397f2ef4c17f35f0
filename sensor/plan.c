// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/plan.h"

#include <string.h>

/* The smallest TCP packet record in a pcap: 16 bytes of record header, 14
 * Ethernet, 20 IPv4, 20 TCP. Every flow needs one, every session several. */
#define PLAN_MIN_PKT_RECORD   70u
#define PLAN_MIN_SMTP_SESSION 300u /* banner, EHLO, reply and FIN at least */

void plan_from_config(const struct config *cfg, struct plan *p)
{
	const struct config_limits *l = &cfg->limits;

	memset(p, 0, sizeof(*p));
	decode_cfg_default(&p->decode);
	p->decode.verify_checksums = cfg->verify_checksums;

	flow_table_cfg_default(&p->flow);
	p->flow.capacity = l->flows_per_worker;
	p->flow.idle_timeout_ms = l->flow_idle_timeout_s * 1000u;
	p->flow.embryonic_timeout_ms = l->flow_embryonic_timeout_s * 1000u;
	p->flow.closed_timeout_ms = l->flow_closed_timeout_s * 1000u;
	p->flow.vlan_in_key = cfg->vlan_in_key;

	tcp_reasm_cfg_default(&p->reasm);
	p->reasm.flow_bytes = l->reasm_bytes_per_flow;
	p->reasm.total_bytes = l->reasm_bytes_per_worker;

	config_port_map(cfg->smtp_ports, cfg->n_smtp_ports, p->smtp_ports);
	config_port_map(cfg->tls_ports, cfg->n_tls_ports, p->tls_ports);
	for (size_t i = 0; i < sizeof(p->server_ports); i++)
		p->server_ports[i] = p->smtp_ports[i] | p->tls_ports[i];
	p->flow.server_ports = p->server_ports;

	smtp_cfg_default(&p->smtp);
	p->smtp.max_sessions = l->smtp_sessions_per_worker;
	p->smtp.max_line = l->smtp_max_line;
	p->smtp.max_header_bytes = l->smtp_max_header_bytes;
	p->smtp.max_pipeline = l->smtp_max_pipeline;
	p->smtp.smtp_ports = p->smtp_ports;
	p->smtp.tls_ports = p->tls_ports;
	p->smtp.detect_any_port = cfg->detect_any_port;
	p->smtp.keep_subject = cfg->keep_subject;

	p->event_ring_bytes = l->event_ring_bytes;
	p->hosts = l->hosts;
	p->accounts = l->accounts;
}

static uint64_t cap_at(uint64_t configured, uint64_t need, uint64_t floor)
{
	if (need < floor)
		need = floor;
	return need < configured ? need : configured;
}

void plan_bound_by_capture(struct plan *p, uint64_t capture_bytes)
{
	uint64_t pkts = capture_bytes / PLAN_MIN_PKT_RECORD + 1;

	if (capture_bytes == 0)
		return;
	p->flow.capacity = (uint32_t)cap_at(p->flow.capacity, pkts, 1024);
	/* Out-of-order bytes held never exceed the bytes in the file. */
	p->reasm.total_bytes = cap_at(p->reasm.total_bytes, capture_bytes, 1u << 20);
	p->smtp.max_sessions = (uint32_t)cap_at(p->smtp.max_sessions,
						capture_bytes / PLAN_MIN_SMTP_SESSION + 1, 256);
	/* An offline run waits for the detector instead of dropping: a small ring
	 * only means shorter waits, never lost events. */
	p->event_ring_bytes = cap_at(p->event_ring_bytes, capture_bytes, 4u << 20);
	/* A packet names two addresses, a session one AUTH user: a 2 MB capture
	 * needs thousands of host entries, not the million a tap's table holds
	 * (which a sanitizer build would also have to clear). */
	p->hosts = (uint32_t)cap_at(p->hosts, 2 * pkts, 1024);
	p->accounts = (uint32_t)cap_at(p->accounts, capture_bytes / PLAN_MIN_SMTP_SESSION + 1, 256);
}
