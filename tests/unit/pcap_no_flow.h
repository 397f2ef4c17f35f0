/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_no_flow: a capture file of UDP datagrams (DNS between documentation
 * addresses), for tests of how frames that belong to no TCP flow are spread
 * over worker queues.
 */
#ifndef RELAYWATCH_TESTS_PCAP_NO_FLOW_H
#define RELAYWATCH_TESTS_PCAP_NO_FLOW_H

#include <stdint.h>
#include <stdio.h>

#include "pkt_build.h"

/* Writes n UDP frames to a new classic pcap at path; 0 on success. */
static inline int pcap_no_flow_write(const char *path, unsigned int n)
{
	const uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
	FILE *f = fopen(path, "wb");
	int err = 0;

	if (!f || fwrite(hdr, sizeof(hdr), 1, f) != 1)
		err = -1;
	for (unsigned int i = 0; !err && i < n; i++) {
		char src[16];
		struct pkt_build_ipv4 ip = {.src = src, .dst = "198.51.100.53"};
		struct pkt_build pb;
		uint8_t frame[128];
		uint32_t rh[4] = {1700000000u, i, 0, 0};

		snprintf(src, sizeof(src), "192.0.2.%u", 1 + i % 200);
		pkt_build_init(&pb, frame, sizeof(frame));
		pkt_build_eth(&pb, 0);
		pkt_build_ipv4(&pb, &ip);
		pkt_build_udp(&pb, (uint16_t)(1024 + i), 53);
		pkt_build_payload(&pb, (const uint8_t *)"relaywatch", 10);
		rh[2] = rh[3] = (uint32_t)pkt_build_finish(&pb);
		if (!rh[2] || fwrite(rh, sizeof(rh), 1, f) != 1 || fwrite(frame, rh[2], 1, f) != 1)
			err = -1;
	}
	if (f && fclose(f))
		err = -1;
	return err;
}

#endif /* RELAYWATCH_TESTS_PCAP_NO_FLOW_H */
