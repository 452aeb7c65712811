/* SPDX-License-Identifier: MIT */
/*
 * The helpers tests' harness: checks, the engine under test (from the
 * command line), and programs in assembly text with map references. The
 * assembler has no syntax for lddw pseudo forms, so the text names them
 * as tokens that become marked immediates and then the real instruction:
 *   map_fd:N           lddw of BPF_PSEUDO_MAP_FD, fd N
 *   map_value:N+OFF    BPF_PSEUDO_MAP_VALUE, fd N, offset OFF
 *   map_idx:N          BPF_PSEUDO_MAP_IDX, fd_array index N
 *   map_idx_value:N+OFF
 *   func:LABEL         BPF_PSEUDO_FUNC of the function at LABEL
 * "fds" and the fd_array are the test's tables of maps. func:LABEL takes
 * the assembler's labels through a "ja LABEL" put after its line, which
 * becomes a "ja +0" once the lddw has its offset.
 */
#ifndef UEBPF_TESTS_HELPERS_HARNESS_H
#define UEBPF_TESTS_HELPERS_HARNESS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "helpers/helpers.h"
#include "isa/asm.h"
#include "maps/maps.h"
#include "uebpf/uebpf.h"
#include "vm/vm.h"

#define NMAPS 8

struct maps_env {
	struct map *fds[NMAPS];
	struct map *fd_array[NMAPS];
};

static enum uebpf_engine engine = UEBPF_ENGINE_INTERP;

static struct map *env_resolve(void *ctx, unsigned kind, int32_t imm)
{
	struct maps_env *env = ctx;
	bool by_fd = kind == ISA_PSEUDO_MAP_FD || kind == ISA_PSEUDO_MAP_VALUE;

	if (imm < 0 || imm >= NMAPS)
		return NULL;
	return by_fd ? env->fds[imm] : env->fd_array[imm];
}

#define MARK 0x7eb0u

static const struct {
	const char *token;
	unsigned src;
} map_tokens[] = {
	{"map_fd:", ISA_PSEUDO_MAP_FD},	  {"map_value:", ISA_PSEUDO_MAP_VALUE},
	{"map_idx:", ISA_PSEUDO_MAP_IDX}, {"map_idx_value:", ISA_PSEUDO_MAP_IDX_VALUE},
	{"func:", ISA_PSEUDO_FUNC},
};

/* Text with each map token replaced by its marked immediate; malloc'd. */
static char *expand_tokens(const char *text)
{
	size_t cap = strlen(text) * 4 + 64, o = 0;
	char *out = malloc(cap), label[64] = "";

	while (*text) {
		size_t i, len = 0;

		if (*text == '\n' && label[0]) {
			o += (size_t)sprintf(out + o, "\nja %s", label);
			label[0] = '\0';
		}

		for (i = 0; i < sizeof(map_tokens) / sizeof(map_tokens[0]); i++) {
			len = strlen(map_tokens[i].token);
			if (!strncmp(text, map_tokens[i].token, len))
				break;
		}
		if (i == sizeof(map_tokens) / sizeof(map_tokens[0])) {
			out[o++] = *text++;
			continue;
		}
		if (map_tokens[i].src == ISA_PSEUDO_FUNC) {
			size_t n = strcspn(text + len, " \t\n#");

			snprintf(label, sizeof(label), "%.*s", (int)n, text + len);
			o += (size_t)sprintf(out + o, "0x%04x%x00000000000", MARK, ISA_PSEUDO_FUNC);
			text += len + n;
			continue;
		}
		{
			char *end;
			unsigned long n = strtoul(text + len, &end, 10), off = 0;

			if (*end == '+')
				off = strtoul(end + 1, &end, 10);
			o += (size_t)sprintf(out + o, "0x%04x%x%03lx%08lx", MARK, map_tokens[i].src,
					     off, n);
			text = end;
		}
	}
	out[o] = '\0';
	return out;
}

