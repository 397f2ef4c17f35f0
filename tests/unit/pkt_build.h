/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt_build: a test-only frame builder in the spirit of Katran's
 * PacketBuilder. Push headers outermost first into a caller buffer; each push
 * fills the previous header's "next protocol" field when it was left 0
 * (ethertype, IP protocol, IPv6 next header, GRE protocol, MPLS bottom of
 * stack), and pkt_build_finish() writes every length and checksum, innermost
 * first. Pushes return the header's offset so a test can break one byte on
 * purpose afterwards. Header-only; no allocation; single-threaded.
 */
#ifndef RELAYWATCH_TESTS_PKT_BUILD_H
#define RELAYWATCH_TESTS_PKT_BUILD_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PKT_BUILD_MAX_LAYERS 32

enum pkt_build_kind {
	PKT_BUILD_ETH = 1,
	PKT_BUILD_VLAN,
	PKT_BUILD_MPLS,
	PKT_BUILD_MPLS_CW,
	PKT_BUILD_SLL,
	PKT_BUILD_SLL2,
	PKT_BUILD_NULL,
	PKT_BUILD_LOOP,
	PKT_BUILD_IPV4,
	PKT_BUILD_IPV6,
	PKT_BUILD_IPV6_EXT,
	PKT_BUILD_TCP,
	PKT_BUILD_UDP,
	PKT_BUILD_GRE,
	PKT_BUILD_ERSPAN2,
	PKT_BUILD_ERSPAN3,
	PKT_BUILD_VXLAN,
	PKT_BUILD_PAYLOAD,
};

/* IPv4 flags/fragment field and TCP flags, host order. */
#define PKT_BUILD_IP_DF	  0x4000
#define PKT_BUILD_IP_MF	  0x2000
#define PKT_BUILD_TCP_FIN 0x01
#define PKT_BUILD_TCP_SYN 0x02
#define PKT_BUILD_TCP_RST 0x04
#define PKT_BUILD_TCP_PSH 0x08
#define PKT_BUILD_TCP_ACK 0x10
/* GRE flag bits (RFC 2784/2890). */
#define PKT_BUILD_GRE_C 0x8000
#define PKT_BUILD_GRE_K 0x2000
#define PKT_BUILD_GRE_S 0x1000

struct pkt_build_layer {
	uint8_t kind;	/* enum pkt_build_kind */
	bool auto_next; /* the next-protocol field is ours to fill */
	uint16_t id;	/* VLAN TPID, IPv6 extension type, GRE flags */
	uint32_t off;
};

struct pkt_build {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow; /* a push did not fit: finish() returns 0 */
	unsigned int n;
	struct pkt_build_layer layer[PKT_BUILD_MAX_LAYERS];
};

struct pkt_build_ipv4 {
	const char *src, *dst; /* dotted quads */
	uint8_t proto;	       /* 0: from the next push */
	uint8_t ttl;	       /* 0: 64 */
	uint8_t tos;
	uint16_t id;
	uint16_t frag;	    /* PKT_BUILD_IP_DF | PKT_BUILD_IP_MF | offset in 8-byte units */
	const uint8_t *opt; /* padded with EOL to a multiple of 4 */
	uint8_t opt_len;
};

struct pkt_build_ipv6 {
	const char *src, *dst;
	uint8_t next; /* 0: from the next push */
	uint8_t hlim; /* 0: 64 */
	uint32_t flow;
};

struct pkt_build_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt; /* padded with EOL to a multiple of 4 */
	uint8_t opt_len;
};

struct pkt_build_gre {
	uint16_t flags; /* C/K/S bits and version */
	uint16_t proto; /* 0: from the next push */
	uint32_t key, seq;
};

struct pkt_build_erspan {
	uint8_t ver; /* 0: 1 for type II, 2 for type III */
	uint16_t vlan;
	uint8_t en; /* type II: 0 none, 1 ISL, 2 802.1Q, 3 tag kept in the frame */
	uint16_t session;
	uint32_t index;	    /* type II */
	uint8_t ft;	    /* type III frame type: 0 Ethernet, 2 IP */
	bool subhdr;	    /* type III: add the 8-byte platform-specific sub-header */
	uint32_t timestamp; /* type III */
};

static inline void pkt_build_init(struct pkt_build *pb, uint8_t *buf, size_t cap)
{
	memset(pb, 0, sizeof(*pb));
	pb->buf = buf;
	pb->cap = cap;
}

