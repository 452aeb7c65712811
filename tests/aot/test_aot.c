// SPDX-License-Identifier: MIT
/*
 * The AOT engine as a whole: the emitted C and its comments, the cache (a
 * second load does not run the compiler, a damaged or foreign file is
 * rebuilt, a directory others can write is refused), the fallback when
 * there is no usable compiler and its warning, concurrent loads and runs,
 * building a shared object at a path, and errors reported as the
 * interpreter reports them.
 *
 * Usage: test_aot SCRATCH_DIR. Each case gets its own cache directory in
 * SCRATCH_DIR, removed at the end.
 */
#define _GNU_SOURCE /* nftw's FTW_DEPTH */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aot/aot.h"
#include "aot/aot_internal.h"
#include "check.h"
#include "isa/isa.h"
#include "uebpf/uebpf.h"
#include "vm/vm.h"

/* Set when the build links the JIT, which the fallback then prefers. */
extern const struct vm_engine vm_jit_engine __attribute__((weak));

static char scratch[4096];
static const char *real_cc; /* UEBPF_CC as the test was started with */

static const char prog_sum[] = "mov %r0, 0\n"
			       "mov %r2, 10\n"
			       "loop:\n"
			       "add %r0, %r2\n"
			       "sub %r2, 1\n"
			       "jne %r2, 0, loop\n"
			       "ldxb %r3, [%r1+1]\n"
			       "add %r0, %r3\n"
			       "exit\n";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A cache directory for one case, made the current one through the environment. */
static void use_cache(const char *name, char *dir, size_t len)
{
	snprintf(dir, len, "%s/%s", scratch, name);
	setenv("UEBPF_AOT_CACHE", dir, 1);
}

static void use_cc(const char *cc)
{
	if (cc)
		setenv("UEBPF_CC", cc, 1);
	else
		unsetenv("UEBPF_CC");
}

/* Files in dir: shared objects, and anything else (temporary files left behind). */
static void count_files(const char *dir, int *objects, int *others)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	*objects = *others = 0;
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, ".evict.lock"))
			continue;
		if (de->d_name[0] != '.' && len == AOT_KEY_LEN - 1 + 3 &&
		    !strcmp(de->d_name + len - 3, ".so"))
			++*objects;
		else
			++*others;
	}
	if (d)
		closedir(d);
}

