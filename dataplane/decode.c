// SPDX-License-Identifier: BSD-3-Clause
/*
 * decode entry and link layer: picks the link header, walks 802.1Q/802.1ad
 * tags and MPLS label stacks, and hands the network header to decode_ip.c.
 * Ethernet (+ one 802.1Q tag) → IPv4 → TCP is the path almost every frame
 * takes: decode_fast() reads it with a few loads and no calls, and hands
 * every other frame to the layer decoders, which alone judge odd ones.
 */
#include "dataplane/decode.h"

#include <arpa/inet.h>

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

#define DECODE_FAST_MIN (DECODE_IPV4_HLEN + DECODE_TCP_HLEN)
/* decode_fast(): not a verdict, the general decoder is to judge the frame. */
#define DECODE_FAST_PASS 3u

/*
 * decode_tcp()'s flag rule (no flags, or SYN+FIN, RST with SYN or FIN) as a
 * table, so the fast path tests a frame's flags with one load: the shifts and
 * compares of the rule cost it some ten instructions a packet. 1: bad.
 */
#define DECODE_BAD8  0, 0, 0, 1, 0, 0, 1, 1 /* DECODE_TCP_BAD_LOW3 over the low 3 bits */
#define DECODE_BAD32 DECODE_BAD8, DECODE_BAD8, DECODE_BAD8, DECODE_BAD8
/* The first eight: no flags at all is bad too. */
#define DECODE_BAD0 1, 0, 0, 1, 0, 0, 1, 1
static const uint8_t decode_fast_bad_flags[256] = {
	DECODE_BAD0,  DECODE_BAD8,  DECODE_BAD8,  DECODE_BAD8,	DECODE_BAD32, DECODE_BAD32,
	DECODE_BAD32, DECODE_BAD32, DECODE_BAD32, DECODE_BAD32, DECODE_BAD32,
};
_Static_assert((DECODE_TCP_BAD_LOW3 & 0xff) == 0xc8, "decode_fast_bad_flags follows the rule");

/*
 * The TCP half of the fast path: h is an option-less IPv4 header of tot bytes, cap captured.
 * One test and branch a rule: or-ing them into one branch cost more (setcc, movzx, or) than
 * the branches it saved.
 */
static inline bool decode_fast_tcp(const uint8_t *h, uint32_t tot, uint32_t cap, struct pkt_meta *m,
				   struct decode_stats *st)
{
	const uint8_t *t = h + DECODE_IPV4_HLEN;
	uint32_t avail = cap - DECODE_IPV4_HLEN, seg = tot - DECODE_IPV4_HLEN;
	uint32_t hlen = (t[12] >> 4) * 4u, ports = decode_be32(t);
	uint8_t flags = t[13];

	if (unlikely(hlen < DECODE_TCP_HLEN || hlen > avail))
		return false;
	if (unlikely(decode_fast_bad_flags[flags]))
		return false;
	if (unlikely(ports < 0x10000 || !(uint16_t)ports))
		return false;
	m->family = 4;
	m->ttl = h[8];
	m->src.q[0] = 0;
	m->src.w[2] = htonl(0xffff);
	memcpy(&m->src.w[3], h + 12, 4);
	m->dst.q[0] = 0;
	m->dst.w[2] = htonl(0xffff);
	memcpy(&m->dst.w[3], h + 16, 4);
	decode_tcp_fill(m, t, ports, flags, hlen, avail);
	st->payload_snapped += avail < seg;
	return true;
}

/*
 * UDP (but VXLAN), ICMP and the like in an option-less IPv4 header that is
 * not a fragment: the general decoder would only count them NOT_TCP after
 * walking the same headers (a small-64 tap's UDP fifth cost it 130
 * instructions a frame). The protocols that may carry a tunnel, and a total
 * length it would call bad, still go to it. The frame holds at least 40
 * bytes past off (decode_fast's length check), so the UDP port is in it.
 * Returns false to hand the frame on, or true with the frame counted.
 */
static inline bool decode_fast_not_tcp(const uint8_t *h, uint32_t tot, uint32_t wire_l3,
				       uint32_t len, uint32_t off, struct decode_stats *st)
{
	uint8_t proto = h[9];

	if (unlikely(tot < DECODE_IPV4_HLEN || tot > wire_l3 || proto == DECODE_IPPROTO_GRE ||
		     proto == DECODE_IPPROTO_IPIP || proto == DECODE_IPPROTO_IPV6 ||
		     (proto == DECODE_IPPROTO_UDP &&
		      decode_be16(h + DECODE_IPV4_HLEN + 2) == DECODE_VXLAN_PORT)))
		return false;
	st->pkts++;
	st->bytes += len;
	st->vlan += off != DECODE_ETH_HLEN;
	st->ipv4++;
	st->reason[DECODE_R_NOT_TCP]++;
	return true;
}

