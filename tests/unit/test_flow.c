// SPDX-License-Identifier: BSD-3-Clause
/*
 * flow table: both directions find one flow, orientation rules, eviction
 * order and reasons, every timeout on packet time (also stepping back),
 * reuse of a closed key, flush, uids, and a million flows through a small
 * table with constant memory.
 */
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

static void on_release(void *arg, struct flow *f, enum flow_end why, uint64_t now_ns)
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
static union pkt_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	union pkt_addr x = {
		.b = {[10] = 0xff, [11] = 0xff, [12] = a, [13] = b, [14] = c, [15] = d}};

	return x;
}

static struct pkt_meta pkt(union pkt_addr src, uint16_t sport, union pkt_addr dst, uint16_t dport,
			   uint8_t flags, uint32_t payload_len, uint64_t ts)
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

static struct flow_table *table(uint32_t capacity, struct released *rl)
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

static int setup_ports(void **state)
{
	(void)state;
	memset(smtp_ports, 0, sizeof(smtp_ports));
	smtp_ports[25 >> 3] |= 1u << (25 & 7);
	smtp_ports[587 >> 3] |= 1u << (587 & 7);
	return 0;
}

static void test_flow_create_args(void **state)
{
	struct flow_table_cfg cfg;
	struct flow_table *ft = NULL;

	(void)state;
	flow_table_cfg_default(&cfg);
	cfg.capacity = 0;
	assert_int_equal(flow_table_create(&cfg, &ft), -EINVAL);
	assert_null(ft);
	flow_table_destroy(NULL);
}

/* Bare ACK, FIN and RST of an unknown connection start nothing; SYN and payload do. */
static void test_flow_only_syn_or_payload_starts_a_flow(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(64, &rl);
	struct pkt_meta ack = pkt(CLI, 40000, SRV, 443, PKT_TCP_ACK, 0, T0);
	struct pkt_meta fin = pkt(CLI, 40000, SRV, 443, PKT_TCP_ACK | PKT_TCP_FIN, 0, T0);
	struct pkt_meta rst = pkt(SRV, 443, CLI, 40000, PKT_TCP_RST, 0, T0);
	struct pkt_meta data = pkt(SRV, 443, CLI, 40000, PKT_TCP_ACK, 100, T0 + 1);
	struct pkt_meta syn = pkt(CLI, 40001, SRV, 25, PKT_TCP_SYN, 0, T0 + 2);
	enum flow_dir d;
	struct flow *f;

	(void)state;
	assert_null(flow_lookup_or_start(ft, &ack, &d));
	assert_null(flow_lookup_or_start(ft, &fin, &d));
	assert_null(flow_lookup_or_start(ft, &rst, &d));
	assert_int_equal(flow_table_stats(ft)->created, 0);

	f = flow_lookup_or_start(ft, &data, &d);
	assert_non_null(f);
	assert_int_equal(d, FLOW_DIR_TO_CLIENT); /* 443 is not a server port here: higher port */
	/* once there, a bare ACK finds it and counts */
	assert_ptr_equal(flow_lookup_or_start(ft, &ack, &d), f);
	assert_int_equal(flow_seen_dirs(f), 3);
	assert_non_null(flow_lookup_or_start(ft, &syn, &d));
	assert_int_equal(flow_table_stats(ft)->created, 2);
	flow_table_destroy(ft);
}

static void test_flow_both_directions_one_flow(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(64, &rl);
	struct pkt_meta syn = pkt(CLI, 40000, SRV, 25, PKT_TCP_SYN, 0, T0);
	struct pkt_meta synack = pkt(SRV, 25, CLI, 40000, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0 + 1);
	struct pkt_meta data = pkt(SRV, 25, CLI, 40000, PKT_TCP_ACK, 27, T0 + 2);
	enum flow_dir d1, d2, d3;
	struct flow *f = flow_lookup_or_add(ft, &syn, &d1);

	(void)state;
	assert_ptr_equal(flow_lookup_or_add(ft, &synack, &d2), f);
	assert_ptr_equal(flow_lookup_or_add(ft, &data, &d3), f);
	assert_int_equal(d1, FLOW_DIR_TO_SERVER);
	assert_int_equal(d2, FLOW_DIR_TO_CLIENT);
	assert_int_equal(d3, FLOW_DIR_TO_CLIENT);
	assert_memory_equal(flow_client_addr(f), CLI.b, 16);
	assert_memory_equal(flow_server_addr(f), SRV.b, 16);
	assert_int_equal(flow_client_port(f), 40000);
	assert_int_equal(flow_server_port(f), 25);
	assert_int_equal(flow_bytes(f, FLOW_DIR_TO_CLIENT), 27);
	assert_int_equal(flow_seen_dirs(f), 3);
	assert_true(flow_syn_seen(f));
	assert_int_equal(f->first_ns, T0);
	assert_int_equal(f->last_ns, T0 + 2);

	/* lookup only: same flow either way, nothing counted */
	assert_ptr_equal(flow_lookup(ft, &syn, &d1), f);
	assert_ptr_equal(flow_lookup(ft, &synack, &d2), f);
	assert_int_equal(d1, FLOW_DIR_TO_SERVER);
	assert_int_equal(d2, FLOW_DIR_TO_CLIENT);
	assert_int_equal(f->last_ns, T0 + 2);
	syn.sport = 40001;
	assert_null(flow_lookup(ft, &syn, &d1));

	assert_int_equal(flow_table_stats(ft)->created, 1);
	assert_int_equal(flow_table_stats(ft)->active, 1);
	assert_int_equal(flow_table_stats(ft)->midstream, 0);
	flow_table_destroy(ft);
}

