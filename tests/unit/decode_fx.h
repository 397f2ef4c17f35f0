/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * decode_fx: what decode's tests share (test_decode.c, test_decode_tunnel.c,
 * test_decode_capture.c): the addresses and TCP header of the packet that
 * counts, the fixture (one frame built into a buffer, decoded with fresh
 * stats and checked against the counting contract), and the frame builders
 * more than one of them uses. Header-only, as pkt_build.h; test-only.
 */
#ifndef RELAYWATCH_TESTS_DECODE_FX_H
#define RELAYWATCH_TESTS_DECODE_FX_H

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dataplane/decode.h"
#include "pkt_build.h"

#define R_OK	  DECODE_R_COUNT /* what the decode helpers return for DECODE_OK */
#define FRAME_MAX 2048

static const char smtp_line[] = "EHLO mail.example.org\r\n";

static const struct pkt_build_ipv4 ip4 = {
	.src = "192.0.2.10", .dst = "198.51.100.25", .frag = PKT_BUILD_IP_DF, .ttl = 61, .id = 7};
static const struct pkt_build_ipv6 ip6 = {
	.src = "2001:db8::10", .dst = "2001:db8:1::25", .hlim = 55};
/* Tunnel endpoints: never what the meta may show. */
static const struct pkt_build_ipv4 outer4 = {.src = "203.0.113.1", .dst = "203.0.113.2"};
static const struct pkt_build_ipv6 outer6 = {.src = "2001:db8:ffff::1", .dst = "2001:db8:ffff::2"};
static const struct pkt_build_tcp tcp_psh = {
	.sport = 40000,
	.dport = 25,
	.seq = 0x01020304,
	.ack = 0xa0b0c0d0,
	.flags = PKT_BUILD_TCP_PSH | PKT_BUILD_TCP_ACK,
	.win = 502,
};

static struct decode_cfg cfg;

/* One frame under test: built into buf, decoded into m and st. */
struct fx {
	uint8_t buf[FRAME_MAX];
	struct pkt_build pb;
	size_t len;
	struct pkt_meta m;
	struct decode_stats st;
};

static inline int fx_setup(void **state)
{
	decode_cfg_default(&cfg);
	*state = calloc(1, sizeof(struct fx));
	return *state ? 0 : -1;
}

static inline int fx_teardown(void **state)
{
	free(*state);
	return 0;
}

static inline const char *reason_str(unsigned int r)
{
	return r == R_OK ? "ok" : decode_reason_name((enum decode_reason)r);
}

#define assert_reason(got, want) assert_string_equal(reason_str(got), reason_str(want))

/*
 * Decode one frame with fresh stats and check the counting contract: one
 * packet, its captured bytes, and exactly one of ok or a reason. A DECODE_OK
 * payload must lie inside the frame. Returns the reason, R_OK for DECODE_OK.
 */
static inline unsigned int decode_wire(const uint8_t *data, size_t len, size_t wire, uint16_t link,
				       struct pkt_meta *m, struct decode_stats *st)
{
	struct pkt p = {
		.data = data,
		.len = (uint32_t)len,
		.wire_len = (uint32_t)wire,
		.ts_ns = 1700000000123456789ull,
		.link = link,
		.port = 1,
	};
	enum decode_verdict v;
	unsigned int r = R_OK, n = 0;

	memset(st, 0, sizeof(*st));
	v = decode_pkt(&cfg, &p, m, st);
	for (unsigned int i = 0; i < DECODE_R_COUNT; i++) {
		n += (unsigned int)st->reason[i];
		if (st->reason[i])
			r = i;
	}
	assert_int_equal(st->pkts, 1);
	assert_int_equal(st->bytes, len);
	assert_int_equal(st->ok + n, 1);
	if (v == DECODE_OK) {
		assert_int_equal(st->ok, 1);
		assert_true(m->payload >= data && m->payload_len <= len);
		assert_true((size_t)(m->payload - data) + m->payload_len <= len);
		assert_int_equal(m->ts_ns, p.ts_ns);
		assert_int_equal(m->port, 1);
		return R_OK;
	}
	assert_int_equal(v,
			 decode_reason_is_drop((enum decode_reason)r) ? DECODE_DROP : DECODE_SKIP);
	return r;
}

/* Start a frame, with an Ethernet header whose type the next push fills when eth. */
static inline struct pkt_build *fx_start(struct fx *f, bool eth)
{
	pkt_build_init(&f->pb, f->buf, sizeof(f->buf));
	if (eth)
		pkt_build_eth(&f->pb, 0);
	return &f->pb;
}

static inline void fx_finish(struct fx *f)
{
	f->len = pkt_build_finish(&f->pb);
	assert_true(f->len > 0);
}

/* The first len bytes of the frame were captured, wire were on the wire. */
static inline unsigned int fx_decode_cut(struct fx *f, size_t len, size_t wire)
{
	return decode_wire(f->buf, len, wire, PKT_LINK_ETHERNET, &f->m, &f->st);
}

static inline unsigned int fx_decode(struct fx *f)
{
	return fx_decode_cut(f, f->len, f->len);
}

static inline void assert_addr(const union pkt_addr *a, const char *text)
{
	union pkt_addr want = {.b = {0}};

	if (strchr(text, ':')) {
		assert_int_equal(inet_pton(AF_INET6, text, want.b), 1);
	} else {
		want.b[10] = 0xff;
		want.b[11] = 0xff;
		assert_int_equal(inet_pton(AF_INET, text, want.b + 12), 1);
	}
	assert_memory_equal(a->b, want.b, 16);
}