static inline void pkt_build_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pkt_build_put32(uint8_t *p, uint32_t v)
{
	pkt_build_put16(p, (uint16_t)(v >> 16));
	pkt_build_put16(p + 2, (uint16_t)v);
}

static inline uint16_t pkt_build_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Byte-at-a-time big-endian ones' complement sum: slow and obviously right,
 * so it can check the decoder's word-wise one. */
static inline uint32_t pkt_build_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static inline uint16_t pkt_build_csum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint16_t pkt_build_ethertype_of(const struct pkt_build_layer *l)
{
	switch (l->kind) {
	case PKT_BUILD_IPV4:
		return 0x0800;
	case PKT_BUILD_IPV6:
		return 0x86dd;
	case PKT_BUILD_VLAN:
		return l->id;
	case PKT_BUILD_MPLS:
		return 0x8847;
	case PKT_BUILD_ETH:
		return 0x6558;
	case PKT_BUILD_ERSPAN2:
		return 0x88be;
	case PKT_BUILD_ERSPAN3:
		return 0x22eb;
	default:
		return 0;
	}
}

static inline uint8_t pkt_build_ipproto_of(const struct pkt_build_layer *l)
{
	switch (l->kind) {
	case PKT_BUILD_TCP:
		return 6;
	case PKT_BUILD_UDP:
		return 17;
	case PKT_BUILD_GRE:
		return 47;
	case PKT_BUILD_IPV4:
		return 4;
	case PKT_BUILD_IPV6:
		return 41;
	case PKT_BUILD_IPV6_EXT:
		return (uint8_t)l->id;
	default:
		return 0;
	}
}

/* Fill the previous header's next-protocol field now that we know the next one. */
static inline void pkt_build_link_prev(struct pkt_build *pb, const struct pkt_build_layer *next)
{
	struct pkt_build_layer *prev;
	uint8_t *p;

	if (pb->n < 2)
		return;
	prev = &pb->layer[pb->n - 2];
	p = pb->buf + prev->off;
	if (prev->kind == PKT_BUILD_MPLS && next->kind != PKT_BUILD_MPLS)
		p[2] |= 0x01; /* bottom of stack */
	if (!prev->auto_next)
		return;
	switch (prev->kind) {
	case PKT_BUILD_ETH:
		pkt_build_put16(p + 12, pkt_build_ethertype_of(next));
		break;
	case PKT_BUILD_VLAN:
		pkt_build_put16(p + 2, pkt_build_ethertype_of(next));
		break;
	case PKT_BUILD_SLL:
		pkt_build_put16(p + 14, pkt_build_ethertype_of(next));
		break;
	case PKT_BUILD_SLL2:
	case PKT_BUILD_GRE:
		pkt_build_put16(p + (prev->kind == PKT_BUILD_GRE ? 2 : 0),
				pkt_build_ethertype_of(next));
		break;
	case PKT_BUILD_IPV4:
		p[9] = pkt_build_ipproto_of(next);
		break;
	case PKT_BUILD_IPV6:
		p[6] = pkt_build_ipproto_of(next);
		break;
	case PKT_BUILD_IPV6_EXT:
		p[0] = pkt_build_ipproto_of(next);
		break;
	default:
		break;
	}
}

/* Reserve n zeroed bytes for a header; NULL (and overflow set) when it does not fit. */
static inline uint8_t *pkt_build_push(struct pkt_build *pb, uint8_t kind, size_t n, bool auto_next,
				      uint16_t id)
{
	struct pkt_build_layer *l;
	uint8_t *p;

	if (pb->overflow || pb->n == PKT_BUILD_MAX_LAYERS || n > pb->cap - pb->len) {
		pb->overflow = true;
		return NULL;
	}
	l = &pb->layer[pb->n++];
	*l = (struct pkt_build_layer){
		.kind = kind, .auto_next = auto_next, .id = id, .off = (uint32_t)pb->len};
	p = pb->buf + pb->len;
	memset(p, 0, n);
	pb->len += n;
	pkt_build_link_prev(pb, l);
	return p;
}

static inline int pkt_build_off(const struct pkt_build *pb, const uint8_t *p)
{
	return p ? (int)(p - pb->buf) : -1;
}

/* ---- link layers ---- */

static inline int pkt_build_eth(struct pkt_build *pb, uint16_t type)
{
	static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_ETH, 14, type == 0, 0);

	if (p) {
		memcpy(p, macs, sizeof(macs));
		pkt_build_put16(p + 12, type);
	}
	return pkt_build_off(pb, p);
}