/* Same addresses and ports: the lower port is key.lo; each side still gets its direction. */
static void test_flow_same_address_both_ends(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(8, &rl);
	struct pkt_meta a = pkt(CLI, 2525, CLI, 25, PKT_TCP_SYN, 0, T0);
	struct pkt_meta b = pkt(CLI, 25, CLI, 2525, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0);
	enum flow_dir da, db;
	struct flow *f = flow_lookup_or_add(ft, &a, &da);

	(void)state;
	assert_ptr_equal(flow_lookup_or_add(ft, &b, &db), f);
	assert_int_equal(f->key.lo_port, 25);
	assert_int_equal(da, FLOW_DIR_TO_SERVER);
	assert_int_equal(db, FLOW_DIR_TO_CLIENT);
	flow_table_destroy(ft);
}

/* The key orders addresses by their first differing byte, whichever half of it that is in. */
static void test_flow_key_order_by_address_halves(void **state)
{
	union pkt_addr lo = {.b = {0x20, 0x01, 0x0d, 0xb8, [15] = 0xff}};
	union pkt_addr hi = {.b = {0x20, 0x01, 0x0d, 0xb9, [15] = 0x01}};
	struct released rl = {0};
	struct flow_table *ft = table(8, &rl);
	struct pkt_meta a = pkt(hi, 40000, lo, 25, PKT_TCP_SYN, 0, T0);
	struct pkt_meta b = pkt(lo, 25, hi, 40000, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0);
	struct pkt_meta c = pkt(CLI, 40000, SRV, 25, PKT_TCP_SYN, 0, T0);
	enum flow_dir da, db, dc;
	struct flow *f, *g;

	(void)state;
	a.family = b.family = 6;
	f = flow_lookup_or_add(ft, &a, &da);
	assert_ptr_equal(flow_lookup_or_add(ft, &b, &db), f);
	assert_memory_equal(f->key.lo.b, lo.b, 16);
	assert_memory_equal(f->key.hi.b, hi.b, 16);
	assert_int_equal(f->key.lo_port, 25);
	assert_int_equal(f->key.hi_port, 40000);
	assert_int_equal(f->key.family, 6);
	assert_int_equal(da, FLOW_DIR_TO_SERVER);
	assert_int_equal(db, FLOW_DIR_TO_CLIENT);
	/* IPv4 addresses differ only in the second half */
	g = flow_lookup_or_add(ft, &c, &dc);
	assert_ptr_not_equal(g, f);
	assert_memory_equal(g->key.lo.b, CLI.b, 16);
	assert_int_equal(g->key.lo_port, 40000);
	assert_int_equal(g->key.family, 4);
	assert_int_equal(flow_table_stats(ft)->active, 2);
	flow_table_destroy(ft);
}

static void test_flow_vlan_in_key(void **state)
{
	struct flow_table_cfg cfg;
	struct flow_table *ft;
	struct pkt_meta m = pkt(CLI, 40000, SRV, 25, PKT_TCP_SYN, 0, T0);
	enum flow_dir d;
	struct flow *f10, *f20;

	(void)state;
	for (int in_key = 0; in_key < 2; in_key++) {
		flow_table_cfg_default(&cfg);
		cfg.capacity = 16;
		cfg.vlan_in_key = in_key;
		assert_int_equal(flow_table_create(&cfg, &ft), 0);
		m.vlan = 10;
		f10 = flow_lookup_or_add(ft, &m, &d);
		m.vlan = 20;
		f20 = flow_lookup_or_add(ft, &m, &d);
		if (in_key) {
			assert_ptr_not_equal(f10, f20);
			assert_int_equal(f10->key.vlan, 10);
			assert_int_equal(f20->key.vlan, 20);
			assert_int_equal(flow_table_stats(ft)->active, 2);
		} else {
			assert_ptr_equal(f10, f20);
			assert_int_equal(f10->key.vlan, 0);
			assert_int_equal(flow_table_stats(ft)->active, 1);
		}
		flow_table_destroy(ft);
	}
}

