// SPDX-License-Identifier: MIT
/* One tail call per run: the caller jumps through a PROG_ARRAY that libbpf fills at load. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int tail_callee(struct xdp_md *ctx)
{
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} tail_table SEC(".maps") = {
	.values = {[0] = (void *)&tail_callee},
};

SEC("xdp")
int tail_caller(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &tail_table, 0);
	return 1; /* only when the tail call failed */
}

char LICENSE[] SEC("license") = "GPL";
