// SPDX-License-Identifier: BSD-3-Clause
/*
 * flow table: eviction order and reasons, a full table expiring first,
 * every timeout on packet time (also stepping back) and the expiry budget,
 * reuse of a closed key, flush, and a million flows through a small table
 * with constant memory. The fixture is flow_fx.h.
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
#include "flow_fx.h"

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

/*
 * The table of table(): its shortest timeout is 1 s, so its LRU grain is 2^26
 * ns (the largest power of two within 1/8 of it).
 */
#define GRAIN (UINT64_C(1) << 26)

/*
 * Flows 1001, 1002, 1003 start (SYN, embryonic) at the start of a grain, then
 * the server side of flow `again` sends a packet of `len` payload bytes at
 * `ts`, and a fourth flow starts: the client port of the flow evicted for it.
 */
static uint16_t evicted_after(uint16_t again, uint32_t len, uint64_t ts)
{
	struct released rl = {0};
	struct flow_table *ft = table(3, &rl);
	uint64_t edge = (T0 / GRAIN + 1) * GRAIN;
	struct pkt_meta m;
	enum flow_dir d;
	uint16_t port;

	for (uint16_t p = 1001; p <= 1003; p++) {
		m = pkt(CLI, p, SRV, 25, PKT_TCP_SYN, 0, edge + p - 1001);
		flow_lookup_or_add(ft, &m, &d);
	}
	m = pkt(SRV, 25, CLI, again, PKT_TCP_ACK, len, edge + ts);
	assert_non_null(flow_lookup_or_start(ft, &m, &d));
	assert_int_equal(d, FLOW_DIR_TO_CLIENT);
	m = pkt(CLI, 2001, SRV, 25, PKT_TCP_SYN, 0, edge + ts + 1);
	flow_lookup_or_add(ft, &m, &d);
	assert_int_equal(rl.n, 1);
	assert_int_equal(rl.reason[0], FLOW_END_EVICTED);
	port = rl.client_port[0];
	flow_table_destroy(ft);
	return port;
}

/*
 * A flow seen again stays in place within its grain and moves last from the
 * next one on, or at once when its list changes: the packet path skips the
 * move only where a full relink would leave the same order to within a grain.
 */
static void test_flow_lru_grain_edge(void **state)
{
	(void)state;
	/* the last nanosecond of the grain: not moved, so still the oldest */
	assert_int_equal(evicted_after(1001, 0, GRAIN - 1), 1001);
	/* the first of the next grain: moved behind 1003 */
	assert_int_equal(evicted_after(1001, 0, GRAIN), 1002);
	assert_int_equal(evicted_after(1002, 0, GRAIN), 1001);
	/* payload in the same grain: established now, so embryonic flows go first */
	assert_int_equal(evicted_after(1001, 1, 5), 1002);
	assert_int_equal(evicted_after(1001, 1, GRAIN - 1), 1002);
	/* the newest flow seen again, in a later grain: order unchanged */
	assert_int_equal(evicted_after(1003, 0, 3 * GRAIN), 1001);
	assert_int_equal(evicted_after(1003, 7, 3 * GRAIN), 1001);
	/* packet time stepping back does not count as a later grain */
	assert_int_equal(evicted_after(1001, 0, (uint64_t)-GRAIN), 1001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_eviction_order),
		cmocka_unit_test(test_flow_full_table_expires_first),
		cmocka_unit_test(test_flow_timeouts_on_packet_time),
		cmocka_unit_test(test_flow_expire_budget),
		cmocka_unit_test(test_flow_time_going_backwards),
		cmocka_unit_test(test_flow_reuse_after_close),
		cmocka_unit_test(test_flow_flush_all),
		cmocka_unit_test(test_flow_million_inserts_constant_memory),
		cmocka_unit_test(test_flow_lru_grain_edge),
	};

	return cmocka_run_group_tests(tests, setup_ports, NULL);
}