/* The first packet decides who the client is; checked from both sides of each rule. */
static void test_flow_orientation_rules(void **state)
{
	static const struct {
		const char *rule;
		uint16_t sport, dport;
		uint8_t flags;
		uint16_t client_port;
		bool midstream;
	} cases[] = {
		{"SYN sender, even from a server port", 25, 40000, PKT_TCP_SYN, 25, false},
		{"SYN/ACK receiver", 25, 40000, PKT_TCP_SYN | PKT_TCP_ACK, 40000, false},
		{"SYN/ACK receiver on a server port", 40000, 25, PKT_TCP_SYN | PKT_TCP_ACK, 25,
		 false},
		{"not on a server port (sender)", 40000, 25, PKT_TCP_ACK, 40000, true},
		{"not on a server port (receiver)", 25, 40000, PKT_TCP_ACK | PKT_TCP_PSH, 40000,
		 true},
		{"neither a server port: higher port", 1000, 2000, PKT_TCP_ACK, 2000, true},
		{"neither a server port: higher port sends", 2000, 1000, PKT_TCP_ACK, 2000, true},
		{"both server ports: higher port", 25, 587, PKT_TCP_ACK, 587, true},
		{"FIN mid-stream", 587, 25, PKT_TCP_FIN | PKT_TCP_ACK, 587, true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct released rl = {0};
		struct flow_table *ft = table(8, &rl);
		struct pkt_meta m =
			pkt(CLI, cases[i].sport, SRV, cases[i].dport, cases[i].flags, 0, T0);
		enum flow_dir d;
		struct flow *f = flow_lookup_or_add(ft, &m, &d);

		print_message("case: %s\n", cases[i].rule);
		assert_int_equal(flow_client_port(f), cases[i].client_port);
		assert_int_equal(d, m.sport == cases[i].client_port ? FLOW_DIR_TO_SERVER
								    : FLOW_DIR_TO_CLIENT);
		assert_int_equal(flow_syn_seen(f), !cases[i].midstream);
		assert_int_equal(flow_table_stats(ft)->midstream, cases[i].midstream);
		assert_int_equal(flow_seen_dirs(f), 1u << d);
		flow_table_destroy(ft);
	}
}

/* Full table: closed flows go first, then those without payload, then the oldest. */
static void test_flow_eviction_order(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(4, &rl);
	struct pkt_meta m;
	enum flow_dir d;
	struct flow *f;

	(void)state;
	/* 1001, 1002 carry payload; 1003, 1004 only handshake; then 1001 is seen again */
	for (uint16_t p = 1001; p <= 1004; p++) {
		m = pkt(CLI, p, SRV, 25, PKT_TCP_ACK, p <= 1002 ? 100 : 0,
			T0 + MS(100 * (p - 1000)));
		flow_lookup_or_add(ft, &m, &d);
	}
	m = pkt(SRV, 25, CLI, 1001, PKT_TCP_ACK, 0, T0 + MS(500));
	flow_lookup_or_add(ft, &m, &d);

	for (uint16_t p = 2001; p <= 2003; p++) {
		m = pkt(CLI, p, SRV, 25, PKT_TCP_SYN, 0, T0 + MS(100 * (p - 2001) + 600));
		f = flow_lookup_or_add(ft, &m, &d);
		m.tcp_flags = PKT_TCP_ACK;
		m.payload_len = 10; /* the newcomer is established right away */
		assert_ptr_equal(flow_lookup_or_add(ft, &m, &d), f);
	}
	assert_int_equal(rl.n, 3);
	assert_int_equal(rl.client_port[0], 1003);
	assert_int_equal(rl.client_port[1], 1004);
	assert_int_equal(rl.client_port[2], 1002); /* 1001 was seen more recently */
	for (unsigned int i = 0; i < 3; i++)
		assert_int_equal(rl.reason[i], FLOW_END_EVICTED);

	/* a closed flow goes before any other, even a fresher one */
	m = pkt(CLI, 2003, SRV, 25, PKT_TCP_ACK, 0, T0 + MS(900));
	flow_mark_closed(ft, flow_lookup_or_add(ft, &m, &d));
	m = pkt(CLI, 3001, SRV, 25, PKT_TCP_SYN, 0, T0 + MS(950));
	flow_lookup_or_add(ft, &m, &d);
	assert_int_equal(rl.n, 4);
	assert_int_equal(rl.client_port[3], 2003);
	assert_int_equal(rl.reason[3], FLOW_END_EVICTED);

	assert_int_equal(flow_table_stats(ft)->evicted, 4);
	assert_int_equal(flow_table_stats(ft)->created, 8);
	assert_int_equal(flow_table_stats(ft)->active, 4);
	assert_int_equal(flow_table_stats(ft)->one_sided, 4);
	m = pkt(CLI, 1003, SRV, 25, PKT_TCP_ACK, 0, T0 + MS(40));
	assert_null(flow_lookup(ft, &m, &d));
	m.sport = 1001;
	assert_non_null(flow_lookup(ft, &m, &d));
	flow_table_destroy(ft);
}

/* A full table whose oldest flow has timed out expires it rather than evicting. */
static void test_flow_full_table_expires_first(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(2, &rl);
	struct pkt_meta m = pkt(CLI, 1001, SRV, 25, PKT_TCP_ACK, 5, T0);
	enum flow_dir d;

	(void)state;
	flow_lookup_or_add(ft, &m, &d);
	m.sport = 1002;
	m.ts_ns = T0 + MS(4000);
	flow_lookup_or_add(ft, &m, &d);
	m.sport = 1003;
	m.ts_ns = T0 + MS(5000);
	flow_lookup_or_add(ft, &m, &d);
	assert_int_equal(rl.n, 1);
	assert_int_equal(rl.client_port[0], 1001);
	assert_int_equal(rl.reason[0], FLOW_END_IDLE);
	assert_int_equal(flow_table_stats(ft)->expired_idle, 1);
	assert_int_equal(flow_table_stats(ft)->evicted, 0);
	flow_table_destroy(ft);
}

static void test_flow_timeouts_on_packet_time(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(16, &rl);
	struct pkt_meta emb = pkt(CLI, 1001, SRV, 25, PKT_TCP_SYN, 0, T0);
	struct pkt_meta est = pkt(CLI, 1002, SRV, 25, PKT_TCP_ACK, 50, T0);
	struct pkt_meta fin = pkt(CLI, 1003, SRV, 25, PKT_TCP_ACK, 50, T0);
	struct pkt_meta rst = pkt(CLI, 1004, SRV, 25, PKT_TCP_ACK, 50, T0 + MS(500));
	enum flow_dir d;
	struct flow *f;

	(void)state;
	flow_lookup_or_add(ft, &emb, &d);
	flow_lookup_or_add(ft, &est, &d);
	flow_mark_closed(ft, flow_lookup_or_add(ft, &fin, &d));
	f = flow_lookup_or_add(ft, &rst, &d);
	f->tcp.dir[FLOW_DIR_TO_CLIENT].flags |= TCP_REASM_F_RST;
	flow_mark_closed(ft, f);

	assert_int_equal(flow_expire(ft, T0 + MS(999), 100), 0);
	assert_int_equal(flow_expire(ft, T0 + MS(1000), 100), 1);
	assert_int_equal(rl.client_port[0], 1001);
	assert_int_equal(rl.reason[0], FLOW_END_IDLE);

	assert_int_equal(flow_expire(ft, T0 + MS(1999), 100), 0);
	assert_int_equal(flow_expire(ft, T0 + MS(2000), 100), 1);
	assert_int_equal(rl.client_port[1], 1003);
	assert_int_equal(rl.reason[1], FLOW_END_FIN);
	assert_int_equal(flow_expire(ft, T0 + MS(2500), 100), 1);
	assert_int_equal(rl.client_port[2], 1004);
	assert_int_equal(rl.reason[2], FLOW_END_RST);

	/* a packet refreshes the established flow */
	est.ts_ns = T0 + MS(4000);
	flow_lookup_or_add(ft, &est, &d);
	assert_int_equal(flow_expire(ft, T0 + MS(8999), 100), 0);
	assert_int_equal(flow_expire(ft, T0 + MS(9000), 100), 1);
	assert_int_equal(rl.client_port[3], 1002);
	assert_int_equal(rl.reason[3], FLOW_END_IDLE);

	assert_int_equal(flow_table_stats(ft)->expired_idle, 2);
	assert_int_equal(flow_table_stats(ft)->expired_closed, 2);
	assert_int_equal(flow_table_stats(ft)->active, 0);
	flow_table_destroy(ft);
}

static void test_flow_expire_budget(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(16, &rl);
	enum flow_dir d;

	(void)state;
	for (uint16_t p = 1; p <= 10; p++) {
		struct pkt_meta m = pkt(CLI, p, SRV, 25, PKT_TCP_SYN, 0, T0);

		flow_lookup_or_add(ft, &m, &d);
	}
	assert_int_equal(flow_expire(ft, T0 + SEC(60), 4), 4);
	assert_int_equal(flow_expire(ft, T0 + SEC(60), 4), 4);
	assert_int_equal(flow_expire(ft, T0 + SEC(60), 4), 2);
	assert_int_equal(flow_expire(ft, T0 + SEC(60), 4), 0);
	assert_int_equal(rl.n, 10);
	flow_table_destroy(ft);
}

/* Two tap ports interleave packets whose stamps step back a little. */
static void test_flow_time_going_backwards(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(4, &rl);
	struct pkt_meta m = pkt(CLI, 1001, SRV, 25, PKT_TCP_ACK, 10, T0 + SEC(10));
	enum flow_dir d;
	struct flow *f = flow_lookup_or_add(ft, &m, &d);

	(void)state;
	m.ts_ns = T0 + SEC(9);
	flow_lookup_or_add(ft, &m, &d);
	assert_int_equal(f->last_ns, T0 + SEC(10));
	assert_int_equal(f->first_ns, T0 + SEC(10));

	/* now before last_ns: age 0, not 2^64 - 1 */
	assert_int_equal(flow_expire(ft, T0, 100), 0);
	assert_int_equal(flow_expire(ft, 0, 100), 0);
	assert_int_equal(flow_expire(ft, T0 + SEC(14), 100), 0);

	/* a full table fed an older packet evicts by order, never by a wrapped age */
	for (uint16_t p = 1002; p <= 1005; p++) {
		m = pkt(CLI, p, SRV, 25, PKT_TCP_ACK, 10, T0 + SEC(1));
		flow_lookup_or_add(ft, &m, &d);
	}
	assert_int_equal(rl.n, 1);
	assert_int_equal(rl.reason[0], FLOW_END_EVICTED);
	assert_int_equal(rl.client_port[0], 1001);
	assert_int_equal(flow_table_stats(ft)->expired_idle, 0);
	flow_table_destroy(ft);
}

/* Payload counters are 40 bits: the low word carries, the top saturates. */
static void test_flow_bytes_carry_and_saturate(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(4, &rl);
	struct pkt_meta m = pkt(CLI, 1001, SRV, 25, PKT_TCP_ACK, 20, T0);
	enum flow_dir d;
	struct flow *f = flow_lookup_or_add(ft, &m, &d);

	(void)state;
	assert_int_equal(flow_bytes(f, FLOW_DIR_TO_SERVER), 20);
	f->bytes_lo[FLOW_DIR_TO_SERVER] = UINT32_MAX - 9;
	flow_lookup_or_add(ft, &m, &d);
	assert_int_equal(flow_bytes(f, FLOW_DIR_TO_SERVER), (UINT64_C(1) << 32) + 10);
	assert_int_equal(flow_bytes(f, FLOW_DIR_TO_CLIENT), 0);

	/* a low word that wrapped to 0 still counts as payload seen (established) */
	f->bytes_lo[FLOW_DIR_TO_SERVER] = 0;
	m.payload_len = 0;
	m.ts_ns = T0 + MS(4000);
	flow_lookup_or_add(ft, &m, &d);
	assert_int_equal(flow_expire(ft, T0 + MS(4000) + MS(1000), 10), 0);

	f->bytes_hi[FLOW_DIR_TO_SERVER] = UINT8_MAX;
	f->bytes_lo[FLOW_DIR_TO_SERVER] = UINT32_MAX - 5;
	m.payload_len = 10;
	flow_lookup_or_add(ft, &m, &d);
	assert_int_equal(flow_bytes(f, FLOW_DIR_TO_SERVER), FLOW_BYTES_MAX);
	m.payload_len = UINT32_MAX;
	flow_lookup_or_add(ft, &m, &d);
	assert_int_equal(flow_bytes(f, FLOW_DIR_TO_SERVER), FLOW_BYTES_MAX);
	assert_int_equal(flow_bytes(f, FLOW_DIR_TO_CLIENT), 0);
	flow_table_destroy(ft);
}

static void test_flow_reuse_after_close(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(8, &rl);
	struct pkt_meta m = pkt(CLI, 40000, SRV, 25, PKT_TCP_SYN, 0, T0);
	enum flow_dir d;
	struct flow *f = flow_lookup_or_add(ft, &m, &d);
	char uid1[FLOW_UID_LEN + 1], uid2[FLOW_UID_LEN + 1];

	(void)state;
	m = pkt(SRV, 25, CLI, 40000, PKT_TCP_ACK, 30, T0 + MS(1));
	flow_lookup_or_add(ft, &m, &d);
	flow_uid(f, uid1);
	flow_mark_closed(ft, f);

	/* stragglers and a SYN/ACK do not reuse */
	m = pkt(CLI, 40000, SRV, 25, PKT_TCP_ACK | PKT_TCP_FIN, 0, T0 + MS(2));
	assert_ptr_equal(flow_lookup_or_add(ft, &m, &d), f);
	m = pkt(SRV, 25, CLI, 40000, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0 + MS(3));
	assert_ptr_equal(flow_lookup_or_add(ft, &m, &d), f);
	assert_true(flow_is_closed(f));
	assert_int_equal(rl.n, 0);

	/* the server side opens a new connection on the same key */
	m = pkt(SRV, 25, CLI, 40000, PKT_TCP_SYN, 0, T0 + MS(4));
	assert_ptr_equal(flow_lookup_or_add(ft, &m, &d), f);
	assert_int_equal(rl.n, 1);
	assert_int_equal(rl.reason[0], FLOW_END_REUSED);
	assert_int_equal(rl.client_port[0], 40000);
	assert_false(flow_is_closed(f));
	assert_int_equal(f->first_ns, T0 + MS(4));
	assert_int_equal(flow_client_port(f), 25);
	assert_int_equal(d, FLOW_DIR_TO_SERVER);
	assert_int_equal(flow_seen_dirs(f), 1u << FLOW_DIR_TO_SERVER);
	flow_uid(f, uid2);
	assert_string_not_equal(uid1, uid2);

	assert_int_equal(flow_table_stats(ft)->reused, 1);
	assert_int_equal(flow_table_stats(ft)->created, 2);
	assert_int_equal(flow_table_stats(ft)->active, 1);
	/* the new flow is embryonic again: its own timeout applies */
	assert_int_equal(flow_expire(ft, T0 + MS(1004), 10), 1);
	assert_int_equal(rl.reason[1], FLOW_END_IDLE);
	flow_table_destroy(ft);
}

static void test_flow_flush_all(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(8, &rl);
	struct pkt_meta m;
	enum flow_dir d;

	(void)state;
	for (uint16_t p = 1; p <= 3; p++) {
		m = pkt(CLI, p, SRV, 25, PKT_TCP_SYN, 0, T0);
		flow_lookup_or_add(ft, &m, &d);
	}
	m = pkt(SRV, 25, CLI, 1, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0);
	flow_lookup_or_add(ft, &m, &d);
	flow_mark_closed(ft, flow_lookup_or_add(ft, &m, &d));

	flow_flush_all(ft, T0 + SEC(1));
	assert_int_equal(rl.n, 3);
	assert_int_equal(rl.why[FLOW_END_SHUTDOWN], 3);
	assert_int_equal(flow_table_stats(ft)->active, 0);
	assert_int_equal(flow_table_stats(ft)->one_sided, 2);
	m = pkt(CLI, 2, SRV, 25, PKT_TCP_SYN, 0, T0);
	assert_null(flow_lookup(ft, &m, &d));

	/* and the table works on afterwards */
	assert_non_null(flow_lookup_or_add(ft, &m, &d));
	assert_int_equal(flow_table_stats(ft)->active, 1);
	flow_flush_all(ft, T0 + SEC(2));
	flow_flush_all(ft, T0 + SEC(2));
	assert_int_equal(rl.n, 4);
	flow_table_destroy(ft);
}

static bool is_base62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Events carry a flow's ends, vlan and first time, not its uid: the uid
 * made from those (on the detector thread) must be the flow's, whichever end
 * is the client and however the key orders the ends. */
static void test_flow_uid_of_ends_is_the_flows(void **state)
{
	union pkt_addr v6a = {.b = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	union pkt_addr v6b = {.b = {0x20, 0x01, 0x0d, 0xb8, [7] = 9, [15] = 0}};
	struct pkt_meta ms[] = {
		pkt(CLI, 40000, SRV, 25, PKT_TCP_SYN, 0, T0),	  /* client is key.lo */
		pkt(SRV, 40001, CLI, 25, PKT_TCP_SYN, 0, T0 + 1), /* client is key.hi */
		pkt(CLI, 2525, CLI, 25, PKT_TCP_SYN, 0, T0 + 2),  /* same address, by ports */
		pkt(CLI, 25, CLI, 2525, PKT_TCP_SYN, 0, T0 + 3),
		pkt(v6a, 40002, v6b, 25, PKT_TCP_SYN, 0, T0 + 4),
		pkt(v6b, 40003, v6a, 587, PKT_TCP_SYN, 0, T0 + 5),
	};
	struct flow_table_cfg cfg;
	struct flow_table *ft;

	(void)state;
	flow_table_cfg_default(&cfg);
	cfg.capacity = 64;
	cfg.vlan_in_key = true;
	cfg.server_ports = smtp_ports;
	assert_int_equal(flow_table_create(&cfg, &ft), 0);
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		char want[FLOW_UID_LEN + 1], got[FLOW_UID_LEN + 1];
		enum flow_dir d;
		struct flow *f;

		ms[i].family = i >= 4 ? 6 : 4;
		ms[i].vlan = (uint16_t)(i * 7);
		f = flow_lookup_or_add(ft, &ms[i], &d);
		assert_non_null(f);
		flow_uid(f, want);
		flow_uid_of_ends(f->key.family, flow_client_addr(f), flow_client_port(f),
				 flow_server_addr(f), flow_server_port(f), f->key.vlan, f->first_ns,
				 got);
		assert_string_equal(got, want);
		/* Not a function of the ends alone. */
		flow_uid_of_ends(f->key.family, flow_client_addr(f), flow_client_port(f),
				 flow_server_addr(f), flow_server_port(f), f->key.vlan,
				 f->first_ns + 1, got);
		assert_string_not_equal(got, want);
	}
	flow_table_destroy(ft);
}

static void test_flow_uid_stable_and_distinct(void **state)
{
	struct released rl = {0};
	struct flow_table *a = table(8, &rl), *b = table(64, &rl);
	struct pkt_meta m = pkt(CLI, 40000, SRV, 25, PKT_TCP_SYN, 0, T0);
	struct pkt_meta r = pkt(SRV, 25, CLI, 40000, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0);
	char u1[FLOW_UID_LEN + 1], u2[FLOW_UID_LEN + 1], u3[FLOW_UID_LEN + 1];
	enum flow_dir d;

	(void)state;
	/* another table (another worker, another run) seeing the reply first */
	flow_uid(flow_lookup_or_add(a, &m, &d), u1);
	flow_uid(flow_lookup_or_add(b, &r, &d), u2);
	assert_int_equal(strlen(u1), FLOW_UID_LEN);
	assert_int_equal(u1[0], 'C');
	for (int i = 1; i < FLOW_UID_LEN; i++)
		assert_true(is_base62(u1[i]));
	assert_string_equal(u1, u2);
	/* pinned: a uid must not change between builds or runs */
	assert_string_equal(u1, UID_PINNED);

	m.sport = 40001;
	flow_uid(flow_lookup_or_add(a, &m, &d), u3);
	assert_string_not_equal(u1, u3);
	m.sport = 40000;
	m.ts_ns = T0 + 1;
	m.vlan = 0;
	flow_flush_all(a, T0);
	flow_uid(flow_lookup_or_add(a, &m, &d), u3);
	assert_string_not_equal(u1, u3);
	flow_table_destroy(a);
	flow_table_destroy(b);
}

/*
 * A burst prepared all at once, then looked up in order, while earlier packets
 * of the burst create the flow a later one belongs to and evict flows that
 * later ones were prepared for: at each step the prepared path answers what
 * flow_lookup_or_start() answers on a twin table, and the plain lookup finds
 * every flow it made (a wrong precomputed hash would index it elsewhere).
 */
static void test_flow_prepared_burst_matches_plain(void **state)
{
	struct pkt_meta b[] = {
		pkt(CLI, 40001, SRV, 25, PKT_TCP_SYN, 0, T0),
		pkt(SRV, 25, CLI, 40001, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0 + 1), /* made by [0] */
		pkt(CLI, 40002, SRV, 25, PKT_TCP_SYN, 0, T0 + 2),
		pkt(CLI, 40003, SRV, 25, PKT_TCP_SYN, 0, T0 + 3), /* evicts 40001 */
		pkt(CLI, 40001, SRV, 25, PKT_TCP_ACK, 0, T0 + 4), /* evicted: no flow */
		pkt(SRV, 25, CLI, 40003, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0 + 5),
		pkt(CLI, 40001, SRV, 25, PKT_TCP_ACK | PKT_TCP_PSH, 6, T0 + 6), /* mid-stream */
		pkt(SRV, 25, CLI, 40002, PKT_TCP_ACK | PKT_TCP_PSH, 8, T0 + 7), /* evicted by [6] */
		pkt(CLI, 40003, SRV, 25, PKT_TCP_ACK | PKT_TCP_PSH, 6, T0 + 8), /* evicted by [7] */
	};
	enum { N = sizeof(b) / sizeof(b[0]) };
	struct released rp = {0}, rq = {0};
	struct flow_table *prep = table(2, &rp), *plain = table(2, &rq);
	struct flow_prep fp[N];
	unsigned int found = 0;

	(void)state;
	for (unsigned int i = 0; i < N; i++)
		flow_prepare(prep, &b[i], &fp[i]);
	for (unsigned int i = 0; i < N; i++) {
		enum flow_dir dp, dq, dl;
		struct flow *fa = flow_lookup_or_start_prepared(prep, &b[i], &fp[i], &dp);
		struct flow *fb = flow_lookup_or_start(plain, &b[i], &dq);

		assert_int_equal(fa == NULL, fb == NULL);
		if (!fa)
			continue;
		assert_int_equal(dp, dq);
		assert_memory_equal(&fa->key, &fb->key, sizeof(fa->key));
		assert_int_equal(flow_seen_dirs(fa), flow_seen_dirs(fb));
		assert_int_equal(fa->last_ns, fb->last_ns);
		assert_ptr_equal(flow_lookup(prep, &b[i], &dl), fa);
		assert_int_equal(dl, dp);
		found++;
	}
	assert_int_equal(found, N - 1);
	assert_memory_equal(flow_table_stats(prep), flow_table_stats(plain),
			    sizeof(struct flow_stats));
	assert_int_equal(flow_table_stats(prep)->created, 6);
	assert_int_equal(flow_table_stats(prep)->evicted, 4);
	assert_int_equal(rp.n, rq.n);
	assert_memory_equal(rp.client_port, rq.client_port, sizeof(rp.client_port));
	flow_table_destroy(prep);
	flow_table_destroy(plain);
}

/* A million flows through 1024 slots: memory fixed, every counter exact. */
static void test_flow_million_inserts_constant_memory(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(1024, &rl);
	size_t mem = flow_table_mem_bytes(ft);
	const uint32_t n = 1000000;
	enum flow_dir d;

	(void)state;
	for (uint32_t i = 0; i < n; i++) {
		struct pkt_meta m =
			pkt(v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i),
			    (uint16_t)(1024 + i % 60000), SRV, 25, PKT_TCP_SYN, 0, T0 + i);
		struct flow *f = flow_lookup_or_add(ft, &m, &d);

		/* every fourth flow is looked up again at once: a hit, not a new flow */
		if (i % 4 == 0)
			assert_ptr_equal(flow_lookup_or_add(ft, &m, &d), f);
	}
	assert_int_equal(flow_table_mem_bytes(ft), mem);
	assert_int_equal(flow_table_stats(ft)->created, n);
	assert_int_equal(flow_table_stats(ft)->evicted, n - 1024);
	assert_int_equal(flow_table_stats(ft)->active, 1024);
	assert_int_equal(rl.n, n - 1024);
	for (uint32_t i = n - 1024; i < n; i++) {
		struct pkt_meta m = pkt(v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i),
					(uint16_t)(1024 + i % 60000), SRV, 25, PKT_TCP_ACK, 0, 0);

		assert_non_null(flow_lookup(ft, &m, &d));
	}
	flow_flush_all(ft, T0 + n);
	assert_int_equal(rl.n, n);
	assert_int_equal(flow_table_stats(ft)->active, 0);
	print_message("bytes per flow: %zu\n", flow_table_mem_bytes(ft) / flow_table_capacity(ft));
	flow_table_destroy(ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_create_args),
		cmocka_unit_test(test_flow_only_syn_or_payload_starts_a_flow),
		cmocka_unit_test(test_flow_both_directions_one_flow),
		cmocka_unit_test(test_flow_same_address_both_ends),
		cmocka_unit_test(test_flow_key_order_by_address_halves),
		cmocka_unit_test(test_flow_vlan_in_key),
		cmocka_unit_test(test_flow_orientation_rules),
		cmocka_unit_test(test_flow_eviction_order),
		cmocka_unit_test(test_flow_full_table_expires_first),
		cmocka_unit_test(test_flow_timeouts_on_packet_time),
		cmocka_unit_test(test_flow_bytes_carry_and_saturate),
		cmocka_unit_test(test_flow_expire_budget),
		cmocka_unit_test(test_flow_time_going_backwards),
		cmocka_unit_test(test_flow_reuse_after_close),
		cmocka_unit_test(test_flow_flush_all),
		cmocka_unit_test(test_flow_uid_stable_and_distinct),
		cmocka_unit_test(test_flow_uid_of_ends_is_the_flows),
		cmocka_unit_test(test_flow_prepared_burst_matches_plain),
		cmocka_unit_test(test_flow_million_inserts_constant_memory),
	};

	return cmocka_run_group_tests(tests, setup_ports, NULL);
}