static inline void assert_smtp_payload(const struct pkt_meta *m)
{
	assert_int_equal(m->payload_len, strlen(smtp_line));
	assert_memory_equal(m->payload, smtp_line, strlen(smtp_line));
}

/* The packet that counts, which every tunnel test carries. */
static inline void push_ip4_tcp(struct pkt_build *pb)
{
	pkt_build_ipv4(pb, &ip4);
	pkt_build_tcp(pb, &tcp_psh);
	pkt_build_payload(pb, smtp_line, strlen(smtp_line));
}

static inline void push_ip6_tcp(struct pkt_build *pb)
{
	pkt_build_ipv6(pb, &ip6);
	pkt_build_tcp(pb, &tcp_psh);
	pkt_build_payload(pb, smtp_line, strlen(smtp_line));
}

static inline void push_ip_tcp(struct pkt_build *pb, bool v6)
{
	if (v6)
		push_ip6_tcp(pb);
	else
		push_ip4_tcp(pb);
}

static inline void assert_inner4(const struct pkt_meta *m)
{
	assert_int_equal(m->family, 4);
	assert_addr(&m->src, "192.0.2.10");
	assert_addr(&m->dst, "198.51.100.25");
	assert_int_equal(m->sport, 40000);
	assert_int_equal(m->dport, 25);
	assert_smtp_payload(m);
}

static inline void assert_inner6(const struct pkt_meta *m)
{
	assert_int_equal(m->family, 6);
	assert_addr(&m->src, "2001:db8::10");
	assert_addr(&m->dst, "2001:db8:1::25");
	assert_smtp_payload(m);
}

static inline void assert_inner(const struct pkt_meta *m, bool v6)
{
	if (v6)
		assert_inner6(m);
	else
		assert_inner4(m);
}

/* Ethernet, IPv4 and TCP as given, then the payload text. */
static inline void fx_eth_ip4(struct fx *f, const struct pkt_build_ipv4 *ip,
			      const struct pkt_build_tcp *t, const char *payload)
{
	struct pkt_build *pb = fx_start(f, true);

	pkt_build_ipv4(pb, ip);
	pkt_build_tcp(pb, t);
	pkt_build_payload(pb, payload, strlen(payload));
	fx_finish(f);
}

/* ---- frame builders test_decode.c and test_decode_tunnel.c both use ---- */

static inline unsigned int fx_mpls(struct fx *f, unsigned int labels, bool cw, bool v6)
{
	struct pkt_build *pb = fx_start(f, true);

	for (unsigned int i = 0; i < labels; i++)
		pkt_build_mpls(pb, 16 + i, 64);
	if (cw) {
		pkt_build_mpls_cw(pb, 1);
		pkt_build_eth(pb, 0);
		pkt_build_vlan(pb, 0, 300);
	}
	push_ip_tcp(pb, v6);
	fx_finish(f);
	return fx_decode(f);
}

/* Ethernet, the mirror network's VLAN tag, IPv4, GRE, [Ethernet,] IPv4, TCP. */
static inline void fx_gre(struct fx *f, uint16_t flags, uint16_t proto)
{
	struct pkt_build_gre g = {.flags = flags, .proto = proto, .key = 77, .seq = 9};
	struct pkt_build *pb = fx_start(f, true);

	pkt_build_vlan(pb, 0, 900);
	pkt_build_ipv4(pb, &outer4);
	pkt_build_gre(pb, &g);
	if (proto == 0x6558 || proto == 0x88be)
		pkt_build_eth(pb, 0);
	push_ip4_tcp(pb);
	fx_finish(f);
}

/* Ethernet, IPv6, GRE with S, ERSPAN type II or III, [Ethernet,] IP, TCP. */
static inline void fx_erspan(struct fx *f, int type, const struct pkt_build_erspan *e,
			     bool inner_v6)
{
	struct pkt_build_gre g = {.flags = PKT_BUILD_GRE_S, .seq = 1};
	struct pkt_build *pb = fx_start(f, true);

	pkt_build_ipv6(pb, &outer6);
	pkt_build_gre(pb, &g);
	if (type == 2)
		pkt_build_erspan2(pb, e);
	else
		pkt_build_erspan3(pb, e);
	if (type == 2 || e->ft == 0)
		pkt_build_eth(pb, 0);
	push_ip_tcp(pb, inner_v6);
	fx_finish(f);
}

/* Ethernet, the mirror network's tag 900, IPv4 or IPv6, UDP to dport, VXLAN,
 * Ethernet, the packet's own tag when inner_vid is not 0, IPv6, TCP. */
static inline void fx_vxlan(struct fx *f, bool outer_v6, uint16_t dport, uint16_t inner_vid)
{
	struct pkt_build *pb = fx_start(f, true);

	pkt_build_vlan(pb, 0, 900);
	if (outer_v6)
		pkt_build_ipv6(pb, &outer6);
	else
		pkt_build_ipv4(pb, &outer4);
	pkt_build_udp(pb, 49152, dport);
	pkt_build_vxlan(pb, 4242);
	pkt_build_eth(pb, 0);
	if (inner_vid)
		pkt_build_vlan(pb, 0, inner_vid);
	push_ip6_tcp(pb);
	fx_finish(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

#endif
