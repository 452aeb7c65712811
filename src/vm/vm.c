// SPDX-License-Identifier: MIT
/*
 * The embedding API (include/uebpf/uebpf.h): VM life cycle, helper and
 * region registration, load (validate + decode) and run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "isa/asm.h"
#include "vm.h"

/* Kernel helper IDs are below 300; this bounds the dense helper table. */
#define VM_MAX_HELPER_ID 65535

/* Engines by enum uebpf_engine; NULL where this build has none. */
static const struct vm_engine *const engines[] = {
	[UEBPF_ENGINE_INTERP] = &vm_interp_engine,
	[UEBPF_ENGINE_JIT] = NULL,
	[UEBPF_ENGINE_AOT] = NULL,
};

struct uebpf_vm *uebpf_vm_create(void)
{
	struct uebpf_vm *vm = calloc(1, sizeof(struct uebpf_vm));

	if (vm)
		vm->engine = &vm_interp_engine;
	return vm;
}

void uebpf_vm_destroy(struct uebpf_vm *vm)
{
	if (!vm)
		return;
	if (vm->ops)
		vm->engine->release(vm);
	free(vm->helpers);
	free(vm->regions);
	free(vm->insns);
	free(vm->ops);
	free(vm);
}

const struct vm_helper *vm_helper(const struct uebpf_vm *vm, uint64_t id)
{
	if (id >= vm->nhelpers || !vm->helpers[id].fn)
		return NULL;
	return &vm->helpers[id];
}

int uebpf_vm_register_helper_ex(struct uebpf_vm *vm, uint32_t id, const char *name,
				uebpf_helper_fn fn, unsigned flags)
{
	struct vm_helper *h;

	if (!vm || !fn || id > VM_MAX_HELPER_ID || (flags & ~UEBPF_HELPER_STOP_ON_ZERO))
		return -EINVAL;
	if (vm->ops)
		return -EBUSY;
	if (id >= vm->nhelpers) {
		h = realloc(vm->helpers, (id + 1) * sizeof(*h));
		if (!h)
			return -ENOMEM;
		memset(h + vm->nhelpers, 0, (id + 1 - vm->nhelpers) * sizeof(*h));
		vm->helpers = h;
		vm->nhelpers = id + 1;
	}
	h = &vm->helpers[id];
	h->fn = fn;
	h->flags = flags;
	snprintf(h->name, sizeof(h->name), "%s", name ? name : "");
	return 0;
}

int uebpf_vm_register_helper(struct uebpf_vm *vm, uint32_t id, const char *name,
			     uebpf_helper_fn fn)
{
	return uebpf_vm_register_helper_ex(vm, id, name, fn, 0);
}