/* The path of the one shared object in dir, into path. */
static bool only_object(const char *dir, char *path, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.' && strstr(de->d_name, ".so")) {
			snprintf(path, len, "%s/%s", dir, de->d_name);
			found = true;
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* A VM on engine with text loaded; err gets what the load said. */
static struct uebpf_vm *load(const char *text, enum uebpf_engine engine, char *err, size_t len,
			     int *ret)
{
	struct uebpf_vm *vm = uebpf_vm_create();

	err[0] = '\0';
	uebpf_vm_set_engine(vm, engine);
	*ret = uebpf_vm_load_asm(vm, text, err, len);
	return vm;
}

static uint64_t run_sum(const struct uebpf_vm *vm)
{
	uint8_t mem[4] = {1, 2, 3, 4};
	char err[256];
	uint64_t r0 = 0;

	if (uebpf_vm_run(vm, mem, sizeof(mem), &r0, err, sizeof(err)))
		printf("run failed: %s\n", err);
	return r0;
}

static void test_emit(void)
{
	const char *text = "mov %r0, 1\n"
			   "jeq %r1, 0, out\n"
			   "ldxw %r0, [%r1+4]\n"
			   "stxdw [%r10-8], %r0\n"
			   "lock add [%r1+8], %r0\n"
			   "out:\n"
			   "exit\n";
	char err[256], *c = NULL;
	size_t len;
	int ret;
	struct uebpf_vm *vm = load(text, UEBPF_ENGINE_INTERP, err, sizeof(err), &ret);
	FILE *f = open_memstream(&c, &len);

	EXPECT(!ret, "load: %s", err);
	EXPECT(!aot_emit_c(vm, f, err, sizeof(err)), "emit: %s", err);
	fclose(f);
	EXPECT(strstr(c, "/* 0: mov %r0, 1 */\n\tr0 = 1;\n"), "comment above its statement:\n%s",
	       c);
	EXPECT(strstr(c, "/* 1: jeq %r1, 0, +3 */\n\tif (r1 == 0)\n\t\tgoto L5;\n"), "jump:\n%s",
	       c);
	EXPECT(strstr(c, "L5:\n\t/* 5: exit */\n\treturn r0;\n"), "label and exit:\n%s", c);
	EXPECT(strstr(c, "/* 2: ldxw %r0, [%r1+4] */\n") && strstr(c, "if (!AOT_OK(a, 4, 0))") &&
		       strstr(c, "aot_fault(ctx, AOT_FAULT_MEM, 2, a, 4, 0)"),
	       "checked load:\n%s", c);
	EXPECT(strstr(c, "/* 3: stxdw [%r10-8], %r0 */\n\taot_st64(r10 - 8, r0);\n"),
	       "unchecked stack store:\n%s", c);
	free(c);
	uebpf_vm_destroy(vm);
}

/*
 * An access the verifier proves inside the run's memory runs without its
 * check, on the AOT engine as on the others, and still gives the right value.
 */
static void test_verified(void)
{
	const char *text = "mov %r0, 0\n"
			   "jlt %r2, 8, out\n"
			   "ldxw %r0, [%r1+4]\n"
			   "out:\n"
			   "exit\n";
	uint8_t mem[8] = {0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12};
	char err[1024], dir[4200], *c = NULL;
	uint64_t r0 = 0;
	size_t len;
	FILE *f;

	use_cache("verified", dir, sizeof(dir));
	use_cc(real_cc);
	for (int verify = 0; verify < 2; verify++) {
		struct uebpf_vm *vm = uebpf_vm_create();
		int ret;

		uebpf_vm_set_engine(vm, UEBPF_ENGINE_AOT);
		if (verify)
			uebpf_vm_set_verify(vm, UEBPF_PROG_RAW_MEM);
		err[0] = '\0';
		ret = uebpf_vm_load_asm(vm, text, err, sizeof(err));
		EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine, "load (verify %d): %d '%s'",
		       verify, ret, err);
		f = open_memstream(&c, &len);
		EXPECT(!aot_emit_c(vm, f, err, sizeof(err)), "emit: %s", err);
		fclose(f);
		if (verify)
			EXPECT(!strstr(c, "if (!AOT_OK(") &&
				       strstr(c, "\tr0 = aot_ld32(r1 + 4);\n"),
			       "verified, so unchecked:\n%s", c);
		else
			EXPECT(strstr(c, "if (!AOT_OK(a, 4, 0))"), "not verified, so checked:\n%s",
			       c);
		free(c);
		ret = uebpf_vm_run(vm, mem, sizeof(mem), &r0, err, sizeof(err));
		EXPECT(!ret && r0 == 0x12345678, "run (verify %d): %d %#" PRIx64 " %s", verify, ret,
		       r0, err);
		uebpf_vm_destroy(vm);
	}
}

/*
 * A compare of a register with itself: the emitter turns it into a
 * constant, once wrongly (`jne r7, r7` jumped). One program holds every
 * condition at both widths; bit i of r0 is set when jump i falls through.
 * The expected masks follow from the conditions alone, not from another
 * engine.
 */