/* One 802.1Q/802.1ad tag; tpid 0 means 0x8100. It lands in the previous header. */
static inline int pkt_build_vlan(struct pkt_build *pb, uint16_t tpid, uint16_t vid)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_VLAN, 4, true, tpid ? tpid : 0x8100);

	if (p)
		pkt_build_put16(p, vid & 0x0fff);
	return pkt_build_off(pb, p);
}

/* One label stack entry; bottom-of-stack is set when a non-MPLS push follows. */
static inline int pkt_build_mpls(struct pkt_build *pb, uint32_t label, uint8_t ttl)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_MPLS, 4, false, 0);

	if (p)
		pkt_build_put32(p, label << 12 | ttl);
	return pkt_build_off(pb, p);
}

/* Pseudowire control word (RFC 4385): first nibble 0, Ethernet follows. */
static inline int pkt_build_mpls_cw(struct pkt_build *pb, uint16_t seq)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_MPLS_CW, 4, false, 0);

	if (p)
		pkt_build_put16(p + 2, seq);
	return pkt_build_off(pb, p);
}

/* Linux cooked v1: packet type, ARPHRD, address length and address, protocol at 14. */
static inline int pkt_build_sll(struct pkt_build *pb, uint16_t proto)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_SLL, 16, proto == 0, 0);

	if (p) {
		pkt_build_put16(p + 2, 1); /* ARPHRD_ETHER */
		pkt_build_put16(p + 4, 6);
		p[6] = 0x02;
		p[11] = 0x01;
		pkt_build_put16(p + 14, proto);
	}
	return pkt_build_off(pb, p);
}

/* Linux cooked v2: protocol first, then reserved, ifindex, ARPHRD, type, address. */
static inline int pkt_build_sll2(struct pkt_build *pb, uint16_t proto)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_SLL2, 20, proto == 0, 0);

	if (p) {
		pkt_build_put16(p, proto);
		pkt_build_put32(p + 4, 1);
		pkt_build_put16(p + 8, 1);
		p[11] = 6;
		p[12] = 0x02;
		p[17] = 0x01;
	}
	return pkt_build_off(pb, p);
}

/* BSD loopback: the AF word in this host's order (what a local capture writes). */
static inline int pkt_build_null(struct pkt_build *pb, uint32_t af)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_NULL, 4, false, 0);

	if (p)
		memcpy(p, &af, 4);
	return pkt_build_off(pb, p);
}

/* OpenBSD loopback: the AF word in network order. */
static inline int pkt_build_loop(struct pkt_build *pb, uint32_t af)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_LOOP, 4, false, 0);

	if (p)
		pkt_build_put32(p, af);
	return pkt_build_off(pb, p);
}

/* ---- IP ---- */

static inline int pkt_build_ipv4(struct pkt_build *pb, const struct pkt_build_ipv4 *o)
{
	size_t opt = (o->opt_len + 3u) & ~3u;
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_IPV4, 20 + opt, o->proto == 0, 0);

	if (!p)
		return -1;
	p[0] = (uint8_t)(0x40 | (20 + opt) / 4);
	p[1] = o->tos;
	pkt_build_put16(p + 4, o->id);
	pkt_build_put16(p + 6, o->frag);
	p[8] = o->ttl ? o->ttl : 64;
	p[9] = o->proto;
	if (inet_pton(AF_INET, o->src, p + 12) != 1 || inet_pton(AF_INET, o->dst, p + 16) != 1)
		pb->overflow = true;
	if (o->opt_len)
		memcpy(p + 20, o->opt, o->opt_len);
	return pkt_build_off(pb, p);
}

static inline int pkt_build_ipv6(struct pkt_build *pb, const struct pkt_build_ipv6 *o)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_IPV6, 40, o->next == 0, 0);

	if (!p)
		return -1;
	pkt_build_put32(p, 0x60000000u | (o->flow & 0xfffff));
	p[6] = o->next;
	p[7] = o->hlim ? o->hlim : 64;
	if (inet_pton(AF_INET6, o->src, p + 8) != 1 || inet_pton(AF_INET6, o->dst, p + 24) != 1)
		pb->overflow = true;
	return pkt_build_off(pb, p);
}

/* Hop-by-hop (0), routing (43) or destination options (60): len a multiple of
 * 8, options area filled with one PadN so the header is valid. */
