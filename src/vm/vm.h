/* SPDX-License-Identifier: MIT */
/*
 * vm: a loaded program and the internal form engines run.
 *
 * Loading validates the raw instructions (vm_validate), then decodes them
 * once into one struct vm_op per instruction slot (vm_decode): operation
 * resolved to a dense code, operands extracted, immediates widened, jump
 * targets turned into pointers, helper calls bound to their functions, and
 * cases with a constant answer folded (division by constant zero, shifts
 * masked, mov32/le to cheaper forms). The interpreter dispatches on this
 * form; the JIT and AOT tiers may translate it.
 */
#ifndef UEBPF_VM_H
#define UEBPF_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"
#include "uebpf/uebpf.h"

/*
 * Every internal operation. A/K suffix: immediate operand in op->k; X:
 * register operand op->src. 64 or 32: operand width. _FP: a stack access
 * through r10 with a constant offset proven inside the frame at load, so it
 * runs unchecked.
 */
#define VM_ALU_OPS(X, W)                                                                           \
	X(ADD##W##_K) X(ADD##W##_X) X(SUB##W##_K) X(SUB##W##_X) X(MUL##W##_K) X(MUL##W##_X)        \
	X(DIV##W##_K) X(DIV##W##_X) X(SDIV##W##_K) X(SDIV##W##_X) X(MOD##W##_K) X(MOD##W##_X)      \
	X(SMOD##W##_K) X(SMOD##W##_X) X(OR##W##_K) X(OR##W##_X) X(AND##W##_K) X(AND##W##_X)        \
	X(LSH##W##_K) X(LSH##W##_X) X(RSH##W##_K) X(RSH##W##_X) X(ARSH##W##_K) X(ARSH##W##_X)      \
	X(XOR##W##_K) X(XOR##W##_X) X(MOV##W##_X) X(NEG##W)

#define VM_JMP_OPS(X, W)                                                                           \
	X(JEQ##W##_K) X(JEQ##W##_X) X(JNE##W##_K) X(JNE##W##_X) X(JGT##W##_K) X(JGT##W##_X)        \
	X(JGE##W##_K) X(JGE##W##_X) X(JLT##W##_K) X(JLT##W##_X) X(JLE##W##_K) X(JLE##W##_X)        \
	X(JSGT##W##_K) X(JSGT##W##_X) X(JSGE##W##_K) X(JSGE##W##_X) X(JSLT##W##_K)                 \
	X(JSLT##W##_X) X(JSLE##W##_K) X(JSLE##W##_X) X(JSET##W##_K) X(JSET##W##_X)

#define VM_MEM_OPS(X, S)                                                                           \
	X(LDXB##S) X(LDXH##S) X(LDXW##S) X(LDXDW##S) X(LDXSB##S) X(LDXSH##S) X(LDXSW##S)           \
	X(STB##S) X(STH##S) X(STW##S) X(STDW##S) X(STXB##S) X(STXH##S) X(STXW##S) X(STXDW##S)

#define VM_ATOMIC_OPS(X, W)                                                                        \
	X(AADD##W) X(AOR##W) X(AAND##W) X(AXOR##W) X(AFADD##W) X(AFOR##W) X(AFAND##W)              \
	X(AFXOR##W) X(AXCHG##W) X(ACMPXCHG##W)

#define VM_OPS(X)                                                                                  \
	VM_ALU_OPS(X, 64)                                                                          \
	VM_ALU_OPS(X, 32)                                                                          \
	X(MOV64_K) X(MOVSX8_64) X(MOVSX16_64) X(MOVSX32_64) X(MOVSX8_32) X(MOVSX16_32)             \
	X(BE16) X(BE32) X(BE64) X(NOP)                                                             \
	X(LDDW)                                                                                    \
	VM_JMP_OPS(X, 64)                                                                          \
	VM_JMP_OPS(X, 32)                                                                          \
	X(JA) X(CALL) X(CALL_STOPZ) X(CALLX) X(CALL_LOCAL) X(EXIT)                                 \
	VM_MEM_OPS(X, )                                                                            \
	VM_MEM_OPS(X, _FP)                                                                         \
	VM_ATOMIC_OPS(X, 64)                                                                       \
	VM_ATOMIC_OPS(X, 32)

enum vm_opcode {
#define VM_ENUM(name) VM_##name,
	VM_OPS(VM_ENUM)
#undef VM_ENUM
		VM_NOPCODES
};

_Static_assert(VM_NOPCODES <= 256, "vm opcodes fit in a byte");

struct vm_op {
	uint8_t code; /* enum vm_opcode */
	uint8_t dst;
	uint8_t src;
	uint8_t pad;
	int32_t off; /* memory offset */
	uint64_t k; /* immediate, widened as the operation needs it */
	union {
		const struct vm_op *target; /* jumps, local calls */
		uebpf_helper_fn fn; /* helper calls */
	};
};

struct vm_helper {
	uebpf_helper_fn fn;
	unsigned flags;
	char name[32];
};

struct vm_region {
	uintptr_t base;
	size_t len;
	bool writable;
};

/* Run state of one call, on the caller's stack. */
struct vm_run;

/*
 * An execution engine. After the program is validated and decoded, prepare
 * builds what the engine needs (native code, a shared object) into
 * vm->engine_state; run executes the program for one call and reports a
 * fault in *run; release frees engine_state.
 */
struct vm_engine {
	const char *name;
	int (*prepare)(struct uebpf_vm *vm, char *err, size_t err_len);
	uint64_t (*run)(struct vm_run *run, uint64_t r1, uint64_t r2);
	void (*release)(struct uebpf_vm *vm);
};

extern const struct vm_engine vm_interp_engine;

struct uebpf_vm {
	const struct vm_engine *engine;
	void *engine_state;
	uint64_t insn_budget;

	struct vm_helper *helpers; /* indexed by helper ID */
	uint32_t nhelpers;

	struct vm_region *regions;
	size_t nregions;

	struct isa_insn *insns; /* the program as loaded */
	size_t ninsns;
	struct vm_op *ops; /* one per slot, decoded */
};

/* Helper bound to id, or NULL. */
const struct vm_helper *vm_helper(const struct uebpf_vm *vm, uint64_t id);

int vm_validate(const struct uebpf_vm *vm, const struct isa_insn *insns, size_t n, char *err,
		size_t err_len);
int vm_decode(const struct uebpf_vm *vm, const struct isa_insn *insns, size_t n,
	      struct vm_op *ops);

/* Why a run stopped early. */
enum vm_fault {
	VM_FAULT_NONE = 0,
	VM_FAULT_MEM, /* access outside the allowed memory: addr, size */
	VM_FAULT_ALIGN, /* misaligned atomic operation: addr */
	VM_FAULT_HELPER, /* callx to an unknown helper: addr is the ID */
	VM_FAULT_DEPTH, /* local call deeper than ISA_MAX_CALL_DEPTH frames */
	VM_FAULT_BUDGET, /* instruction budget used up */
};

struct vm_run {
	const struct uebpf_vm *vm;
	uintptr_t mem;
	size_t mem_len;
	/* instructions allowed (0: no limit), and on return those executed when counted */
	uint64_t budget;
	uint64_t executed;
	enum vm_fault fault;
	size_t pc; /* instruction that faulted */
	uint64_t addr;
	unsigned size;
};

/*
 * The slow path of the run-time memory check: memory outside the run's
 * memory and stack, in one of the VM's regions. The fast cases are inline in
 * the engines.
 */
bool vm_region_ok(const struct uebpf_vm *vm, uintptr_t addr, unsigned size, bool write);

/* The negative errno of a failed run, with its message in err. */
int vm_run_error(const struct vm_run *run, char *err, size_t err_len);

#endif
