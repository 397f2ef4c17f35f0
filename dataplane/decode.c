// SPDX-License-Identifier: BSD-3-Clause
/*
 * decode entry and link layer: picks the link header, walks 802.1Q/802.1ad
 * tags and MPLS label stacks, and hands the network header to decode_ip.c.
 * Ethernet → IPv4 → TCP is the path almost every frame takes: it is kept to
 * one predicted branch per layer and one call per layer boundary.
 */
#include "dataplane/decode.h"

#include "dataplane/decode_internal.h"

/* BSD loopback address families that mean IPv6 (NetBSD/OpenBSD, FreeBSD, Darwin). */
#define DECODE_AF_INET		2
#define DECODE_AF_INET6_BSD	24
#define DECODE_AF_INET6_FREEBSD 28
#define DECODE_AF_INET6_DARWIN	30

#define DECODE_NULL_HLEN 4
#define DECODE_SLL_HLEN	 16
#define DECODE_SLL2_HLEN 20
#define DECODE_MPLS_BOS	 0x100

static const uint8_t decode_verdicts[DECODE_R_COUNT] = {
#define DECODE_X_VERDICT(name, label, verdict) [DECODE_R_##name] = DECODE_##verdict,
	DECODE_REASONS(DECODE_X_VERDICT)
#undef DECODE_X_VERDICT
};

static const char *const decode_names[DECODE_R_COUNT] = {
#define DECODE_X_NAME(name, label, verdict) [DECODE_R_##name] = label,
	DECODE_REASONS(DECODE_X_NAME)
#undef DECODE_X_NAME
};

void decode_cfg_default(struct decode_cfg *cfg)
{
	*cfg = (struct decode_cfg){
		.verify_checksums = false,
		.max_tunnel_depth = 2,
	};
}

const char *decode_reason_name(enum decode_reason r)
{
	return (unsigned int)r < DECODE_R_COUNT ? decode_names[r] : "unknown";
}

bool decode_reason_is_drop(enum decode_reason r)
{
	return (unsigned int)r < DECODE_R_COUNT && decode_verdicts[r] == DECODE_DROP;
}

static bool decode_is_vlan_tpid(uint16_t type)
{
	return type == DECODE_ETH_VLAN || type == DECODE_ETH_QINQ || type == DECODE_ETH_QINQ_OLD;
}

/* A tag stack: the innermost id is the one a flow key wants. */
static unsigned int decode_vlan(struct decode_ctx *c, uint16_t *type, uint32_t *off)
{
	unsigned int n = 0;

	c->st->vlan++;
	c->m->encap |= PKT_ENCAP_VLAN;
	do {
		const uint8_t *t = c->base + *off;

		if (n++ == DECODE_MAX_VLAN)
			return DECODE_R_TOO_MANY_LABELS;
		if (c->cap - *off < 4)
			return DECODE_R_TRUNCATED_L2;
		c->m->vlan = decode_be16(t) & 0x0fff;
		*type = decode_be16(t + 2);
		*off += 4;
	} while (decode_is_vlan_tpid(*type));
	return DECODE_R_NONE;
}

/*
 * Labels down to bottom-of-stack; MPLS does not say what it carries, so the
 * first nibble does (RFC 4385): 4 and 6 are IP, 0 is a pseudowire control
 * word with an Ethernet frame behind it (which counts as a tunnel level so a
 * frame cannot nest Ethernet-over-MPLS without bound).
 */
static unsigned int decode_mpls(struct decode_ctx *c, uint32_t off)
{
	uint32_t lse = 0;

	c->st->mpls++;
	c->m->encap |= PKT_ENCAP_MPLS;
	for (unsigned int n = 0; !(lse & DECODE_MPLS_BOS); n++) {
		if (n == DECODE_MAX_MPLS)
			return DECODE_R_TOO_MANY_LABELS;
		if (c->cap - off < 4)
			return DECODE_R_TRUNCATED_L2;
		lse = decode_be32(c->base + off);
		off += 4;
	}
	if (c->cap == off)
		return DECODE_R_TRUNCATED_L2;
	switch (c->base[off] >> 4) {
	case 4:
	case 6:
		return decode_ip_any(c, off);
	case 0:
		if (c->cap - off < 4)
			return DECODE_R_TRUNCATED_L2;
		if (!decode_tunnel_enter(c))
			return DECODE_R_TUNNEL_TOO_DEEP;
		c->m->vlan = 0;
		return decode_eth(c, off + 4);
	default:
		return DECODE_R_NOT_IP;
	}
}

