// SPDX-License-Identifier: MIT
/*
 * Syscall tracepoint attachments in the target (src/systp): a registry
 * record of kind REG_SYSCALL_ENTER/EXIT becomes a syshook running its
 * program on this process's system calls, with the tracepoint's record for
 * a tracepoint program and the raw tracepoint's arguments for raw_tp and
 * tp_btf ones. The record's pid filter is checked at every call, so a child
 * forked later is not traced for its parent's attachment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>

#include "agent/internal.h"
#include "registry/registry.h"
#include "syshook/syshook.h"
#include "systp/systp.h"

static unsigned installed;

bool agent_systp_kind(uint32_t kind)
{
	return kind == REG_SYSCALL_ENTER || kind == REG_SYSCALL_EXIT;
}

int agent_systp_install(const char *name, const struct reg_attach *a, struct systp_hook **out)
{
	struct systp_event ev = {.exit = a->kind == REG_SYSCALL_EXIT,
				 .nr = a->offset == REG_SYSCALL_ANY ? SYSTP_ANY : (long)a->offset};
	struct systp_attach_opts opts = {.tp_id = a->tp_id, .pid = a->pid, .cookie = a->cookie};
	struct uebpf_vm *vm;
	char err[512];
	int ret;

	vm = agent_get_prog(a->prog);
	if (!vm)
		return -EINVAL;
	opts.raw = agent_prog_type(a->prog) != BPF_PROG_TYPE_TRACEPOINT;
	ret = systp_attach(&ev, &opts, vm, out, err, sizeof(err));
	if (ret) {
		agent_report("%s: %s: %s", name, a->path, err);
		return ret;
	}
	__atomic_add_fetch(&installed, 1, __ATOMIC_RELAXED);
	return 0;
}

int agent_systp_uninstall(const char *name, struct systp_hook *h)
{
	char err[512];
	int ret = systp_detach(h, err, sizeof(err));

	if (ret)
		agent_report("%s: detach: %s", name, err);
	else
		__atomic_sub_fetch(&installed, 1, __ATOMIC_RELAXED);
	return ret;
}

void agent_systp_rescan(void)
{
	char err[512];

	if (__atomic_load_n(&installed, __ATOMIC_RELAXED) && syshook_rescan(err, sizeof(err)))
		agent_report("after dlopen: %s", err);
}