/* Assemble text with map tokens into instructions with pseudo sources. */
static int assemble(const char *text, struct isa_insn **insns, size_t *n, char *err, size_t err_len)
{
	char *expanded = expand_tokens(text);
	int ret = isa_assemble(expanded, insns, n, err, err_len);

	free(expanded);
	for (size_t pc = 0; !ret && pc + 1 < *n; pc++) {
		struct isa_insn *in = &(*insns)[pc];
		uint32_t hi = (uint32_t)in[1].imm;

		if (in->opcode != ISA_OP_LDDW || hi >> 16 != MARK)
			continue;
		in->src = (hi >> 12) & 0xf;
		in[1].imm = in->src == ISA_PSEUDO_MAP_VALUE || in->src == ISA_PSEUDO_MAP_IDX_VALUE
				    ? (int32_t)(hi & 0xfff)
				    : 0;
		if (in->src == ISA_PSEUDO_FUNC) {
			/* the ja after it: target pc + 3 + off, relative to pc + 1 */
			in->imm = 2 + in[2].off;
			in[2].off = 0;
		}
		pc++;
	}
	return ret;
}

/* A VM on the engine under test with every helper and env's maps; NULL and err on failure. */
static struct uebpf_vm *load_text(struct maps_env *env, const char *text, char *err, size_t err_len,
				  int *ret)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	struct isa_insn *insns = NULL;
	size_t n = 0;

	*ret = uebpf_vm_set_engine(vm, engine) ?: helpers_register_all(vm)
		?: vm_set_map_resolver(vm, env_resolve, env)
		?: assemble(text, &insns, &n, err, err_len)
		?: uebpf_vm_load(vm, insns, n * sizeof(*insns), err, err_len);
	free(insns);
	if (*ret) {
		uebpf_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

/* Load and run text once over mem; returns the run's errno, r0 in *r0. */
static int run_text(struct maps_env *env, const char *text, void *mem, size_t len, uint64_t *r0)
{
	char err[256] = "";
	int ret;
	struct uebpf_vm *vm = load_text(env, text, err, sizeof(err), &ret);

	if (!vm) {
		printf("  load failed: %d %s\n", ret, err);
		return ret;
	}
	ret = uebpf_vm_run(vm, mem, len, r0, err, sizeof(err));
	if (ret)
		printf("  run: %d %s\n", ret, err);
	uebpf_vm_destroy(vm);
	return ret;
}

static struct map *make_map(uint32_t type, uint32_t key_size, uint32_t value_size,
			    uint32_t max_entries, uint32_t flags)
{
	struct map_attr attr = {type, key_size, value_size, max_entries, flags, 0, ""};
	struct map *m = NULL;
	char err[128];
	int ret = map_create(&attr, &m, err, sizeof(err));

	if (ret) {
		printf("map_create type %u: %d %s\n", type, ret, err);
		exit(1);
	}
	return m;
}

static void close_env(struct maps_env *env)
{
	for (int i = 0; i < NMAPS; i++) {
		map_close(env->fds[i]);
		if (env->fd_array[i] != env->fds[i])
			map_close(env->fd_array[i]);
	}
	memset(env, 0, sizeof(*env));
}

static uint64_t stack_probe(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	const struct vm_run *run = vm_current_run;

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return run && run->stack_lo < r1 && r1 <= run->stack_hi;
}

/* Whether a helper called by the engine finds r10 inside the run's stack. */
static bool engine_publishes_stack(void)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	uint64_t r0 = 0;
	char err[256];
	int ret = uebpf_vm_set_engine(vm, engine)
		?: uebpf_vm_register_helper(vm, 1000, "stack_probe", stack_probe)
		?: uebpf_vm_load_asm(vm, "mov %r1, %r10\ncall 1000\nexit\n", err, sizeof(err))
		?: uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err));

	uebpf_vm_destroy(vm);
	return !ret && r0 == 1;
}

/* "--engine interp|jit|aot"; exits 77 (skip) when this build lacks the engine. */
static void parse_engine(int argc, char **argv)
{
	static const char *const names[] = {"interp", "jit", "aot"};
	struct uebpf_vm *vm;

	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--engine"))
			continue;
		for (unsigned e = 0; e < 3; e++)
			if (!strcmp(argv[i + 1], names[e]))
				engine = (enum uebpf_engine)e;
	}
	vm = uebpf_vm_create();
	if (uebpf_vm_set_engine(vm, engine)) {
		printf("SKIP: no %s engine in this build\n", names[engine]);
		exit(77);
	}
	uebpf_vm_destroy(vm);
	if (!engine_publishes_stack()) {
		printf("SKIP: the %s engine does not tell helpers where its stack is (struct "
		       "vm_run: stack_lo, stack_hi), so helpers refuse every stack pointer\n",
		       names[engine]);
		exit(77);
	}
	printf("engine %s\n", names[engine]);
}

#endif
