// SPDX-License-Identifier: BSD-3-Clause
/*
 * decode's tunnels (dataplane/decode_tunnel.c): GRE, ERSPAN types I-III,
 * VXLAN, IP in IP and the depth limit, nested tunnels; each malformed on
 * purpose one field at a time. The frame builders are decode_fx.h.
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

/* ---- tunnels ---- */

static void test_decode_gre_plain_keyed_and_bridged(void **state)
{
	static const uint16_t flag_sets[] = {
		0,
		PKT_BUILD_GRE_K,
		PKT_BUILD_GRE_S,
		PKT_BUILD_GRE_K | PKT_BUILD_GRE_S,
		PKT_BUILD_GRE_C | PKT_BUILD_GRE_K | PKT_BUILD_GRE_S,
	};
	struct fx *f = *state;
	const size_t gre = 18 + 20;

	for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
		fx_gre(f, flag_sets[i], 0);
		assert_reason(fx_decode(f), R_OK);
		assert_inner4(&f->m);
		assert_int_equal(f->m.encap, PKT_ENCAP_VLAN | PKT_ENCAP_GRE);
		assert_int_equal(f->m.vlan, 900);
		assert_int_equal(f->st.gre, 1);
		assert_int_equal(f->st.ipv4, 2);
	}
	/* Transparent Ethernet bridging: the inner frame has no tag. */
	fx_gre(f, PKT_BUILD_GRE_K, 0x6558);
	assert_reason(fx_decode(f), R_OK);
	assert_inner4(&f->m);
	assert_int_equal(f->m.vlan, 0);

	/* Version 1 (PPTP), routing present, an unknown protocol, cut in the key. */
	fx_gre(f, PKT_BUILD_GRE_K, 0);
	f->buf[gre + 1] = 0x01;
	assert_reason(fx_decode(f), DECODE_R_BAD_TUNNEL);
	f->buf[gre + 1] = 0;
	f->buf[gre] |= 0x40;
	assert_reason(fx_decode(f), DECODE_R_BAD_TUNNEL);
	f->buf[gre] &= (uint8_t)~0x40;
	f->buf[gre + 2] = 0x88;
	f->buf[gre + 3] = 0x0b;
	assert_reason(fx_decode(f), DECODE_R_NOT_IP);
	assert_reason(fx_decode_cut(f, gre + 6, f->len), DECODE_R_TRUNCATED_TUNNEL);
}

/* Type I: 0x88be with no sequence number, the frame straight after GRE. */
static void test_decode_erspan_type_one_has_no_header(void **state)
{
	struct fx *f = *state;

	fx_gre(f, 0, 0x88be);
	assert_reason(fx_decode(f), R_OK);
	assert_inner4(&f->m);
	assert_int_equal(f->m.encap, PKT_ENCAP_VLAN | PKT_ENCAP_GRE | PKT_ENCAP_ERSPAN);
	assert_int_equal(f->st.erspan, 1);
	assert_int_equal(f->m.vlan, 0);
	/* Read as type II, the S bit makes MAC bytes a header of version 0. */
	f->buf[18 + 20] |= 0x10;
	assert_reason(fx_decode(f), DECODE_R_BAD_TUNNEL);
}

static void test_decode_erspan_two_and_three_headers(void **state)
{
	struct pkt_build_erspan e = {.session = 5, .vlan = 123, .en = 2, .index = 9};
	struct fx *f = *state;
	const size_t at = 14 + 40 + 8; /* ERSPAN header */

	fx_erspan(f, 2, &e, false);
	assert_reason(fx_decode(f), R_OK);
	assert_inner4(&f->m);
	assert_int_equal(f->m.vlan, 123); /* tag stripped by the mirror, kept in the header */
	e.en = 3;
	fx_erspan(f, 2, &e, false);
	assert_reason(fx_decode(f), R_OK);
	assert_int_equal(f->m.vlan, 0);
	f->buf[at] = 0x20;
	assert_reason(fx_decode(f), DECODE_R_BAD_TUNNEL);

	memset(&e, 0, sizeof(e));
	fx_erspan(f, 3, &e, true);
	assert_reason(fx_decode(f), R_OK);
	assert_inner6(&f->m);
	e.subhdr = true;
	fx_erspan(f, 3, &e, false);
	assert_reason(fx_decode(f), R_OK);
	assert_inner4(&f->m);
	assert_int_equal(f->st.erspan, 1);
	assert_reason(fx_decode_cut(f, at + 16, f->len), DECODE_R_TRUNCATED_TUNNEL);
	e.ft = 2; /* bare IP after the sub-header */
	fx_erspan(f, 3, &e, true);
	assert_reason(fx_decode(f), R_OK);
	assert_inner6(&f->m);
	f->buf[at + 10] |= 0x04; /* frame type 3: unknown */
	assert_reason(fx_decode(f), DECODE_R_BAD_TUNNEL);
	f->buf[at] = 0x10;
	assert_reason(fx_decode(f), DECODE_R_BAD_TUNNEL);
}

