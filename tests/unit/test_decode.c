// SPDX-License-Identifier: BSD-3-Clause
/*
 * decode: frames built with pkt_build.h for every link type, tag stack and
 * IP variant, malformed on purpose one field at a time; and every prefix of
 * full frames. The tunnels are test_decode_tunnel.c, the real captures
 * test_decode_capture.c; the frame builders they share are decode_fx.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/decode.h"
#include "decode_fx.h"
#include "pkt_build.h"

/* ---- the hot path ---- */

static void test_decode_eth_ipv4_tcp_fills_meta(void **state)
{
	static const uint8_t mss_sack[] = {2, 4, 0x05, 0xb4, 4, 2, 1, 1};
	struct pkt_build_tcp t = tcp_psh;
	struct fx *f = *state;
	const struct pkt_meta *m = &f->m;

	t.opt = mss_sack;
	t.opt_len = sizeof(mss_sack);
	fx_eth_ip4(f, &ip4, &t, smtp_line);

	assert_reason(fx_decode(f), R_OK);
	assert_inner4(m);
	assert_ptr_equal(m->payload, f->buf + 14 + 20 + 28);
	assert_int_equal(m->l4_proto, 6);
	assert_int_equal(m->tcp_flags, PKT_TCP_PSH | PKT_TCP_ACK);
	assert_int_equal(m->seq, 0x01020304);
	assert_int_equal(m->ack, 0xa0b0c0d0);
	assert_int_equal(m->win, 502);
	assert_int_equal(m->ttl, 61);
	assert_int_equal(m->tcp_hdr_len, 28);
	assert_int_equal(m->vlan, 0);
	assert_int_equal(m->encap, 0);
	assert_int_equal(f->st.ipv4, 1);
	assert_int_equal(f->st.ipv6 + f->st.vlan + f->st.gre + f->st.payload_snapped, 0);
}

static void test_decode_eth_ipv6_tcp_fills_meta(void **state)
{
	struct fx *f = *state;

	push_ip6_tcp(fx_start(f, true));
	fx_finish(f);
	assert_reason(fx_decode(f), R_OK);
	assert_inner6(&f->m);
	assert_int_equal(f->m.ttl, 55);
	assert_int_equal(f->m.tcp_hdr_len, 20);
	assert_int_equal(f->st.ipv6, 1);
	assert_int_equal(f->st.ipv4, 0);
}

/* ---- link types ---- */

struct link_case {
	const char *name;
	uint16_t link;
	int (*push_l2)(struct pkt_build *pb, uint32_t arg);
	uint32_t arg;
	bool v6;
	unsigned int want;
};

static int push_eth(struct pkt_build *pb, uint32_t arg)
{
	return pkt_build_eth(pb, (uint16_t)arg);
}

static int push_sll(struct pkt_build *pb, uint32_t arg)
{
	return pkt_build_sll(pb, (uint16_t)arg);
}

static int push_sll2(struct pkt_build *pb, uint32_t arg)
{
	return pkt_build_sll2(pb, (uint16_t)arg);
}

static int push_null_swapped(struct pkt_build *pb, uint32_t arg)
{
	/* Captured on a host of the other byte order. */
	return pkt_build_null(pb, __builtin_bswap32(arg));
}

static int push_nothing(struct pkt_build *pb, uint32_t arg)
{
	(void)pb;
	(void)arg;
	return 0;
}

static const struct link_case link_cases[] = {
	{"ethernet v4", PKT_LINK_ETHERNET, push_eth, 0, false, R_OK},
	{"ethernet v6", PKT_LINK_ETHERNET, push_eth, 0, true, R_OK},
	{"ethernet arp", PKT_LINK_ETHERNET, push_eth, 0x0806, false, DECODE_R_NOT_IP},
	{"ethernet 802.3 length", PKT_LINK_ETHERNET, push_eth, 0x05dc, false, DECODE_R_NOT_IP},
	{"null af 2", PKT_LINK_NULL, pkt_build_null, 2, false, R_OK},
	{"null af 24", PKT_LINK_NULL, pkt_build_null, 24, true, R_OK},
	{"null af 28", PKT_LINK_NULL, pkt_build_null, 28, true, R_OK},
	{"null af 30", PKT_LINK_NULL, pkt_build_null, 30, true, R_OK},
	{"null af 2 swapped", PKT_LINK_NULL, push_null_swapped, 2, false, R_OK},
	{"null af 30 swapped", PKT_LINK_NULL, push_null_swapped, 30, true, R_OK},
	{"null af 7", PKT_LINK_NULL, pkt_build_null, 7, false, DECODE_R_NOT_IP},
	{"loop af 2", PKT_LINK_LOOP, pkt_build_loop, 2, false, R_OK},
	{"loop af 24", PKT_LINK_LOOP, pkt_build_loop, 24, true, R_OK},
	{"raw v4", PKT_LINK_RAW, push_nothing, 0, false, R_OK},
	{"raw v6", PKT_LINK_RAW, push_nothing, 0, true, R_OK},
	{"ipv4", PKT_LINK_IPV4, push_nothing, 0, false, R_OK},
	{"ipv4 given v6", PKT_LINK_IPV4, push_nothing, 0, true, DECODE_R_BAD_IP_VERSION},
	{"ipv6", PKT_LINK_IPV6, push_nothing, 0, true, R_OK},
	{"ipv6 given v4", PKT_LINK_IPV6, push_nothing, 0, false, DECODE_R_BAD_IP_VERSION},
	{"sll", PKT_LINK_LINUX_SLL, push_sll, 0, false, R_OK},
	{"sll v6", PKT_LINK_LINUX_SLL, push_sll, 0, true, R_OK},
	{"sll 802.2", PKT_LINK_LINUX_SLL, push_sll, 0x0004, false, DECODE_R_NOT_IP},
	{"sll2", PKT_LINK_LINUX_SLL2, push_sll2, 0, false, R_OK},
	{"sll2 v6", PKT_LINK_LINUX_SLL2, push_sll2, 0, true, R_OK},
	{"802.11", 105, push_eth, 0, false, DECODE_R_UNSUPPORTED_LINK},
};

