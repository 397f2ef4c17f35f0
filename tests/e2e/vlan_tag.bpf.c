// SPDX-License-Identifier: (BSD-3-Clause OR GPL-2.0)
/*
 * vlan_tag: tc programs the e2e lab (tests/e2e/lib.sh) puts on both ends of a veth so
 * that the frames on that link carry a real 802.1Q tag, for kernels built without
 * CONFIG_VLAN_8021Q (no VLAN sub-interfaces). "push" tags every frame leaving a device,
 * "pop" strips the tag RW_VID from frames arriving, before the stack sees them.
 * Built at test time with -DRW_VID=<id>; stateless, no maps.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef RW_VID
#define RW_VID 100
#endif

SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	if (!skb->vlan_present)
		bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), RW_VID);
	return TC_ACT_UNSPEC; /* let later filters (a mirror) run too */
}

SEC("tc")
int vlan_pop(struct __sk_buff *skb)
{
	if (skb->vlan_present && (skb->vlan_tci & 0x0fff) == RW_VID)
		bpf_skb_vlan_pop(skb);
	return TC_ACT_UNSPEC; /* let later filters (a mirror) run too */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
