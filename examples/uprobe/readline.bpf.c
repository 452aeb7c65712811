// SPDX-License-Identifier: MIT
/*
 * Every line bash reads from its user: at readline's return, the string it
 * returns, printed with trace_printk. `uebpf trace readline.bpf.o --
 * /bin/bash` shows each command typed, as it is typed.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef BASH
#define BASH "/bin/bash"
#endif

SEC("uretprobe/" BASH ":readline")
int BPF_KRETPROBE(bash_readline, const char *line)
{
	char buf[128];

	if (!line)
		return 0;
	bpf_probe_read_user_str(buf, sizeof(buf), line);
	bpf_printk("pid %d read: %s", bpf_get_current_pid_tgid() >> 32, buf);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
