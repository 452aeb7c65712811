// SPDX-License-Identifier: MIT
/*
 * The suite's syscall tracepoint test (uebpf.measure: syscall): attached to
 * getpid's entry, in uebpf's process by its syscall hooks and in the
 * kernel's helper by the kernel's tracepoint, while the runner times
 * getpid calls. It counts its firings in .bss, which the runner reads to
 * check that it ran.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 hits;

SEC("tracepoint/syscalls/sys_enter_getpid")
int getpid_enter(void *ctx)
{
	hits++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
