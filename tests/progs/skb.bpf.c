// SPDX-License-Identifier: MIT
/*
 * Programs on struct __sk_buff: a tc classifier that reads the packet
 * directly (data, data_end), marks it and records its length by
 * EtherType; and a socket filter that returns the length it sees.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} lengths SEC(".maps");

SEC("tc")
int tc_len(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 proto, len = skb->len;

	if ((void *)(eth + 1) > data_end)
		return 2; /* TC_ACT_SHOT */
	proto = bpf_ntohs(eth->h_proto);
	bpf_map_update_elem(&lengths, &proto, &len, BPF_ANY);
	skb->mark = 0x55;
	return skb->protocol == bpf_htons(ETH_P_IP) ? 1000 + len : len;
}

SEC("socket")
int socket_len(struct __sk_buff *skb)
{
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