static void test_decode_every_link_type(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(link_cases) / sizeof(link_cases[0]); i++) {
		const struct link_case *lc = &link_cases[i];
		struct pkt_build *pb = fx_start(f, false);
		unsigned int r;

		lc->push_l2(pb, lc->arg);
		push_ip_tcp(pb, lc->v6);
		fx_finish(f);
		r = decode_wire(f->buf, f->len, f->len, lc->link, &f->m, &f->st);
		print_message("link case: %s\n", lc->name);
		assert_reason(r, lc->want);
		if (r == R_OK)
			assert_inner(&f->m, lc->v6);
	}
}

static void test_decode_zero_length_frame_is_empty_on_every_link(void **state)
{
	static const uint16_t links[] = {
		PKT_LINK_NULL, PKT_LINK_ETHERNET,   PKT_LINK_RAW,
		PKT_LINK_LOOP, PKT_LINK_LINUX_SLL,  PKT_LINK_IPV4,
		PKT_LINK_IPV6, PKT_LINK_LINUX_SLL2, 999,
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		assert_reason(decode_wire(NULL, 0, 0, links[i], &f->m, &f->st), DECODE_R_EMPTY);
}

/* ---- 802.1Q, QinQ, MPLS ---- */

static unsigned int fx_tags(struct fx *f, const uint16_t *tpids, const uint16_t *vids, size_t n)
{
	struct pkt_build *pb = fx_start(f, true);

	for (size_t i = 0; i < n; i++)
		pkt_build_vlan(pb, tpids[i], vids[i]);
	push_ip6_tcp(pb);
	fx_finish(f);
	return fx_decode(f);
}

static void test_decode_vlan_and_qinq_keep_innermost_id(void **state)
{
	static const uint16_t dot1q[] = {0x8100}, vid1[] = {100};
	static const uint16_t qinq[] = {0x88a8, 0x8100}, vid2[] = {10, 20};
	static const uint16_t old[] = {0x9100, 0x9100, 0x8100}, vid3[] = {1, 2, 4094};
	static const uint16_t five[] = {0x88a8, 0x8100, 0x8100, 0x8100, 0x8100};
	static const uint16_t vid5[] = {1, 2, 3, 4, 5};
	struct fx *f = *state;

	assert_reason(fx_tags(f, dot1q, vid1, 1), R_OK);
	assert_int_equal(f->m.vlan, 100);
	assert_int_equal(f->m.encap, PKT_ENCAP_VLAN);
	assert_int_equal(f->st.vlan, 1);
	assert_inner6(&f->m);

	assert_reason(fx_tags(f, qinq, vid2, 2), R_OK);
	assert_int_equal(f->m.vlan, 20);
	assert_reason(fx_tags(f, old, vid3, 3), R_OK);
	assert_int_equal(f->m.vlan, 4094);
	assert_reason(fx_tags(f, five, vid5, 4), R_OK);
	assert_reason(fx_tags(f, five, vid5, 5), DECODE_R_TOO_MANY_LABELS);
	/* A tag cut in half. */
	assert_reason(fx_decode_cut(f, 14 + 2, f->len), DECODE_R_TRUNCATED_L2);
}

static void test_decode_mpls_stacks_and_control_word(void **state)
{
	struct fx *f = *state;
	struct pkt_build *pb;

	assert_reason(fx_mpls(f, 1, false, false), R_OK);
	assert_inner4(&f->m);
	assert_int_equal(f->m.encap, PKT_ENCAP_MPLS);
	assert_int_equal(f->st.mpls, 1);
	assert_reason(fx_mpls(f, 3, false, true), R_OK);
	assert_inner6(&f->m);
	assert_reason(fx_mpls(f, 8, false, false), R_OK);
	assert_reason(fx_mpls(f, 9, false, false), DECODE_R_TOO_MANY_LABELS);

	/* Ethernet pseudowire: control word, then a whole tagged frame. */
	assert_reason(fx_mpls(f, 2, true, false), R_OK);
	assert_inner4(&f->m);
	assert_int_equal(f->m.vlan, 300);
	assert_int_equal(f->m.encap, PKT_ENCAP_MPLS | PKT_ENCAP_VLAN);

	/* Multicast ethertype; a payload whose first nibble is neither 0, 4 nor 6. */
	pb = fx_start(f, false);
	pkt_build_eth(pb, 0x8848);
	pkt_build_mpls(pb, 20, 1);
	push_ip4_tcp(pb);
	fx_finish(f);
	assert_reason(fx_decode(f), R_OK);
	f->buf[14 + 4] = 0x10;
	assert_reason(fx_decode(f), DECODE_R_NOT_IP);
	assert_reason(fx_decode_cut(f, 14 + 4, f->len), DECODE_R_TRUNCATED_L2);
}

/* ---- IPv4 ---- */

static void test_decode_ipv4_options_are_skipped(void **state)
{
	static const uint8_t opts[40] = {0x94, 0x04, 0, 0, 0x01, 0x01, 0x01, 0x01};
	struct pkt_build_ipv4 ip = ip4;
	struct fx *f = *state;

	ip.opt = opts;
	for (ip.opt_len = 4; ip.opt_len <= 40; ip.opt_len += 4) {
		fx_eth_ip4(f, &ip, &tcp_psh, smtp_line);
		assert_reason(fx_decode(f), R_OK);
		assert_inner4(&f->m);
		assert_ptr_equal(f->m.payload, f->buf + 14 + 20 + ip.opt_len + 20);
	}
	/* IHL 4 and 0: shorter than the fixed header. */
	fx_eth_ip4(f, &ip4, &tcp_psh, smtp_line);
	f->buf[14] = 0x44;
	assert_reason(fx_decode(f), DECODE_R_BAD_IP_HDR_LEN);
	f->buf[14] = 0x40;
	assert_reason(fx_decode(f), DECODE_R_BAD_IP_HDR_LEN);
	/* IHL 15 with only 40 bytes of IP and TCP header captured. */
	f->buf[14] = 0x4f;
	assert_reason(fx_decode_cut(f, 14 + 40, 14 + 40), DECODE_R_TRUNCATED_IP);
	f->buf[14] = 0x65;
	assert_reason(fx_decode(f), DECODE_R_BAD_IP_VERSION);
}

static void test_decode_ethernet_padding_never_becomes_payload(void **state)
{
	struct pkt_build_tcp syn = tcp_psh;
	struct fx *f = *state;

	syn.flags = PKT_BUILD_TCP_SYN;
	fx_eth_ip4(f, &ip4, &syn, "");
	assert_int_equal(f->len, 54);
	f->len = pkt_build_pad_to(&f->pb, 60, 0xee);
	assert_reason(fx_decode(f), R_OK);
	assert_int_equal(f->m.payload_len, 0);
	assert_int_equal(f->m.tcp_flags, PKT_TCP_SYN);

	/* Three bytes of data, three of padding. */
	fx_eth_ip4(f, &ip4, &tcp_psh, "QUI");
	f->len = pkt_build_pad_to(&f->pb, 60, 'T');
	assert_reason(fx_decode(f), R_OK);
	assert_int_equal(f->m.payload_len, 3);
	assert_memory_equal(f->m.payload, "QUI", 3);
	assert_int_equal(f->st.payload_snapped, 0);
}

static void test_decode_ipv4_fragments_are_counted_and_skipped(void **state)
{
	static const uint16_t frag[] = {PKT_BUILD_IP_MF, PKT_BUILD_IP_MF | 1, 185, 0x1fff};
	struct pkt_build_ipv4 ip = ip4;
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(frag) / sizeof(frag[0]); i++) {
		ip.frag = frag[i];
		fx_eth_ip4(f, &ip, &tcp_psh, smtp_line);
		assert_reason(fx_decode(f), DECODE_R_IP_FRAGMENT);
	}
	ip.frag = 0;
	fx_eth_ip4(f, &ip, &tcp_psh, smtp_line);
	assert_reason(fx_decode(f), R_OK);
	/* The reserved ("evil") bit is not a fragment. */
	ip.frag = 0x8000;
	fx_eth_ip4(f, &ip, &tcp_psh, smtp_line);
	assert_reason(fx_decode(f), R_OK);
}

