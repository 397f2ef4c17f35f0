// SPDX-License-Identifier: BSD-3-Clause
/*
 * The flow index against the table's internals (flow_int.h): a flow entry
 * keeps no hash, so the one remade from its stored key when it leaves must
 * be the one its packets were looked up with, or its index entry is looked
 * for from the wrong bucket and the overflow counts go wrong; the SIMD
 * key compare of a probe against the word by word one; and the list a found
 * flow is put on (flow_list_open(), flow_hit()) against flow_list_of(); the
 * order of a key's two ends (flow_end_is_lo()) against memcmp's.
 */
#include <arpa/inet.h>

#include "flow_fx.h"

#include "dataplane/flow_int.h"

/* Both ends IPv6, to fill all four address words of the key. */
static union pkt_addr v6(uint16_t last)
{
	union pkt_addr x = {
		.b = {0x20, 0x01, 0x0d, 0xb8, [14] = (uint8_t)(last >> 8), [15] = (uint8_t)last}};

	return x;
}

/* flow_hash_of() on the entry == the hash flow_prepare() made from a packet,
 * either way, for IPv4, IPv6, with a VLAN, and for the end ordered by port. */
static void test_flow_hash_of_entry_is_the_packets(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(64, &rl);
	struct pkt_meta ms[5] = {
		pkt(CLI, 40001, SRV, 25, PKT_TCP_SYN, 0, T0),
		pkt(v6(1), 40002, v6(2), 587, PKT_TCP_SYN, 0, T0),
		pkt(v6(9), 25, v6(3), 40003, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0),
		pkt(CLI, 40004, CLI, 25, PKT_TCP_SYN, 0, T0),
		pkt(SRV, 25, CLI, 40005, PKT_TCP_ACK, 10, T0),
	};

	(void)state;
	ms[1].family = ms[2].family = 6;
	ms[3].vlan = 42;
	for (unsigned int i = 0; i < 5; i++) {
		struct pkt_meta back = ms[i];
		struct flow_prep p, q;
		enum flow_dir dir;
		struct flow *f;

		back.src = ms[i].dst;
		back.dst = ms[i].src;
		back.sport = ms[i].dport;
		back.dport = ms[i].sport;
		flow_prepare(ft, &ms[i], &p);
		flow_prepare(ft, &back, &q);
		f = flow_lookup_or_start_prepared(ft, &ms[i], &p, &dir);
		assert_non_null(f);
		assert_true(flow_hash_of(ft, f) == p.hash);
		assert_true(flow_hash_of(ft, f) == q.hash);
		assert_ptr_equal(flow_lookup(ft, &back, &dir), f);
	}
	flow_table_destroy(ft);
}

/*
 * flow_key_eq() (two SSE2 vectors and a word) against flow_key_eq_words():
 * the same key, and the key with any one of its 40 bytes changed, in its
 * lowest or highest bit, in either operand.
 */
