// SPDX-License-Identifier: MIT
/*
 * System calls counted by number, as the kernel's raw_syscalls/sys_enter
 * tracepoint sees them, for every process or the one a loader names in
 * filter_pid before load (a skeleton's rodata). Runs unchanged on the
 * kernel's tracepoints and on uebpf's:
 *   uebpf trace syscount.bpf.o -- CMD      (prints "NR => COUNT" at the end)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* events/raw_syscalls/sys_enter/format */
struct sys_enter_args {
	unsigned long long common; /* type, flags, preempt count, pid: not readable */
	long id;
	unsigned long args[6];
};

const volatile int filter_pid; /* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);   /* system call number */
	__type(value, __u64); /* calls */
} counts SEC(".maps");

SEC("tracepoint/raw_syscalls/sys_enter")
int count_syscalls(struct sys_enter_args *ctx)
{
	__u32 nr = (__u32)ctx->id;
	__u64 one = 1, *n;

	if (filter_pid && (bpf_get_current_pid_tgid() >> 32) != (__u32)filter_pid)
		return 0;
	n = bpf_map_lookup_elem(&counts, &nr);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&counts, &nr, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
