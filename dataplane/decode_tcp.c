// SPDX-License-Identifier: BSD-3-Clause
/*
 * decode_tcp: the TCP header that ends every successful decode. Options are
 * skipped (reassembly needs none of them); header length, flags and ports are
 * checked, the checksum only when asked for and only when the whole segment
 * was captured. Fills the L4 half of pkt_meta.
 */
#include <arpa/inet.h>

#include "dataplane/decode_internal.h"

/* Out of line and last, so the usual unverified path stays a leaf without spills. */
static __attribute__((noinline)) unsigned int decode_tcp_verify(const struct decode_ctx *c,
								const uint8_t *t, uint32_t seg)
{
	const struct pkt_meta *m = c->m;
	uint64_t sum;

	if (m->family == 4) {
		sum = (uint64_t)m->src.w[3] + m->dst.w[3] + htons(DECODE_IPPROTO_TCP) + htons(seg);
	} else {
		sum = (uint64_t)m->src.w[0] + m->src.w[1] + m->src.w[2] + m->src.w[3] +
		      m->dst.w[0] + m->dst.w[1] + m->dst.w[2] + m->dst.w[3] +
		      htonl(DECODE_IPPROTO_TCP) + htonl(seg);
	}
	if (decode_csum_fold(t, seg, sum) != 0xffff)
		return DECODE_R_BAD_TCP_CHECKSUM;
	return DECODE_R_NONE;
}

unsigned int decode_tcp(struct decode_ctx *c, uint32_t off)
{
	const uint8_t *t = c->base + off;
	struct pkt_meta *m = c->m;
	uint32_t avail = c->cap - off, seg = c->wire - off, hlen, ports;
	uint8_t flags;

	if (unlikely(avail < DECODE_TCP_HLEN))
		return DECODE_R_TRUNCATED_TCP;
	hlen = (t[12] >> 4) * 4u;
	if (unlikely(hlen < DECODE_TCP_HLEN || hlen > seg))
		return DECODE_R_BAD_TCP_HDR_LEN;
	if (unlikely(hlen > avail))
		return DECODE_R_TRUNCATED_TCP;
	flags = t[13];
	if (unlikely(((DECODE_TCP_BAD_LOW3 >> (flags & 7)) & 1) | (flags == 0)))
		return DECODE_R_BAD_TCP_FLAGS;
	ports = decode_be32(t);
	if (unlikely(!(ports >> 16) | !(ports & 0xffff)))
		return DECODE_R_BAD_PORT;
	decode_tcp_fill(m, t, ports, flags, hlen, avail);
	c->st->payload_snapped += avail < seg;
	/* A snapped segment cannot be summed; better unverified than dropped. */
	if (unlikely(c->cfg->verify_checksums) && avail == seg)
		return decode_tcp_verify(c, t, seg);
	return DECODE_R_NONE;
}