static void test_flow_key_eq_is_word_compare(void **state)
{
	struct flow_key a;
	struct flow_kw k;
	uint8_t img[sizeof(a)];

	(void)state;
	_Static_assert(sizeof(img) == sizeof(k), "a key and its words are one image");
	for (unsigned int i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(0x5a ^ i * 37);
	memcpy(&a, img, sizeof(a));
	memcpy(&k, img, sizeof(k));
	assert_true(flow_key_eq(&a, &k));
	assert_true(flow_key_eq_words(&a, &k));
	for (unsigned int i = 0; i < sizeof(img); i++) {
		for (unsigned int bit = 0; bit < 8; bit += 7) {
			uint8_t flip[sizeof(img)];

			memcpy(flip, img, sizeof(img));
			flip[i] ^= (uint8_t)(1u << bit);
			memcpy(&a, flip, sizeof(a));
			memcpy(&k, img, sizeof(k));
			assert_false(flow_key_eq(&a, &k));
			assert_false(flow_key_eq_words(&a, &k));
			memcpy(&a, img, sizeof(a));
			memcpy(&k, flip, sizeof(k));
			assert_false(flow_key_eq(&a, &k));
			assert_false(flow_key_eq_words(&a, &k));
		}
	}
}

/*
 * flow_list_open() (what flow_hit() asks of a flow it has found not closed)
 * against flow_list_of(): the same list for every flag but FLOW_F_CLOSED,
 * with no byte, or one byte in any one of the counters' bytes (either way,
 * low words and high bytes); and a closed flow is on the closed list.
 */
static void test_flow_list_open_is_list_of(void **state)
{
	(void)state;
	for (unsigned int fl = 0; fl < 256; fl++) {
		for (unsigned int i = 0; i <= sizeof(uint32_t[2]) + sizeof(uint8_t[2]); i++) {
			struct flow f;
			enum flow_list want = i ? FLOW_LIST_ESTABLISHED : FLOW_LIST_EMBRYONIC;

			memset(&f, 0, sizeof(f));
			f.flags = (uint8_t)fl;
			if (i && i <= sizeof(f.bytes_lo))
				((uint8_t *)f.bytes_lo)[i - 1] = 0x80;
			else if (i)
				f.bytes_hi[i - 1 - sizeof(f.bytes_lo)] = 1;
			if (fl & FLOW_F_CLOSED) {
				assert_int_equal(flow_list_of(&f), FLOW_LIST_CLOSED);
				continue;
			}
			assert_int_equal(flow_list_open(&f), want);
			assert_int_equal(flow_list_of(&f), want);
		}
	}
}

/* The list a found flow is on after each packet of a handshake, a bare ACK
 * and a payload (the hits go through flow_hit()): the one flow_list_of() names,
 * with the flow last on it. */
static void test_flow_hit_keeps_the_list(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(64, &rl);
	struct pkt_meta ms[4] = {
		pkt(CLI, 40001, SRV, 25, PKT_TCP_SYN, 0, T0),
		pkt(SRV, 25, CLI, 40001, PKT_TCP_SYN | PKT_TCP_ACK, 0, T0 + SEC(1)),
		pkt(CLI, 40001, SRV, 25, PKT_TCP_ACK, 0, T0 + SEC(2)),
		pkt(SRV, 25, CLI, 40001, PKT_TCP_ACK, 12, T0 + SEC(3)),
	};
	enum flow_list want[4] = {FLOW_LIST_EMBRYONIC, FLOW_LIST_EMBRYONIC, FLOW_LIST_EMBRYONIC,
				  FLOW_LIST_ESTABLISHED};

	(void)state;
	for (unsigned int i = 0; i < 4; i++) {
		enum flow_dir dir;
		struct flow *f = flow_lookup_or_start(ft, &ms[i], &dir);
		uint32_t idx;

		assert_non_null(f);
		idx = (uint32_t)(f - ft->flows) + 1;
		assert_int_equal(dir, i & 1 ? FLOW_DIR_TO_CLIENT : FLOW_DIR_TO_SERVER);
		assert_int_equal(flow_list_of(f), want[i]);
		assert_int_equal(ft->lru[want[i]].tail, idx);
	}
	flow_table_destroy(ft);
}

/* Every slot empty and every overflow count back at 0. */
static void assert_index_empty(const struct flow_table *ft)
{
	for (uint32_t b = 0; b < ft->n_buckets; b++) {
		assert_int_equal(ft->buckets[b].overflow, 0);
		for (unsigned int s = 0; s < FLOW_BUCKET_SLOTS; s++) {
			assert_int_equal(ft->buckets[b].sig[s], 0);
			assert_int_equal(ft->buckets[b].idx[s], 0);
		}
	}
}

/* The end order by its definition: memcmp of the addresses, then the ports. */
static bool end_is_lo_ref(const union pkt_addr *a, uint16_t ap, const union pkt_addr *b,
			  uint16_t bp)
{
	int c = memcmp(a->b, b->b, sizeof(a->b));

	return c < 0 || (c == 0 && ap <= bp);
}

/*
 * flow_end_is_lo() decides from the second halves alone when the first ones
 * are equal (every IPv4 pair): against memcmp's order for every pair from a
 * set of addresses that differ only in the first half, only in the second,
 * in the top or bottom byte of either, IPv4-mapped and not, both ways and
 * with ports below, equal to and above each other.
 */
static void test_flow_end_is_lo_is_memcmp_order(void **state)
{
	static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
	static const uint16_t ports[] = {0, 1, 25, 0x8000, 0xffff};
	union pkt_addr as[2 + 4 * sizeof(bytes)];
	size_t n = 0;

	(void)state;
	as[n++] = (union pkt_addr){.w = {0, 0, htonl(0xffff), htonl(0xc0000201)}};
	as[n++] = (union pkt_addr){.w = {0, 0, htonl(0xffff), htonl(0xc0000202)}};
	for (size_t i = 0; i < sizeof(bytes); i++) {
		static const unsigned int at[4] = {0, 7, 8, 15};

		for (size_t j = 0; j < 4; j++) {
			as[n] = as[0];
			as[n++].b[at[j]] = bytes[i];
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			for (size_t p = 0; p < sizeof(ports) / sizeof(ports[0]); p++)
				for (size_t q = 0; q < sizeof(ports) / sizeof(ports[0]); q++)
					assert_int_equal(
						flow_end_is_lo(&as[i], ports[p], &as[j], ports[q]),
						end_is_lo_ref(&as[i], ports[p], &as[j], ports[q]));
}

/*
 * A full table churned through eviction and expiry, generation after
 * generation: each flow is found while it lives, and when all have gone
 * the index is empty with no overflow count left over. A remove that
 * started from the wrong bucket would leave a count stuck at UINT16_MAX,
 * or zero one that a spilled flow's lookup needs. The index is cut to two
 * buckets for twenty flows, so every slot is taken and entries spill past
 * their home bucket (a table made the usual way fills half of them).
 */
static void test_flow_index_empty_after_churn(void **state)
{
	struct released rl = {0};
	struct flow_table *ft = table(20, &rl);
	unsigned int spilled = 0;
	enum flow_dir dir;

	(void)state;
	ft->n_buckets = 2;
	for (unsigned int g = 0; g < 50; g++) {
		uint64_t t = T0 + SEC(10) * g;

		/* 25 flows in a table of 20: the first 5 evicted */
		for (uint16_t i = 0; i < 25; i++) {
			struct pkt_meta m =
				pkt(CLI, (uint16_t)(1024 + g * 25 + i), SRV, 25, PKT_TCP_SYN, 0, t);

			assert_non_null(flow_lookup_or_add(ft, &m, &dir));
		}
		spilled += ft->buckets[0].overflow || ft->buckets[1].overflow;
		for (uint16_t i = 0; i < 25; i++) {
			struct pkt_meta m =
				pkt(CLI, (uint16_t)(1024 + g * 25 + i), SRV, 25, PKT_TCP_ACK, 0, t);

			assert_int_equal(flow_lookup(ft, &m, &dir) != NULL, i >= 5);
		}
		assert_int_equal(flow_expire(ft, t + SEC(5), 100), 20);
		assert_index_empty(ft);
	}
	assert_true(spilled > 0);
	assert_int_equal(flow_table_stats(ft)->evicted, 50 * 5);
	flow_table_destroy(ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_hash_of_entry_is_the_packets),
		cmocka_unit_test(test_flow_key_eq_is_word_compare),
		cmocka_unit_test(test_flow_end_is_lo_is_memcmp_order),
		cmocka_unit_test(test_flow_index_empty_after_churn),
		cmocka_unit_test(test_flow_list_open_is_list_of),
		cmocka_unit_test(test_flow_hit_keeps_the_list),
	};

	return cmocka_run_group_tests(tests, setup_ports, NULL);
}