static void test_decode_ip_lengths_against_capture(void **state)
{
	struct fx *f = *state;

	fx_eth_ip4(f, &ip4, &tcp_psh, smtp_line);
	/* Total length one past the frame, then shorter than its own header. */
	f->buf[14 + 3]++;
	assert_reason(fx_decode(f), DECODE_R_BAD_IP_LEN);
	f->buf[14 + 2] = 0;
	f->buf[14 + 3] = 19;
	assert_reason(fx_decode(f), DECODE_R_BAD_IP_LEN);
	/* Room for the IP header but not for TCP's. */
	f->buf[14 + 3] = 30;
	assert_reason(fx_decode(f), DECODE_R_TRUNCATED_TCP);
	assert_reason(fx_decode_cut(f, 14 + 19, 14 + 19), DECODE_R_TRUNCATED_IP);
	assert_reason(fx_decode_cut(f, 13, 13), DECODE_R_TRUNCATED_L2);
}

/* ---- IPv6 extension headers ---- */

struct ext_case {
	const char *name;
	uint8_t types[10]; /* 255 ends the list; 44 = atomic fragment, 45 = real fragment */
	unsigned int want;
};

static const struct ext_case ext_cases[] = {
	{"hbh", {0, 255}, R_OK},
	{"hbh dst rt frag ah dst", {0, 60, 43, 44, 51, 60, 255}, R_OK},
	{"eight", {0, 60, 43, 60, 43, 60, 43, 60, 255}, R_OK},
	{"nine", {0, 60, 43, 60, 43, 60, 43, 60, 60, 255}, DECODE_R_BAD_IPV6_EXT},
	{"hbh second", {60, 0, 255}, DECODE_R_BAD_IPV6_EXT},
	{"fragment", {60, 45, 255}, DECODE_R_IP_FRAGMENT},
};

