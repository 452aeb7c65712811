// SPDX-License-Identifier: MIT
/*
 * Global data (.rodata, .data, .bss) and BTF-defined ARRAY and HASH maps,
 * from an XDP program: each run adds factor (a constant the loader may
 * set before load) to total and to counts[1], counts its calls in .bss and
 * records the packet length in seen[7].
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

const volatile __u64 factor = 3;
__u64 total = 10;
__u64 calls;

SEC("xdp")
int global_data(struct xdp_md *ctx)
{
	__u64 *v, len = ctx->data_end - ctx->data;
	__u32 k = 1;

	calls++;
	total += factor;
	v = bpf_map_lookup_elem(&counts, &k);
	if (v)
		*v += factor;
	k = 7;
	bpf_map_update_elem(&seen, &k, &len, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
