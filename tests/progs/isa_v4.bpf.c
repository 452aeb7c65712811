// SPDX-License-Identifier: MIT
/*
 * A raw tracepoint program over its u64 arguments that clang -mcpu=v4
 * compiles to the ISA v4 instructions: signed division and modulo,
 * sign-extending loads and moves, byte swaps. Results go to .bss.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__s64 quot, rem, sx8, sx16;
__u64 swapped;
__s32 quot32;

SEC("raw_tp")
int isa_v4(struct bpf_raw_tracepoint_args *ctx)
{
	__s64 a = (__s64)ctx->args[0], b = (__s64)ctx->args[1];
	__s32 c = (__s32)ctx->args[2], d = (__s32)ctx->args[3];

	quot = a / b;
	rem = a % b;
	quot32 = c / d;
	sx8 = (__s8)ctx->args[2];
	sx16 = (__s16)ctx->args[3];
	swapped = __builtin_bswap64(ctx->args[0]);
	return (int)(quot + rem);
}

char LICENSE[] SEC("license") = "GPL";
