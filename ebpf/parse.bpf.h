/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * parse.bpf: header parsers for XDP programs (xdp-tools parsing_helpers
 * style). Contract, stated once: each parser takes a cursor whose pos is at
 * the start of its header, checks every byte it reads against end (so the
 * verifier sees the bound), advances pos past the header and returns the
 * next protocol, or a negative XDP_SMTP_R_ERR_* / reason on failure. Loops
 * are bounded by constants. Owns nothing; BPF side only.
 */
#ifndef RELAYWATCH_EBPF_PARSE_BPF_H
#define RELAYWATCH_EBPF_PARSE_BPF_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdp_smtp_shared.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

struct cursor {
	void *pos;
	void *end;
};

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* What the program needs of an IPv4/IPv6 + TCP packet. */
struct l3l4 {
	struct xdp_smtp_src_key src;
	__u8 proto;    /* L4 protocol (IPPROTO_*) */
	__u8 fragment; /* not the whole datagram: no usable L4 header */
};

/* Ethernet and up to XDP_SMTP_MAX_VLAN tags; returns the inner ethertype (host order). */
static __always_inline int parse_eth(struct cursor *c)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;

	if ((void *)(eth + 1) > c->end)
		return -XDP_SMTP_R_ERR_ETH;
	c->pos = eth + 1;
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (int i = 0; i < XDP_SMTP_MAX_VLAN; i++) {
		struct vlan_tag *v = c->pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			return proto;
		if ((void *)(v + 1) > c->end)
			return -XDP_SMTP_R_ERR_VLAN;
		c->pos = v + 1;
		proto = bpf_ntohs(v->proto);
	}
	/* A third tag: more than we walk; the kernel can have it. */
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return -XDP_SMTP_R_ERR_VLAN;
	return proto;
}

static __always_inline int parse_ipv4(struct cursor *c, struct l3l4 *out)
{
	struct iphdr *ip = c->pos;
	__u32 hlen;

	if ((void *)(ip + 1) > c->end)
		return -XDP_SMTP_R_ERR_IPV4;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip))
		return -XDP_SMTP_R_ERR_IPV4;
	/* Options: variable length, so check the whole header against end. */
	if (c->pos + hlen > c->end)
		return -XDP_SMTP_R_ERR_IPV4;
	c->pos += hlen;

	__builtin_memset(out->src.addr, 0, 10);
	out->src.addr[10] = 0xff;
	out->src.addr[11] = 0xff;
	__builtin_memcpy(&out->src.addr[12], &ip->saddr, 4);
	out->proto = ip->protocol;
	/* MF set or a fragment offset: ports are not (all) there. */
	out->fragment = (ip->frag_off & bpf_htons(0x3fff)) != 0;
	return 0;
}

/*
 * IPv6 and a bounded walk over extension headers. Hop-by-hop, routing and
 * destination options share the (next, len in 8-byte units - 1) layout; AH
 * counts in 4-byte units - 2; a fragment header is 8 bytes and, unless it is
 * an atomic fragment, the datagram is reported as a fragment.
 */
static __always_inline int parse_ipv6(struct cursor *c, struct l3l4 *out)
{
	struct ipv6hdr *ip6 = c->pos;
	__u8 next;

	if ((void *)(ip6 + 1) > c->end)
		return -XDP_SMTP_R_ERR_IPV6;
	c->pos = ip6 + 1;
	__builtin_memcpy(out->src.addr, &ip6->saddr, 16);
	next = ip6->nexthdr;
	out->fragment = 0;

#pragma unroll
	for (int i = 0; i < XDP_SMTP_MAX_IPV6_EXT; i++) {
		struct ipv6_opt_hdr *eh = c->pos;
		__u32 len;

		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			break;
		case IPPROTO_FRAGMENT: {
			struct frag_hdr {
				__u8 nexthdr;
				__u8 reserved;
				__be16 frag_off;
				__be32 id;
			} *fh = c->pos;

			if ((void *)(fh + 1) > c->end)
				return -XDP_SMTP_R_ERR_IPV6_EXT;
			/* offset or M bit: a real fragment */
			if (fh->frag_off & bpf_htons(0xfff9))
				out->fragment = 1;
			next = fh->nexthdr;
			c->pos = fh + 1;
			continue;
		}
		default:
			out->proto = next;
			return 0;
		}
		if ((void *)(eh + 1) > c->end)
			return -XDP_SMTP_R_ERR_IPV6_EXT;
		len = next == IPPROTO_AH ? ((__u32)eh->hdrlen + 2) * 4
					 : ((__u32)eh->hdrlen + 1) * 8;
		if (c->pos + len > c->end)
			return -XDP_SMTP_R_ERR_IPV6_EXT;
		next = eh->nexthdr;
		c->pos += len;
	}
	switch (next) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_FRAGMENT:
		return -XDP_SMTP_R_ERR_IPV6_EXT; /* longer chain than we walk */
	}
	out->proto = next;
	return 0;
}

/* The fixed TCP header; options are the sensor's business. */
static __always_inline struct tcphdr *parse_tcp(struct cursor *c)
{
	struct tcphdr *th = c->pos;

	if ((void *)(th + 1) > c->end)
		return NULL;
	if (th->doff < 5)
		return NULL;
	return th;
}

#endif /* RELAYWATCH_EBPF_PARSE_BPF_H */