int uebpf_vm_add_region(struct uebpf_vm *vm, void *base, size_t len, int writable)
{
	struct vm_region *r;

	if (!vm || !base || !len || (uintptr_t)base + len < (uintptr_t)base)
		return -EINVAL;
	if (vm->ops)
		return -EBUSY;
	r = realloc(vm->regions, (vm->nregions + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	vm->regions = r;
	vm->regions[vm->nregions++] = (struct vm_region){(uintptr_t)base, len, writable != 0};
	return 0;
}

bool vm_region_ok(const struct uebpf_vm *vm, uintptr_t addr, unsigned size, bool write)
{
	for (size_t i = 0; i < vm->nregions; i++) {
		const struct vm_region *r = &vm->regions[i];
		uintptr_t off = addr - r->base;

		if (off < r->len && size <= r->len - off && (r->writable || !write))
			return true;
	}
	return false;
}

int uebpf_vm_set_insn_budget(struct uebpf_vm *vm, uint64_t budget)
{
	if (!vm)
		return -EINVAL;
	if (vm->ops)
		return -EBUSY;
	vm->insn_budget = budget;
	return 0;
}

int uebpf_vm_set_engine(struct uebpf_vm *vm, enum uebpf_engine engine)
{
	if (!vm)
		return -EINVAL;
	if (vm->ops)
		return -EBUSY;
	if ((unsigned)engine >= sizeof(engines) / sizeof(engines[0]) || !engines[engine])
		return -EOPNOTSUPP;
	vm->engine = engines[engine];
	return 0;
}

int uebpf_vm_load(struct uebpf_vm *vm, const void *code, size_t code_len, char *err,
		  size_t err_len)
{
	size_t n = code_len / sizeof(struct isa_insn);
	int ret;

	if (!vm || (!code && code_len)) {
		errbuf_set(err, err_len, "no VM or no code");
		return -EINVAL;
	}
	if (vm->ops) {
		errbuf_set(err, err_len, "a program is already loaded in this VM");
		return -EBUSY;
	}
	if (code_len % sizeof(struct isa_insn)) {
		errbuf_set(err, err_len, "code length %zu is not a multiple of 8", code_len);
		return -EINVAL;
	}
	ret = vm_validate(vm, code, n, err, err_len);
	if (ret)
		return ret;
	vm->insns = malloc(code_len);
	vm->ops = calloc(n, sizeof(*vm->ops));
	if (!vm->insns || !vm->ops) {
		free(vm->insns);
		free(vm->ops);
		vm->insns = NULL;
		vm->ops = NULL;
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	memcpy(vm->insns, code, code_len);
	vm->ninsns = n;
	vm_decode(vm, vm->insns, n, vm->ops);
	ret = vm->engine->prepare(vm, err, err_len);
	if (ret) {
		free(vm->insns);
		free(vm->ops);
		vm->insns = NULL;
		vm->ops = NULL;
		vm->ninsns = 0;
	}
	return ret;
}

int uebpf_vm_load_asm(struct uebpf_vm *vm, const char *text, char *err, size_t err_len)
{
	struct isa_insn *insns;
	size_t n;
	int ret;

	if (!text) {
		errbuf_set(err, err_len, "no program text");
		return -EINVAL;
	}
	ret = isa_assemble(text, &insns, &n, err, err_len);
	if (ret)
		return ret;
	ret = uebpf_vm_load(vm, insns, n * sizeof(*insns), err, err_len);
	free(insns);
	return ret;
}

size_t uebpf_vm_insn_count(const struct uebpf_vm *vm)
{
	return vm ? vm->ninsns : 0;
}

int vm_run_error(const struct vm_run *run, char *err, size_t err_len)
{
	switch (run->fault) {
	case VM_FAULT_MEM:
		errbuf_set(err, err_len,
			   "insn %zu: invalid memory access of %u bytes at 0x%llx (outside the "
			   "program's memory, stack and regions)",
			   run->pc, run->size, (unsigned long long)run->addr);
		return -EFAULT;
	case VM_FAULT_ALIGN:
		errbuf_set(err, err_len, "insn %zu: misaligned atomic operation at 0x%llx",
			   run->pc, (unsigned long long)run->addr);
		return -EINVAL;
	case VM_FAULT_HELPER:
		errbuf_set(err, err_len, "insn %zu: callx to unknown helper %llu", run->pc,
			   (unsigned long long)run->addr);
		return -ENOENT;
	case VM_FAULT_DEPTH:
		errbuf_set(err, err_len, "insn %zu: local call deeper than %d frames", run->pc,
			   ISA_MAX_CALL_DEPTH);
		return -E2BIG;
	case VM_FAULT_BUDGET:
		errbuf_set(err, err_len, "insn %zu: instruction budget of %llu used up", run->pc,
			   (unsigned long long)run->budget);
		return -E2BIG;
	default:
		return 0;
	}
}

static int run_args_ok(const struct uebpf_vm *vm, const void *mem, size_t mem_len,
		       const uint64_t *r0, char *err, size_t err_len)
{
	if (vm && vm->ops && r0 && (mem || !mem_len))
		return 0;
	errbuf_set(err, err_len, vm && !vm->ops ? "no program loaded" : "invalid arguments");
	return -EINVAL;
}

int uebpf_vm_run(const struct uebpf_vm *vm, void *mem, size_t mem_len, uint64_t *r0, char *err,
		 size_t err_len)
{
	struct vm_run run;
	uint64_t ret;
	int e = run_args_ok(vm, mem, mem_len, r0, err, err_len);

	if (e)
		return e;
	run = (struct vm_run){.vm = vm,
			      .mem = (uintptr_t)mem,
			      .mem_len = mem_len,
			      .budget = vm->insn_budget};
	ret = vm->engine->run(&run, (uintptr_t)mem, mem_len);
	if (run.fault)
		return vm_run_error(&run, err, err_len);
	*r0 = ret;
	return 0;
}

int uebpf_vm_run_counted(const struct uebpf_vm *vm, void *mem, size_t mem_len, uint64_t *r0,
			 uint64_t *insns, char *err, size_t err_len)
{
	struct vm_run run;
	uint64_t ret;
	int e = run_args_ok(vm, mem, mem_len, r0, err, err_len);

	if (e)
		return e;
	if (!insns) {
		errbuf_set(err, err_len, "invalid arguments");
		return -EINVAL;
	}
	run = (struct vm_run){.vm = vm,
			      .mem = (uintptr_t)mem,
			      .mem_len = mem_len,
			      .budget = vm->insn_budget ? vm->insn_budget : UINT64_MAX};
	ret = vm_interp_engine.run(&run, (uintptr_t)mem, mem_len);
	if (run.fault)
		return vm_run_error(&run, err, err_len);
	*r0 = ret;
	*insns = run.executed;
	return 0;
}
