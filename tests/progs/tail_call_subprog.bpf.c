// SPDX-License-Identifier: MIT
/*
 * A tail call from a bpf-to-bpf subprogram: as in the kernel, the target
 * replaces the subprogram's frame, so its r0 returns to the subprogram's
 * caller, which goes on. sub(ctx, 0) tail-calls the empty slot and returns
 * 100; sub(ctx, 1) becomes target, which returns 7; a chain through slot 2
 * tail-calls again from target2's main body to target. Every step is
 * counted in .bss.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 hits;
__u64 zero; /* read through volatile, so clang cannot fold sub's result */

SEC("xdp")
int target(struct xdp_md *ctx)
{
	hits += 10;
	return 7;
}

int target2(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} table SEC(".maps") = {
	.values = {[1] = (void *)&target, [2] = (void *)&target2},
};

SEC("xdp")
int target2(struct xdp_md *ctx)
{
	hits += 10000;
	bpf_tail_call(ctx, &table, 1);
	return 9;
}

static __attribute__((noinline)) int sub(struct xdp_md *ctx, __u32 idx)
{
	hits += 1000;
	bpf_tail_call(ctx, &table, idx);
	return 100 + *(volatile __u64 *)&zero;
}

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	int a, b, c;

	hits++;
	a = sub(ctx, 0);
	b = sub(ctx, 1);
	c = sub(ctx, 2);
	hits += 100000;
	return a * 10000 + b * 100 + c;
}

char LICENSE[] SEC("license") = "GPL";