static inline int pkt_build_ipv6_ext(struct pkt_build *pb, uint8_t type, size_t len)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_IPV6_EXT, len, true, type);

	if (!p)
		return -1;
	p[1] = (uint8_t)(len / 8 - 1);
	if (type != 43) {
		p[2] = 1; /* PadN */
		p[3] = (uint8_t)(len - 4);
	}
	return pkt_build_off(pb, p);
}

/* Fragment header: offset in 8-byte units, M flag, identification. */
static inline int pkt_build_ipv6_frag(struct pkt_build *pb, uint16_t offset, bool more, uint32_t id)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_IPV6_EXT, 8, true, 44);

	if (!p)
		return -1;
	pkt_build_put16(p + 2, (uint16_t)(offset << 3 | more));
	pkt_build_put32(p + 4, id);
	return pkt_build_off(pb, p);
}

/* Authentication header with icv_len bytes of ICV (12 + icv_len a multiple of 8). */
static inline int pkt_build_ipv6_ah(struct pkt_build *pb, size_t icv_len, uint32_t spi)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_IPV6_EXT, 12 + icv_len, true, 51);

	if (!p)
		return -1;
	p[1] = (uint8_t)((12 + icv_len) / 4 - 2);
	pkt_build_put32(p + 4, spi);
	return pkt_build_off(pb, p);
}

/* ---- L4 and payload ---- */

static inline int pkt_build_tcp(struct pkt_build *pb, const struct pkt_build_tcp *o)
{
	size_t opt = (o->opt_len + 3u) & ~3u;
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_TCP, 20 + opt, false, 0);

	if (!p)
		return -1;
	pkt_build_put16(p, o->sport);
	pkt_build_put16(p + 2, o->dport);
	pkt_build_put32(p + 4, o->seq);
	pkt_build_put32(p + 8, o->ack);
	p[12] = (uint8_t)((20 + opt) / 4 << 4);
	p[13] = o->flags;
	pkt_build_put16(p + 14, o->win);
	if (o->opt_len)
		memcpy(p + 20, o->opt, o->opt_len);
	return pkt_build_off(pb, p);
}

static inline int pkt_build_udp(struct pkt_build *pb, uint16_t sport, uint16_t dport)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_UDP, 8, false, 0);

	if (p) {
		pkt_build_put16(p, sport);
		pkt_build_put16(p + 2, dport);
	}
	return pkt_build_off(pb, p);
}

static inline int pkt_build_payload(struct pkt_build *pb, const void *data, size_t len)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_PAYLOAD, len, false, 0);

	if (p && len)
		memcpy(p, data, len);
	return pkt_build_off(pb, p);
}

/* ---- tunnels ---- */

static inline int pkt_build_gre(struct pkt_build *pb, const struct pkt_build_gre *o)
{
	size_t len = 4 + 4 * (!!(o->flags & PKT_BUILD_GRE_C) + !!(o->flags & PKT_BUILD_GRE_K) +
			      !!(o->flags & PKT_BUILD_GRE_S));
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_GRE, len, o->proto == 0, o->flags);
	size_t at = 4;

	if (!p)
		return -1;
	pkt_build_put16(p, o->flags);
	pkt_build_put16(p + 2, o->proto);
	if (o->flags & PKT_BUILD_GRE_C)
		at += 4; /* checksum written by finish() */
	if (o->flags & PKT_BUILD_GRE_K) {
		pkt_build_put32(p + at, o->key);
		at += 4;
	}
	if (o->flags & PKT_BUILD_GRE_S)
		pkt_build_put32(p + at, o->seq);
	return pkt_build_off(pb, p);
}

/* ERSPAN type II header (8 bytes); the GRE before it needs the S bit. Type I
 * has no header: a GRE with .proto = 0x88be and no S bit, then pkt_build_eth(). */
static inline int pkt_build_erspan2(struct pkt_build *pb, const struct pkt_build_erspan *o)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_ERSPAN2, 8, false, 0);
	uint32_t ver = o->ver ? o->ver : 1;

	if (!p)
		return -1;
	pkt_build_put32(p, ver << 28 | (uint32_t)(o->vlan & 0xfff) << 16 |
				   (uint32_t)(o->en & 3) << 11 | (o->session & 0x3ffu));
	pkt_build_put32(p + 4, o->index & 0xfffff);
	return pkt_build_off(pb, p);
}

