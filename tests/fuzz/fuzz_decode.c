// SPDX-License-Identifier: BSD-3-Clause
/*
 * fuzz_decode: the input's first byte picks the configuration (bit 0 verify
 * checksums, bits 1-3 tunnel depth, bit 4 "snapped": the wire was longer than
 * the capture); the rest is one frame, decoded as every link type. Checks
 * the counting contract and that a DECODE_OK payload lies inside the frame.
 * Seeds: tests/fuzz/seeds/decode/ (frames from the unit tests' builder).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t fuzz_links[] = {
	PKT_LINK_NULL, PKT_LINK_ETHERNET, PKT_LINK_RAW,	       PKT_LINK_LOOP, PKT_LINK_LINUX_SLL,
	PKT_LINK_IPV4, PKT_LINK_IPV6,	  PKT_LINK_LINUX_SLL2, 0xffff,
};

static void fuzz_check(const struct decode_cfg *cfg, const uint8_t *f, uint32_t len, uint32_t wire,
		       uint16_t link)
{
	struct pkt p = {.data = f, .len = len, .wire_len = wire, .link = link, .port = 2};
	struct decode_stats st;
	struct pkt_meta m;
	enum decode_verdict v;
	uint64_t reasons = 0;
	unsigned int last = DECODE_R_COUNT;

	memset(&st, 0, sizeof(st));
	v = decode_pkt(cfg, &p, &m, &st);
	for (unsigned int i = 0; i < DECODE_R_COUNT; i++) {
		reasons += st.reason[i];
		if (st.reason[i])
			last = i;
	}
	if (st.pkts != 1 || st.bytes != len || st.ok + reasons != 1)
		abort();
	if (v != DECODE_OK) {
		if (v != (decode_reason_is_drop(last) ? DECODE_DROP : DECODE_SKIP))
			abort();
		return;
	}
	if (m.payload < f || m.payload_len > len || (size_t)(m.payload - f) + m.payload_len > len)
		abort();
	if ((m.family != 4 && m.family != 6) || !m.sport || !m.dport || m.l4_proto != 6)
		abort();
	if (m.tcp_hdr_len < 20 || m.tcp_hdr_len > 60 || m.payload - m.tcp_hdr_len < f)
		abort();
	if (st.payload_snapped && wire == len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decode_cfg cfg;
	uint32_t len;

	if (size < 1 || size > 1u << 20)
		return 0;
	decode_cfg_default(&cfg);
	cfg.verify_checksums = data[0] & 1;
	cfg.max_tunnel_depth = (data[0] >> 1) & 7;
	len = (uint32_t)(size - 1);
	for (size_t i = 0; i < sizeof(fuzz_links) / sizeof(fuzz_links[0]); i++)
		fuzz_check(&cfg, len ? data + 1 : NULL, len, (data[0] & 0x10) ? len + 1500 : len,
			   fuzz_links[i]);
	return 0;
}
