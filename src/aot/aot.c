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
 * - The object holds no mutable state, and no address of this process but
 *   the maps' (lddw map references are constants in the code, as fast as
 *   the address of a global): helpers, the region check and the run's
 *   memory come through struct aot_ctx at each run. So one file serves
 *   every VM of the program, in every process where its maps sit at the same
 *   addresses (the common case: no maps), and runs are as thread-safe as the
 *   interpreter's (all run state is on the stack of the call).
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
 * - When no object can be had (no compiler, a compiler error, an unusable
 *   cache directory), the load does not fail: aot_fall_back moves the VM to
 *   the JIT if this build links one, else to the interpreter, and leaves a
 *   warning saying why in the error buffer of the successful load. With
 *   UEBPF_AOT_FALLBACK=0 the load fails instead, with that message.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aot.h"
#include "aot_internal.h"
#include "common/errbuf.h"

/* Set when this build links the JIT; weak so that the AOT engine does not require it. */
extern const struct vm_engine vm_jit_engine __attribute__((weak));

struct aot_state {
	void *handle;
	aot_entry_fn entry;
	uebpf_helper_fn *helpers; /* by ID, what struct aot_ctx hands the code */
	bool budgeted;
};

static uebpf_helper_fn aot_helper(const struct uebpf_vm *vm, uint64_t id, unsigned *flags)
{
	const struct vm_helper *h = vm_helper(vm, id);

	if (!h)
		return NULL;
	*flags = h->flags;
	return h->fn;
}

static uint64_t aot_run(struct vm_run *run, uint64_t r1, uint64_t r2)
{
	const struct aot_state *st = run->vm->engine_state;
	struct aot_ctx ctx;
	uint64_t r0;

	/* A translation without counting cannot honour a budget; the interpreter can. */
	if (run->budget && !st->budgeted)
		return vm_interp_engine.run(run, r1, r2);
	ctx = (struct aot_ctx){
		.r1 = r1,
		.r2 = r2,
		.mem = run->mem,
		.mem_len = run->mem_len,
		.budget = !st->budgeted ? 0
			  : run->budget ? run->budget
					: UINT64_MAX,
		.helpers = st->helpers,
		.region_ok = vm_region_ok,
		.helper = aot_helper,
		.vm = run->vm,
		.stack_lo = &run->stack_lo,
		.stack_hi = &run->stack_hi,
	};
	r0 = st->entry(&ctx);
	if (ctx.fault) {
		run->fault = (enum vm_fault)ctx.fault;
		run->pc = ctx.pc;
		run->addr = ctx.addr;
		run->size = ctx.size;
		return 0;
	}
	if (run->budget)
		run->executed = ctx.executed;
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
static int aot_text(const struct uebpf_vm *vm, const struct aot_opts *opts, char **text,
		    size_t *len, char *err, size_t err_len)
{
	FILE *f = open_memstream(text, len);
	int ret;

	if (!f) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = aot_emit(vm, opts, f);
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
static int aot_load_object(struct uebpf_vm *vm, struct aot_state *st, char *err, size_t err_len)
{
	struct aot_opts opts = aot_opts_of(vm);
	char key[AOT_KEY_LEN], *text = NULL, *dir = NULL, *path = NULL, *tmp = NULL;
	uint64_t *id = NULL;
	size_t len, nid;
	int ret;

	st->budgeted = opts.budgeted;
	ret = aot_text(vm, &opts, &text, &len, err, err_len);
	if (ret)
		return ret;
	id = aot_identity(vm, &opts, &nid);
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
	if (!aot_open(path, id, nid, st, NULL, 0))
		goto out;
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
	int ret = -ENOMEM;

	if (st)
		st->helpers = calloc(vm->nhelpers ? vm->nhelpers : 1, sizeof(*st->helpers));
	if (st && st->helpers) {
		for (uint32_t i = 0; i < vm->nhelpers; i++)
			st->helpers[i] = vm->helpers[i].fn;
		ret = aot_load_object(vm, st, why, sizeof(why));
	}
	if (!ret) {
		vm->engine_state = st;
		return 0;
	}
	if (st)
		free(st->helpers);
	free(st);
	return aot_fall_back(vm, why, err, err_len);
}

static void aot_release(struct uebpf_vm *vm)
{
	struct aot_state *st = vm->engine_state;

	dlclose(st->handle);
	free(st->helpers);
	free(st);
	vm->engine_state = NULL;
}

const struct vm_engine vm_aot_engine = {
	.name = "aot",
	.prepare = aot_prepare,
	.run = aot_run,
	.release = aot_release,
};

int aot_emit_c(const struct uebpf_vm *vm, FILE *out, char *err, size_t err_len)
{
	struct aot_opts opts = aot_opts_of(vm);
	int ret;

	if (!vm->ops) {
		errbuf_set(err, err_len, "no program loaded");
		return -EINVAL;
	}
	ret = aot_emit(vm, &opts, out);
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
	size_t len;
	int ret;

	if (!vm->ops) {
		errbuf_set(err, err_len, "no program loaded");
		return -EINVAL;
	}
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = aot_text(vm, &opts, &text, &len, err, err_len)
		      ?: aot_compile(cc, text, len, dir, "uebpf-aot", &tmp, err, err_len);
	if (!ret && rename(tmp, path)) {
		ret = -errno;
		errbuf_set(err, err_len, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(text);
	free(dir);
	free(tmp);
	return ret;
}
