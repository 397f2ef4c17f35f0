// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * xdp_smtp: the pre-filter in front of the AF_XDP source. TCP segments to or
 * from a configured SMTP port are redirected to the AF_XDP socket bound on
 * the packet's RX queue (smtp_xsks); everything else goes on to the kernel
 * untouched (XDP_PASS), so the host keeps working while we are attached.
 * Each SMTP segment is also counted at its source address (smtp_src_stats)
 * and every packet under its verdict/reason (smtp_verdicts).
 */
#include <linux/bpf.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "parse.bpf.h"
#include "xdp_smtp_shared.h"

/* Set by the loader before load (network byte order); these are the defaults. */
const volatile __u16 smtp_ports[XDP_SMTP_MAX_PORTS] = {
	bpf_htons(25),
	bpf_htons(465),
	bpf_htons(587),
	bpf_htons(2525),
};
const volatile __u32 n_smtp_ports = 4;

/* RX queue index -> AF_XDP socket (xsk_socket__update_xskmap fills it). */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XDP_SMTP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} smtp_xsks SEC(".maps");

/* Per source address, per CPU: SMTP fan-out evidence that needs no user space. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, XDP_SMTP_SRC_ENTRIES);
	__type(key, struct xdp_smtp_src_key);
	__type(value, struct xdp_smtp_src_val);
} smtp_src_stats SEC(".maps");

/* enum xdp_smtp_reason -> packets and bytes, per CPU (xdp-filter's stats record). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDP_SMTP_R_COUNT);
	__type(key, __u32);
	__type(value, struct xdp_smtp_verdict_ctr);
} smtp_verdicts SEC(".maps");

static __always_inline int count_verdict(__u32 reason, __u64 bytes, int action)
{
	struct xdp_smtp_verdict_ctr *c = bpf_map_lookup_elem(&smtp_verdicts, &reason);

	if (c) {
		c->pkts++;
		c->bytes += bytes;
	}
	return action;
}

static __always_inline int is_smtp_port(__be16 port)
{
#pragma unroll
	for (__u32 i = 0; i < XDP_SMTP_MAX_PORTS; i++) {
		if (i >= n_smtp_ports)
			break;
		if (port == smtp_ports[i])
			return 1;
	}
	return 0;
}

static __always_inline void count_source(const struct xdp_smtp_src_key *src,
					 const struct tcphdr *th, int to_smtp, __u64 bytes)
{
	struct xdp_smtp_src_val *v;
	__u64 now = bpf_ktime_get_ns();

	v = bpf_map_lookup_elem(&smtp_src_stats, src);
	if (!v) {
		struct xdp_smtp_src_val init = {.first_ns = now};

		/* LRU: a full table evicts its oldest source instead of failing. */
		bpf_map_update_elem(&smtp_src_stats, src, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&smtp_src_stats, src);
		if (!v)
			return;
	}
	/* Another CPU created the entry: this CPU's slot starts at zero. */
	if (!v->first_ns)
		v->first_ns = now;
	v->last_ns = now;
	v->pkts++;
	v->bytes += bytes;
	if (to_smtp && th->syn) {
		v->smtp_syns++;
		if (!th->ack)
			v->flows++;
	}
}

static __always_inline int redirect_to_queue(struct xdp_md *ctx, __u64 bytes)
{
	__u32 q = ctx->rx_queue_index;
	int action;

	/* Looked up first so that "nobody listens on this queue" has its own counter. */
	if (!bpf_map_lookup_elem(&smtp_xsks, &q))
		return count_verdict(XDP_SMTP_R_NO_SOCKET, bytes, XDP_PASS);
	action = bpf_redirect_map(&smtp_xsks, q, XDP_PASS);
	return count_verdict(action == XDP_REDIRECT ? XDP_SMTP_R_REDIRECTED : XDP_SMTP_R_NO_SOCKET,
			     bytes, action);
}

SEC("xdp")
int xdp_smtp_redirect(struct xdp_md *ctx)
{
	struct cursor c = {.pos = (void *)(long)ctx->data, .end = (void *)(long)ctx->data_end};
	__u64 bytes = (__u64)(c.end - c.pos);
	struct l3l4 l = {};
	struct tcphdr *th;
	int proto, err, to_smtp, from_smtp;

	proto = parse_eth(&c);
	if (proto < 0)
		return count_verdict(-proto, bytes, XDP_PASS);
	if (proto == ETH_P_IP)
		err = parse_ipv4(&c, &l);
	else if (proto == ETH_P_IPV6)
		err = parse_ipv6(&c, &l);
	else
		return count_verdict(XDP_SMTP_R_NOT_IP, bytes, XDP_PASS);
	if (err < 0)
		return count_verdict(-err, bytes, XDP_PASS);
	if (l.proto != IPPROTO_TCP)
		return count_verdict(XDP_SMTP_R_NOT_TCP, bytes, XDP_PASS);
	if (l.fragment)
		return count_verdict(XDP_SMTP_R_FRAGMENT, bytes, XDP_PASS);

	th = parse_tcp(&c);
	if (!th)
		return count_verdict(XDP_SMTP_R_ERR_TCP, bytes, XDP_PASS);
	to_smtp = is_smtp_port(th->dest);
	from_smtp = is_smtp_port(th->source);
	if (!to_smtp && !from_smtp)
		return count_verdict(XDP_SMTP_R_NOT_SMTP, bytes, XDP_PASS);

	count_source(&l.src, th, to_smtp, bytes);
	return redirect_to_queue(ctx, bytes);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
