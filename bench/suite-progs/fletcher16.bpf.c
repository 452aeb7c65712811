// SPDX-License-Identifier: MIT
/*
 * Fletcher-16 over the packet, returning (sum2 << 8) | sum1: a byte loop
 * whose cost grows with the input, for the scaling curve. The loop has a
 * constant bound so that the kernel's verifier can follow it; the native
 * twin is native_fletcher16 in bench/suite/native.c.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_LEN 4096

SEC("xdp")
int fletcher16(struct xdp_md *ctx)
{
	const __u8 *p = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	__u32 sum1 = 0, sum2 = 0;

	for (int i = 0; i < MAX_LEN; i++) {
		if (p + 1 > end)
			break;
		sum1 = (sum1 + *p++) % 255;
		sum2 = (sum2 + sum1) % 255;
	}
	return (sum2 << 8) | sum1;
}

char LICENSE[] SEC("license") = "GPL";