static void fx_ext_chain(struct fx *f, const uint8_t *types)
{
	struct pkt_build *pb = fx_start(f, true);

	pkt_build_ipv6(pb, &ip6);
	for (; *types != 255; types++) {
		if (*types == 44 || *types == 45)
			pkt_build_ipv6_frag(pb, 0, *types == 45, 0x11223344);
		else if (*types == 51)
			pkt_build_ipv6_ah(pb, 12, 0x100);
		else
			pkt_build_ipv6_ext(pb, *types, *types == 43 ? 24 : 8);
	}
	pkt_build_tcp(pb, &tcp_psh);
	pkt_build_payload(pb, smtp_line, strlen(smtp_line));
	fx_finish(f);
}

static void test_decode_ipv6_extension_chains(void **state)
{
	struct fx *f = *state;
	const size_t ext = 14 + 40;

	for (size_t i = 0; i < sizeof(ext_cases) / sizeof(ext_cases[0]); i++) {
		fx_ext_chain(f, ext_cases[i].types);
		print_message("ext case: %s\n", ext_cases[i].name);
		assert_reason(fx_decode(f), ext_cases[i].want);
		if (ext_cases[i].want == R_OK)
			assert_inner6(&f->m);
	}
	/* A fragment header with an offset; ESP and no-next-header end the walk. */
	fx_ext_chain(f, (const uint8_t[]){44, 255});
	f->buf[ext + 2] = 0x05;
	assert_reason(fx_decode(f), DECODE_R_IP_FRAGMENT);
	f->buf[ext + 2] = 0;
	f->buf[ext] = 50;
	assert_reason(fx_decode(f), DECODE_R_NOT_TCP);
	f->buf[ext] = 59;
	assert_reason(fx_decode(f), DECODE_R_NOT_TCP);
	/* Extension length past the payload length; payload length past the frame. */
	fx_ext_chain(f, (const uint8_t[]){0, 255});
	f->buf[ext + 1] = 200;
	assert_reason(fx_decode(f), DECODE_R_BAD_IPV6_EXT);
	f->buf[ext + 1] = 0;
	assert_reason(fx_decode_cut(f, ext + 6, f->len), DECODE_R_TRUNCATED_IP);
	f->buf[14 + 5]++;
	assert_reason(fx_decode(f), DECODE_R_BAD_IP_LEN);
}

/* ---- snapped frames ---- */

static void test_decode_snapped_frame_delivers_captured_payload(void **state)
{
	struct fx *f = *state;
	size_t cut;

	fx_eth_ip4(f, &ip4, &tcp_psh, smtp_line);
	cut = f->len - 10;
	assert_reason(fx_decode_cut(f, cut, f->len), R_OK);
	assert_int_equal(f->m.payload_len, strlen(smtp_line) - 10);
	assert_memory_equal(f->m.payload, smtp_line, f->m.payload_len);
	assert_int_equal(f->st.payload_snapped, 1);

	/* Checksums cannot be verified on a snapped segment: it still goes through,
	 * and the bytes past the cut were not looked at. */
	memset(f->buf + cut, 0xaa, f->len - cut);
	cfg.verify_checksums = true;
	assert_reason(fx_decode_cut(f, cut, f->len), R_OK);
	cfg.verify_checksums = false;

	/* Cut inside the TCP header, or longer on the wire than IP says: drops. */
	assert_reason(fx_decode_cut(f, 14 + 20 + 10, f->len), DECODE_R_TRUNCATED_TCP);
	assert_reason(fx_decode_cut(f, cut, cut), DECODE_R_BAD_IP_LEN);
	f->buf[14 + 3] += 20;
	assert_reason(fx_decode_cut(f, cut, f->len), DECODE_R_BAD_IP_LEN);
}

/* ---- TCP ---- */

