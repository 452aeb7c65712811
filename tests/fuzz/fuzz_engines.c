// SPDX-License-Identifier: MIT
/*
 * Any program through load and run, on the engines, twice.
 *
 * Unverified, with an instruction budget, on the interpreter and the JIT:
 * load either refuses it with a message on both engines or accepts it on
 * both, and then both runs end alike: the same r0 and memory, or the same
 * error. Never a crash of the host, whatever the program does.
 *
 * Verified (UEBPF_PROG_RAW_MEM), without a budget, so that the proven
 * accesses run unchecked: a program the verifier accepts loads on every
 * engine and runs to the same r0 and memory on the interpreter and the
 * JIT, and on the AOT engine for one input in AOT_EVERY (it compiles with
 * cc: slow), never faulting. An access the verifier wrongly
 * proved lands outside the buffer, which ASan reports in `make fuzz`.
 *
 * Inputs are shaped into mostly valid programs (shape.h), which keeps out
 * what legitimately differs between the engines: r10's value, stack left
 * from an earlier run, r1-r5 after a helper call. The JIT counts the budget
 * per basic block on entry where the interpreter counts each instruction,
 * so a budget stop compares as described in compare().
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "isa/asm.h"
#include "isa/isa.h"
#include "shape.h"
#include "uebpf/uebpf.h"

#define MEM_LEN 64
#define BUDGET 8192
#define AOT_EVERY 32

struct outcome {
	int load, run;
	uint64_t r0;
	bool budget; /* the run stopped on the budget */
	uint8_t mem[MEM_LEN];
	char err[256];
};

/* Every engine runs on this one buffer: r1 is its address, which programs may compute with. */
static uint8_t mem[MEM_LEN];

/* A private AOT cache, emptied after each load: fuzzing makes a new object per program. */
static char aot_dir[64];

static void aot_clean(void)
{
	DIR *d = opendir(aot_dir);
	struct dirent *de;
	char path[320];

	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", aot_dir, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
}

static void aot_remove(void)
{
	aot_clean();
	rmdir(aot_dir);
}

static void aot_setup(void)
{
	if (aot_dir[0])
		return;
	snprintf(aot_dir, sizeof(aot_dir), "/tmp/uebpf-fuzz-aot-XXXXXX");
	if (!mkdtemp(aot_dir) || uebpf_aot_set_cache_dir(aot_dir))
		fuzz_fail("cannot make an AOT cache directory");
	atexit(aot_remove);
	setenv("UEBPF_AOT_FALLBACK", "0", 1);
}

static void run_on(enum uebpf_engine e, bool verify, const struct isa_insn *p, size_t n,
		   struct outcome *o)
{
	struct uebpf_vm *vm = uebpf_vm_create();

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < MEM_LEN; i++)
		mem[i] = (uint8_t)(i * 37 + 5);
	if (!vm)
		fuzz_fail("out of memory");
	if (e == UEBPF_ENGINE_AOT)
		aot_setup();
	if (uebpf_vm_set_engine(vm, e) || uebpf_vm_set_insn_budget(vm, verify ? 0 : BUDGET) ||
	    (verify && uebpf_vm_set_verify(vm, UEBPF_PROG_RAW_MEM)) ||
	    uebpf_vm_register_helper(vm, FUZZ_HELPER_MIX, "mix", fuzz_mix))
		fuzz_fail("cannot set up a VM");
	o->load = uebpf_vm_load(vm, p, n * sizeof(*p), o->err, sizeof(o->err));
	if (e == UEBPF_ENGINE_AOT)
		aot_clean();
	if (!o->load) {
		o->run = uebpf_vm_run(vm, mem, MEM_LEN, &o->r0, o->err, sizeof(o->err));
		o->budget = o->run && strstr(o->err, "budget");
	}
	memcpy(o->mem, mem, MEM_LEN);
	if ((o->load || o->run) && !o->err[0])
		fuzz_fail("error %d without a message", o->load ? o->load : o->run);
	uebpf_vm_destroy(vm);
}

/* The program that made the engines differ, before fuzz_fail says how. */
static void show(const struct isa_insn *p, size_t n)
{
	char *text = isa_disassemble(p, n);

	fprintf(stderr, "the program:\n%s", text ? text : "(out of memory)\n");
	free(text);
}

/*
 * a is the interpreter's outcome, j another engine's (named). The
 * interpreter stops on the budget at the exact instruction, the JIT on
 * entering the first block it cannot finish: so the JIT may stop on the
 * budget where the interpreter goes on into a fault of that block, but
 * where the interpreter runs out, so does the JIT, and a JIT budget stop
 * means the interpreter did not finish either.
 */
static void compare(const struct outcome *a, const struct outcome *j, const char *name,
		    const struct isa_insn *p, size_t n)
{
	if (a->load != j->load) {
		show(p, n);
		fuzz_fail("load: interp %d (%s), %s %d (%s)", a->load, a->err, name, j->load,
			  j->err);
	}
	if (a->load)
		return;
	if (a->budget || j->budget) {
		if (j->budget && a->run)
			return;
		show(p, n);
		fuzz_fail("budget: interp %d (%s), %s %d (%s)", a->run, a->err, name, j->run,
			  j->err);
	}
	if (a->run != j->run) {
		show(p, n);
		fuzz_fail("run: interp %d (%s), %s %d (%s)", a->run, a->err, name, j->run, j->err);
	}
	if (!a->run && a->r0 != j->r0) {
		show(p, n);
		fuzz_fail("r0: interp %#" PRIx64 ", %s %#" PRIx64, a->r0, name, j->r0);
	}
	if (memcmp(a->mem, j->mem, MEM_LEN)) {
		show(p, n);
		fuzz_fail("memory differs after the run on %s (%s)", name,
			  a->run ? a->err : "no fault");
	}
}

/* Whether this input also runs on the AOT engine: a function of the bytes, so replays agree. */
static bool aot_sampled(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	return h % AOT_EVERY == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isa_insn p[FUZZ_MAX_INSNS];
	struct outcome a, j;
	size_t n = fuzz_build(data, size, p);

	run_on(UEBPF_ENGINE_INTERP, false, p, n, &a);
	run_on(UEBPF_ENGINE_JIT, false, p, n, &j);
	compare(&a, &j, "jit", p, n);

	/* the verdict is the engines' common step: a refused program ends here */
	run_on(UEBPF_ENGINE_INTERP, true, p, n, &a);
	if (a.load)
		return 0;
	run_on(UEBPF_ENGINE_JIT, true, p, n, &j);
	compare(&a, &j, "verified jit", p, n);
	if (a.run) {
		show(p, n);
		fuzz_fail("a verified program faulted: %s", a.err);
	}
	if (aot_sampled(data, size)) {
		run_on(UEBPF_ENGINE_AOT, true, p, n, &j);
		compare(&a, &j, "verified aot", p, n);
	}
	return 0;
}
