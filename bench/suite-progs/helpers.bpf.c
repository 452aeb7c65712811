// SPDX-License-Identifier: MIT
/* One helper call per run; each program returns 0 when the helper answered sensibly. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * What the runner's word holds, the one whose address it writes at byte
 * USER_PTR_OFF of the packet for tests with uebpf.user_pointer (the same
 * values as SUITE_USER_WORD and SUITE_USER_PTR_OFF in bench/suite/suite.h).
 */
#define USER_WORD 0x0123456789abcdefull
#define USER_PTR_OFF 16

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

/* A formatted line with one argument; where it goes is the runtime's trace output. */
SEC("xdp")
int helper_trace_printk(struct xdp_md *ctx)
{
	static const char fmt[] = "uebpf bench %d\n";

	return bpf_trace_printk(fmt, sizeof(fmt), 42) <= 0;
}

/*
 * Grow the headroom by 8 bytes and give them back: two calls, so that the
 * packet is as it was for the next run (the kernel's test run keeps the
 * same packet across its repeats).
 */
SEC("xdp")
int helper_xdp_adjust_head(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, -8))
		return 1;
	return bpf_xdp_adjust_head(ctx, 8) ? 2 : 0;
}

/* 8 bytes from the runner's memory, at the address the packet carries. */
SEC("xdp")
int helper_probe_read_user(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 word = 0;

	if (data + USER_PTR_OFF + 8 > end)
		return 1;
	if (bpf_probe_read_user(&word, sizeof(word), (void *)*(__u64 *)(data + USER_PTR_OFF)))
		return 2;
	return word == USER_WORD ? 0 : 3;
}

char LICENSE[] SEC("license") = "GPL";
