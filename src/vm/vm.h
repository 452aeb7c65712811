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
 * register operand op->src. 64 or 32: operand width. _FP: an access proven
 * safe at load, so it runs unchecked: through r10 with a constant offset
 * inside the frame, or one the verifier proved (vm->proven).
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
	X(JA) X(CALL) X(CALL_STOPZ) X(CALL_TAILF) X(CALLX) X(CALL_LOCAL) X(EXIT)                  \
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
	/*
	 * Optional: from a helper of the run in progress, call the program's
	 * function starting at entry with r1-r5 = args, on a frame below the
	 * caller's, and return its r0 (bpf_loop, for_each_map_elem). A fault
	 * in it is recorded in *run, and the caller's run then stops too.
	 * Programs with callbacks (lddw of BPF_PSEUDO_FUNC) load only on
	 * engines that have it.
	 */
	uint64_t (*call_sub)(struct vm_run *run, const struct vm_op *entry, const uint64_t *args);
};

extern const struct vm_engine vm_interp_engine;

struct map;

/*
 * A map bound to the loaded program. The value a program gets from an lddw
 * of the map (BPF_PSEUDO_MAP_FD/IDX) is the address of this entry, its
 * handle: helpers take it back with vm_map_from_handle, which proves it is
 * one of the VM's entries, so a forged handle is refused, not followed.
 */
struct vm_map {
	struct map *map;
	bool rdonly_prog; /* BPF_F_RDONLY_PROG: the program may not write it */
};

/*
 * Resolves the map an lddw refers to at load: kind is the pseudo source
 * (ISA_PSEUDO_MAP_FD or _VALUE: imm is a map fd; ISA_PSEUDO_MAP_IDX or
 * _IDX_VALUE: imm indexes the loader's fd_array). Returns the map or NULL
 * when imm names none. The maps must outlive the VM: it keeps the pointers.
 */
typedef struct map *(*vm_map_resolve_fn)(void *ctx, unsigned kind, int32_t imm);

/*
 * Code that runs without a struct vm_run, what an engine may offer as
 * vm->direct: it stores the program's r0 in *r0 and returns 0, so that
 * uebpf_vm_run can hand the call over whole.
 */
typedef int (*vm_direct_fn)(uint64_t r1, uint64_t r2, uint64_t *r0);

struct uebpf_vm {
	const struct vm_engine *engine;
	uint32_t id; /* its ID for tail calls, from load to destruction (tail_call.c) */
	void *engine_state;
	/*
	 * Set by prepare when the program's code can fault in no way and needs
	 * no run state (no memory access, stack, call or budget): a run is then
	 * one call, the shortest way from the API to the program.
	 */
	vm_direct_fn direct;
	uint64_t insn_budget;

	struct vm_helper *helpers; /* indexed by helper ID */
	uint32_t nhelpers;

	struct vm_region *regions;
	size_t nregions;

	vm_map_resolve_fn map_resolve;
	void *map_resolve_ctx;
	struct vm_map *maps; /* distinct maps the program refers to, bound at load */
	size_t nmaps;
	size_t nuser_regions; /* regions added through the API; the maps' come after */
	bool calls_helpers; /* runs publish themselves in vm_current_run */
	size_t main_end; /* the main function's end: the slots after it are subprograms' */

	struct isa_insn *insns; /* the program as loaded */
	size_t ninsns;
	struct vm_op *ops; /* one per slot, decoded */

	/*
	 * uebpf_vm_set_verify: verify at load as this program type. During
	 * decode, proven[pc] says the verifier proved the load or store at pc
	 * inside memory the run is sure to have; decode gives it the unchecked
	 * form. NULL outside decode.
	 */
	bool verify;
	enum uebpf_prog_type prog_type;
	uint8_t *proven;
};

/* Helper bound to id, or NULL. */
const struct vm_helper *vm_helper(const struct uebpf_vm *vm, uint64_t id);

/*
 * Before load: how lddw map references are resolved. fn and ctx are used
 * during uebpf_vm_load only. Without a resolver a program with a map
 * reference is refused, naming the instruction.
 */
int vm_set_map_resolver(struct uebpf_vm *vm, vm_map_resolve_fn fn, void *ctx);

/*
 * The function a program passed to a helper as a callback (the value of an
 * lddw of BPF_PSEUDO_FUNC is the address of its first op), or NULL when
 * the value is no op of the program.
 */
static inline const struct vm_op *vm_callback_from_handle(const struct uebpf_vm *vm,
							  uint64_t handle)
{
	uint64_t off = handle - (uintptr_t)vm->ops;

	if (off >= vm->ninsns * sizeof(struct vm_op) || off % sizeof(struct vm_op))
		return NULL;
	return (const struct vm_op *)(uintptr_t)handle;
}

