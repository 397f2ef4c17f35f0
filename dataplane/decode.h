/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * decode: from a frame to the TCP segment it carries. L2 (Ethernet, 802.1Q,
 * QinQ, MPLS, Linux cooked v1/v2, BSD loopback, raw IP), IPv4 with options,
 * IPv6 with extension headers, TCP with options, and the encapsulations of
 * mirror sessions (GRE, ERSPAN II/III, VXLAN, IP-in-IP): the inner packet is
 * the one that counts. Never allocates, never writes the frame. Every packet
 * that does not come out as DECODE_OK is counted under exactly one reason.
 * Pure function of its input plus the caller's stats; any thread.
 */
#ifndef RELAYWATCH_DATAPLANE_DECODE_H
#define RELAYWATCH_DATAPLANE_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/pkt.h"

enum decode_verdict {
	DECODE_OK = 0,	 /* TCP segment; meta filled */
	DECODE_SKIP = 1, /* well-formed, not for us (not IP, not TCP, fragment) */
	DECODE_DROP = 2, /* malformed */
};

/* X(enum suffix, metric label, verdict) -- one counter each. */
#define DECODE_REASONS(X)                                                                          \
	X(NOT_IP, "not_ip", SKIP)	    /* ARP, LLDP, unknown ethertype */                     \
	X(NOT_TCP, "not_tcp", SKIP)	    /* UDP, ICMP, ... after tunnels */                     \
	X(IP_FRAGMENT, "ip_fragment", SKIP) /* counted, not reassembled */                         \
	X(UNSUPPORTED_LINK, "unsupported_link", SKIP)                                              \
	X(EMPTY, "empty", DROP) /* zero-length frame */                                            \
	X(TRUNCATED_L2, "truncated_l2", DROP)                                                      \
	X(TOO_MANY_LABELS, "too_many_labels", DROP) /* VLAN/MPLS stack deeper than we follow */    \
	X(TRUNCATED_IP, "truncated_ip", DROP)                                                      \
	X(BAD_IP_VERSION, "bad_ip_version", DROP)                                                  \
	X(BAD_IP_HDR_LEN, "bad_ip_hdr_len", DROP)                                                  \
	X(BAD_IP_LEN, "bad_ip_len", DROP)	    /* total/payload length vs captured */         \
	X(BAD_IP_CHECKSUM, "bad_ip_checksum", DROP) /* only when verifying */                      \
	X(BAD_IPV6_EXT, "bad_ipv6_ext", DROP)                                                      \
	X(TRUNCATED_TCP, "truncated_tcp", DROP)                                                    \
	X(BAD_TCP_HDR_LEN, "bad_tcp_hdr_len", DROP)                                                \
	X(BAD_TCP_CHECKSUM, "bad_tcp_checksum", DROP) /* only when verifying */                    \
	X(BAD_TCP_FLAGS, "bad_tcp_flags", DROP)	      /* SYN+FIN, SYN+RST, no flags */             \
	X(BAD_PORT, "bad_port", DROP)		      /* port 0 */                                 \
	X(TRUNCATED_TUNNEL, "truncated_tunnel", DROP)                                              \
	X(BAD_TUNNEL, "bad_tunnel", DROP) /* unknown GRE version/flags, ERSPAN ver */              \
	X(TUNNEL_TOO_DEEP, "tunnel_too_deep", DROP)

enum decode_reason {
#define DECODE_X_ENUM(name, label, verdict) DECODE_R_##name,
	DECODE_REASONS(DECODE_X_ENUM)
#undef DECODE_X_ENUM
		DECODE_R_COUNT
};

/* All uint64_t: published with stats.h. Protocol counters count headers
 * met (outer and inner alike; a VLAN or MPLS stack counts once), whether or
 * not the frame then decodes. */
struct decode_stats {
	uint64_t pkts;
	uint64_t bytes; /* captured bytes (pkt.len) */
	uint64_t ok;
	uint64_t ipv4;
	uint64_t ipv6;
	uint64_t vlan;
	uint64_t mpls;
	uint64_t gre;
	uint64_t erspan;
	uint64_t vxlan;
	uint64_t ipip;
	uint64_t payload_snapped; /* OK, but the capture cut the TCP payload short */
	uint64_t reason[DECODE_R_COUNT];
};

struct decode_cfg {
	bool verify_checksums; /* off by default: offloaded checksums are wrong in most captures */
	uint8_t max_tunnel_depth; /* default 2 */
};

void decode_cfg_default(struct decode_cfg *cfg);

enum decode_verdict decode_pkt(const struct decode_cfg *cfg, const struct pkt *p,
			       struct pkt_meta *m, struct decode_stats *st);

const char *decode_reason_name(enum decode_reason r);
bool decode_reason_is_drop(enum decode_reason r);

#endif /* RELAYWATCH_DATAPLANE_DECODE_H */
