// SPDX-License-Identifier: MIT
/*
 * The AOT engine: eBPF -> C -> system compiler -> shared object -> dlopen,
 * in the manner of eBPF for Windows' bpf2c.
 *
 * prepare emits the program as one C function (aot_emit.c): eBPF registers
 * are local variables, so the C compiler allocates machine registers and
 * optimises across instructions; jumps are gotos; local calls push an
 * explicit frame stack inside the same function. The text is hashed into a
 * cache key (aot_cache.c); an object under that name in the cache directory
 * is loaded, else the compiler builds one (aot_compile.c) and it is
 * published there for the next load.
 *
 * Invariants:
 * - The object holds no mutable state and no address of this process:
 *   helpers, the region check, the run's memory, the maps (struct
 *   aot_ctx.maps, see aot_plan.c) and the callbacks' handles come through
 *   struct aot_ctx at each run. So one file serves every VM of the program,
 *   in every process, whatever addresses its maps have there (the code is
 *   specialised for their shapes only), and runs are as thread-safe as the
 *   interpreter's (all run state is on the stack of the call).
 * - Callbacks (bpf_loop, for_each_map_elem) are entries of the same
 *   function: call_sub runs one on the run's stack below the caller's
 *   frame, as the interpreter does; a fault in it ends the caller's run.
 * - Faults, their pc, address and size, helper stops, r0 and the memory the
 *   program writes are those of the interpreter (vm/interp_loop.h), with the
 *   same checks at run time. The differential tests hold both to that.
 * - An instruction budget is counted per straight block and tested at
 *   backward jumps, local calls, helper calls and exit: a run ends with
 *   VM_FAULT_BUDGET exactly when the interpreter's would, and otherwise with
 *   the same instruction count. What differs: the fault's pc is where the
 *   test noticed, and up to one forward path of plain instructions (never a
 *   helper call) may run past the budget before it does, stores included.
 * - Nothing is trusted for its name alone: an object found in the cache is
 *   used only if the identity it carries (emitter version, options,
 *   instructions, map addresses, decoded codes) is this program's. Objects
 *   are compiled under a unique temporary name, loaded from it, then renamed
 *   into place, so concurrent loads in any number of processes each see a
 *   complete file.
 * - The cache is bounded (aot_cache.c): a hit marks its object recently
 *   used, and publishing a new one evicts the least recently used beyond
 *   the size limit, by unlinking, which never disturbs a process that has
 *   the file open or mapped.
 * - When no object can be had (no compiler, a compiler error, an unusable
 *   cache directory), the load does not fail: aot_fall_back moves the VM to
 *   the JIT if this build links one, else to the interpreter, and leaves a
 *   warning saying why in the error buffer of the successful load. With
 *   UEBPF_AOT_FALLBACK=0 the load fails instead, with that message.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>
#include <unistd.h>

#include "aot.h"
#include "aot_internal.h"
#include "maps/maps.h"
#include "common/errbuf.h"
#include "helpers/helpers.h"

/* Set when this build links the JIT; weak so that the AOT engine does not require it. */
extern const struct vm_engine vm_jit_engine __attribute__((weak));

struct aot_state {
	void *handle;
	aot_entry_fn entry;
	uebpf_helper_fn *helpers; /* by ID, what struct aot_ctx hands the code */
	uint64_t *maps;		  /* AOT_MAP_WORDS per bound map: struct aot_ctx.maps */
	uint8_t *callback;	  /* per pc: a callback starts there (an entry of the code) */
	bool budgeted, needs_cpu, needs_prandom;
};

static uebpf_helper_fn aot_helper(const struct uebpf_vm *vm, uint64_t id, unsigned *flags)
{
	const struct vm_helper *h = vm_helper(vm, id);

	if (!h)
		return NULL;
	*flags = h->flags;
	return h->fn;
}

/*
 * This thread's CPU as the kernel keeps it in the rseq area glibc
 * registered (what sched_getcpu reads), or NULL when there is none.
 */
static const volatile int32_t *aot_cpu_id(void)
{
	if (!__rseq_size)
		return NULL;
	return (const volatile int32_t *)((char *)__builtin_thread_pointer() + __rseq_offset +
					  offsetof(struct rseq, cpu_id));
}

