// SPDX-License-Identifier: MIT
/*
 * The embedding API (include/uebpf/uebpf.h): VM life cycle, helper and
 * region registration, load (validate + decode) and run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot/aot.h"
#include "common/errbuf.h"
#include "isa/asm.h"
#include "jit/jit.h"
#include "vm.h"

__thread struct vm_run *vm_current_run __attribute__((tls_model("initial-exec")));

/* Kernel helper IDs are below 300; this bounds the dense helper table. */
#define VM_MAX_HELPER_ID 65535

/* Engines by enum uebpf_engine; NULL where this build has none. */
static const struct vm_engine *const engines[] = {
	[UEBPF_ENGINE_INTERP] = &vm_interp_engine,
	[UEBPF_ENGINE_JIT] = &vm_jit_engine,
	[UEBPF_ENGINE_AOT] = &vm_aot_engine,
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
	vm_prog_unregister(vm);
	free(vm->helpers);
	free(vm->maps);
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

static bool in_range(uintptr_t addr, uint64_t size, uintptr_t base, uint64_t len)
{
	uint64_t off = addr - base;

	return off < len && size <= len - off;
}

bool vm_run_mem_ok(const struct vm_run *run, uintptr_t addr, uint64_t size, bool write)
{
	const struct uebpf_vm *vm = run->vm;

	if (!size)
		return true;
	if (in_range(addr, size, run->mem, run->mem_len) ||
	    in_range(addr, size, run->stack_lo, run->stack_hi - run->stack_lo))
		return true;
	for (size_t i = 0; i < vm->nregions; i++) {
		const struct vm_region *r = &vm->regions[i];

		if (in_range(addr, size, r->base, r->len) && (r->writable || !write))
			return true;
	}
	return false;
}

static uint64_t avail_in(uintptr_t addr, uintptr_t base, uint64_t len)
{
	return addr - base < len ? len - (addr - base) : 0;
}

uint64_t vm_run_mem_avail(const struct vm_run *run, uintptr_t addr, bool write)
{
	const struct uebpf_vm *vm = run->vm;
	uint64_t n = avail_in(addr, run->mem, run->mem_len), m;

	m = avail_in(addr, run->stack_lo, run->stack_hi - run->stack_lo);
	n = m > n ? m : n;
	for (size_t i = 0; i < vm->nregions; i++) {
		const struct vm_region *r = &vm->regions[i];

		m = r->writable || !write ? avail_in(addr, r->base, r->len) : 0;
		n = m > n ? m : n;
	}
	return n;
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

/* Helper calls (direct or callx) are what need the run published to helpers. */
static bool calls_helpers(const struct isa_insn *insns, size_t n)
{
	for (size_t pc = 0; pc < n; pc++)
		if (insns[pc].opcode == ISA_OP_CALLX ||
		    (insns[pc].opcode == ISA_OP_CALL && insns[pc].src == ISA_CALL_HELPER))
			return true;
	return false;
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
	/* an aligned copy first: the caller's buffer may lie at any address */
	vm->insns = malloc(code_len ? code_len : 1);
	if (!vm->insns) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	if (code_len)
		memcpy(vm->insns, code, code_len);
	ret = vm_validate(vm, vm->insns, n, err, err_len);
	if (ret)
		goto fail_insns;
	ret = vm_bind_maps(vm, vm->insns, n, err, err_len);
	if (ret)
		goto fail_insns;
	ret = vm_verify(vm, vm->insns, n, err, err_len);
	if (ret) {
		vm_unbind_maps(vm);
		goto fail_insns;
	}
	vm->ops = calloc(n, sizeof(*vm->ops));
	if (!vm->ops) {
		errbuf_set(err, err_len, "out of memory");
		ret = -ENOMEM;
		free(vm->proven);
		vm->proven = NULL;
		goto fail;
	}
	vm->ninsns = n;
	vm->calls_helpers = calls_helpers(vm->insns, n);
	vm->main_end = vm_main_end(vm->insns, n);
	vm_decode(vm, vm->insns, n, vm->ops);
	free(vm->proven);
	vm->proven = NULL;
	ret = vm->engine->prepare(vm, err, err_len);
	if (!ret) {
		ret = vm_prog_register(vm);
		if (!ret)
			return 0;
		vm->engine->release(vm);
		errbuf_set(err, err_len, "too many programs loaded for tail call IDs");
	}
fail:
	free(vm->insns);
	free(vm->ops);
	vm->insns = NULL;
	vm->ops = NULL;
	vm->ninsns = 0;
	vm_unbind_maps(vm);
	return ret;
fail_insns:
	free(vm->insns);
	vm->insns = NULL;
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

/*
 * The fields a run reads before anything writes them; the rest are set
 * by the engine (stack), with a fault (pc, addr, size), at a helper call
 * (frame_lo) or with a tail call. Not a compound literal: zeroing the
 * whole struct costs more than a short program does.
 */
static void run_init(struct vm_run *run, const struct uebpf_vm *vm, void *mem, size_t mem_len,
		     uint64_t budget)
{
	run->vm = vm;
	run->mem = (uintptr_t)mem;
	run->mem_len = mem_len;
	run->budget = budget;
	run->executed = 0;
	run->fault = VM_FAULT_NONE;
	run->tail = NULL;
	run->tail_count = 0;
	run->interp_only = false;
}

/* Runs the program, published to helpers on this thread if it calls any. */
static uint64_t engine_run(const struct vm_engine *engine, struct vm_run *run, uint64_t r1,
			   uint64_t r2)
{
	struct vm_run *outer;
	uint64_t ret;

	if (!run->vm->calls_helpers)
		return engine->run(run, r1, r2);
	/* a helper may run another program: restore the run it was called from */
	outer = vm_current_run;
	vm_current_run = run;
	ret = engine->run(run, r1, r2);
	/* a counted run (on the interpreter whatever the VM's engine) counts its tail calls too */
	ret = vm_run_tail_calls(run, ret, r2, engine != run->vm->engine);
	vm_current_run = outer;
	return ret;
}

/* Apart from uebpf_vm_run, so that its direct path saves no registers and sets up no frame. */
static __attribute__((noinline)) int run_framed(const struct uebpf_vm *vm, void *mem,
						size_t mem_len, uint64_t *r0, char *err,
						size_t err_len)
{
	struct vm_run run;
	uint64_t ret;
	int e = run_args_ok(vm, mem, mem_len, r0, err, err_len);

	if (e)
		return e;
	run_init(&run, vm, mem, mem_len, vm->insn_budget);
	ret = engine_run(vm->engine, &run, (uintptr_t)mem, mem_len);
	if (run.fault)
		return vm_run_error(&run, err, err_len);
	*r0 = ret;
	return 0;
}

int uebpf_vm_run(const struct uebpf_vm *vm, void *mem, size_t mem_len, uint64_t *r0, char *err,
		 size_t err_len)
{
	if (__builtin_expect(vm && vm->direct && r0 && (mem || !mem_len), 1))
		return vm->direct((uintptr_t)mem, mem_len, r0);
	return run_framed(vm, mem, mem_len, r0, err, err_len);
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
	run_init(&run, vm, mem, mem_len, vm->insn_budget ? vm->insn_budget : UINT64_MAX);
	run.interp_only = true;
	ret = engine_run(&vm_interp_engine, &run, (uintptr_t)mem, mem_len);
	if (run.fault)
		return vm_run_error(&run, err, err_len);
	*r0 = ret;
	*insns = run.executed;
	return 0;
}