static void test_same_operands(void)
{
	static const struct {
		uint8_t op;
		bool taken; /* with equal operands; jset depends on the value */
	} conds[] = {
		{ISA_JEQ, true},   {ISA_JNE, false}, {ISA_JGT, false},	{ISA_JGE, true},
		{ISA_JLT, false},  {ISA_JLE, true},  {ISA_JSGT, false}, {ISA_JSGE, true},
		{ISA_JSLT, false}, {ISA_JSLE, true}, {ISA_JSET, false},
	};
	static const uint64_t values[] = {0,	     1, 2, 0xffffffff80000000ull, 0x100000000ull,
					  UINT64_MAX};
	enum { NCONDS = sizeof(conds) / sizeof(conds[0]) };
	struct isa_insn prog[3 + 4 * NCONDS + 1];
	char err[1024], dir[4200];
	struct uebpf_vm *vm = uebpf_vm_create();
	size_t n = 0;
	int ret;

	use_cache("same-operands", dir, sizeof(dir));
	use_cc(real_cc);
	prog[n++] = (struct isa_insn){ISA_LDX | ISA_MEM | ISA_DW, 7, 1, 0, 0};
	prog[n++] = (struct isa_insn){ISA_ALU64 | ISA_MOV | ISA_K, 0, 0, 0, 0};
	for (unsigned w = 0; w < 2; w++) {
		for (unsigned c = 0; c < NCONDS; c++) {
			prog[n++] = (struct isa_insn){
				conds[c].op | ISA_X | (w ? ISA_JMP32 : ISA_JMP), 7, 7, 1, 0};
			prog[n++] = (struct isa_insn){ISA_ALU64 | ISA_OR | ISA_K, 0, 0, 0,
						      (int32_t)(1u << (w * NCONDS + c))};
		}
	}
	prog[n++] = (struct isa_insn){ISA_OP_EXIT, 0, 0, 0, 0};
	uebpf_vm_set_engine(vm, UEBPF_ENGINE_AOT);
	err[0] = '\0';
	ret = uebpf_vm_load(vm, prog, n * sizeof(prog[0]), err, sizeof(err));
	EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine, "load: %d '%s'", ret, err);
	for (size_t v = 0; !ret && v < sizeof(values) / sizeof(values[0]); v++) {
		uint64_t mem = values[v], r0 = 0, want = 0;

		for (unsigned w = 0; w < 2; w++) {
			for (unsigned c = 0; c < NCONDS; c++) {
				bool taken = conds[c].taken;

				if (conds[c].op == ISA_JSET)
					taken = w ? (uint32_t)mem != 0 : mem != 0;
				if (!taken)
					want |= 1ull << (w * NCONDS + c);
			}
		}
		ret = uebpf_vm_run(vm, &mem, sizeof(mem), &r0, err, sizeof(err));
		EXPECT(!ret && r0 == want,
		       "r7 = %#" PRIx64 ": r0 %#" PRIx64 ", want %#" PRIx64 " %s", values[v], r0,
		       want, ret ? err : "");
	}
	uebpf_vm_destroy(vm);
}

static void test_cache(void)
{
	char err[1024], dir[4200], script[4200];
	FILE *f;
	int ret, objects, others;
	struct uebpf_vm *vm;
	double t;

	use_cache("cache", dir, sizeof(dir));
	use_cc(real_cc);
	t = now_ms();
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	t = now_ms() - t;
	EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine, "first load: %d '%s'", ret, err);
	EXPECT(run_sum(vm) == 57, "first load runs");
	uebpf_vm_destroy(vm);
	count_files(dir, &objects, &others);
	EXPECT(objects == 1 && others == 0, "cache holds %d objects and %d other files", objects,
	       others);
	printf("load with compilation: %.1f ms\n", t);

	/* The second load must not need the compiler. */
	use_cc("/nonexistent/cc");
	t = now_ms();
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	t = now_ms() - t;
	EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine, "cached load: %d '%s'", ret, err);
	EXPECT(run_sum(vm) == 57, "cached load runs");
	printf("load from the cache: %.2f ms\n", t);

	/* A second VM of the same program in this process, while the first is alive. */
	{
		struct uebpf_vm *vm2 = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);

		EXPECT(!ret && vm2->engine == &vm_aot_engine && run_sum(vm2) == 57,
		       "second VM: %d '%s'", ret, err);
		uebpf_vm_destroy(vm2);
	}
	uebpf_vm_destroy(vm);

	/* A budget makes another translation, hence another file. */
	use_cc(real_cc);
	vm = uebpf_vm_create();
	uebpf_vm_set_engine(vm, UEBPF_ENGINE_AOT);
	uebpf_vm_set_insn_budget(vm, 1000);
	err[0] = '\0';
	ret = uebpf_vm_load_asm(vm, prog_sum, err, sizeof(err));
	EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine && run_sum(vm) == 57,
	       "budgeted load: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);
	count_files(dir, &objects, &others);
	EXPECT(objects == 2 && others == 0, "cache holds %d objects and %d other files", objects,
	       others);

	/* Any compiler's object serves: another one does not build its own. */
	snprintf(script, sizeof(script), "%s/other-cc", scratch);
	f = fopen(script, "w");
	fprintf(f, "#!/bin/sh\nexec '%s' \"$@\"\n", real_cc ? real_cc : "cc");
	fclose(f);
	chmod(script, 0755);
	use_cc(script);
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine && run_sum(vm) == 57,
	       "load with another compiler: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);
	count_files(dir, &objects, &others);
	EXPECT(objects == 2 && others == 0, "cache holds %d objects and %d other files", objects,
	       others);
	use_cc(real_cc);
}