/*
 * decode_fast() from the IPv4 header on, at off (14, or 18 behind one 802.1Q
 * tag): inlined once for each, so off, vlan and what follows from them are
 * constants and nothing is carried across the tag test (that merge cost some
 * eight instructions a frame).
 */
static inline __attribute__((always_inline)) unsigned int
decode_fast_ip(const struct pkt *p, uint32_t off, uint16_t vlan, struct pkt_meta *m,
	       struct decode_stats *st)
{
	const uint8_t *h = p->data + off;
	uint32_t len = p->len, wire = p->wire_len > len ? p->wire_len : len;
	uint32_t tot;

	if (unlikely(h[0] != 0x45 || ((h[6] & 0x3f) | h[7])))
		return DECODE_FAST_PASS;
	tot = decode_be16(h + 2);
	if (unlikely(h[9] != DECODE_IPPROTO_TCP))
		return decode_fast_not_tcp(h, tot, wire - off, len, off, st) ? DECODE_SKIP
									     : DECODE_FAST_PASS;
	/* A total below both headers is a drop the general decoder must name. */
	if (unlikely(tot < DECODE_FAST_MIN || tot > wire - off))
		return DECODE_FAST_PASS;
	if (!decode_fast_tcp(h, tot, len - off < tot ? len - off : tot, m, st))
		return DECODE_FAST_PASS;
	m->encap = off != DECODE_ETH_HLEN ? PKT_ENCAP_VLAN : 0;
	m->vlan = vlan;
	m->port = p->port;
	m->ts_ns = p->ts_ns;
	st->pkts++;
	st->bytes += len;
	st->vlan += off != DECODE_ETH_HLEN;
	st->ipv4++;
	st->ok++;
	return DECODE_OK;
}

/*
 * The frame a tap delivers almost always: Ethernet, at most one 802.1Q tag,
 * IPv4 without options and not a fragment, TCP, nothing to verify. The fixed
 * headers are read with a few loads, and the counters move only once the
 * frame is known to be OK (exactly as the general decoder moves them), so
 * anything else goes to the general decoder as if this had never run: the
 * general decoder stays the one judge of odd frames. Returns DECODE_OK,
 * DECODE_SKIP (decode_fast_not_tcp) or DECODE_FAST_PASS.
 */
static inline unsigned int decode_fast(const struct decode_cfg *cfg, const struct pkt *p,
				       struct pkt_meta *m, struct decode_stats *st)
{
	const uint8_t *b = p->data;
	uint32_t len = p->len;
	uint16_t type;

	if (unlikely(p->link != PKT_LINK_ETHERNET || len < DECODE_ETH_HLEN + DECODE_FAST_MIN ||
		     cfg->verify_checksums))
		return DECODE_FAST_PASS;
	type = decode_be16(b + 12);
	if (likely(type == DECODE_ETH_IPV4))
		return decode_fast_ip(p, DECODE_ETH_HLEN, 0, m, st);
	if (type != DECODE_ETH_VLAN || len < DECODE_ETH_HLEN + 4 + DECODE_FAST_MIN ||
	    decode_be16(b + 16) != DECODE_ETH_IPV4)
		return DECODE_FAST_PASS;
	return decode_fast_ip(p, DECODE_ETH_HLEN + 4, decode_be16(b + 14) & 0x0fff, m, st);
}

/* Every frame the fast path left alone, with the counters it did not touch. */
static __attribute__((noinline)) enum decode_verdict
decode_pkt_general(const struct decode_cfg *cfg, const struct pkt *p, struct pkt_meta *m,
		   struct decode_stats *st)
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

enum decode_verdict decode_pkt(const struct decode_cfg *cfg, const struct pkt *p,
			       struct pkt_meta *m, struct decode_stats *st)
{
	unsigned int v = decode_fast(cfg, p, m, st);

	if (likely(v != DECODE_FAST_PASS))
		return (enum decode_verdict)v;
	return decode_pkt_general(cfg, p, m, st);
}
