// SPDX-License-Identifier: MIT
/* Bad input: a map of a type no kernel has (99); loading must fail cleanly. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, 99);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} odd SEC(".maps");

SEC("xdp")
int uses_odd(struct xdp_md *ctx)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&odd, &k) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
