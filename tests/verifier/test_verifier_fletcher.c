// SPDX-License-Identifier: MIT
/*
 * Raw-memory mode end to end: bench/progs/fletcher16.s with its uebpf
 * prologue verifies, decodes with no checked memory operation left, and
 * computes Fletcher-16 on the interpreter and the JIT as plain C does, for
 * lengths from 0 to the program's cap. Without verification the same load
 * keeps its check, and a program that reads the memory without comparing
 * against its end is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/vm.h"

#define CAP 4096 /* BENCH_FLETCHER16_CAP: the program counts down from it */

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

static uint64_t fletcher16(const uint8_t *p, size_t len)
{
	uint64_t s1 = 0, s2 = 0;

	for (size_t i = 0; i < len && i < CAP; i++) {
		s1 += p[i];
		s2 += s1;
	}
	return (s2 % 255) << 8 | (s1 % 255);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	static char buf[16384];
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strdup(buf);
}

/* Counts of checked and unchecked (_FP) loads and stores among the decoded ops. */
static void count_mem_ops(const struct uebpf_vm *vm, size_t *checked, size_t *unchecked)
{
	*checked = *unchecked = 0;
	for (size_t pc = 0; pc < vm->ninsns; pc++) {
		unsigned c = vm->ops[pc].code;

		*checked += c >= VM_LDXB && c <= VM_STXDW;
		*unchecked += c >= VM_LDXB_FP && c <= VM_STXDW_FP;
	}
}

static struct uebpf_vm *load(const char *text, enum uebpf_engine engine, bool verify, char *err,
			     size_t err_len)
{
	struct uebpf_vm *vm = uebpf_vm_create();

	if (!vm || uebpf_vm_set_engine(vm, engine) ||
	    (verify && uebpf_vm_set_verify(vm, UEBPF_PROG_RAW_MEM)) ||
	    uebpf_vm_load_asm(vm, text, err, err_len)) {
		uebpf_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

static void test_engine(const char *text, enum uebpf_engine engine, const char *name,
			const uint8_t *data)
{
	static const size_t lens[] = {0, 1, 2, 3, 7, 64, 255, 1000, 4095, CAP};
	char err[512] = "";
	struct uebpf_vm *vm = load(text, engine, true, err, sizeof(err));
	size_t checked, unchecked;
	uint64_t r0;

	CHECK(vm, "%s: verified load failed: %s", name, err);
	if (!vm)
		return;
	count_mem_ops(vm, &checked, &unchecked);
	CHECK(checked == 0 && unchecked == 1,
	      "%s: %zu checked and %zu unchecked memory ops after verification (want 0 and 1)",
	      name, checked, unchecked);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int ret = uebpf_vm_run(vm, (void *)data, lens[i], &r0, err, sizeof(err));

		CHECK(!ret && r0 == fletcher16(data, lens[i]),
		      "%s: len %zu: ret %d r0 %#llx, want %#llx (%s)", name, lens[i], ret,
		      (unsigned long long)r0, (unsigned long long)fletcher16(data, lens[i]),
		      ret ? err : "");
	}
	printf("%s: fletcher16 verified, %zu unchecked memory op, results match C\n", name,
	       unchecked);
	uebpf_vm_destroy(vm);
}

int main(int argc, char **argv)
{
	char path[4096], err[512];
	char *prologue, *body, *text;
	struct uebpf_vm *vm;
	size_t checked, unchecked;
	uint8_t *data;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BENCH_PROGS_DIR\n", argv[0]);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/fletcher16_uebpf.s", argv[1]);
	prologue = read_text(path);
	snprintf(path, sizeof(path), "%s/fletcher16.s", argv[1]);
	body = read_text(path);
	if (!prologue || !body) {
		fprintf(stderr, "cannot read the programs in %s\n", argv[1]);
		return 1;
	}
	text = malloc(strlen(prologue) + strlen(body) + 2);
	data = malloc(CAP);
	if (!text || !data)
		return 1;
	sprintf(text, "%s\n%s", prologue, body);
	srand(16);
	for (size_t i = 0; i < CAP; i++)
		data[i] = (uint8_t)rand();

	test_engine(text, UEBPF_ENGINE_INTERP, "interp", data);
	test_engine(text, UEBPF_ENGINE_JIT, "jit", data);

	/* without the verifier the decoder proves nothing about the packet load */
	vm = load(text, UEBPF_ENGINE_INTERP, false, err, sizeof(err));
	CHECK(vm, "unverified load failed: %s", err);
	if (vm) {
		count_mem_ops(vm, &checked, &unchecked);
		CHECK(checked == 1 && unchecked == 0, "unverified: %zu checked, %zu unchecked",
		      checked, unchecked);
		uebpf_vm_destroy(vm);
	}

	/* the same loop without the end comparison reads past the memory: refused */
	vm = load("mov %r0, 0\nldxb %r0, [%r1+0]\nexit\n", UEBPF_ENGINE_INTERP, true, err,
		  sizeof(err));
	CHECK(!vm && strstr(err, "invalid access to packet"), "unchecked read accepted: %s",
	      vm ? "(loaded)" : err);
	uebpf_vm_destroy(vm);
	/* a length check on r2 proves the bytes below it */
	vm = load("mov %r0, 0\njlt %r2, 4, out\nldxw %r0, [%r1+0]\nout:\nexit\n",
		  UEBPF_ENGINE_INTERP, true, err, sizeof(err));
	CHECK(vm, "length-checked read refused: %s", err);
	uebpf_vm_destroy(vm);
	vm = load("mov %r0, 0\njlt %r2, 4, out\nldxw %r0, [%r1+1]\nout:\nexit\n",
		  UEBPF_ENGINE_INTERP, true, err, sizeof(err));
	CHECK(!vm, "read one byte past a length check accepted");
	uebpf_vm_destroy(vm);

	free(prologue);
	free(body);
	free(text);
	free(data);
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