/* The bound map whose handle a program passed to a helper, or NULL. */
static inline const struct vm_map *vm_map_from_handle(const struct uebpf_vm *vm, uint64_t handle)
{
	uint64_t off = handle - (uintptr_t)vm->maps;

	if (off >= vm->nmaps * sizeof(struct vm_map) || off % sizeof(struct vm_map))
		return NULL;
	return (const struct vm_map *)(uintptr_t)handle;
}

/*
 * At load, after validation: resolves every map reference (vm->maps, and the
 * maps' memory as regions). Errors name the instruction.
 */
int vm_bind_maps(struct uebpf_vm *vm, const struct isa_insn *insns, size_t n, char *err,
		 size_t err_len);
/* The constant a validated lddw with a pseudo source loads, once maps are bound. */
uint64_t vm_lddw_value(const struct uebpf_vm *vm, const struct isa_insn *insn);
/* Drops what vm_bind_maps set up (a failed load, or destruction). */
void vm_unbind_maps(struct uebpf_vm *vm);

int vm_validate(const struct uebpf_vm *vm, const struct isa_insn *insns, size_t n, char *err,
		size_t err_len);
/* Where the main function ends: the first slot a local call or a callback enters. */
size_t vm_main_end(const struct isa_insn *insns, size_t n);
int vm_decode(const struct uebpf_vm *vm, const struct isa_insn *insns, size_t n,
	      struct vm_op *ops);
/*
 * At load, when verification is on: runs the verifier (src/verifier) and
 * sets vm->proven; the verifier's message goes into err on rejection.
 */
int vm_verify(struct uebpf_vm *vm, const struct isa_insn *insns, size_t n, char *err,
	      size_t err_len);

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
	/*
	 * The eBPF stack of this run, [stack_lo, stack_hi), set by the engine
	 * before the program starts: helpers accept pointers into it.
	 */
	uintptr_t stack_lo, stack_hi;
	/* the interpreter's current frame (lowest byte) at a helper call, for call_sub */
	uintptr_t frame_lo;
	/* a tail call bpf_tail_call asked for: the program and its context */
	const struct uebpf_vm *tail;
	uint64_t tail_ctx;
	unsigned tail_count;
	bool interp_only; /* a counted run: every program on the interpreter */
};

/* The kernel's MAX_TAIL_CALL_CNT: tail calls one run may make. */
#define VM_MAX_TAIL_CALLS 33

/* tail_call.c: program IDs (from load to destruction) and tail calls. */
int vm_prog_register(struct uebpf_vm *vm);
void vm_prog_unregister(struct uebpf_vm *vm);
/* The helper bpf_tail_call (registered stop-on-zero): 0 when the call will happen. */
uint64_t vm_tail_call(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4, uint64_t r5);
/*
 * After a program ended with r0: the tail calls it asked for, each on its
 * program's engine (on the interpreter when interp), until one ends without
 * asking or faults. Returns the last r0. The caller keeps run published in
 * vm_current_run meanwhile.
 */
uint64_t vm_run_tail_calls(struct vm_run *run, uint64_t r0, uint64_t r2, bool interp);

/*
 * bpf_tail_call from a bpf-to-bpf subprogram (VM_CALL_TAILF, decoded for
 * the calls to vm_tail_call outside the main function). As in the kernel,
 * the target takes the subprogram's place: its r0 returns to the
 * subprogram's caller, which goes on. Here the target, and the tail calls
 * it makes in turn, run at once, nested, sharing the run's count of tail
 * calls. err 0: the engine returns r0 from the subprogram; else err is
 * the failed tail call's -errno (its r0) and the subprogram goes on. A
 * fault in the target is the run's fault, which the engine checks.
 */
struct vm_tail_ret {
	uint64_t err, r0;
};
struct vm_tail_ret vm_tail_call_frame(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4,
				      uint64_t r5);

/*
 * The run in progress on this thread, for helpers (which get only r1-r5):
 * set by uebpf_vm_run around the engine's run when the program calls
 * helpers, NULL otherwise.
 */
extern __thread struct vm_run *vm_current_run __attribute__((tls_model("initial-exec")));

/*
 * May a helper of the current run access [addr, addr + size)? The run's
 * memory, its stack, and the VM's regions (maps' memory included).
 */
bool vm_run_mem_ok(const struct vm_run *run, uintptr_t addr, uint64_t size, bool write);
/* How many bytes from addr on a helper of the run may access: for strings. */
uint64_t vm_run_mem_avail(const struct vm_run *run, uintptr_t addr, bool write);

/*
 * The slow path of the run-time memory check: memory outside the run's
 * memory and stack, in one of the VM's regions. The fast cases are inline in
 * the engines.
 */
bool vm_region_ok(const struct uebpf_vm *vm, uintptr_t addr, unsigned size, bool write);

/* The negative errno of a failed run, with its message in err. */
int vm_run_error(const struct vm_run *run, char *err, size_t err_len);

#endif
