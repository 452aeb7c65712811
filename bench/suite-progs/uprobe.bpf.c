// SPDX-License-Identifier: MIT
/*
 * Probes for the suite's uprobe tests (uebpf.hook): the runner attaches one
 * to its victim function and times calls of it. Each counts its firings in
 * .bss, which the runner reads to check that the probe ran.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 hits;

SEC("uprobe")
int probe_entry(void *ctx)
{
	hits++;
	return 0;
}

SEC("uretprobe")
int probe_return(void *ctx)
{
	hits++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