static void test_decode_vxlan(void **state)
{
	struct fx *f = *state;
	const size_t udp = 18 + 20;

	fx_vxlan(f, false, 4789, 77);
	assert_reason(fx_decode(f), R_OK);
	assert_inner6(&f->m);
	assert_int_equal(f->m.vlan, 77);
	assert_int_equal(f->m.encap, PKT_ENCAP_VXLAN | PKT_ENCAP_VLAN);
	assert_int_equal(f->st.vxlan, 1);
	assert_int_equal(f->st.vlan, 2);
	/* The outer tag belongs to the mirror network, not to the packet. */
	fx_vxlan(f, true, 4789, 0);
	assert_reason(fx_decode(f), R_OK);
	assert_inner6(&f->m);
	assert_int_equal(f->m.vlan, 0);

	fx_vxlan(f, false, 4790, 77);
	assert_reason(fx_decode(f), DECODE_R_NOT_TCP);
	fx_vxlan(f, false, 4789, 77);
	assert_reason(fx_decode_cut(f, udp + 12, f->len), DECODE_R_TRUNCATED_TUNNEL);
	f->buf[udp + 8] = 0; /* I flag clear */
	assert_reason(fx_decode(f), DECODE_R_BAD_TUNNEL);
	f->buf[udp + 8] = 0x08;
	f->buf[udp + 4] = 0xff; /* UDP length past the datagram */
	assert_reason(fx_decode(f), DECODE_R_BAD_TUNNEL);
}

/* Ethernet, then one IP header per character of families ('4' or '6'), the last with TCP. */
static void fx_ipip(struct fx *f, const char *families)
{
	struct pkt_build *pb = fx_start(f, true);

	for (; families[1]; families++) {
		if (*families == '4')
			pkt_build_ipv4(pb, &outer4);
		else
			pkt_build_ipv6(pb, &outer6);
	}
	push_ip_tcp(pb, *families == '6');
	fx_finish(f);
}

static void test_decode_ip_in_ip_and_depth_limit(void **state)
{
	static const char *const ok[] = {"44", "46", "64", "66", "464", "646"};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		fx_ipip(f, ok[i]);
		assert_reason(fx_decode(f), R_OK);
		assert_inner(&f->m, ok[i][strlen(ok[i]) - 1] == '6');
		assert_int_equal(f->m.encap, PKT_ENCAP_IPIP);
		assert_int_equal(f->st.ipip, strlen(ok[i]) - 1);
	}
	/* Three tunnels with the default depth of two; then allowed. */
	fx_ipip(f, "4664");
	assert_reason(fx_decode(f), DECODE_R_TUNNEL_TOO_DEEP);
	cfg.max_tunnel_depth = 3;
	assert_reason(fx_decode(f), R_OK);
	assert_inner4(&f->m);
	/* Depth 0: no tunnel at all, whatever its kind. */
	cfg.max_tunnel_depth = 0;
	assert_reason(fx_decode(f), DECODE_R_TUNNEL_TOO_DEEP);
	fx_gre(f, 0, 0);
	assert_reason(fx_decode(f), DECODE_R_TUNNEL_TOO_DEEP);
	fx_vxlan(f, false, 4789, 0);
	assert_reason(fx_decode(f), DECODE_R_TUNNEL_TOO_DEEP);
	assert_reason(fx_mpls(f, 1, true, false), DECODE_R_TUNNEL_TOO_DEEP);
}

/* VXLAN inside GRE inside IPv6: two levels, both bits, the innermost packet. */
static void test_decode_nested_tunnels_report_innermost(void **state)
{
	struct pkt_build_gre g = {.flags = PKT_BUILD_GRE_K, .key = 1};
	struct fx *f = *state;
	struct pkt_build *pb = fx_start(f, true);

	pkt_build_ipv6(pb, &outer6);
	pkt_build_gre(pb, &g);
	pkt_build_ipv4(pb, &outer4);
	pkt_build_udp(pb, 1000, 4789);
	pkt_build_vxlan(pb, 1);
	pkt_build_eth(pb, 0);
	push_ip4_tcp(pb);
	fx_finish(f);
	assert_reason(fx_decode(f), R_OK);
	assert_inner4(&f->m);
	assert_int_equal(f->m.encap, PKT_ENCAP_GRE | PKT_ENCAP_VXLAN);
	assert_int_equal(f->st.ipv6 + f->st.ipv4 + f->st.gre + f->st.vxlan, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_decode_gre_plain_keyed_and_bridged),
		T(test_decode_erspan_type_one_has_no_header),
		T(test_decode_erspan_two_and_three_headers),
		T(test_decode_vxlan),
		T(test_decode_ip_in_ip_and_depth_limit),
		T(test_decode_nested_tunnels_report_innermost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
