/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt: the view of one received frame that every source fills and every
 * stage reads, and pkt_meta, what decode found in it. A pkt points into
 * memory the source owns (pcap block, UMEM frame, mbuf) and stays valid until
 * the source's release(); nothing above the worker may keep the pointer.
 */
#ifndef RELAYWATCH_DATAPLANE_PKT_H
#define RELAYWATCH_DATAPLANE_PKT_H

#include <stdint.h>

/* Which way a packet goes within its connection. */
enum flow_dir {
	FLOW_DIR_TO_SERVER = 0,
	FLOW_DIR_TO_CLIENT = 1,
};

/* Link types we decode; values are the pcap LINKTYPE_* numbers. */
enum pkt_link {
	PKT_LINK_NULL = 0, /* BSD loopback, host-order AF_ word */
	PKT_LINK_ETHERNET = 1,
	PKT_LINK_RAW = 101,  /* raw IPv4 or IPv6 */
	PKT_LINK_LOOP = 108, /* OpenBSD loopback, network-order AF_ word */
	PKT_LINK_LINUX_SLL = 113,
	PKT_LINK_IPV4 = 228,
	PKT_LINK_IPV6 = 229,
	PKT_LINK_LINUX_SLL2 = 276,
};

struct pkt {
	const uint8_t *data;
	uint32_t len;	   /* bytes captured at data */
	uint32_t wire_len; /* bytes on the wire (>= len when snapped) */
	uint64_t ts_ns;	   /* capture time, Unix epoch */
	uint64_t opaque;   /* backend handle: only the source's release() reads it */
	uint16_t link;	   /* enum pkt_link */
	uint16_t port;	   /* input port (two ports = two directions of a tap) */
	uint32_t hash;	   /* symmetric flow hash when the source computed one, else 0 */
	uint16_t rxq;	   /* source queue the frame was received on (for release) */
};

/* IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d) so one compare and
 * one hash serve both families. */
union pkt_addr {
	uint8_t b[16];
	uint32_t w[4];
	uint64_t q[2];
};

enum pkt_encap {
	PKT_ENCAP_VLAN = 1 << 0,
	PKT_ENCAP_MPLS = 1 << 1,
	PKT_ENCAP_GRE = 1 << 2,
	PKT_ENCAP_ERSPAN = 1 << 3,
	PKT_ENCAP_VXLAN = 1 << 4,
	PKT_ENCAP_IPIP = 1 << 5,
};

/* TCP flag bits as in the header */
#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10
#define PKT_TCP_URG 0x20

struct pkt_meta {
	union pkt_addr src, dst;
	uint16_t sport, dport; /* host order */
	uint8_t family;	       /* 4 or 6 */
	uint8_t l4_proto;      /* IPPROTO_TCP for everything past decode */
	uint8_t tcp_flags;
	uint8_t encap;	   /* enum pkt_encap bits crossed on the way in */
	uint32_t seq, ack; /* host order */
	uint16_t win;
	uint16_t vlan; /* innermost 802.1Q id of the packet that counts, 0 if none */
	uint8_t ttl;   /* IPv4 TTL / IPv6 hop limit */
	uint8_t tcp_hdr_len;
	uint16_t port; /* copied from pkt.port */
	uint32_t payload_len;
	const uint8_t *payload; /* TCP payload, inside the pkt's data */
	uint64_t ts_ns;
};

#endif /* RELAYWATCH_DATAPLANE_PKT_H */
