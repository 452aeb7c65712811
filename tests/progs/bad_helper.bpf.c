// SPDX-License-Identifier: MIT
/* Bad input: a call to helper 9999, which no kernel has; loading must fail with a message. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static long (*no_such_helper)(void) = (void *)9999;

SEC("xdp")
int calls_nothing(struct xdp_md *ctx)
{
	return no_such_helper() ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