/*
 * The context of a run or callback on st's code; entry 0 for the program.
 * Field by field, not by a compound literal: gcc zeroes one of those with
 * rep stos first, whose start-up cost was most of a short program's run.
 * The code writes pc, addr and size before any fault it reports.
 */
static void aot_ctx_init(struct aot_ctx *ctx, const struct aot_state *st, struct vm_run *run,
			 uint64_t entry)
{
	ctx->mem = run->mem;
	ctx->mem_len = run->mem_len;
	ctx->budget = !st->budgeted ? 0 : run->budget ? run->budget : UINT64_MAX;
	ctx->helpers = st->helpers;
	ctx->region_ok = vm_region_ok;
	ctx->helper = aot_helper;
	ctx->vm = run->vm;
	ctx->maps = st->maps;
	ctx->ops = (uintptr_t)run->vm->ops;
	ctx->entry = entry;
	ctx->cpu_id = st->needs_cpu ? aot_cpu_id() : NULL;
	ctx->prandom = st->needs_prandom ? &helpers_prandom_state : NULL;
	ctx->stack_lo = &run->stack_lo;
	ctx->stack_hi = &run->stack_hi;
	ctx->frame_lo = &run->frame_lo;
	ctx->run_fault = (const volatile uint32_t *)&run->fault;
	ctx->tail_frame = vm_tail_call_frame;
	ctx->r3 = ctx->r4 = ctx->r5 = 0;
	ctx->executed = 0;
	ctx->fault = 0;
}

/* A fault the code reported, into the run. */
static void aot_fault_out(const struct aot_ctx *ctx, struct vm_run *run)
{
	run->fault = (enum vm_fault)ctx->fault;
	run->pc = ctx->pc;
	run->addr = ctx->addr;
	run->size = ctx->size;
}

static uint64_t aot_run(struct vm_run *run, uint64_t r1, uint64_t r2)
{
	const struct aot_state *st = run->vm->engine_state;
	struct aot_ctx ctx;
	uint64_t r0;

	/* A translation without counting cannot honour a budget; the interpreter can. */
	if (run->budget && !st->budgeted)
		return vm_interp_engine.run(run, r1, r2);
	aot_ctx_init(&ctx, st, run, 0);
	ctx.r1 = r1;
	ctx.r2 = r2;
	r0 = st->entry(&ctx);
	if (ctx.fault) {
		aot_fault_out(&ctx, run);
		return 0;
	}
	if (run->budget)
		run->executed = ctx.executed;
	return r0;
}

/*
 * A callback a helper runs for the program (bpf_loop...): the code's own
 * entry for it, on a frame right below the caller's (run->frame_lo), on
 * the run's stack. An entry the translation does not have (a handle made
 * by arithmetic on a callback's) and a run the translation cannot count
 * go to the interpreter, which runs any op on the same stack alike.
 */
static uint64_t aot_call_sub(struct vm_run *run, const struct vm_op *entry, const uint64_t *args)
{
	const struct aot_state *st = run->vm->engine_state;
	size_t pc = (size_t)(entry - run->vm->ops);
	struct aot_ctx ctx;
	uint64_t r0;

	if (!st->callback[pc] || (run->budget && !st->budgeted))
		return vm_interp_engine.call_sub(run, entry, args);
	if (run->frame_lo < run->stack_lo + ISA_STACK_SIZE) {
		run->fault = VM_FAULT_DEPTH;
		run->pc = pc;
		return 0;
	}
	aot_ctx_init(&ctx, st, run, pc + 1);
	ctx.r1 = args[0];
	ctx.r2 = args[1];
	ctx.r3 = args[2];
	ctx.r4 = args[3];
	ctx.r5 = args[4];
	r0 = st->entry(&ctx);
	if (ctx.fault) {
		aot_fault_out(&ctx, run);
		return 0;
	}
	return r0;
}

/* Load the object at path if it is the translation that id describes. */
static int aot_open(const char *path, const uint64_t *id, size_t nid, struct aot_state *st,
		    char *err, size_t err_len)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const uint64_t *words, *ident;

	if (!h) {
		errbuf_set(err, err_len, "cannot load %s: %s", path, dlerror());
		return -ENOEXEC;
	}
	words = dlsym(h, AOT_SYM_IDENTITY_WORDS);
	ident = dlsym(h, AOT_SYM_IDENTITY);
	st->entry = (aot_entry_fn)dlsym(h, AOT_SYM_ENTRY);
	if (!words || !ident || !st->entry || *words != nid ||
	    memcmp(ident, id, nid * sizeof(*id))) {
		dlclose(h);
		errbuf_set(err, err_len, "%s is not a translation of this program", path);
		return -ENOEXEC;
	}
	st->handle = h;
	return 0;
}

