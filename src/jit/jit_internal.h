/* SPDX-License-Identifier: MIT */
/*
 * What the JIT's files share: the per-run context the native code works
 * with, the compiled image, the fault descriptors the code hands to C, and
 * the functions between compiler, executable memory and engine glue. See
 * jit_compile.c for how the code uses them.
 */
#ifndef UEBPF_JIT_INTERNAL_H
#define UEBPF_JIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jit.h"
#include "vm/vm.h"

/*
 * The state of one run, right above the eBPF stack in jit_frame: its address
 * is the stack top, which is r10 in the main frame. Written by jit_run
 * before the code starts but for unwind (the prologue) and remaining (the
 * epilogue, when budgeted).
 */
struct jit_ctx {
	uint64_t neg_mem; /* -run->mem: adding it to an address gives its offset in mem */
	uint64_t lim; /* offsets below it are in mem for any access size */
	uint64_t remaining; /* instruction budget left */
	uint64_t unwind; /* rsp of the prologue, where faults and stops return to */
	struct vm_run *run;
	/* a callback's code and the top of its frame, for the sub entry (jit_call_sub) */
	uint64_t sub_target;
	uint64_t sub_frame;
	uint64_t pad;
};

struct jit_frame {
	uint8_t stack[ISA_STACK_SIZE * ISA_MAX_CALL_DEPTH];
	struct jit_ctx ctx;
} __attribute__((aligned(16)));

_Static_assert(offsetof(struct jit_frame, ctx) == ISA_STACK_SIZE * ISA_MAX_CALL_DEPTH,
	       "the context sits right at the top of the stack");
_Static_assert(sizeof(struct jit_ctx) % 16 == 0, "the stack top stays 16-byte aligned");

/* Code with a frame; bare code is a vm_direct_fn. */
typedef uint64_t (*jit_entry_fn)(uint64_t r1, uint64_t r2, struct jit_ctx *ctx);
/* The sub entry: r1-r5 of a callback, and the context naming its code and frame. */
typedef uint64_t (*jit_sub_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			       struct jit_ctx *ctx);

/* A compiled program, vm->engine_state. */
struct jit_image {
	jit_entry_fn entry;
	void *code; /* read and execute only */
	size_t code_len;
	size_t map_len;
	/* where each slot's code starts in code; [ninsns] is the end of the body */
	uint32_t *insn_off;
	/* the code needs no context: no stack, memory, calls or budget */
	bool bare;
	/* where helpers call back into the program (bpf_loop...), or NULL */
	jit_sub_fn sub_entry;
};

/*
 * A fault descriptor, built into the code of each place that can fault and
 * passed to jit_fault and jit_access_ok: instruction, fault kind, and for
 * memory accesses the size and whether it writes.
 */
#define JIT_INFO(pc, kind, size, write)                                                            \
	((uint32_t)(pc) << 8 | (uint32_t)(write) << 7 | (uint32_t)(kind) << 4 | (uint32_t)(size))
#define JIT_INFO_PC(info) ((size_t)((info) >> 8))
#define JIT_INFO_WRITE(info) (((info) >> 7) & 1)
#define JIT_INFO_KIND(info) ((enum vm_fault)(((info) >> 4) & 7))
#define JIT_INFO_SIZE(info) ((unsigned)((info) & 15))

_Static_assert(VM_FAULT_BUDGET < 8, "fault kinds fit in three bits");

/*
 * jit_inline.c: a bpf_map_lookup_elem whose map the code knows. An ARRAY's
 * or PERCPU_ARRAY's is computed in place: the entry of key k < max_entries
 * is at values + k * stride (+ cpu * cpu_step for a PERCPU_ARRAY, cpu <
 * nr_cpus), map_lookup's answer (map_array_inline_info). Another type's
 * (but a RINGBUF's) calls its lookup function fn(map, key) directly, what
 * the helper calls once it has checked its arguments.
 */
enum jit_lookup_kind {
	JIT_LOOKUP_ARRAY,
	JIT_LOOKUP_CALL,
	JIT_CHANGE_CALL, /* map_update or map_delete, returning int */
};

struct jit_lookup {
	enum jit_lookup_kind kind;
	uint32_t key_size;
	bool key_known; /* the key is at rbp + key_off, inside the frame */
	int32_t key_off;
	/* ARRAY */
	uintptr_t values;
	uint32_t stride;
	uint32_t max_entries;
	uint64_t cpu_step; /* 0: a plain ARRAY */
	uint32_t nr_cpus;
	/* CALL */
	void *map;
	const void *fn;
};

/*
 * Whether the call at pc is one the code may do itself (see the file), and
 * what it looks up. leader: the compiler's block leaders, callback entries
 * included.
 */
bool jit_inline_lookup(const struct uebpf_vm *vm, const uint8_t *leader, size_t pc,
		       struct jit_lookup *out);
/* Likewise for an update or delete the code calls map_update or map_delete for. */
bool jit_inline_change(const struct uebpf_vm *vm, const uint8_t *leader, size_t pc,
		       struct jit_lookup *out);
/* The fs-relative offset of this thread's rseq cpu_id; false without rseq. */
bool jit_rseq_cpu_off(int32_t *off);

/* Translate vm->ops into img (code mapped executable, insn_off filled). */
int jit_compile(const struct uebpf_vm *vm, struct jit_image *img, char *err, size_t err_len);

/* Called from the code. Record a fault in the run. */
void jit_fault(struct jit_ctx *ctx, uint64_t info, uint64_t addr);
/* Called from the code: is the access in the run's memory or a region? */
bool jit_access_ok(const struct jit_ctx *ctx, uint64_t addr, uint64_t info);

#endif
