/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * decode_internal: what decode.c, decode_ip.c, decode_tcp.c and
 * decode_tunnel.c share and nobody else may include: the cursor one
 * decode_pkt() call walks the frame with, big-endian loads, and the layer
 * entry points. Owns nothing; lives on the caller's stack for one frame.
 */
#ifndef RELAYWATCH_DATAPLANE_DECODE_INTERNAL_H
#define RELAYWATCH_DATAPLANE_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/decode.h"

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* Returned by the layer decoders when a TCP segment came out: not a reason. */
#define DECODE_R_NONE DECODE_R_COUNT

#define DECODE_MAX_VLAN	    4 /* tags in one stack: QinQ plus room for a mirror's tag */
#define DECODE_MAX_MPLS	    8 /* labels in one stack */
#define DECODE_MAX_IPV6_EXT 8 /* extension headers before we call the chain hostile */

#define DECODE_ETH_HLEN	 14
#define DECODE_IPV4_HLEN 20
#define DECODE_IPV6_HLEN 40
#define DECODE_TCP_HLEN	 20

/* Ethertypes, also GRE protocol types. */
#define DECODE_ETH_IPV4	    0x0800
#define DECODE_ETH_IPV6	    0x86dd
#define DECODE_ETH_VLAN	    0x8100
#define DECODE_ETH_QINQ	    0x88a8
#define DECODE_ETH_QINQ_OLD 0x9100
#define DECODE_ETH_MPLS_UC  0x8847
#define DECODE_ETH_MPLS_MC  0x8848
#define DECODE_ETH_TEB	    0x6558 /* transparent Ethernet bridging (GRE) */
#define DECODE_ETH_ERSPAN_2 0x88be /* ERSPAN type I and II */
#define DECODE_ETH_ERSPAN_3 0x22eb

/* Bit n set: (flags & 7) == n is a combination no stack sends (SYN+FIN, SYN+RST, all three). */
#define DECODE_TCP_BAD_LOW3 ((1u << 3) | (1u << 6) | (1u << 7))

#define DECODE_IPPROTO_IPIP 4
#define DECODE_IPPROTO_TCP  6
#define DECODE_IPPROTO_UDP  17
#define DECODE_IPPROTO_IPV6 41
#define DECODE_IPPROTO_GRE  47

/* UDP to this port is VXLAN (decode_tunnel.c); decode_fast leaves it to the general decoder. */
#define DECODE_VXLAN_PORT 4789

/*
 * Offsets are from the start of the frame. cap is where the captured bytes of
 * the current layer end; wire is where they would end had nothing been
 * snapped. Every IP header shrinks both to its own length (so Ethernet
 * padding never becomes payload), and cap <= wire always holds.
 */
struct decode_ctx {
	const uint8_t *base;
	uint32_t cap;
	uint32_t wire;
	uint8_t depth; /* tunnels crossed so far */
	const struct decode_cfg *cfg;
	struct pkt_meta *m;
	struct decode_stats *st;
};

static inline uint16_t decode_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return __builtin_bswap16(v);
}

static inline uint32_t decode_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return __builtin_bswap32(v);
}

/*
 * The L4 half of the meta, from a TCP header already checked (both decoders).
 * ports (decode_be32(t)) and flags (t[13]) are what the check read: passed,
 * not loaded and swapped again.
 */
static inline void decode_tcp_fill(struct pkt_meta *m, const uint8_t *t, uint32_t ports,
				   uint8_t flags, uint32_t hlen, uint32_t avail)
{
	m->sport = (uint16_t)(ports >> 16);
	m->dport = (uint16_t)ports;
	m->l4_proto = DECODE_IPPROTO_TCP;
	m->tcp_flags = flags;
	m->seq = decode_be32(t + 4);
	m->ack = decode_be32(t + 8);
	m->win = decode_be16(t + 14);
	m->tcp_hdr_len = (uint8_t)hlen;
	m->payload = t + hlen;
	m->payload_len = avail - hlen;
}

/* One more tunnel level, unless the frame already went as deep as allowed. */
static inline bool decode_tunnel_enter(struct decode_ctx *c)
{
	if (c->depth >= c->cfg->max_tunnel_depth)
		return false;
	c->depth++;
	return true;
}

/*
 * Internet checksum (RFC 1071) of len bytes, folded to 16 bits but not
 * complemented, in the machine's byte order: the sum is order-independent,
 * so callers add pseudo-header words loaded the same way.
 */
uint16_t decode_csum_fold(const uint8_t *p, uint32_t len, uint64_t sum);

/* Layer entry points: each takes the offset of its header and returns a
 * reason, or DECODE_R_NONE once a TCP segment filled the meta. */
unsigned int decode_eth(struct decode_ctx *c, uint32_t off);
unsigned int decode_ethertype(struct decode_ctx *c, uint16_t type, uint32_t off);
unsigned int decode_ipv4(struct decode_ctx *c, uint32_t off);
unsigned int decode_ipv6(struct decode_ctx *c, uint32_t off);
unsigned int decode_ip_any(struct decode_ctx *c, uint32_t off);
unsigned int decode_tcp(struct decode_ctx *c, uint32_t off);
unsigned int decode_tunnel_ip(struct decode_ctx *c, uint8_t proto, uint32_t off);

#endif /* RELAYWATCH_DATAPLANE_DECODE_INTERNAL_H */
