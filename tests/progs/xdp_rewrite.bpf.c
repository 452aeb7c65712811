// SPDX-License-Identifier: MIT
/*
 * An XDP program that rewrites the packet: for IPv4 it swaps the Ethernet
 * addresses, decrements the TTL (fixing the header checksum) and sends it
 * back (XDP_TX), counting those in an array; other packets pass unchanged,
 * and runts are dropped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static void count(__u32 verdict)
{
	__u64 *v = bpf_map_lookup_elem(&verdicts, &verdict);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_rewrite(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[ETH_ALEN];
	struct iphdr *ip;
	__u32 sum;

	if ((void *)(eth + 1) > data_end) {
		count(0);
		return XDP_DROP;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		count(1);
		return XDP_PASS;
	}
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end) {
		count(0);
		return XDP_DROP;
	}
	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
	ip->ttl--;
	/* RFC 1624 incremental update: the TTL is the high byte of its 16-bit word */
	sum = (__u32)ip->check + bpf_htons(0x0100);
	ip->check = (__u16)(sum + (sum >> 16));
	count(2);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
