// SPDX-License-Identifier: MIT
/*
 * Records into a perf event array and a ring buffer, for the rings tests:
 * each run of emit writes six perf records of sizes 4..64 (a u32 sequence
 * number, then bytes seq + i) on this CPU, the same six into the ring
 * buffer, and keeps the return codes of three bad outputs (an index past
 * the array, unknown flags, the other CPU's event) in out.errs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

/* the only variable of .bss, so the reader finds it at offset 0 */
struct {
	long rets[6];
	long errs[3];
	__u32 seq;
} out;

#define MAXSZ 64

static __always_inline void fill(__u8 *buf, __u32 s)
{
	for (int i = 0; i < MAXSZ; i++)
		buf[i] = (__u8)(s + i);
	__builtin_memcpy(buf, &s, sizeof(s));
}

#define EMIT(k, size)                                                                            \
	do {                                                                                     \
		fill(buf, out.seq++);                                                            \
		out.rets[k] = bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, buf, size); \
		bpf_ringbuf_output(&rb, buf, size, 0);                                           \
	} while (0)

SEC("xdp") int emit(struct xdp_md *ctx)
{
	__u8 buf[MAXSZ];

	EMIT(0, 4);
	EMIT(1, 5);
	EMIT(2, 8);
	EMIT(3, 13);
	EMIT(4, 24);
	EMIT(5, MAXSZ);
	out.errs[0] = bpf_perf_event_output(ctx, &events, 1000, buf, 8);
	out.errs[1] = bpf_perf_event_output(ctx, &events, 1ull << 60, buf, 8);
	out.errs[2] = bpf_perf_event_output(ctx, &events, bpf_get_smp_processor_id() ^ 1, buf, 8);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
