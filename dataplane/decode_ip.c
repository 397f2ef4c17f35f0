// SPDX-License-Identifier: BSD-3-Clause
/*
 * decode_ip: IPv4 (options skipped, fragments counted and left alone) and
 * IPv6 (extension header chain walked up to DECODE_MAX_IPV6_EXT headers).
 * Each header cuts the frame to its own length, so what an L2 pads or a
 * tunnel adds after it never reaches TCP; a frame snapped inside the IP
 * payload is let through with what was captured.
 */
#include "dataplane/decode_internal.h"

#define DECODE_IPV6_HBH	     0
#define DECODE_IPV6_ROUTING  43
#define DECODE_IPV6_FRAGMENT 44
#define DECODE_IPV6_AH	     51
#define DECODE_IPV6_DSTOPTS  60
#define DECODE_IPV6_EXT_MIN  8 /* every extension header is at least this long */

static const uint8_t decode_v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

uint16_t decode_csum_fold(const uint8_t *p, uint32_t len, uint64_t sum)
{
	uint64_t w8;
	uint32_t w4 = 0;
	uint16_t w2 = 0;

	/* 64-bit words with end-around carry; folding gives the 16-bit sum. */
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w8, p, 8);
		sum += w8;
		sum += sum < w8;
	}
	if (len & 4) {
		memcpy(&w4, p, 4);
		p += 4;
	}
	sum += w4;
	sum += sum < w4;
	if (len & 2) {
		memcpy(&w2, p, 2);
		p += 2;
	}
	sum += w2;
	sum += sum < w2;
	if (len & 1) {
		/* The odd byte is the high half of a big-endian word padded with zero. */
		w2 = 0;
		memcpy(&w2, p, 1);
		sum += w2;
		sum += sum < w2;
	}
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Cut the current layer to an IP header's idea of its length. */
static void decode_ip_trim(struct decode_ctx *c, uint32_t end)
{
	c->wire = end;
	c->cap = c->cap < end ? c->cap : end;
}

static unsigned int decode_l4(struct decode_ctx *c, uint8_t proto, uint32_t off)
{
	if (likely(proto == DECODE_IPPROTO_TCP))
		return decode_tcp(c, off);
	return decode_tunnel_ip(c, proto, off);
}

/* After the length checks: fragments, the meta's L3 half, then L4. */
static inline unsigned int decode_ipv4_rest(struct decode_ctx *c, uint32_t off, uint32_t hlen)
{
	const uint8_t *h = c->base + off;
	struct pkt_meta *m = c->m;

	/* MF or a fragment offset: reassembly is not ours to do. */
	if (unlikely((h[6] & 0x3f) | h[7]))
		return DECODE_R_IP_FRAGMENT;
	m->family = 4;
	m->ttl = h[8];
	memcpy(m->src.b, decode_v4mapped, sizeof(decode_v4mapped));
	memcpy(m->src.b + 12, h + 12, 4);
	memcpy(m->dst.b, decode_v4mapped, sizeof(decode_v4mapped));
	memcpy(m->dst.b + 12, h + 16, 4);
	return decode_l4(c, h[9], off + hlen);
}

/* Off the hot path, so the unverified one keeps no registers across a call. */
static __attribute__((noinline)) unsigned int decode_ipv4_verify(struct decode_ctx *c, uint32_t off,
								 uint32_t hlen)
{
	if (decode_csum_fold(c->base + off, hlen, 0) != 0xffff)
		return DECODE_R_BAD_IP_CHECKSUM;
	return decode_ipv4_rest(c, off, hlen);
}

unsigned int decode_ipv4(struct decode_ctx *c, uint32_t off)
{
	const uint8_t *h = c->base + off;
	uint32_t hlen, tot;

	c->st->ipv4++;
	if (unlikely(c->cap - off < DECODE_IPV4_HLEN))
		return DECODE_R_TRUNCATED_IP;
	if (unlikely((h[0] >> 4) != 4))
		return DECODE_R_BAD_IP_VERSION;
	hlen = (h[0] & 0x0fu) * 4;
	if (unlikely(hlen < DECODE_IPV4_HLEN))
		return DECODE_R_BAD_IP_HDR_LEN;
	if (unlikely(hlen > c->cap - off))
		return DECODE_R_TRUNCATED_IP;
	tot = decode_be16(h + 2);
	if (unlikely(tot < hlen || tot > c->wire - off))
		return DECODE_R_BAD_IP_LEN;
	decode_ip_trim(c, off + tot);
	if (unlikely(c->cfg->verify_checksums))
		return decode_ipv4_verify(c, off, hlen);
	return decode_ipv4_rest(c, off, hlen);
}

