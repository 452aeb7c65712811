// SPDX-License-Identifier: MIT
/* The cost of running anything at all: r0 = 0; exit. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int baseline_program(struct xdp_md *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
