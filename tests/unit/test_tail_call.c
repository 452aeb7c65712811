// SPDX-License-Identifier: MIT
/*
 * Tail calls through a PROG_ARRAY on every engine: a program that jumps to
 * another by index, a missing index and an empty slot (the caller goes on),
 * a program that tail-calls itself until the kernel's limit of 33 stops it,
 * a tail call from a local function, a target on another engine, one the
 * JIT runs without a frame, and a destroyed target (its ID finds nothing). Also the map's user side with
 * the kernel's error codes.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "isa/asm.h"
#include "maps/maps.h"
#include "uebpf/uebpf.h"
#include "vm/vm.h"

static struct map *progs_map;

static struct map *resolve(void *ctx, unsigned kind, int32_t imm)
{
	(void)ctx;
	return kind == ISA_PSEUDO_MAP_FD && imm == 7 ? progs_map : NULL;
}

/*
 * A VM of engine e running text, with bpf_tail_call; its lddw instructions
 * (all of "lddw %rN, 7") become references to the prog array, map fd 7.
 */
static struct uebpf_vm *load(enum uebpf_engine e, const char *text)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	struct isa_insn *insns = NULL;
	char err[256] = "";
	size_t n = 0;
	int ret;

	if (!vm)
		return NULL;
	ret = isa_assemble(text, &insns, &n, err, sizeof(err));
	for (size_t pc = 0; !ret && pc < n; pc++) {
		if (insns[pc].opcode == ISA_OP_LDDW)
			insns[pc++].src = ISA_PSEUDO_MAP_FD;
	}
	if (!ret)
		ret = uebpf_vm_set_engine(vm, e);
	if (!ret)
		ret = vm_set_map_resolver(vm, resolve, NULL);
	if (!ret)
		ret = uebpf_vm_register_helper_ex(vm, BPF_FUNC_tail_call, "tail_call", vm_tail_call,
						  UEBPF_HELPER_STOP_ON_ZERO);
	if (!ret)
		ret = uebpf_vm_load(vm, insns, n * sizeof(*insns), err, sizeof(err));
	free(insns);
	EXPECT(!ret, "load on engine %d: %d %s", e, ret, err);
	if (ret) {
		uebpf_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

/*
 * The caller: tail-calls index mem[0] of map fd 7 with the run's memory as
 * context; if that fails, returns 100 + its own mem[1].
 */
static const char caller_text[] = "mov %r6, %r1\n"
				  "ldxb %r3, [%r1]\n"
				  "lddw %r2, 7\n"
				  "call 12\n"
				  "ldxb %r0, [%r6+1]\n"
				  "add %r0, 100\n"
				  "exit\n";

/* The target: 1000 + mem[1]. */
static const char target_text[] = "ldxb %r0, [%r1+1]\n"
				  "add %r0, 1000\n"
				  "exit\n";

/* A target with no memory access, stack or call: the JIT runs it without a frame. */
static const char bare_text[] = "mov %r0, 77\n"
				"exit\n";

/* Counts its runs in mem[2], then tail-calls index 1, itself. */
static const char self_text[] = "mov %r6, %r1\n"
				"ldxb %r2, [%r1+2]\n"
				"add %r2, 1\n"
				"stxb [%r1+2], %r2\n"
				"lddw %r2, 7\n"
				"mov %r3, 1\n"
				"call 12\n"
				"ldxb %r0, [%r6+2]\n"
				"exit\n";

/*
 * The caller's tail call from a local function: as in the kernel, the
 * target's r0 returns to the function's caller, which goes on.
 */
static const char local_text[] = "call local sub\n"
				 "add %r0, 1\n"
				 "exit\n"
				 "sub:\n"
				 "mov %r6, %r1\n"
				 "mov %r3, 0\n"
				 "lddw %r2, 7\n"
				 "call 12\n"
				 "mov %r0, 66\n"
				 "exit\n";

static uint64_t run(struct uebpf_vm *vm, uint8_t *mem, size_t len, int *ret)
{
	char err[256] = "";
	uint64_t r0 = 0;

	*ret = uebpf_vm_run(vm, mem, len, &r0, err, sizeof(err));
	return r0;
}

static void set_slot(uint32_t index, const struct uebpf_vm *vm)
{
	uint32_t id = vm->id;

	EXPECT_RET(map_update_user(progs_map, &index, &id, BPF_ANY), 0);
}

static void test_engine(enum uebpf_engine e, enum uebpf_engine other)
{
	struct uebpf_vm *caller = load(e, caller_text), *target = load(other, target_text);
	struct uebpf_vm *self = load(e, self_text), *local = load(e, local_text);
	struct uebpf_vm *bare = load(other, bare_text);
	uint8_t mem[8] = {0, 5, 0};
	uint32_t zero = 0, one = 1, two = 2;
	int ret;
	uint64_t r0;

	if (!caller || !target || !self || !local || !bare)
		goto out;
	set_slot(0, target);
	set_slot(1, self);
	set_slot(2, bare);
	mem[0] = 2;
	r0 = run(caller, mem, sizeof(mem), &ret);
	EXPECT(!ret && r0 == 77, "engine %d: tail call to a bare program: %d, r0 %lu", e, ret,
	       (unsigned long)r0);
	mem[0] = 0;
	r0 = run(caller, mem, sizeof(mem), &ret);
	EXPECT(!ret && r0 == 1005, "engine %d: tail call to index 0: %d, r0 %lu", e, ret,
	       (unsigned long)r0);
	mem[0] = 3;
	r0 = run(caller, mem, sizeof(mem), &ret);
	EXPECT(!ret && r0 == 105, "engine %d: empty slot falls through: %d, r0 %lu", e, ret,
	       (unsigned long)r0);
	mem[0] = 200;
	r0 = run(caller, mem, sizeof(mem), &ret);
	EXPECT(!ret && r0 == 105, "engine %d: index out of range falls through: r0 %lu", e,
	       (unsigned long)r0);
	mem[2] = 0;
	r0 = run(self, mem, sizeof(mem), &ret);
	EXPECT(!ret && mem[2] == 1 + VM_MAX_TAIL_CALLS && r0 == 1 + VM_MAX_TAIL_CALLS,
	       "engine %d: self tail calls stop after %d: ran %u times, r0 %lu", e,
	       VM_MAX_TAIL_CALLS, mem[2], (unsigned long)r0);
	r0 = run(local, mem, sizeof(mem), &ret);
	EXPECT(!ret && r0 == 1006, "engine %d: tail call from a local function: r0 %lu", e,
	       (unsigned long)r0);
	/* a destroyed target: its ID stays in the map and finds nothing */
	uebpf_vm_destroy(target);
	target = NULL;
	mem[0] = 0;
	r0 = run(caller, mem, sizeof(mem), &ret);
	EXPECT(!ret && r0 == 105, "engine %d: destroyed target falls through: r0 %lu", e,
	       (unsigned long)r0);
	EXPECT_RET(map_delete_user(progs_map, &zero), 0);
	EXPECT_RET(map_delete_user(progs_map, &zero), -ENOENT);
	EXPECT_RET(map_delete_user(progs_map, &one), 0);
	EXPECT_RET(map_delete_user(progs_map, &two), 0);
	EXPECT_RET(map_delete_user(progs_map, &two), -ENOENT);
out:
	uebpf_vm_destroy(bare);
	uebpf_vm_destroy(caller);
	uebpf_vm_destroy(target);
	uebpf_vm_destroy(self);
	uebpf_vm_destroy(local);
}

static void test_user_side(void)
{
	struct map_attr bad = {.type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4, .value_size = 8,
			       .max_entries = 4};
	uint32_t key = 4, id = 9, out;
	struct map *m;
	char err[128];

	EXPECT_RET(map_create(&bad, &m, err, sizeof(err)), -EINVAL);
	key = 4;
	EXPECT_RET(map_update_user(progs_map, &key, &id, BPF_ANY), -E2BIG);
	key = 1;
	EXPECT_RET(map_update_user(progs_map, &key, &id, BPF_NOEXIST), -EINVAL);
	id = 0;
	EXPECT_RET(map_update_user(progs_map, &key, &id, BPF_ANY), -EINVAL);
	id = 9;
	EXPECT_RET(map_update_user(progs_map, &key, &id, BPF_ANY), 0);
	EXPECT_RET(map_lookup_user(progs_map, &key, &out), 0);
	EXPECT(out == 9, "lookup gives the ID: %u", out);
	key = 2;
	EXPECT_RET(map_lookup_user(progs_map, &key, &out), -ENOENT);
	key = 1;
	EXPECT(map_lookup(progs_map, &key) == NULL, "programs cannot look into a prog_array");
	EXPECT_RET(map_delete_user(progs_map, &key), 0);
}

int main(void)
{
	struct map_attr attr = {.type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4, .value_size = 4,
				.max_entries = 4};
	static const enum uebpf_engine engines[] = {UEBPF_ENGINE_INTERP, UEBPF_ENGINE_JIT,
						    UEBPF_ENGINE_AOT};
	char err[128];

	EXPECT_RET(map_create(&attr, &progs_map, err, sizeof(err)), 0);
	if (!progs_map)
		return check_summary();
	test_user_side();
	for (size_t i = 0; i < 3; i++)
		test_engine(engines[i], engines[(i + 1) % 3]);
	map_close(progs_map);
	return check_summary();
}
