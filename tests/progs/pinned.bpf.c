// SPDX-License-Identifier: MIT
/*
 * A map pinned by name (LIBBPF_PIN_BY_NAME): each run of the program adds
 * one to runs[0], so a second loader that reuses the pinned map continues
 * the count of the first.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} runs SEC(".maps");

SEC("xdp")
int count_runs(struct xdp_md *ctx)
{
	__u64 one = 1, *v;
	__u32 k = 0;

	v = bpf_map_lookup_elem(&runs, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&runs, &k, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