static void test_decode_tcp_header_flags_and_ports(void **state)
{
	static const uint8_t bad_flags[] = {0, 0x03, 0x06, 0x07, 0x13, 0x16};
	static const uint8_t good_flags[] = {0x02, 0x12, 0x01, 0x04, 0x14, 0x11, 0x18, 0xc2};
	struct pkt_build_tcp t = tcp_psh;
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad_flags); i++) {
		t.flags = bad_flags[i];
		fx_eth_ip4(f, &ip4, &t, smtp_line);
		assert_reason(fx_decode(f), DECODE_R_BAD_TCP_FLAGS);
	}
	for (size_t i = 0; i < sizeof(good_flags); i++) {
		t.flags = good_flags[i];
		fx_eth_ip4(f, &ip4, &t, smtp_line);
		assert_reason(fx_decode(f), R_OK);
		assert_int_equal(f->m.tcp_flags, good_flags[i]);
	}
	t = tcp_psh;
	t.sport = 0;
	fx_eth_ip4(f, &ip4, &t, smtp_line);
	assert_reason(fx_decode(f), DECODE_R_BAD_PORT);
	t = tcp_psh;
	t.dport = 0;
	fx_eth_ip4(f, &ip4, &t, smtp_line);
	assert_reason(fx_decode(f), DECODE_R_BAD_PORT);

	/* Data offset 4; 15 and 6, past a 20-byte segment; 6 with options snapped off. */
	fx_eth_ip4(f, &ip4, &tcp_psh, "");
	f->buf[14 + 20 + 12] = 0x40;
	assert_reason(fx_decode(f), DECODE_R_BAD_TCP_HDR_LEN);
	f->buf[14 + 20 + 12] = 0xf0;
	assert_reason(fx_decode(f), DECODE_R_BAD_TCP_HDR_LEN);
	f->buf[14 + 20 + 12] = 0x60;
	assert_reason(fx_decode(f), DECODE_R_BAD_TCP_HDR_LEN);
	f->buf[14 + 3] += 4;
	assert_reason(fx_decode_cut(f, f->len, f->len + 4), DECODE_R_TRUNCATED_TCP);
}

/*
 * Every TCP flag byte and zero ports: the Ethernet frame takes the fast path,
 * the same IP packet as a raw-IP link the general decoder; same verdict, and
 * the one decode_tcp()'s rule gives.
 */
static void test_decode_fast_flags_match_general(void **state)
{
	struct pkt_build_tcp t = tcp_psh;
	struct fx *f = *state;

	for (unsigned int fl = 0; fl < 256 * 3; fl++) {
		bool bad_port = fl >= 256;
		unsigned int want = R_OK;

		t = tcp_psh;
		t.flags = (uint8_t)fl;
		t.sport = fl >= 512 ? 0 : t.sport;
		t.dport = fl >= 256 && fl < 512 ? 0 : t.dport;
		/* SYN+FIN, RST+SYN, RST+FIN (low three bits 3, 6, 7) or no flags */
		if (((0xc8u >> (fl & 7)) & 1) || (fl & 0xff) == 0)
			want = DECODE_R_BAD_TCP_FLAGS;
		else if (bad_port)
			want = DECODE_R_BAD_PORT;
		fx_eth_ip4(f, &ip4, &t, smtp_line);
		assert_reason(fx_decode(f), want);
		assert_int_equal(f->st.ipv4, 1);
		assert_reason(decode_wire(f->buf + 14, f->len - 14, f->len - 14, PKT_LINK_RAW,
					  &f->m, &f->st),
			      want);
	}
}

static void test_decode_non_tcp_is_skipped(void **state)
{
	struct pkt_build_ipv4 icmp = ip4;
	struct fx *f = *state;
	struct pkt_build *pb;

	pb = fx_start(f, true);
	pkt_build_ipv4(pb, &ip4);
	pkt_build_udp(pb, 5353, 53);
	pkt_build_payload(pb, "dns", 3);
	fx_finish(f);
	assert_reason(fx_decode(f), DECODE_R_NOT_TCP);
	assert_int_equal(f->st.vxlan, 0);

	icmp.proto = 1;
	pb = fx_start(f, true);
	pkt_build_ipv4(pb, &icmp);
	pkt_build_payload(pb, "\x08\x00\xf7\xff\x00\x00\x00\x00", 8);
	fx_finish(f);
	assert_reason(fx_decode(f), DECODE_R_NOT_TCP);
}

/* ---- the fast path against the general decoder ---- */

/*
 * The same frame as Linux cooked v1 (16-byte header, ethertype last) goes
 * only through the general decoder, while Ethernet tries decode_fast first:
 * prepending 2 bytes turns one into the other, so every verdict, counter and
 * meta field must agree (bytes and the payload offset differ by those 2).
 */
static void assert_fast_matches_general(const uint8_t *eth, size_t len, size_t wire)
{
	static uint8_t sll[FRAME_MAX + 2];
	struct decode_stats fs, gs;
	struct pkt_meta fm, gm;
	unsigned int fr, gr;

	memset(sll, 0, 2);
	memcpy(sll + 2, eth, len);
	memset(&fm, 0x5a, sizeof(fm));
	memset(&gm, 0xa5, sizeof(gm));
	fr = decode_wire(eth, len, wire, PKT_LINK_ETHERNET, &fm, &fs);
	gr = decode_wire(sll, len + 2, wire + 2, PKT_LINK_LINUX_SLL, &gm, &gs);
	assert_reason(fr, gr);
	gs.bytes -= 2;
	assert_memory_equal(&fs, &gs, sizeof(fs));
	if (fr != R_OK)
		return;
	assert_int_equal(fm.payload - eth, gm.payload - sll - 2);
	/* Field by field: the padding before payload holds what each memset left. */
	assert_memory_equal(&fm, &gm, offsetof(struct pkt_meta, payload_len) + 4);
	assert_int_equal(fm.ts_ns, gm.ts_ns);
}

