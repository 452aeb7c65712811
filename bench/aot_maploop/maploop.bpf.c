// SPDX-License-Identifier: MIT
/*
 * The array-map lookup loop of the AOT benchmark: LOOP_N lookups in a
 * 256-entry ARRAY, summing the values found. The native twin in
 * aot_maploop.c does the same over the same map memory.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define LOOP_N 1024

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} values SEC(".maps");

SEC("xdp")
int maploop(void *ctx)
{
	__u64 sum = 0;

	for (__u32 i = 0; i < LOOP_N; i++) {
		__u32 k = i & 255;
		__u64 *v = bpf_map_lookup_elem(&values, &k);

		if (v)
			sum += *v;
	}
	return (int)sum;
}

char LICENSE[] SEC("license") = "GPL";