/* ERSPAN type III header (12 bytes) and its optional platform sub-header (8). */
static inline int pkt_build_erspan3(struct pkt_build *pb, const struct pkt_build_erspan *o)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_ERSPAN3, o->subhdr ? 20 : 12, false, 0);
	uint32_t ver = o->ver ? o->ver : 2;

	if (!p)
		return -1;
	pkt_build_put32(p, ver << 28 | (uint32_t)(o->vlan & 0xfff) << 16 | (o->session & 0x3ffu));
	pkt_build_put32(p + 4, o->timestamp);
	pkt_build_put16(p + 10, (uint16_t)((o->ft & 0x1f) << 10 | (o->subhdr ? 1 : 0)));
	if (o->subhdr) {
		pkt_build_put32(p + 12, 3u << 26 | 0x1234); /* platform id 3, port id */
		pkt_build_put32(p + 16, o->timestamp);
	}
	return pkt_build_off(pb, p);
}

/* VXLAN header with the I flag; the UDP before it should go to port 4789. */
static inline int pkt_build_vxlan(struct pkt_build *pb, uint32_t vni)
{
	uint8_t *p = pkt_build_push(pb, PKT_BUILD_VXLAN, 8, false, 0);

	if (p) {
		p[0] = 0x08;
		pkt_build_put32(p + 4, vni << 8);
	}
	return pkt_build_off(pb, p);
}

/* ---- lengths and checksums ---- */

/* Pseudo-header sum of the nearest IP header before layer i. */
static inline uint32_t pkt_build_pseudo(const struct pkt_build *pb, unsigned int i, uint8_t proto,
					size_t l4_len)
{
	while (i-- > 0) {
		const uint8_t *ip = pb->buf + pb->layer[i].off;

		if (pb->layer[i].kind == PKT_BUILD_IPV4)
			return pkt_build_sum(ip + 12, 8, proto + (uint32_t)l4_len);
		if (pb->layer[i].kind == PKT_BUILD_IPV6)
			return pkt_build_sum(ip + 8, 32,
					     proto + (uint32_t)(l4_len >> 16) +
						     (uint32_t)(l4_len & 0xffff));
	}
	return 0;
}

static inline void pkt_build_fix(struct pkt_build *pb, unsigned int i)
{
	const struct pkt_build_layer *l = &pb->layer[i];
	uint8_t *p = pb->buf + l->off;
	size_t rest = pb->len - l->off;
	uint16_t ck;

	switch (l->kind) {
	case PKT_BUILD_IPV4:
		pkt_build_put16(p + 2, (uint16_t)rest);
		pkt_build_put16(p + 10, 0);
		pkt_build_put16(p + 10, pkt_build_csum(pkt_build_sum(p, (p[0] & 15u) * 4, 0)));
		break;
	case PKT_BUILD_IPV6:
		pkt_build_put16(p + 4, (uint16_t)(rest - 40));
		break;
	case PKT_BUILD_TCP:
		pkt_build_put16(p + 16, 0);
		ck = pkt_build_csum(pkt_build_sum(p, rest, pkt_build_pseudo(pb, i, 6, rest)));
		pkt_build_put16(p + 16, ck);
		break;
	case PKT_BUILD_UDP:
		pkt_build_put16(p + 4, (uint16_t)rest);
		pkt_build_put16(p + 6, 0);
		ck = pkt_build_csum(pkt_build_sum(p, rest, pkt_build_pseudo(pb, i, 17, rest)));
		pkt_build_put16(p + 6, ck ? ck : 0xffff);
		break;
	case PKT_BUILD_GRE:
		if (l->id & PKT_BUILD_GRE_C) {
			pkt_build_put16(p + 4, 0);
			pkt_build_put16(p + 4, pkt_build_csum(pkt_build_sum(p, rest, 0)));
		}
		break;
	default:
		break;
	}
}

/* Lengths and checksums, innermost first so outer sums cover final bytes.
 * Returns the frame length, or 0 when a push did not fit. */
static inline size_t pkt_build_finish(struct pkt_build *pb)
{
	if (pb->overflow)
		return 0;
	for (unsigned int i = pb->n; i-- > 0;)
		pkt_build_fix(pb, i);
	return pb->len;
}

/* Bytes after the IP datagram (Ethernet minimum-size padding): call after finish(). */
static inline size_t pkt_build_pad_to(struct pkt_build *pb, size_t len, uint8_t fill)
{
	if (len > pb->cap) {
		pb->overflow = true;
		return 0;
	}
	if (len > pb->len) {
		memset(pb->buf + pb->len, fill, len - pb->len);
		pb->len = len;
	}
	return pb->len;
}

#endif /* RELAYWATCH_TESTS_PKT_BUILD_H */