/* Every cut but 0, and every byte from the ethertype to the TCP header's end set to
 * a few values that sit on the fast path's edges. */
static void fast_vs_general_mutations(struct fx *f, size_t l3)
{
	static const uint8_t vals[] = {0x00, 0x01, 0x02, 0x06, 0x08, 0x11, 0x14, 0x28, 0x3f,
				       0x40, 0x44, 0x45, 0x46, 0x50, 0x81, 0xa0, 0xf0, 0xff};
	uint8_t save;

	for (size_t cut = 1; cut <= f->len; cut++) { /* 0 is empty on one link only */
		assert_fast_matches_general(f->buf, cut, f->len);
		assert_fast_matches_general(f->buf, cut, cut);
	}
	for (size_t i = 12; i < l3 + 40 && i < f->len; i++) {
		save = f->buf[i];
		for (size_t v = 0; v < sizeof(vals); v++) {
			f->buf[i] = vals[v];
			assert_fast_matches_general(f->buf, f->len, f->len);
			assert_fast_matches_general(f->buf, f->len, f->len + 7);
		}
		f->buf[i] = save;
	}
}

static void test_decode_fast_path_agrees_with_general_decoder(void **state)
{
	static const uint8_t opt[] = {1, 1, 1, 1};
	struct pkt_build_ipv4 ipo = ip4;
	struct pkt_build_tcp t = tcp_psh;
	struct fx *f = *state;
	struct pkt_build *pb;

	fx_eth_ip4(f, &ip4, &tcp_psh, smtp_line);
	fast_vs_general_mutations(f, 14);

	pb = fx_start(f, true);
	pkt_build_vlan(pb, 0, 4001);
	push_ip4_tcp(pb);
	fx_finish(f);
	fast_vs_general_mutations(f, 18);

	/* Off the fast path: QinQ, IPv4 options, TCP options, IPv6, padding. */
	pb = fx_start(f, true);
	pkt_build_vlan(pb, 0x88a8, 7);
	pkt_build_vlan(pb, 0, 8);
	push_ip4_tcp(pb);
	fx_finish(f);
	fast_vs_general_mutations(f, 22);
	ipo.opt = opt;
	ipo.opt_len = sizeof(opt);
	fx_eth_ip4(f, &ipo, &tcp_psh, smtp_line);
	fast_vs_general_mutations(f, 14);
	t.opt = opt;
	t.opt_len = sizeof(opt);
	fx_eth_ip4(f, &ip4, &t, "");
	fast_vs_general_mutations(f, 14);
	pb = fx_start(f, true);
	push_ip6_tcp(pb);
	fx_finish(f);
	assert_fast_matches_general(f->buf, f->len, f->len);
	fx_eth_ip4(f, &ip4, &tcp_psh, "");
	f->len = pkt_build_pad_to(&f->pb, 60, 0xee);
	fast_vs_general_mutations(f, 14);
}

/*
 * Not TCP in an option-less IPv4 header: decode_fast counts UDP, ICMP and the
 * rest NOT_TCP itself and leaves the protocols that may carry a tunnel (GRE,
 * IP-in-IP, IPv6-in-IP, UDP to the VXLAN port) to the general decoder.
 * Every protocol number, every cut and the usual byte mutations (ports and
 * lengths included) give the general decoder's verdict and counters.
 */
static void test_decode_fast_non_tcp_agrees_with_general_decoder(void **state)
{
	static const char dns[] = "0123456789abcdef0123456789abcdef0123456789";
	struct pkt_build_ipv4 ipp = ip4;
	struct fx *f = *state;
	struct pkt_build *pb;

	for (unsigned int proto = 0; proto < 256; proto++) {
		ipp.proto = (uint8_t)proto;
		pb = fx_start(f, true);
		pkt_build_ipv4(pb, &ipp);
		pkt_build_payload(pb, dns, sizeof(dns) - 1);
		fx_finish(f);
		assert_fast_matches_general(f->buf, f->len, f->len);
		assert_fast_matches_general(f->buf, f->len, f->len + 3);
	}

	pb = fx_start(f, true);
	pkt_build_ipv4(pb, &ip4);
	pkt_build_udp(pb, 5353, 53);
	pkt_build_payload(pb, dns, sizeof(dns) - 1);
	fx_finish(f);
	assert_reason(fx_decode(f), DECODE_R_NOT_TCP);
	assert_int_equal(f->st.ipv4, 1);
	assert_int_equal(f->st.pkts, 1);
	assert_int_equal(f->st.bytes, f->len);
	fast_vs_general_mutations(f, 14);
	/* The VXLAN port in either byte order, and as the source port only. */
	f->buf[14 + 22] = 0x12;
	f->buf[14 + 23] = 0xb5;
	fast_vs_general_mutations(f, 14);
	f->buf[14 + 22] = 0xb5;
	f->buf[14 + 23] = 0x12;
	assert_fast_matches_general(f->buf, f->len, f->len);
	f->buf[14 + 20] = 0x12;
	f->buf[14 + 21] = 0xb5;
	assert_fast_matches_general(f->buf, f->len, f->len);

	/* Tagged, padded to the Ethernet minimum, and a real VXLAN frame. */
	pb = fx_start(f, true);
	pkt_build_vlan(pb, 0, 4001);
	pkt_build_ipv4(pb, &ip4);
	pkt_build_udp(pb, 123, 123);
	fx_finish(f);
	f->len = pkt_build_pad_to(&f->pb, 64, 0xee);
	fast_vs_general_mutations(f, 18);
	fx_vxlan(f, false, 4789, 0);
	fast_vs_general_mutations(f, 18);
	assert_reason(fx_decode(f), R_OK);
}