/* Damaged and foreign files in the cache are rebuilt, never run. */
static void test_cache_damage(void)
{
	const char *other = "mov %r0, 99\nexit\n";
	char err[1024], dir[4200], sum_path[8192], other_path[8192], cmd[20000];
	struct uebpf_vm *vm;
	int ret;

	use_cc(real_cc);
	use_cache("damage-other", dir, sizeof(dir));
	vm = load(other, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	uebpf_vm_destroy(vm);
	EXPECT(only_object(dir, other_path, sizeof(other_path)), "no object in %s", dir);
	use_cache("damage", dir, sizeof(dir));
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	uebpf_vm_destroy(vm);
	EXPECT(only_object(dir, sum_path, sizeof(sum_path)), "no object in %s", dir);

	/* truncated */
	EXPECT(truncate(sum_path, 100) == 0, "truncate %s", sum_path);
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine && run_sum(vm) == 57,
	       "after truncation: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);

	/* another program's object under this program's name */
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", other_path, sum_path);
	EXPECT(system(cmd) == 0, "%s", cmd);
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine, "foreign object: %d '%s'", ret,
	       err);
	EXPECT(run_sum(vm) == 57, "a foreign object was run instead of the program");
	uebpf_vm_destroy(vm);
}

static void test_fallback(void)
{
	const char *fell_to = &vm_jit_engine ? "jit" : "interp";
	char err[2048], script[4200], dir[4200];
	struct uebpf_vm *vm;
	FILE *f;
	int ret;

	use_cache("fallback", dir, sizeof(dir));
	use_cc("/nonexistent/cc");

	/* Asked not to fall back, the load fails and says why. */
	setenv("UEBPF_AOT_FALLBACK", "0", 1);
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(ret == -ENOEXEC && strstr(err, "C compiler '/nonexistent/cc' not found") &&
		       strstr(err, "no fallback"),
	       "load without a compiler or fallback: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);
	unsetenv("UEBPF_AOT_FALLBACK");

	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(!ret, "load without a compiler fails: %s", err);
	EXPECT(strstr(err, "warning: AOT engine unavailable") && strstr(err, fell_to) &&
		       strstr(err, "C compiler '/nonexistent/cc' not found"),
	       "fallback message: %s", err);
	EXPECT(vm->engine != &vm_aot_engine && !strcmp(vm->engine->name, fell_to),
	       "fell back to %s", vm->engine->name);
	EXPECT(run_sum(vm) == 57, "fallback runs");
	uebpf_vm_destroy(vm);

	/* The compiler's own words reach the message. */
	snprintf(script, sizeof(script), "%s/failing-cc", scratch);
	f = fopen(script, "w");
	fputs("#!/bin/sh\necho 'boom: this compiler says no' >&2\nexit 3\n", f);
	fclose(f);
	chmod(script, 0755);
	use_cc(script);
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(!ret && strstr(err, "exit status 3") && strstr(err, "boom: this compiler says no"),
	       "compiler error: %d %s", ret, err);
	EXPECT(run_sum(vm) == 57, "fallback runs");
	uebpf_vm_destroy(vm);

	/* A cache directory others may write is refused: its files would be run. */
	use_cc(real_cc);
	use_cache("open", dir, sizeof(dir));
	mkdir(dir, 0700);
	chmod(dir, 0777);
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(!ret && strstr(err, "warning") && strstr(err, "not private"), "open cache: %s", err);
	EXPECT(run_sum(vm) == 57, "fallback runs");
	uebpf_vm_destroy(vm);
}

/* The embedding API's settings come before the environment's; NULL gives it back. */
static void test_api_config(void)
{
	char err[2048], dir[4200], api_dir[4200];
	struct uebpf_vm *vm;
	int ret, objects, others;

	use_cache("env-config", dir, sizeof(dir));
	snprintf(api_dir, sizeof(api_dir), "%s/api-config", scratch);
	use_cc(real_cc);
	EXPECT(uebpf_aot_set_compiler("") == -EINVAL && uebpf_aot_set_cache_dir("") == -EINVAL,
	       "empty settings are refused");

	EXPECT(!uebpf_aot_set_cache_dir(api_dir), "set the cache directory");
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine && run_sum(vm) == 57,
	       "load with the API's cache: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);
	count_files(api_dir, &objects, &others);
	EXPECT(objects == 1 && others == 0, "API cache holds %d objects and %d other files",
	       objects, others);
	count_files(dir, &objects, &others);
	EXPECT(objects == 0, "the environment's cache was used: %d objects", objects);

	/* a compiler set through the API wins over a working one in the environment */
	EXPECT(!uebpf_aot_set_compiler("/nonexistent/api-cc"), "set the compiler");
	EXPECT(!uebpf_aot_set_cache_dir(NULL), "unset the cache directory");
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(!ret && vm->engine != &vm_aot_engine && strstr(err, "'/nonexistent/api-cc'") &&
		       run_sum(vm) == 57,
	       "load with the API's compiler: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);

	EXPECT(!uebpf_aot_set_compiler(NULL), "unset the compiler");
	vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &ret);
	EXPECT(!ret && !err[0] && vm->engine == &vm_aot_engine && run_sum(vm) == 57,
	       "load after unsetting: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);
	count_files(dir, &objects, &others);
	EXPECT(objects == 1 && others == 0, "env cache holds %d objects and %d other files",
	       objects, others);
}

struct thread_arg {
	struct uebpf_vm *vm;
	int ret;
	bool aot;
	uint64_t r0;
	unsigned bad;
};

static void *load_thread(void *p)
{
	struct thread_arg *a = p;
	char err[1024];

	a->vm = load(prog_sum, UEBPF_ENGINE_AOT, err, sizeof(err), &a->ret);
	a->aot = !a->ret && !err[0] && a->vm->engine == &vm_aot_engine;
	a->r0 = a->ret ? 0 : run_sum(a->vm);
	return NULL;
}

static void *run_thread(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 2000; i++)
		a->bad += run_sum(a->vm) != 57;
	return NULL;
}

static void test_concurrency(void)
{
	struct thread_arg loads[8] = {0}, runs[8] = {0};
	pthread_t t[8];
	char dir[4200];
	int objects, others;
	unsigned ok = 0, bad = 0;

	use_cache("concurrent", dir, sizeof(dir));
	use_cc(real_cc);
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, load_thread, &loads[i]);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ok += loads[i].aot && loads[i].r0 == 57;
	}
	EXPECT(ok == 8, "%u of 8 concurrent loads ran on the AOT engine", ok);
	count_files(dir, &objects, &others);
	EXPECT(objects == 1 && others == 0, "cache holds %d objects and %d other files", objects,
	       others);

	/* Many threads running one loaded program. */
	for (int i = 0; i < 8; i++) {
		runs[i].vm = loads[0].vm;
		pthread_create(&t[i], NULL, run_thread, &runs[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		bad += runs[i].bad;
	}
	EXPECT(!bad, "%u of 16000 concurrent runs went wrong", bad);
	for (int i = 0; i < 8; i++)
		uebpf_vm_destroy(loads[i].vm);
}

static void test_compile_so(void)
{
	char err[1024], path[4200];
	struct uebpf_vm *vm;
	void *h;
	int ret;

	use_cc(real_cc);
	vm = load(prog_sum, UEBPF_ENGINE_INTERP, err, sizeof(err), &ret);
	snprintf(path, sizeof(path), "%s/out.so", scratch);
	ret = aot_compile_so(vm, NULL, path, err, sizeof(err));
	EXPECT(!ret, "compile to %s: %s", path, err);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	EXPECT(h && dlsym(h, AOT_SYM_ENTRY) && dlsym(h, AOT_SYM_IDENTITY), "%s: %s", path,
	       h ? "symbols missing" : dlerror());
	if (h)
		dlclose(h);

	ret = aot_compile_so(vm, "/nonexistent/cc", path, err, sizeof(err));
	EXPECT(ret == -ENOENT && strstr(err, "'/nonexistent/cc' not found"), "no compiler: %d %s",
	       ret, err);
	ret = aot_compile_so(vm, NULL, "/nonexistent/dir/out.so", err, sizeof(err));
	EXPECT(ret && strstr(err, "/nonexistent/dir"), "bad path: %d %s", ret, err);
	uebpf_vm_destroy(vm);
}

/*
 * Errors reach the caller with the interpreter's errno and words; for the
 * budget, all but the instruction index (see aot.c).
 */
static void test_errors(void)
{
	static const struct {
		const char *text;
		uint64_t budget;
	} progs[] = {
		{"ldxw %r0, [%r1+14]\nexit\n", 0},
		{"mov %r2, 77\ncall %r2\nexit\n", 0},
		{"call local f\nexit\nf:\ncall local f\nexit\n", 0},
		{"mov %r0, 0\nloop:\nadd %r0, 1\nja loop\n", 1000},
		{"lock add [%r1+1], %r0\nexit\n", 0},
	};
	uint8_t mem[16] __attribute__((aligned(8))) = {0};
	char want[256], got[256], dir[4200];

	use_cache("errors", dir, sizeof(dir));
	use_cc(real_cc);
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct uebpf_vm *vm[2];
		int ret[2];
		uint64_t r0;

		for (int e = 0; e < 2; e++) {
			char *msg = e ? got : want;

			vm[e] = uebpf_vm_create();
			uebpf_vm_set_insn_budget(vm[e], progs[i].budget);
			uebpf_vm_set_engine(vm[e], e ? UEBPF_ENGINE_AOT : UEBPF_ENGINE_INTERP);
			msg[0] = '\0';
			ret[e] = uebpf_vm_load_asm(vm[e], progs[i].text, msg, 256);
			EXPECT(!ret[e] && !msg[0], "program %zu: load: %s", i, msg);
			ret[e] = uebpf_vm_run(vm[e], mem, sizeof(mem), &r0, msg, 256);
		}
		EXPECT(vm[1]->engine == &vm_aot_engine, "program %zu is not on the AOT engine", i);
		if (progs[i].budget)
			EXPECT(ret[0] == -E2BIG && ret[1] == -E2BIG &&
				       strstr(got, "instruction budget of 1000 used up"),
			       "budget: %d '%s' / %d '%s'", ret[0], want, ret[1], got);
		else
			EXPECT(ret[0] == ret[1] && ret[0] < 0 && !strcmp(want, got),
			       "program %zu: interp %d '%s', aot %d '%s'", i, ret[0], want, ret[1],
			       got);
		uebpf_vm_destroy(vm[0]);
		uebpf_vm_destroy(vm[1]);
	}
}

