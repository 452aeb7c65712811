// SPDX-License-Identifier: MIT
/* A uprobe on a function the victim does not have: attaching must fail cleanly. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("uprobe/" VICTIM ":no_such_function")
int BPF_KPROBE(nowhere)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