/*
 * decode_fast() reads a frame with and without one 802.1Q tag in two inlined
 * copies, and tests each port for zero on its own: ports with one zero byte
 * or at the ends of the range, tag ids at theirs (priority bits set too), and
 * what the tag may hold instead of IPv4, against the general decoder.
 */
static void test_decode_fast_ports_and_tags_agree_with_general(void **state)
{
	static const uint16_t ports[] = {0, 1, 0xff, 0x100, 0x101, 0x8000, 0xff00, 0xffff};
	static const uint16_t tcis[] = {0, 1, 0xfff, 0x1000, 0xe001, 0xffff};
	static const uint16_t inner[] = {0x0800, 0x8100, 0x86dd, 0x88a8, 0x0000, 0x0008};
	struct pkt_build_tcp t = tcp_psh;
	struct fx *f = *state;
	struct pkt_build *pb;

	for (size_t i = 0; i < 2 * sizeof(ports) / sizeof(ports[0]); i++) {
		uint16_t p = ports[i / 2];

		t = tcp_psh;
		if (i % 2)
			t.dport = p;
		else
			t.sport = p;
		for (size_t v = 0; v <= sizeof(tcis) / sizeof(tcis[0]); v++) {
			bool tagged = v < sizeof(tcis) / sizeof(tcis[0]);

			pb = fx_start(f, true);
			if (tagged)
				pkt_build_vlan(pb, 0, tcis[v]);
			pkt_build_ipv4(pb, &ip4);
			pkt_build_tcp(pb, &t);
			pkt_build_payload(pb, smtp_line, strlen(smtp_line));
			fx_finish(f);
			if (tagged) { /* the builder keeps only the id; the priority bits too */
				f->buf[14] = (uint8_t)(tcis[v] >> 8);
				f->buf[15] = (uint8_t)tcis[v];
			}
			assert_fast_matches_general(f->buf, f->len, f->len);
			assert_reason(fx_decode(f), p ? R_OK : DECODE_R_BAD_PORT);
			if (!p)
				continue;
			assert_int_equal(f->m.sport, t.sport);
			assert_int_equal(f->m.dport, t.dport);
			assert_int_equal(f->m.vlan, tagged ? tcis[v] & 0x0fff : 0);
			assert_int_equal(f->m.encap, tagged ? PKT_ENCAP_VLAN : 0);
			assert_int_equal(f->st.vlan, tagged);
		}
	}
	for (size_t i = 0; i < sizeof(inner) / sizeof(inner[0]); i++) {
		pb = fx_start(f, true);
		pkt_build_vlan(pb, 0, 42);
		push_ip4_tcp(pb);
		fx_finish(f);
		f->buf[16] = (uint8_t)(inner[i] >> 8);
		f->buf[17] = (uint8_t)inner[i];
		assert_fast_matches_general(f->buf, f->len, f->len);
		for (size_t cut = 14; cut <= 18 + 40 && cut <= f->len; cut++)
			assert_fast_matches_general(f->buf, cut, f->len);
	}
}

/* ---- checksums ---- */

static void test_decode_checksums_checked_only_when_asked(void **state)
{
	struct fx *f = *state;
	struct pkt_build *pb;

	cfg.verify_checksums = true;
	/* Odd payload length: the last byte is half a checksum word. */
	fx_eth_ip4(f, &ip4, &tcp_psh, "RSET\r\n!");
	assert_reason(fx_decode(f), R_OK);
	f->buf[14 + 10] ^= 0x01;
	assert_reason(fx_decode(f), DECODE_R_BAD_IP_CHECKSUM);
	f->buf[14 + 10] ^= 0x01;
	f->buf[f->len - 1] ^= 0x20;
	assert_reason(fx_decode(f), DECODE_R_BAD_TCP_CHECKSUM);
	cfg.verify_checksums = false;
	assert_reason(fx_decode(f), R_OK);
	f->buf[14 + 10] ^= 0x01;
	assert_reason(fx_decode(f), R_OK);

	cfg.verify_checksums = true;
	pb = fx_start(f, true);
	pkt_build_ipv6(pb, &ip6);
	pkt_build_ipv6_ext(pb, 60, 16);
	pkt_build_tcp(pb, &tcp_psh);
	pkt_build_payload(pb, smtp_line, strlen(smtp_line));
	fx_finish(f);
	assert_reason(fx_decode(f), R_OK);
	f->buf[14 + 8] ^= 0x80; /* source address: only the pseudo-header sees it */
	assert_reason(fx_decode(f), DECODE_R_BAD_TCP_CHECKSUM);
	cfg.verify_checksums = false;
	assert_reason(fx_decode(f), R_OK);
}

/* ---- every prefix of full frames ---- */

static void full_eth_ip4(struct fx *f)
{
	fx_eth_ip4(f, &ip4, &tcp_psh, smtp_line);
}