unsigned int decode_ethertype(struct decode_ctx *c, uint16_t type, uint32_t off)
{
	if (decode_is_vlan_tpid(type)) {
		unsigned int r = decode_vlan(c, &type, &off);

		if (r != DECODE_R_NONE)
			return r;
	}
	switch (type) {
	case DECODE_ETH_IPV4:
		return decode_ipv4(c, off);
	case DECODE_ETH_IPV6:
		return decode_ipv6(c, off);
	case DECODE_ETH_MPLS_UC:
	case DECODE_ETH_MPLS_MC:
		return decode_mpls(c, off);
	default:
		return DECODE_R_NOT_IP;
	}
}

unsigned int decode_eth(struct decode_ctx *c, uint32_t off)
{
	uint16_t type;

	if (unlikely(c->cap - off < DECODE_ETH_HLEN))
		return DECODE_R_TRUNCATED_L2;
	type = decode_be16(c->base + off + 12);
	if (likely(type == DECODE_ETH_IPV4))
		return decode_ipv4(c, off + DECODE_ETH_HLEN);
	return decode_ethertype(c, type, off + DECODE_ETH_HLEN);
}

static unsigned int decode_af(struct decode_ctx *c, uint32_t af)
{
	switch (af) {
	case DECODE_AF_INET:
		return decode_ipv4(c, DECODE_NULL_HLEN);
	case DECODE_AF_INET6_BSD:
	case DECODE_AF_INET6_FREEBSD:
	case DECODE_AF_INET6_DARWIN:
		return decode_ipv6(c, DECODE_NULL_HLEN);
	default:
		return DECODE_R_NOT_IP;
	}
}

/* Every link type but Ethernet; the frame is known not to be empty. */
static unsigned int decode_link(struct decode_ctx *c, uint16_t link)
{
	uint32_t af;

	switch (link) {
	case PKT_LINK_ETHERNET:
		return decode_eth(c, 0);
	case PKT_LINK_NULL:
	case PKT_LINK_LOOP:
		if (c->cap < DECODE_NULL_HLEN)
			return DECODE_R_TRUNCATED_L2;
		if (link == PKT_LINK_LOOP)
			return decode_af(c, decode_be32(c->base));
		/* Written in the capturing host's order, which need not be ours. */
		memcpy(&af, c->base, sizeof(af));
		return decode_af(c, af > 0xffff ? __builtin_bswap32(af) : af);
	case PKT_LINK_RAW:
		return decode_ip_any(c, 0);
	case PKT_LINK_IPV4:
		return decode_ipv4(c, 0);
	case PKT_LINK_IPV6:
		return decode_ipv6(c, 0);
	case PKT_LINK_LINUX_SLL:
		if (c->cap < DECODE_SLL_HLEN)
			return DECODE_R_TRUNCATED_L2;
		return decode_ethertype(c, decode_be16(c->base + 14), DECODE_SLL_HLEN);
	case PKT_LINK_LINUX_SLL2:
		if (c->cap < DECODE_SLL2_HLEN)
			return DECODE_R_TRUNCATED_L2;
		return decode_ethertype(c, decode_be16(c->base), DECODE_SLL2_HLEN);
	default:
		return DECODE_R_UNSUPPORTED_LINK;
	}
}

enum decode_verdict decode_pkt(const struct decode_cfg *cfg, const struct pkt *p,
			       struct pkt_meta *m, struct decode_stats *st)
{
	struct decode_ctx c = {
		.base = p->data,
		.cap = p->len,
		.wire = p->wire_len > p->len ? p->wire_len : p->len,
		.cfg = cfg,
		.m = m,
		.st = st,
	};
	unsigned int r;

	st->pkts++;
	st->bytes += p->len;
	m->encap = 0;
	m->vlan = 0;
	if (likely(p->link == PKT_LINK_ETHERNET && p->len))
		r = decode_eth(&c, 0);
	else if (p->len == 0)
		r = DECODE_R_EMPTY;
	else
		r = decode_link(&c, p->link);

	if (likely(r == DECODE_R_NONE)) {
		m->port = p->port;
		m->ts_ns = p->ts_ns;
		st->ok++;
		return DECODE_OK;
	}
	st->reason[r]++;
	return (enum decode_verdict)decode_verdicts[r];
}
