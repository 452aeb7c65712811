// SPDX-License-Identifier: MIT
/*
 * Bad input for test runs: programs that overwrite the packet pointers of
 * their context (the kernel's verifier would refuse them; uebpf loads
 * them). The test run must report the damage, not follow the pointers.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_bad_bounds(struct xdp_md *ctx)
{
	ctx->data = 16;
	ctx->data_end = 0xfffffff0;
	return XDP_PASS;
}

SEC("tc")
int tc_bad_data(struct __sk_buff *skb)
{
	skb->data = 3;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