static void full_ext_chain(struct fx *f)
{
	fx_ext_chain(f, ext_cases[1].types);
}

static void full_mpls_cw(struct fx *f)
{
	struct pkt_build *pb = fx_start(f, true);

	pkt_build_vlan(pb, 0x88a8, 1);
	pkt_build_vlan(pb, 0, 2);
	pkt_build_mpls(pb, 100, 1);
	pkt_build_mpls_cw(pb, 0);
	pkt_build_eth(pb, 0);
	push_ip4_tcp(pb);
	fx_finish(f);
}

static void full_vxlan(struct fx *f)
{
	fx_vxlan(f, true, 4789, 5);
}

static void full_erspan3(struct fx *f)
{
	const struct pkt_build_erspan e = {.subhdr = true};

	fx_erspan(f, 3, &e, true);
}

static void full_gre_csum(struct fx *f)
{
	fx_gre(f, PKT_BUILD_GRE_C | PKT_BUILD_GRE_K | PKT_BUILD_GRE_S, 0x6558);
}

/* Decode a prefix from a buffer of exactly its size, so a sanitizer sees any overread. */
static unsigned int decode_prefix(struct fx *f, size_t cut, size_t wire)
{
	uint8_t *copy = malloc(cut ? cut : 1);
	unsigned int r;

	assert_non_null(copy);
	memcpy(copy, f->buf, cut);
	r = decode_wire(cut ? copy : NULL, cut, wire, PKT_LINK_ETHERNET, &f->m, &f->st);
	if (r == R_OK) {
		/* Snapped: what was captured of the payload, up to the last byte. */
		assert_ptr_equal(f->m.payload + f->m.payload_len, copy + cut);
		assert_int_equal(f->st.payload_snapped, 1);
	}
	free(copy);
	return r;
}

static void test_decode_every_prefix_is_a_drop(void **state)
{
	static void (*const builders[])(struct fx *) = {
		full_eth_ip4, full_ext_chain, full_mpls_cw, full_vxlan, full_erspan3, full_gre_csum,
	};
	struct fx *f = *state;

	cfg.verify_checksums = true;
	for (size_t b = 0; b < sizeof(builders) / sizeof(builders[0]); b++) {
		builders[b](f);
		assert_reason(fx_decode(f), R_OK);
		assert_smtp_payload(&f->m);
		for (size_t cut = 0; cut < f->len; cut++) {
			unsigned int r = decode_prefix(f, cut, cut);

			assert_true(r != R_OK && decode_reason_is_drop((enum decode_reason)r));
			/* Same prefix marked as snapped: allowed to pass, never past the cut. */
			decode_prefix(f, cut, f->len);
		}
	}
}

/* ---- names and defaults ---- */

static void test_decode_reason_names_and_defaults(void **state)
{
	struct decode_cfg c;

	(void)state;
	memset(&c, 0xff, sizeof(c));
	decode_cfg_default(&c);
	assert_false(c.verify_checksums);
	assert_int_equal(c.max_tunnel_depth, 2);
	for (unsigned int i = 0; i < DECODE_R_COUNT; i++) {
		assert_non_null(decode_reason_name(i));
		for (unsigned int j = 0; j < i; j++)
			assert_string_not_equal(decode_reason_name(i), decode_reason_name(j));
	}
	assert_string_equal(decode_reason_name(DECODE_R_BAD_TCP_FLAGS), "bad_tcp_flags");
	assert_string_equal(decode_reason_name(DECODE_R_COUNT), "unknown");
	assert_false(decode_reason_is_drop(DECODE_R_NOT_IP));
	assert_false(decode_reason_is_drop(DECODE_R_IP_FRAGMENT));
	assert_true(decode_reason_is_drop(DECODE_R_EMPTY));
	assert_true(decode_reason_is_drop(DECODE_R_TUNNEL_TOO_DEEP));
	assert_false(decode_reason_is_drop(DECODE_R_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_decode_eth_ipv4_tcp_fills_meta),
		T(test_decode_eth_ipv6_tcp_fills_meta),
		T(test_decode_every_link_type),
		T(test_decode_zero_length_frame_is_empty_on_every_link),
		T(test_decode_vlan_and_qinq_keep_innermost_id),
		T(test_decode_mpls_stacks_and_control_word),
		T(test_decode_ipv4_options_are_skipped),
		T(test_decode_ethernet_padding_never_becomes_payload),
		T(test_decode_ipv4_fragments_are_counted_and_skipped),
		T(test_decode_ip_lengths_against_capture),
		T(test_decode_ipv6_extension_chains),
		T(test_decode_snapped_frame_delivers_captured_payload),
		T(test_decode_tcp_header_flags_and_ports),
		T(test_decode_fast_flags_match_general),
		T(test_decode_non_tcp_is_skipped),
		T(test_decode_fast_path_agrees_with_general_decoder),
		T(test_decode_fast_non_tcp_agrees_with_general_decoder),
		T(test_decode_fast_ports_and_tags_agree_with_general),
		T(test_decode_checksums_checked_only_when_asked),
		T(test_decode_every_prefix_is_a_drop),
		T(test_decode_reason_names_and_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
