/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_fx: what the flow table's tests share (test_flow*.c): times, the
 * release callback's record, packets between two IPv4 hosts, and a table
 * with SMTP's ports as server ports (setup_ports() sets them, each file's
 * group setup). Header-only, as pkt_build.h; test-only.
 */
#ifndef RELAYWATCH_TESTS_FLOW_FX_H
#define RELAYWATCH_TESTS_FLOW_FX_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/clock.h"
#include "dataplane/flow.h"

#define SEC(s)	   ((uint64_t)(s)*NS_PER_SEC)
#define MS(s)	   ((uint64_t)(s)*NS_PER_MSEC)
#define T0	   SEC(1700000000)
#define UID_PINNED "CpF5RN6n71eIkdzgoB"

/* What the release callback saw, in order. */
struct released {
	unsigned int n;
	unsigned int why[FLOW_END_SHUTDOWN + 1];
	uint16_t client_port[16];
	enum flow_end reason[16];
};

static inline void on_release(void *arg, struct flow *f, enum flow_end why, uint64_t now_ns)
{
	struct released *rl = arg;

	if (rl->n < 16) {
		rl->client_port[rl->n] = flow_client_port(f);
		rl->reason[rl->n] = why;
	}
	rl->n++;
	rl->why[why]++;
}

/* IPv4 a.b.c.d stored as ::ffff:a.b.c.d, like decode does. */
static inline union pkt_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	union pkt_addr x = {
		.b = {[10] = 0xff, [11] = 0xff, [12] = a, [13] = b, [14] = c, [15] = d}};

	return x;
}

static inline struct pkt_meta pkt(union pkt_addr src, uint16_t sport, union pkt_addr dst,
				  uint16_t dport, uint8_t flags, uint32_t payload_len, uint64_t ts)
{
	struct pkt_meta m = {
		.src = src,
		.dst = dst,
		.sport = sport,
		.dport = dport,
		.family = 4,
		.l4_proto = 6,
		.tcp_flags = flags,
		.payload_len = payload_len,
		.ts_ns = ts,
	};

	return m;
}

#define CLI v4(192, 0, 2, 10)
#define SRV v4(198, 51, 100, 25)

static uint8_t smtp_ports[65536 / 8];

static inline struct flow_table *table(uint32_t capacity, struct released *rl)
{
	struct flow_table_cfg cfg;
	struct flow_table *ft = NULL;

	flow_table_cfg_default(&cfg);
	cfg.capacity = capacity;
	cfg.idle_timeout_ms = 5000;
	cfg.embryonic_timeout_ms = 1000;
	cfg.closed_timeout_ms = 2000;
	cfg.server_ports = smtp_ports;
	cfg.release = on_release;
	cfg.release_arg = rl;
	assert_int_equal(flow_table_create(&cfg, &ft), 0);
	return ft;
}

static inline int setup_ports(void **state)
{
	(void)state;
	memset(smtp_ports, 0, sizeof(smtp_ports));
	smtp_ports[25 >> 3] |= 1u << (25 & 7);
	smtp_ports[587 >> 3] |= 1u << (587 & 7);
	return 0;
}

#endif
