// SPDX-License-Identifier: BSD-3-Clause
/*
 * decode_tunnel: the encapsulations mirror sessions and carrier networks put
 * around the packet that counts: GRE (RFC 2784/2890) with IP, Ethernet
 * (TEB), MPLS or ERSPAN type I/II/III (draft-foschiano-erspan-03) inside,
 * VXLAN (RFC 7348) and IP-in-IP. Each crossing costs one level of
 * cfg->max_tunnel_depth and sets its bit in meta.encap.
 */
#include "dataplane/decode_internal.h"

#define DECODE_GRE_C   0x8000 /* checksum + reserved1 present */
#define DECODE_GRE_R   0x4000 /* RFC 1701 routing: long obsolete, never on a mirror */
#define DECODE_GRE_K   0x2000 /* key present */
#define DECODE_GRE_S   0x1000 /* sequence number present; tells ERSPAN II from I */
#define DECODE_GRE_VER 0x0007

#define DECODE_ERSPAN2_HLEN	  8
#define DECODE_ERSPAN3_HLEN	  12
#define DECODE_ERSPAN3_SUBHDR_LEN 8 /* platform-specific, present when O is set */
#define DECODE_ERSPAN3_FT_ETH	  0
#define DECODE_ERSPAN3_FT_IP	  2
#define DECODE_ERSPAN_EN_ISL	  1
#define DECODE_ERSPAN_EN_DOT1Q	  2

#define DECODE_VXLAN_HLEN 8
#define DECODE_VXLAN_I	  0x08
#define DECODE_UDP_HLEN	  8

/*
 * Type II: "En" 1 or 2 means the mirror took the frame's tag off and put
 * its id in the header, so it is still the frame's VLAN. Type I has no
 * header at all: the frame follows GRE (told apart from II by the S bit).
 */
static unsigned int decode_erspan2(struct decode_ctx *c, uint32_t off, bool has_seq)
{
	uint32_t w, en;

	c->st->erspan++;
	c->m->encap |= PKT_ENCAP_ERSPAN;
	c->m->vlan = 0;
	if (!has_seq)
		return decode_eth(c, off);
	if (c->cap - off < DECODE_ERSPAN2_HLEN)
		return DECODE_R_TRUNCATED_TUNNEL;
	w = decode_be32(c->base + off);
	if ((w >> 28) != 1)
		return DECODE_R_BAD_TUNNEL;
	en = (w >> 11) & 3;
	if (en == DECODE_ERSPAN_EN_ISL || en == DECODE_ERSPAN_EN_DOT1Q)
		c->m->vlan = (w >> 16) & 0x0fff;
	return decode_eth(c, off + DECODE_ERSPAN2_HLEN);
}

/* Type III: 12 bytes, an optional 8-byte platform sub-header (O bit), and a
 * frame type saying whether Ethernet or bare IP follows. */
static unsigned int decode_erspan3(struct decode_ctx *c, uint32_t off)
{
	uint32_t hlen, w;

	c->st->erspan++;
	c->m->encap |= PKT_ENCAP_ERSPAN;
	c->m->vlan = 0;
	if (c->cap - off < DECODE_ERSPAN3_HLEN)
		return DECODE_R_TRUNCATED_TUNNEL;
	if ((c->base[off] >> 4) != 2)
		return DECODE_R_BAD_TUNNEL;
	w = decode_be16(c->base + off + 10);
	hlen = DECODE_ERSPAN3_HLEN + (w & 1) * DECODE_ERSPAN3_SUBHDR_LEN;
	if (c->cap - off < hlen)
		return DECODE_R_TRUNCATED_TUNNEL;
	switch ((w >> 10) & 0x1f) {
	case DECODE_ERSPAN3_FT_ETH:
		return decode_eth(c, off + hlen);
	case DECODE_ERSPAN3_FT_IP:
		return decode_ip_any(c, off + hlen);
	default:
		return DECODE_R_BAD_TUNNEL;
	}
}

/* Version 0 only (1 is PPTP); checksum, key and sequence are 4 bytes each. */
static unsigned int decode_gre(struct decode_ctx *c, uint32_t off)
{
	const uint8_t *g = c->base + off;
	uint32_t hlen;
	uint16_t flags, proto;

	c->st->gre++;
	c->m->encap |= PKT_ENCAP_GRE;
	if (c->cap - off < 4)
		return DECODE_R_TRUNCATED_TUNNEL;
	flags = decode_be16(g);
	proto = decode_be16(g + 2);
	if (flags & (DECODE_GRE_R | DECODE_GRE_VER))
		return DECODE_R_BAD_TUNNEL;
	hlen = 4 +
	       4 * (!!(flags & DECODE_GRE_C) + !!(flags & DECODE_GRE_K) + !!(flags & DECODE_GRE_S));
	if (c->cap - off < hlen)
		return DECODE_R_TRUNCATED_TUNNEL;
	if (!decode_tunnel_enter(c))
		return DECODE_R_TUNNEL_TOO_DEEP;
	off += hlen;
	switch (proto) {
	case DECODE_ETH_TEB:
		c->m->vlan = 0;
		return decode_eth(c, off);
	case DECODE_ETH_ERSPAN_2:
		return decode_erspan2(c, off, flags & DECODE_GRE_S);
	case DECODE_ETH_ERSPAN_3:
		return decode_erspan3(c, off);
	default:
		/* The protocol is an ethertype: IP, MPLS (RFC 4023), the rest not IP. */
		return decode_ethertype(c, proto, off);
	}
}

/* UDP is only interesting as VXLAN; the UDP length bounds the inner frame. */
static unsigned int decode_udp(struct decode_ctx *c, uint32_t off)
{
	const uint8_t *u = c->base + off;
	uint32_t ulen;

	if (c->cap - off < DECODE_UDP_HLEN || decode_be16(u + 2) != DECODE_VXLAN_PORT)
		return DECODE_R_NOT_TCP;
	c->st->vxlan++;
	c->m->encap |= PKT_ENCAP_VXLAN;
	ulen = decode_be16(u + 4);
	if (ulen < DECODE_UDP_HLEN + DECODE_VXLAN_HLEN || ulen > c->wire - off)
		return DECODE_R_BAD_TUNNEL;
	c->wire = off + ulen;
	c->cap = c->cap < c->wire ? c->cap : c->wire;
	if (c->cap - off < DECODE_UDP_HLEN + DECODE_VXLAN_HLEN)
		return DECODE_R_TRUNCATED_TUNNEL;
	if (!(u[DECODE_UDP_HLEN] & DECODE_VXLAN_I))
		return DECODE_R_BAD_TUNNEL;
	if (!decode_tunnel_enter(c))
		return DECODE_R_TUNNEL_TOO_DEEP;
	c->m->vlan = 0;
	return decode_eth(c, off + DECODE_UDP_HLEN + DECODE_VXLAN_HLEN);
}

unsigned int decode_tunnel_ip(struct decode_ctx *c, uint8_t proto, uint32_t off)
{
	switch (proto) {
	case DECODE_IPPROTO_GRE:
		return decode_gre(c, off);
	case DECODE_IPPROTO_UDP:
		return decode_udp(c, off);
	case DECODE_IPPROTO_IPIP:
	case DECODE_IPPROTO_IPV6:
		c->st->ipip++;
		c->m->encap |= PKT_ENCAP_IPIP;
		if (!decode_tunnel_enter(c))
			return DECODE_R_TUNNEL_TOO_DEEP;
		return proto == DECODE_IPPROTO_IPIP ? decode_ipv4(c, off) : decode_ipv6(c, off);
	default:
		return DECODE_R_NOT_TCP;
	}
}
