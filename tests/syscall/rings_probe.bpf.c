// SPDX-License-Identifier: MIT
/*
 * A uprobe on rings_target's emit(i) (TARGET, the binary's path, comes
 * from the build): each call writes {i, pid} to the perf event array at
 * this CPU and to the ring buffer.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} rb SEC(".maps");

struct rec {
	__u32 seq;
	__u32 pid;
};

SEC("uprobe/" TARGET ":emit")
int BPF_KPROBE(on_emit, int i)
{
	struct rec r = {.seq = (__u32)i, .pid = bpf_get_current_pid_tgid() >> 32};

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &r, sizeof(r));
	bpf_ringbuf_output(&rb, &r, sizeof(r), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