/* The C text of vm's program, malloc'd. */
static int aot_text(const struct uebpf_vm *vm, const struct aot_opts *opts,
		    const struct aot_plan *plan, char **text, size_t *len, char *err,
		    size_t err_len)
{
	FILE *f = open_memstream(text, len);
	int ret;

	if (!f) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = aot_emit(vm, opts, plan, f);
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (ret) {
		errbuf_set(err, err_len, "cannot translate the program to C: %s", strerror(-ret));
		free(*text);
		*text = NULL;
	}
	return ret;
}

/* What vm's program is translated with. */
static struct aot_opts aot_opts_of(const struct uebpf_vm *vm)
{
	return (struct aot_opts){.budgeted = vm->insn_budget != 0};
}

/* The object for vm's program, from the cache or freshly compiled into it. */
static int aot_load_object(struct uebpf_vm *vm, const struct aot_plan *plan, struct aot_state *st,
			   char *err, size_t err_len)
{
	struct aot_opts opts = aot_opts_of(vm);
	char key[AOT_KEY_LEN], *text = NULL, *dir = NULL, *path = NULL, *tmp = NULL;
	uint64_t *id = NULL;
	size_t len, nid;
	int ret;

	st->budgeted = opts.budgeted;
	ret = aot_text(vm, &opts, plan, &text, &len, err, err_len);
	if (ret)
		return ret;
	id = aot_identity(vm, &opts, plan, &nid);
	ret = id ? aot_cache_dir(&dir, err, err_len) : -ENOMEM;
	if (ret)
		goto out;
	aot_cache_key(text, len, key);
	path = malloc(strlen(dir) + sizeof(key) + 4);
	if (!path) {
		ret = -ENOMEM;
		goto out;
	}
	sprintf(path, "%s/%s.so", dir, key);
	if (!aot_open(path, id, nid, st, NULL, 0)) {
		aot_cache_touch(path);
		goto out;
	}
	ret = aot_compile(NULL, text, len, dir, key, &tmp, err, err_len);
	if (ret)
		goto out;
	/*
	 * Loaded under its temporary name, so that an older object this process
	 * holds under the final name cannot be returned in its place.
	 */
	ret = aot_open(tmp, id, nid, st, err, err_len);
	if (ret || rename(tmp, path))
		unlink(tmp); /* not cached this time; the load itself still stands */
	else
		aot_cache_evict(dir, path);
out:
	if (ret == -ENOMEM)
		errbuf_set(err, err_len, "out of memory");
	free(text);
	free(id);
	free(dir);
	free(path);
	free(tmp);
	return ret;
}

/* What the code gets at each run besides the run itself: this load's maps, helpers, callbacks. */
static int aot_state_init(struct uebpf_vm *vm, const struct aot_plan *plan, struct aot_state *st)
{
	st->helpers = calloc(vm->nhelpers ? vm->nhelpers : 1, sizeof(*st->helpers));
	st->maps = calloc(vm->nmaps ? vm->nmaps * AOT_MAP_WORDS : 1, sizeof(*st->maps));
	st->callback = calloc(vm->ninsns, 1);
	if (!st->helpers || !st->maps || !st->callback)
		return -ENOMEM;
	for (uint32_t i = 0; i < vm->nhelpers; i++)
		st->helpers[i] = vm->helpers[i].fn;
	for (size_t i = 0; i < vm->nmaps; i++) {
		st->maps[i * AOT_MAP_WORDS + AOT_MAP_HANDLE] = (uintptr_t)&vm->maps[i];
		st->maps[i * AOT_MAP_WORDS + AOT_MAP_BASE] = plan->base[i];
		st->maps[i * AOT_MAP_WORDS + AOT_MAP_OBJ] = (uintptr_t)vm->maps[i].map;
		st->maps[i * AOT_MAP_WORDS + AOT_MAP_LOOKUP] =
			(uintptr_t)map_lookup_func(vm->maps[i].map);
		st->maps[i * AOT_MAP_WORDS + AOT_MAP_UPDATE] = (uintptr_t)map_update;
		st->maps[i * AOT_MAP_WORDS + AOT_MAP_DELETE] = (uintptr_t)map_delete;
	}
	for (size_t pc = 0; pc < vm->ninsns; pc++) {
		struct aot_reloc r;

		if (aot_is_reloc(vm, pc) && !aot_reloc(vm, plan, pc, &r) &&
		    r.kind == AOT_RELOC_FUNC)
			st->callback[r.index] = 1;
	}
	st->needs_cpu = plan->needs_cpu;
	st->needs_prandom = plan->needs_prandom;
	return 0;
}

