// SPDX-License-Identifier: MIT
/*
 * The JIT engine's glue: prepare compiles the program, run gives the code
 * its frame (the eBPF stack and the run's context) and calls it, release
 * unmaps it. Also the C side of the code's slow paths: recording a fault
 * and checking an access against the run's memory and the VM's regions.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/errbuf.h"
#include "jit.h"
#include "jit_internal.h"

static int jit_prepare(struct uebpf_vm *vm, char *err, size_t err_len)
{
	struct jit_image *img = calloc(1, sizeof(*img));
	int ret;

	if (!img) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = jit_compile(vm, img, err, err_len);
	if (ret) {
		free(img);
		return ret;
	}
	vm->engine_state = img;
	/* bare code (never budgeted) needs nothing from jit_run */
	if (img->bare)
		vm->direct = (vm_direct_fn)img->code;
	return 0;
}

/*
 * Code that needs a frame: the stack, the run's context, perhaps a budget.
 * (Bare code runs through vm->direct, and comes here only as the target of
 * a tail call.) The VM's budget
 * is fixed before load, so the code counts exactly when run->budget is set.
 */
static uint64_t jit_run(struct vm_run *run, uint64_t r1, uint64_t r2)
{
	const struct jit_image *img = run->vm->engine_state;
	struct jit_frame f;
	uint64_t r0;

	/* a tail call's target may be bare */
	if (img->bare) {
		run->vm->direct(r1, r2, &r0);
		return r0;
	}
	f.ctx.run = run;
	f.ctx.neg_mem = 0 - (uint64_t)run->mem;
	f.ctx.lim = run->mem_len >= 8 ? run->mem_len - 7 : 0;
	f.ctx.remaining = run->budget;
	run->stack_lo = (uintptr_t)f.stack;
	run->stack_hi = (uintptr_t)&f.ctx;
	r0 = img->entry(r1, r2, &f.ctx);
	if (run->budget && !run->fault)
		run->executed = run->budget - f.ctx.remaining;
	return r0;
}

/*
 * A callback a helper runs for the program (bpf_loop...): through the sub
 * entry, on a frame of its own right below the caller's (run->frame_lo), on
 * the same stack, so the depth limit counts the caller's frames too.
 */
static uint64_t jit_call_sub(struct vm_run *run, const struct vm_op *entry, const uint64_t *args)
{
	const struct jit_image *img = run->vm->engine_state;
	struct jit_ctx *ctx = (struct jit_ctx *)run->stack_hi;
	uint64_t unwind = ctx->unwind, r0;

	if (!img->sub_entry || run->frame_lo < run->stack_lo + ISA_STACK_SIZE) {
		run->fault = VM_FAULT_DEPTH;
		run->pc = (size_t)(entry - run->vm->ops);
		return 0;
	}
	ctx->sub_frame = run->frame_lo;
	ctx->sub_target = (uintptr_t)img->code + img->insn_off[entry - run->vm->ops];
	r0 = img->sub_entry(args[0], args[1], args[2], args[3], args[4], ctx);
	ctx->unwind = unwind;
	return r0;
}

static void jit_release(struct uebpf_vm *vm)
{
	struct jit_image *img = vm->engine_state;

	if (!img)
		return;
	vm->direct = NULL;
	jit_mem_unmap(img->code, img->map_len);
	free(img->insn_off);
	free(img);
	vm->engine_state = NULL;
}

const struct vm_engine vm_jit_engine = {
	.name = "jit",
	.prepare = jit_prepare,
	.run = jit_run,
	.release = jit_release,
	.call_sub = jit_call_sub,
};

void jit_fault(struct jit_ctx *ctx, uint64_t info, uint64_t addr)
{
	struct vm_run *run = ctx->run;

	run->fault = JIT_INFO_KIND(info);
	run->pc = JIT_INFO_PC(info);
	switch (run->fault) {
	case VM_FAULT_MEM:
		run->size = JIT_INFO_SIZE(info);
		run->addr = addr;
		break;
	case VM_FAULT_ALIGN:
	case VM_FAULT_HELPER:
		run->addr = addr;
		break;
	case VM_FAULT_BUDGET:
		run->addr = run->budget;
		break;
	default:
		break;
	}
}

/* The stack window was checked inline; what is left: mem's last bytes, regions. */
bool jit_access_ok(const struct jit_ctx *ctx, uint64_t addr, uint64_t info)
{
	const struct vm_run *run = ctx->run;
	unsigned size = JIT_INFO_SIZE(info);
	uint64_t off = addr - run->mem;

	if (off < run->mem_len && size <= run->mem_len - off)
		return true;
	return vm_region_ok(run->vm, addr, size, JIT_INFO_WRITE(info));
}

int jit_insn_range(const struct uebpf_vm *vm, size_t pc, const void **start, size_t *len)
{
	const struct jit_image *img;

	if (!vm || vm->engine != &vm_jit_engine || !vm->engine_state || pc >= vm->ninsns)
		return -EINVAL;
	img = vm->engine_state;
	*start = (const uint8_t *)img->code + img->insn_off[pc];
	*len = img->insn_off[pc + 1] - img->insn_off[pc];
	return 0;
}
