/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * xdp_smtp_shared: what the XDP pre-filter (xdp_smtp.bpf.c) and user space
 * (xdp_loader.c, tests) agree on: limits, map value layouts and the verdict /
 * reason indexes of the per-CPU counter array. Fixed-width __u* types only;
 * the user side checks the sizes with _Static_assert. Owns nothing.
 */
#ifndef RELAYWATCH_EBPF_XDP_SMTP_SHARED_H
#define RELAYWATCH_EBPF_XDP_SMTP_SHARED_H

#include <linux/types.h>

#define XDP_SMTP_MAX_PORTS    16    /* rodata smtp_ports[] */
#define XDP_SMTP_MAX_QUEUES   64    /* smtp_xsks entries: one AF_XDP socket per RX queue */
#define XDP_SMTP_SRC_ENTRIES  65536 /* smtp_src_stats: LRU, oldest source evicted */
#define XDP_SMTP_MAX_VLAN     2	    /* 802.1Q / 802.1ad tags walked (QinQ) */
#define XDP_SMTP_MAX_IPV6_EXT 6	    /* IPv6 extension headers walked before giving up */

/*
 * Index into smtp_verdicts. Every packet the program sees is counted exactly
 * once, under the verdict it got and, for XDP_PASS, the reason.
 */
enum xdp_smtp_reason {
	XDP_SMTP_R_REDIRECTED = 0,    /* SMTP port: handed to the AF_XDP socket of its queue */
	XDP_SMTP_R_NO_SOCKET = 1,     /* SMTP port, but no socket bound on that queue: passed */
	XDP_SMTP_R_NOT_SMTP = 2,      /* TCP on another port: passed */
	XDP_SMTP_R_NOT_TCP = 3,	      /* IPv4/IPv6 but not TCP (UDP, ICMP, ESP...): passed */
	XDP_SMTP_R_NOT_IP = 4,	      /* ARP, LLDP, other ethertypes: passed */
	XDP_SMTP_R_FRAGMENT = 5,      /* IP fragment: no ports to look at: passed */
	XDP_SMTP_R_ERR_ETH = 6,	      /* parse errors (all passed, the kernel decides): */
	XDP_SMTP_R_ERR_VLAN = 7,      /*   truncated 802.1Q tag, or more tags than we walk */
	XDP_SMTP_R_ERR_IPV4 = 8,      /*   truncated header, IHL < 5 or options past the end */
	XDP_SMTP_R_ERR_IPV6 = 9,      /*   truncated fixed header */
	XDP_SMTP_R_ERR_IPV6_EXT = 10, /*   truncated extension header, or too many */
	XDP_SMTP_R_ERR_TCP = 11,      /*   truncated TCP header or data offset < 5 */
	XDP_SMTP_R_COUNT
};

struct xdp_smtp_verdict_ctr {
	__u64 pkts;
	__u64 bytes;
};

/* smtp_src_stats key: the source address, IPv4 mapped (::ffff:a.b.c.d) like union pkt_addr. */
struct xdp_smtp_src_key {
	__u8 addr[16];
};

/*
 * smtp_src_stats value, one per CPU (LRU_PERCPU_HASH): every TCP segment to
 * or from an SMTP port is counted at its source address. Times are
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC); the loader converts them to wall time.
 */
struct xdp_smtp_src_val {
	__u64 smtp_syns; /* segments with SYN to an SMTP port (retransmissions too) */
	__u64 flows;	 /* SYN without ACK to an SMTP port: connections started */
	__u64 pkts;	 /* segments to or from an SMTP port */
	__u64 bytes;	 /* their frame bytes */
	__u64 first_ns;
	__u64 last_ns;
};

#endif /* RELAYWATCH_EBPF_XDP_SMTP_SHARED_H */