static void aot_state_free(struct aot_state *st)
{
	if (!st)
		return;
	if (st->handle)
		dlclose(st->handle);
	free(st->helpers);
	free(st->maps);
	free(st->callback);
	free(st);
}

/*
 * The one place that decides what happens when there is no native code:
 * the VM moves to the JIT when this build has one, else to the interpreter
 * (whose prepare cannot fail), and the load succeeds with a warning.
 */
static int aot_fall_back(struct uebpf_vm *vm, const char *why, char *err, size_t err_len)
{
	const struct vm_engine *const engines[] = {&vm_jit_engine, &vm_interp_engine};

	if (!aot_config_fallback()) {
		errbuf_set(err, err_len, "%s (no fallback: UEBPF_AOT_FALLBACK=0)", why);
		return -ENOEXEC;
	}
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		if (!engines[i] || engines[i]->prepare(vm, NULL, 0))
			continue;
		vm->engine = engines[i];
		errbuf_set(err, err_len,
			   "warning: AOT engine unavailable, running on the %s engine: %s",
			   engines[i]->name, why);
		return 0;
	}
	errbuf_set(err, err_len, "%s", why);
	return -ENOEXEC;
}

static int aot_prepare(struct uebpf_vm *vm, char *err, size_t err_len)
{
	struct aot_state *st = calloc(1, sizeof(*st));
	char why[1024] = "out of memory";
	struct aot_plan plan;
	int ret = st ? aot_plan(vm, &plan) : -ENOMEM;

	if (!ret) {
		ret = aot_state_init(vm, &plan, st);
		if (!ret)
			ret = aot_load_object(vm, &plan, st, why, sizeof(why));
		aot_plan_free(&plan);
	}
	if (!ret) {
		vm->engine_state = st;
		return 0;
	}
	aot_state_free(st);
	return aot_fall_back(vm, why, err, err_len);
}

static void aot_release(struct uebpf_vm *vm)
{
	aot_state_free(vm->engine_state);
	vm->engine_state = NULL;
}

const struct vm_engine vm_aot_engine = {
	.name = "aot",
	.prepare = aot_prepare,
	.run = aot_run,
	.release = aot_release,
	.call_sub = aot_call_sub,
};

int aot_emit_c(const struct uebpf_vm *vm, FILE *out, char *err, size_t err_len)
{
	struct aot_opts opts = aot_opts_of(vm);
	struct aot_plan plan;
	int ret;

	if (!vm->ops) {
		errbuf_set(err, err_len, "no program loaded");
		return -EINVAL;
	}
	ret = aot_plan(vm, &plan);
	if (!ret) {
		ret = aot_emit(vm, &opts, &plan, out);
		aot_plan_free(&plan);
	}
	if (ret)
		errbuf_set(err, err_len, "cannot write the C translation: %s", strerror(-ret));
	return ret;
}

int aot_compile_so(const struct uebpf_vm *vm, const char *cc, const char *path, char *err,
		   size_t err_len)
{
	struct aot_opts opts = aot_opts_of(vm);
	const char *slash = strrchr(path, '/');
	char *text = NULL, *dir, *tmp = NULL;
	struct aot_plan plan;
	size_t len;
	int ret;

	if (!vm->ops) {
		errbuf_set(err, err_len, "no program loaded");
		return -EINVAL;
	}
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir || aot_plan(vm, &plan)) {
		free(dir);
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = aot_text(vm, &opts, &plan, &text, &len, err, err_len)
		      ?: aot_compile(cc, text, len, dir, "uebpf-aot", &tmp, err, err_len);
	if (!ret && rename(tmp, path)) {
		ret = -errno;
		errbuf_set(err, err_len, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	aot_plan_free(&plan);
	free(text);
	free(dir);
	free(tmp);
	return ret;
}