/* Length of the extension header at off, 0 when it is not one we walk. */
static uint32_t decode_ipv6_ext_len(uint8_t nh, const uint8_t *e)
{
	switch (nh) {
	case DECODE_IPV6_HBH:
	case DECODE_IPV6_ROUTING:
	case DECODE_IPV6_DSTOPTS:
		return (e[1] + 1u) * 8;
	case DECODE_IPV6_AH:
		return (e[1] + 2u) * 4;
	case DECODE_IPV6_FRAGMENT:
		return 8;
	default:
		return 0;
	}
}

static bool decode_ipv6_is_ext(uint8_t nh)
{
	return nh == DECODE_IPV6_HBH || nh == DECODE_IPV6_ROUTING || nh == DECODE_IPV6_DSTOPTS ||
	       nh == DECODE_IPV6_AH || nh == DECODE_IPV6_FRAGMENT;
}

/*
 * Hop-by-hop must come first (RFC 8200 4.1; hosts drop it elsewhere, so we
 * must not see a segment the receiver never saw). A fragment header is fine
 * only when atomic (offset 0, M clear, RFC 6946). ESP, no-next-header and
 * anything unknown end the walk and go to the L4 dispatch as not-TCP.
 */
static unsigned int decode_ipv6_ext(struct decode_ctx *c, uint8_t nh, uint32_t off)
{
	for (unsigned int n = 0; decode_ipv6_is_ext(nh); n++) {
		const uint8_t *e = c->base + off;
		uint32_t len;

		if (n == DECODE_MAX_IPV6_EXT || (nh == DECODE_IPV6_HBH && n != 0))
			return DECODE_R_BAD_IPV6_EXT;
		if (c->wire - off < DECODE_IPV6_EXT_MIN)
			return DECODE_R_BAD_IPV6_EXT;
		if (c->cap - off < DECODE_IPV6_EXT_MIN)
			return DECODE_R_TRUNCATED_IP;
		len = decode_ipv6_ext_len(nh, e);
		if (len > c->wire - off)
			return DECODE_R_BAD_IPV6_EXT;
		if (len > c->cap - off)
			return DECODE_R_TRUNCATED_IP;
		/* Offset (13 bits) and M; the two reserved bits between them do not count. */
		if (nh == DECODE_IPV6_FRAGMENT && (decode_be16(e + 2) & 0xfff9))
			return DECODE_R_IP_FRAGMENT;
		nh = e[0];
		off += len;
	}
	return decode_l4(c, nh, off);
}

unsigned int decode_ipv6(struct decode_ctx *c, uint32_t off)
{
	const uint8_t *h = c->base + off;
	struct pkt_meta *m = c->m;
	uint32_t plen;

	c->st->ipv6++;
	if (unlikely(c->cap - off < DECODE_IPV6_HLEN))
		return DECODE_R_TRUNCATED_IP;
	if (unlikely((h[0] >> 4) != 6))
		return DECODE_R_BAD_IP_VERSION;
	plen = decode_be16(h + 4);
	if (unlikely(plen > c->wire - off - DECODE_IPV6_HLEN))
		return DECODE_R_BAD_IP_LEN;
	decode_ip_trim(c, off + DECODE_IPV6_HLEN + plen);

	m->family = 6;
	m->ttl = h[7];
	memcpy(m->src.b, h + 8, 16);
	memcpy(m->dst.b, h + 24, 16);
	if (likely(h[6] == DECODE_IPPROTO_TCP))
		return decode_tcp(c, off + DECODE_IPV6_HLEN);
	return decode_ipv6_ext(c, h[6], off + DECODE_IPV6_HLEN);
}

/* Raw IP and ERSPAN III IP frames: the version nibble says which. */
unsigned int decode_ip_any(struct decode_ctx *c, uint32_t off)
{
	if (c->cap == off)
		return DECODE_R_TRUNCATED_IP;
	switch (c->base[off] >> 4) {
	case 4:
		return decode_ipv4(c, off);
	case 6:
		return decode_ipv6(c, off);
	default:
		return DECODE_R_BAD_IP_VERSION;
	}
}
