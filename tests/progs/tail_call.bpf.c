// SPDX-License-Identifier: MIT
/*
 * Tail calls through a BTF-defined PROG_ARRAY whose slot libbpf fills at
 * load: entry counts itself in .bss, tail-calls the empty slot 0 (which
 * fails, so entry goes on and adds 100), then slot 1, target, which adds 10
 * and sends the packet back.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 hits;

SEC("xdp")
int target(struct xdp_md *ctx)
{
	hits += 10;
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} jump_table SEC(".maps") = {
	.values = {[1] = (void *)&target},
};

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	hits++;
	bpf_tail_call(ctx, &jump_table, 0);
	hits += 100;
	bpf_tail_call(ctx, &jump_table, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
