// SPDX-License-Identifier: MIT
/* One helper call per run; each program returns 0 when the helper answered sensibly. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int helper_ktime_get_ns(struct xdp_md *ctx)
{
	return bpf_ktime_get_ns() == 0;
}

SEC("xdp")
int helper_get_smp_processor_id(struct xdp_md *ctx)
{
	return bpf_get_smp_processor_id() >= 4096;
}

/* The checksum of 64 bytes of stack, as a program checksumming a header would. */
SEC("xdp")
int helper_csum_diff(struct xdp_md *ctx)
{
	__u32 buf[16];

	for (int i = 0; i < 16; i++)
		buf[i] = (__u32)i * 0x01010101u;
	return bpf_csum_diff(0, 0, buf, sizeof(buf), 0) < 0;
}

char LICENSE[] SEC("license") = "GPL";