/* A program of its own for each n: "mov r0, n; add r0, r2; exit" plus r1's first byte. */
static struct uebpf_vm *load_numbered(unsigned n, int *ret, char *err, size_t len)
{
	char text[128];

	snprintf(text, sizeof(text), "mov %%r0, %u\nldxb %%r3, [%%r1]\nadd %%r0, %%r3\nexit\n", n);
	return load(text, UEBPF_ENGINE_AOT, err, len, ret);
}

static uint64_t run_numbered(const struct uebpf_vm *vm)
{
	uint8_t mem[1] = {100};
	uint64_t r0 = 0;

	uebpf_vm_run(vm, mem, sizeof(mem), &r0, NULL, 0);
	return r0;
}

/* The modification time of path, the cache's clock of use. */
static void set_mtime(const char *dir, const char *name, time_t t)
{
	char path[4400];
	struct timespec ts[2] = {{t, 0}, {t, 0}};

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	utimensat(AT_FDCWD, path, ts, 0);
}

/* The objects of dir by name, into names (up to max). */
static int object_names(const char *dir, char names[][64], int max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)) && n < max) {
		if (de->d_name[0] != '.' && strstr(de->d_name, ".so"))
			snprintf(names[n++], 64, "%.63s", de->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

static bool has_name(char names[][64], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/*
 * The cache's bound: with room for about two objects, publishing a third
 * evicts the least recently used one (a hit makes an object recent again),
 * never the one just published; a VM whose object was evicted still runs
 * (eviction unlinks, the mapping stays); no limit evicts nothing; stale
 * temporary files go.
 */
static void test_cache_evict(void)
{
	char err[1024], dir[4200], a[64], b[64], names[8][64], path[4400];
	struct uebpf_vm *vm_a, *vm;
	struct stat st;
	int ret, n;

	use_cache("evict", dir, sizeof(dir));
	use_cc(real_cc);
	unsetenv("UEBPF_AOT_CACHE_MAX");
	vm_a = load_numbered(1, &ret, err, sizeof(err));
	EXPECT(!ret && vm_a->engine == &vm_aot_engine, "load 1: %d '%s'", ret, err);
	n = object_names(dir, names, 8);
	REQUIRE(n == 1, "one object after one load, %d", n);
	snprintf(a, sizeof(a), "%s", names[0]);
	snprintf(path, sizeof(path), "%s/%s", dir, a);
	REQUIRE(!stat(path, &st), "stat %s", path);
	vm = load_numbered(2, &ret, err, sizeof(err));
	EXPECT(!ret && run_numbered(vm) == 102, "load 2: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);
	n = object_names(dir, names, 8);
	REQUIRE(n == 2, "two objects, %d", n);
	snprintf(b, sizeof(b), "%s", strcmp(names[0], a) ? names[0] : names[1]);
	/* a was used longest ago, b after it; then a hit makes a the most recent */
	set_mtime(dir, a, 1000000);
	set_mtime(dir, b, 2000000);
	use_cc("/nonexistent/cc");
	vm = load_numbered(1, &ret, err, sizeof(err));
	EXPECT(!ret && !err[0] && run_numbered(vm) == 101, "load 1 from the cache: %d '%s'", ret,
	       err);
	uebpf_vm_destroy(vm);
	use_cc(real_cc);
	/* room for two and a half objects: the third evicts one, b */
	snprintf(path, sizeof(path), "%llu", (unsigned long long)st.st_size * 5 / 2);
	setenv("UEBPF_AOT_CACHE_MAX", path, 1);
	vm = load_numbered(3, &ret, err, sizeof(err));
	EXPECT(!ret && run_numbered(vm) == 103, "load 3: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);
	n = object_names(dir, names, 8);
	EXPECT(n == 2 && has_name(names, n, a) && !has_name(names, n, b),
	       "the least recently used object is evicted, the recent one kept (%d left)", n);
	/* the evicted objects' VMs run on, as does vm_a whatever happened to its file */
	EXPECT(run_numbered(vm_a) == 101, "a VM whose object may be gone runs");
	/* a limit below one object keeps the object just published */
	setenv("UEBPF_AOT_CACHE_MAX", "1K", 1);
	vm = load_numbered(4, &ret, err, sizeof(err));
	EXPECT(!ret && run_numbered(vm) == 104, "load 4: %d '%s'", ret, err);
	uebpf_vm_destroy(vm);
	n = object_names(dir, names, 8);
	EXPECT(n == 1, "a tiny limit leaves only the newest object, %d left", n);
	/* no limit: nothing evicted; a temporary left by a dead compilation goes */
	setenv("UEBPF_AOT_CACHE_MAX", "0", 1);
	snprintf(path, sizeof(path), "%s/.0123456789abcdef0123456789abcdef-AbCdEf.c", dir);
	fclose(fopen(path, "w"));
	set_mtime(dir, ".0123456789abcdef0123456789abcdef-AbCdEf.c", 1000000);
	vm = load_numbered(5, &ret, err, sizeof(err));
	uebpf_vm_destroy(vm);
	EXPECT(object_names(dir, names, 8) == 2, "no limit: nothing evicted");
	setenv("UEBPF_AOT_CACHE_MAX", "1G", 1);
	vm = load_numbered(6, &ret, err, sizeof(err));
	uebpf_vm_destroy(vm);
	EXPECT(object_names(dir, names, 8) == 3 && stat(path, &st) && errno == ENOENT,
	       "under the limit nothing is evicted; the stale temporary is removed");
	uebpf_vm_destroy(vm_a);
	unsetenv("UEBPF_AOT_CACHE_MAX");
}

/* Threads of a process evicting at once while loading: every load runs its own program. */
static void *evict_thread(void *p)
{
	unsigned base = (unsigned)(uintptr_t)p;
	char err[1024];
	int ret, bad = 0;

	for (unsigned i = 0; i < 4; i++) {
		struct uebpf_vm *vm = load_numbered(base + i, &ret, err, sizeof(err));

		bad += ret || run_numbered(vm) != 100 + base + i;
		uebpf_vm_destroy(vm);
	}
	return (void *)(uintptr_t)bad;
}

static void test_cache_evict_concurrent(void)
{
	char dir[4200], names[16][64];
	pthread_t t[4];
	int bad = 0;

	use_cache("evict-mt", dir, sizeof(dir));
	use_cc(real_cc);
	setenv("UEBPF_AOT_CACHE_MAX", "20K", 1);
	for (uintptr_t i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, evict_thread, (void *)(200 + 10 * i));
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(t[i], &r);
		bad += (int)(uintptr_t)r;
	}
	EXPECT(!bad, "%d of 16 concurrent loads failed or ran another program", bad);
	EXPECT(object_names(dir, names, 16) < 16, "the cache was bounded");
	unsetenv("UEBPF_AOT_CACHE_MAX");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
		return 2;
	}
	snprintf(scratch, sizeof(scratch), "%s/run-%ld", argv[1], (long)getpid());
	mkdir(argv[1], 0700);
	if (mkdir(scratch, 0700)) {
		perror(scratch);
		return 2;
	}
	real_cc = getenv("UEBPF_CC") ? strdup(getenv("UEBPF_CC")) : NULL;
	/* the fallback is tested here; every other case must run on the AOT engine anyway */
	unsetenv("UEBPF_AOT_FALLBACK");
	test_emit();
	test_verified();
	test_same_operands();
	test_cache();
	test_cache_damage();
	test_cache_evict();
	test_cache_evict_concurrent();
	test_fallback();
	test_api_config();
	test_concurrency();
	test_compile_so();
	test_errors();
	nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_summary();
}
