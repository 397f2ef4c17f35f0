// SPDX-License-Identifier: BSD-3-Clause
/*
 * flow table: both directions find one flow, the key (address halves,
 * VLAN), orientation rules, the byte counters, uids, and a prepared burst
 * against plain lookups. Eviction, timeouts, reuse, flush and constant
 * memory are in test_flow_expiry.c; the fixture is flow_fx.h.
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
		cmocka_unit_test(test_flow_bytes_carry_and_saturate),
		cmocka_unit_test(test_flow_uid_stable_and_distinct),
		cmocka_unit_test(test_flow_uid_of_ends_is_the_flows),
		cmocka_unit_test(test_flow_prepared_burst_matches_plain),
	};

	return cmocka_run_group_tests(tests, setup_ports, NULL);
}
