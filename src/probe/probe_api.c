// SPDX-License-Identifier: MIT
/*
 * The embedding API's uprobes: a loaded VM run at a function's entry or
 * return with r1 = a struct pt_regs and r2 = its size. The program gets a
 * copy of the registers, so whatever it writes there (an unverified program
 * may) never reaches the probed function: as in the kernel, the context of
 * a uprobe is read only.
 */
#include <errno.h>

#include "common/errbuf.h"
#include "probe_internal.h"
#include "uebpf/uebpf.h"

static void run_prog(void *ctx, struct pt_regs *regs)
{
	struct pt_regs copy = *regs;
	uint64_t r0;

	uebpf_vm_run(ctx, &copy, sizeof(copy), &r0, NULL, 0);
}

int uebpf_uprobe_attach_addr(struct uebpf_vm *vm, void *addr, int retprobe,
			     struct uebpf_probe **out, char *err, size_t err_len)
{
	struct probe *p;
	int ret;

	if (!vm || !out) {
		errbuf_set(err, err_len, "uebpf_uprobe_attach: no VM or no place for the probe");
		return -EINVAL;
	}
	if (!uebpf_vm_insn_count(vm)) {
		errbuf_set(err, err_len, "uebpf_uprobe_attach: the VM has no program loaded");
		return -EINVAL;
	}
	ret = probe_attach(addr, retprobe ? PROBE_RETURN : PROBE_ENTRY, run_prog, vm, &p, err,
			   err_len);
	if (!ret)
		*out = (struct uebpf_probe *)p;
	return ret;
}

int uebpf_uprobe_attach(struct uebpf_vm *vm, const char *target, int retprobe,
			struct uebpf_probe **out, char *err, size_t err_len)
{
	void *addr;
	int ret = probe_resolve(target, &addr, err, err_len);

	return ret ? ret : uebpf_uprobe_attach_addr(vm, addr, retprobe, out, err, err_len);
}

int uebpf_probe_detach(struct uebpf_probe *p, char *err, size_t err_len)
{
	return probe_detach((struct probe *)p, err, err_len);
}

uint64_t uebpf_probe_missed(const struct uebpf_probe *p)
{
	return p ? probe_missed((const struct probe *)p) : 0;
}
