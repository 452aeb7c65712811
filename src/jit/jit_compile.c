// SPDX-License-Identifier: MIT
/*
 * The JIT compiler: the decoded ops of a program (vm->ops) to x86-64 code,
 * one fixed template per operation, with the interpreter's semantics
 * (src/vm/interp_loop.h) in every case it defines.
 *
 * Registers. eBPF registers live in x86 registers for the whole run:
 *
 *   r0 rax   r1 rdi   r2 rsi   r3 rdx   r4 rcx   r5 r8
 *   r6 rbx   r7 r13   r8 r14   r9 r15   r10 rbp
 *
 * so r1-r5 are the System V argument registers in order and a helper call
 * is a plain call with r0 the return value; r6-r9 and r10 are callee-saved,
 * as the ISA wants them. The other four serve the code:
 *
 *   r12  -mem, the negated address of the run's memory (callee-saved)
 *   r9   without a budget: the limit of the fast memory check; with one:
 *        the instructions left (caller-saved: pushed around calls)
 *   r10, r11  scratch within one template; never live across instructions
 *
 * As the ISA says, a helper call leaves r1-r5 undefined: here they hold
 * whatever the helper left, where the interpreter keeps them unchanged.
 *
 * Frame. jit_run keeps a struct jit_frame on its stack: the 4 KiB eBPF
 * stack (eight 512-byte frames) and right above it the run's struct
 * jit_ctx, whose address is thus the stack top (r10 of the main function).
 * The prologue saves the callee-saved registers the program needs, pushes a
 * copy of the context pointer, records rsp in ctx->unwind and calls the
 * body. Every function body, the main one and each local call's, then runs
 * with
 *
 *   [rsp]      its return address (the main body's returns to the epilogue)
 *   [rsp + 8]  the context pointer
 *   rsp        16-byte aligned, ready for calls into C
 *   rbp        the top of its 512-byte eBPF frame
 *
 * A local call checks the depth (rbp one frame above the bottom of the
 * stack means eight frames: VM_FAULT_DEPTH), pushes the r6-r9 the program
 * writes (an even number of slots), pushes the context pointer, moves rbp
 * down one frame and calls the target; exit is a plain ret, which lands
 * either after a local call (which pops what it pushed and moves rbp back
 * up) or in the epilogue. Programs that need none of this (no stack, no
 * memory access, no call, no budget: "bare") run without any frame, as a
 * vm_direct_fn: the prologue pushes the caller's pointer for r0 (and the
 * r6-r9 they use), and each exit pops them, stores r0 and returns 0.
 *
 * Memory checks. An access that was not proven at decode (jit_needs_check)
 * first computes its offset in the run's memory, lea r11 = base + r12 + off,
 * and compares it with the limit in r9: mem_len - 7, or 0 when mem is
 * shorter than 8 bytes, so below it any access size fits. Past the limit
 * the code jumps to an out-of-line stub that calls the shared slow routine:
 * it tests the stack window [rbp - 512, top) inline, then calls
 * jit_access_ok (the last bytes of mem, then vm_region_ok) with every live
 * register saved, and returns to the access, or goes to the fault path.
 * Atomics are always checked, then tested for alignment.
 *
 * Fault exit. Each place that can fault has a stub that loads a descriptor
 * (JIT_INFO: instruction, kind, size, write) into r10, with the address in
 * r11, and jumps to the fault routine: it resets rsp to ctx->unwind, which
 * drops every local call frame at once, calls jit_fault to fill the run's
 * fault fields, and leaves through the epilogue with r0 = 0. A helper
 * asking to stop (VM_CALL_STOPZ, callx of a stop-on-zero helper) goes the
 * same way without the call.
 *
 * Budget. Compiled for a VM with a budget, the code counts per basic block:
 * on entering a block it subtracts the block's length from r9 and faults
 * with VM_FAULT_BUDGET when that borrows. A run thus stops before the first
 * block it cannot finish, with pc the block's first instruction, where the
 * interpreter runs into that block and stops at the exact instruction.
 *
 * Calls to C. Helpers and the slow paths are called with call rel32: the
 * code is placed in memory within reach of them (jit_mem_reserve near the
 * library's text), known before the last pass, which patches the calls.
 * Where a helper lies out of reach (a shared library mapped far away), the
 * whole program is emitted again with calls through rax. No call goes
 * through a table or a retpoline.
 *
 * Jumps. The code is emitted in passes until its size stops changing. A
 * backward jump is rel8 when its exact displacement fits; a forward one
 * when its displacement in the previous pass fits: sizes only shrink from
 * pass to pass (the first takes every forward jump as rel32), so that
 * estimate bounds the real displacement and every pass is correct code;
 * further passes only make it shorter. Forward displacements, and those of
 * jumps to stubs and routines (all rel32), are patched at the end of a pass.
 *
 * Invariants the templates rely on: r10 and r11 hold nothing between
 * templates; flags hold nothing between templates but for one case, a
 * jeq/jne against 0 right after an add, sub, and, or or xor of the same
 * register, when the jump is no jump target; r9 and r12 change only around
 * calls, which restore them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "jit_emit.h"
#include "jit_internal.h"

#define JIT_MAX_PASSES 16

static const uint8_t jit_map[ISA_NREGS] = {
	X_RAX, X_RDI, X_RSI, X_RDX, X_RCX, X_R8, X_RBX, X_R13, X_R14, X_R15, X_RBP,
};

/* r6-r9, in push order */
static const uint8_t jit_callee_saved[4] = {6, 7, 8, 9};

enum jit_fix_kind {
	FIX_PC, /* start of an instruction's code */
	FIX_STUB,
	FIX_ROUTINE,
};

struct jit_fixup {
	uint32_t pos; /* of the displacement */
	uint32_t target;
	uint8_t kind;
	uint8_t size; /* 1 or 4 */
};

enum jit_stub_kind {
	STUB_MEM, /* slow memory check, then back to the access */
	STUB_FAULT,
};

struct jit_stub {
	uint8_t kind;
	uint8_t base; /* of the access */
	int32_t off;
	uint32_t info;
	uint32_t resume;
	uint32_t pos;
};

enum jit_routine {
	ROUTINE_MEMSLOW,
	ROUTINE_FAULT,
	ROUTINE_STOP,
	ROUTINE_SUB,
	JIT_NROUTINES,
};

/* A rel32 call to C, patched once the code's address is known. */
struct jit_call {
	uint32_t pos; /* of the displacement */
	uintptr_t fn;
};

struct jit_state {
	const struct uebpf_vm *vm;
	const struct vm_op *ops;
	size_t n;
	struct jit_buf buf;
	uint32_t *off; /* this pass: where each slot's code starts */
	uint32_t *prev; /* the previous pass, NULL in the first */
	uint32_t *offsets[2]; /* the two arrays off and prev point to */
	/* calls to C: rel32 where the code lands near them (far: never) */
	uintptr_t base; /* where the code will run; 0 until reserved */
	bool far;
	struct jit_call *calls;
	size_t ncalls, callcap;
	struct jit_fixup *fix;
	size_t nfix, fixcap;
	struct jit_stub *stubs;
	size_t nstubs, stubcap;
	uint32_t routine[JIT_NROUTINES];
	bool routine_used[JIT_NROUTINES];
	uint8_t *leader; /* slot starts a basic block */
	uint32_t *block_len; /* budgeted: instructions of the block a leader starts */
	bool bare, budgeted, checked;
	/* lddw of a callback: helpers may call into the program (run->frame_lo, sub entry) */
	bool callbacks;
	unsigned saved; /* r6-r9 the program writes, bit per register */
	unsigned zeroed; /* registers a callback's entry clears, bit per register */
	unsigned entry_zeroed; /* those the prologue clears: not written first */
	unsigned nsaved;
	size_t epilogue;
	/* register whose zero test the flags hold after the last template, or -1 */
	int zf_reg;
	bool zf_32;
	int error; /* -ENOMEM, or -EFAULT for a rel8 that does not fit (a bug) */
};

static bool op_is_alu(unsigned c)
{
	return c <= VM_NEG32;
}

static bool op_is_checked_mem(unsigned c)
{
	return c >= VM_LDXB && c <= VM_STXDW;
}

static bool op_is_mem(unsigned c)
{
	return c >= VM_LDXB && c <= VM_ACMPXCHG32;
}

static bool op_is_atomic(unsigned c)
{
	return c >= VM_AADD64;
}

static bool op_is_load(unsigned c)
{
	return (c >= VM_LDXB && c <= VM_LDXSW) || (c >= VM_LDXB_FP && c <= VM_LDXSW_FP);
}

static bool op_is_call(unsigned c)
{
	return c >= VM_CALL && c <= VM_CALL_LOCAL;
}

static bool op_is_jcond(unsigned c)
{
	return c >= VM_JEQ64_K && c <= VM_JSET32_X;
}

/* The atomic operation of c, as an index into the 64-bit group. */
static unsigned atomic_index(unsigned c)
{
	return c >= VM_AADD32 ? c - VM_AADD32 : c - VM_AADD64;
}

/* Atomics that write the old value into src. */
static bool op_fetches(unsigned c)
{
	return op_is_atomic(c) && atomic_index(c) >= VM_AFADD64 - VM_AADD64 &&
	       atomic_index(c) <= VM_AXCHG64 - VM_AADD64;
}

/*
 * Whether the access of op is checked at run time: the one place that
 * decides. Today every access the decoder did not prove inside the frame
 * (the _FP forms) is, and every atomic (for its alignment too).
 */
static bool jit_needs_check(const struct vm_op *op)
{
	return op_is_checked_mem(op->code) || op_is_atomic(op->code);
}

static bool op_writes_dst(unsigned c)
{
	return (c <= VM_LDDW && c != VM_NOP) || op_is_load(c);
}

static size_t target_pc(const struct jit_state *st, const struct vm_op *op)
{
	return (size_t)(op->target - st->ops);
}

/* Moves and loads: they write dst without reading it. */
static bool op_sets_dst(unsigned c)
{
	return c == VM_MOV64_K || c == VM_LDDW || c == VM_MOV64_X || c == VM_MOV32_X ||
	       (c >= VM_MOVSX8_64 && c <= VM_MOVSX16_32) || op_is_load(c);
}

/*
 * Registers the program's first instructions, run once and in order at
 * entry, set before anything reads them: the prologue need not clear
 * those. The scan stops at the first instruction that is no plain move or
 * load, or that another one jumps to.
 */
static unsigned written_first(const struct jit_state *st)
{
	unsigned written = 1u << 1 | 1u << 2 | 1u << ISA_REG_FP;

	for (size_t pc = 0; pc < st->n && (pc == 0 || !st->leader[pc]); pc++) {
		const struct vm_op *op = &st->ops[pc];
		bool reads_src = op->code != VM_MOV64_K && op->code != VM_LDDW;

		if (!op_sets_dst(op->code) || (reads_src && !(written & 1u << op->src)))
			break;
		written |= 1u << op->dst;
		if (op->code == VM_LDDW)
			pc++;
	}
	return written;
}

/* What the templates depend on: bare or not, saved registers, blocks. */
static int analyze(struct jit_state *st)
{
	bool uses_frame = st->vm->insn_budget != 0;

	st->leader = calloc(st->n + 1, 1);
	if (!st->leader)
		return -ENOMEM;
	st->leader[0] = 1;
	for (size_t pc = 0; pc < st->n; pc++) {
		const struct vm_op *op = &st->ops[pc];
		unsigned c = op->code;

		if (op_writes_dst(c) && op->dst >= 6 && op->dst <= 9)
			st->saved |= 1u << op->dst;
		st->zeroed |= 1u << op->dst | 1u << op->src | (op_is_call(c) ? 0x3eu : 0);
		if (op_fetches(c) && op->src >= 6 && op->src <= 9)
			st->saved |= 1u << op->src;
		if (op->dst == ISA_REG_FP || op->src == ISA_REG_FP || op_is_mem(c) || op_is_call(c))
			uses_frame = true;
		if (jit_needs_check(op))
			st->checked = true;
		if (op_is_jcond(c) || c == VM_JA || c == VM_CALL_LOCAL)
			st->leader[target_pc(st, op)] = 1;
		if (op_is_jcond(c) || c == VM_JA || c == VM_CALL_LOCAL || c == VM_EXIT)
			st->leader[pc + 1] = 1;
		if (c == VM_LDDW) {
			/* a callback's entry: control comes there from a helper */
			if (st->vm->insns[pc].src == ISA_PSEUDO_FUNC) {
				size_t entry = (op->k - (uintptr_t)st->ops) / sizeof(*op);

				st->callbacks = true;
				if (entry < st->n)
					st->leader[entry] = 1;
			}
			pc++;
		}
	}
	/* r1, r2 and r10 come set; the others a program may name start at 0 */
	st->zeroed = (st->zeroed | 1u) & ~(1u << 1 | 1u << 2 | 1u << ISA_REG_FP);
	st->saved |= st->zeroed & (0xfu << 6);
	st->entry_zeroed = st->zeroed & ~written_first(st);
	for (unsigned i = 0; i < 4; i++)
		st->nsaved += (st->saved >> jit_callee_saved[i]) & 1;
	st->bare = !uses_frame;
	st->budgeted = st->vm->insn_budget != 0;
	if (!st->budgeted)
		return 0;

	st->block_len = calloc(st->n, sizeof(*st->block_len));
	if (!st->block_len)
		return -ENOMEM;
	for (size_t pc = st->n; pc-- > 0;) {
		/* the second slot of lddw is no instruction: it counts 0 */
		bool second = pc > 0 && st->ops[pc - 1].code == VM_LDDW;
		uint32_t next = pc + 1 < st->n && !st->leader[pc + 1] ? st->block_len[pc + 1] : 0;

		st->block_len[pc] = next + !second;
	}
	return 0;
}

static void add_fixup(struct jit_state *st, uint32_t target, enum jit_fix_kind kind, uint8_t size)
{
	if (st->nfix == st->fixcap) {
		size_t cap = st->fixcap ? 2 * st->fixcap : 256;
		struct jit_fixup *f = realloc(st->fix, cap * sizeof(*f));

		if (!f) {
			st->error = -ENOMEM;
			return;
		}
		st->fix = f;
		st->fixcap = cap;
	}
	st->fix[st->nfix++] = (struct jit_fixup){(uint32_t)st->buf.len, target, kind, size};
}

static uint32_t add_stub(struct jit_state *st, struct jit_stub stub)
{
	if (st->nstubs == st->stubcap) {
		size_t cap = st->stubcap ? 2 * st->stubcap : 64;
		struct jit_stub *s = realloc(st->stubs, cap * sizeof(*s));

		if (!s) {
			st->error = -ENOMEM;
			return 0;
		}
		st->stubs = s;
		st->stubcap = cap;
	}
	st->stubs[st->nstubs] = stub;
	return (uint32_t)st->nstubs++;
}

/*
 * A call to a C function: direct unless the code may land out of rel32
 * reach of it (then through rax, which no call site holds live).
 */
static void emit_call(struct jit_state *st, const void *fn)
{
	struct jit_buf *b = &st->buf;

	if (st->far) {
		jit_call_abs(b, fn);
		return;
	}
	if (st->ncalls == st->callcap) {
		size_t cap = st->callcap ? 2 * st->callcap : 64;
		struct jit_call *c = realloc(st->calls, cap * sizeof(*c));

		if (!c) {
			st->error = -ENOMEM;
			return;
		}
		st->calls = c;
		st->callcap = cap;
	}
	jit_emit8(b, 0xe8);
	st->calls[st->ncalls++] = (struct jit_call){(uint32_t)b->len, (uintptr_t)fn};
	jit_emit32(b, 0);
}

/* Whether every direct call of the last pass reaches its function from code at base. */
static bool calls_reach(const struct jit_state *st, uintptr_t base)
{
	for (size_t i = 0; i < st->ncalls; i++) {
		int64_t d = (int64_t)(st->calls[i].fn - (base + st->calls[i].pos + 4));

		if (d != (int32_t)d)
			return false;
	}
	return true;
}

/* A rel32 jump (cc < 0: jmp) or call (cc == CALL) to a stub or routine. */
#define JIT_CALL (-2)

static void jump_far(struct jit_state *st, int cc, enum jit_fix_kind kind, uint32_t target)
{
	if (cc == JIT_CALL)
		jit_emit8(&st->buf, 0xe8);
	else
		jit_jump_op(&st->buf, cc, true);
	add_fixup(st, target, kind, 4);
	jit_emit32(&st->buf, 0);
	if (kind == FIX_ROUTINE)
		st->routine_used[target] = true;
}

static void jump_fault(struct jit_state *st, int cc, size_t pc, enum vm_fault kind)
{
	struct jit_stub stub = {.kind = STUB_FAULT, .info = JIT_INFO(pc, kind, 0, 0)};

	jump_far(st, cc, FIX_STUB, add_stub(st, stub));
}

/* A jump or call from slot pc to slot target. */
static void jump_pc(struct jit_state *st, int cc, size_t pc, size_t target)
{
	struct jit_buf *b = &st->buf;
	size_t start = b->len;
	bool wide;

	if (target <= pc) {
		int64_t d = (int64_t)st->off[target] - (int64_t)(start + 2);

		wide = cc == JIT_CALL || !jit_fits8(d);
		if (cc == JIT_CALL)
			jit_emit8(b, 0xe8);
		else
			jit_jump_op(b, cc, wide);
		d = (int64_t)st->off[target] - (int64_t)(b->len + (wide ? 4 : 1));
		if (wide)
			jit_emit32(b, (uint32_t)(int32_t)d);
		else
			jit_emit8(b, (uint8_t)(int8_t)d);
		return;
	}
	wide = cc == JIT_CALL || !st->prev ||
	       !jit_fits8((int64_t)st->prev[target] - (int64_t)st->prev[pc + 1]);
	if (cc == JIT_CALL)
		jit_emit8(b, 0xe8);
	else
		jit_jump_op(b, cc, wide);
	add_fixup(st, (uint32_t)target, FIX_PC, wide ? 4 : 1);
	if (wide)
		jit_emit32(b, 0);
	else
		jit_emit8(b, 0);
}

/* A short jump inside one template; returns where to patch it. */
static size_t jump_local(struct jit_buf *b, int cc)
{
	jit_jump_op(b, cc, false);
	jit_emit8(b, 0);
	return b->len - 1;
}

static void land_local(struct jit_state *st, size_t pos)
{
	int64_t d = (int64_t)st->buf.len - (int64_t)(pos + 1);

	if (!jit_fits8(d))
		st->error = -EFAULT;
	jit_patch8(&st->buf, pos, (int8_t)d);
}

static bool r9_live(const struct jit_state *st)
{
	return st->checked || st->budgeted;
}

static void push_saved(struct jit_state *st)
{
	for (unsigned i = 0; i < 4; i++) {
		if (st->saved & 1u << jit_callee_saved[i])
			jit_push(&st->buf, jit_map[jit_callee_saved[i]]);
	}
}

static void pop_saved(struct jit_state *st)
{
	for (unsigned i = 4; i-- > 0;) {
		if (st->saved & 1u << jit_callee_saved[i])
			jit_pop(&st->buf, jit_map[jit_callee_saved[i]]);
	}
}

/*
 * Registers start at 0 but for r1, r2 and r10, as in the interpreter: what
 * an unverified program reads before writing is defined alike on every
 * engine. Only those the program names are cleared (zero idioms, nearly
 * free); the helpers' arguments r3-r5 count as named where there is a call.
 */
static void emit_zero_regs(struct jit_state *st)
{
	for (unsigned r = 0; r < ISA_REG_FP; r++) {
		if (st->entry_zeroed & 1u << r)
			jit_rr(&st->buf, 0, OP_XOR, jit_map[r], jit_map[r]);
	}
}

/* The end of bare code, at each exit: no call can be under way there. */
static void emit_bare_exit(struct jit_state *st)
{
	struct jit_buf *b = &st->buf;

	pop_saved(st);
	jit_pop(b, X_RCX);
	jit_rm(b, JIT_W, OP_MOV, X_RAX, X_RCX, X_NOINDEX, 0);
	jit_rr(b, 0, OP_XOR, X_RAX, X_RAX);
	jit_emit8(b, 0xc3);
}

static void emit_prologue(struct jit_state *st)
{
	struct jit_buf *b = &st->buf;
	unsigned npush = st->nsaved;
	bool pad;

	/* bare code is a vm_direct_fn: the pointer for r0 (rdx) waits on the stack */
	if (st->bare) {
		jit_push(b, X_RDX);
		push_saved(st);
		emit_zero_regs(st);
		return;
	}
	jit_push(b, X_RBP);
	npush++;
	if (st->checked) {
		jit_push(b, X_R12);
		npush++;
	}
	push_saved(st);
	/* entry rsp is 8 mod 16; the pushes, the context copy and the call make the body's 0 */
	pad = npush % 2 == 0;
	if (pad)
		jit_alu_ri(b, true, EXT_SUB, X_RSP, 8);
	jit_mov_rr(b, true, X_RBP, X_RDX);
	if (st->checked)
		jit_rm(b, JIT_W, OP_MOV_LOAD, X_R12, X_RDX, X_NOINDEX,
		       offsetof(struct jit_ctx, neg_mem));
	if (st->budgeted)
		jit_rm(b, JIT_W, OP_MOV_LOAD, X_R9, X_RDX, X_NOINDEX,
		       offsetof(struct jit_ctx, remaining));
	else if (st->checked)
		jit_rm(b, JIT_W, OP_MOV_LOAD, X_R9, X_RDX, X_NOINDEX, offsetof(struct jit_ctx, lim));
	jit_push(b, X_RDX);
	jit_rm(b, JIT_W, OP_MOV, X_RSP, X_RDX, X_NOINDEX, offsetof(struct jit_ctx, unwind));
	emit_zero_regs(st);
	jump_far(st, JIT_CALL, FIX_PC, 0);

	st->epilogue = b->len;
	if (st->budgeted) {
		jit_rm(b, JIT_W, OP_MOV_LOAD, X_R10, X_RSP, X_NOINDEX, 0);
		jit_rm(b, JIT_W, OP_MOV, X_R9, X_R10, X_NOINDEX,
		       offsetof(struct jit_ctx, remaining));
	}
	jit_alu_ri(b, true, EXT_ADD, X_RSP, pad ? 16 : 8);
	pop_saved(st);
	if (st->checked)
		jit_pop(b, X_R12);
	jit_pop(b, X_RBP);
	jit_emit8(b, 0xc3);
}

/*
 * The fast memory check of an access of size bytes at base + off: in the
 * run's memory for any size below the limit, else the slow routine.
 */
static void emit_check(struct jit_state *st, size_t pc, unsigned base, int32_t off, unsigned size,
		       bool write)
{
	struct jit_buf *b = &st->buf;
	struct jit_stub stub = {
		.kind = STUB_MEM,
		.base = (uint8_t)base,
		.off = off,
		.info = JIT_INFO(pc, VM_FAULT_MEM, size, write),
	};
	uint32_t i;

	jit_rm(b, JIT_W, OP_LEA, X_R11, base, X_R12, off);
	if (st->budgeted) {
		jit_rm(b, JIT_W, OP_MOV_LOAD, X_R10, X_RSP, X_NOINDEX, 8);
		jit_rm(b, JIT_W, 0x3b, X_R11, X_R10, X_NOINDEX, offsetof(struct jit_ctx, lim));
	} else {
		jit_rr(b, JIT_W, OP_CMP, X_R9, X_R11);
	}
	i = add_stub(st, stub);
	jump_far(st, CC_AE, FIX_STUB, i);
	if (!st->error)
		st->stubs[i].resume = (uint32_t)b->len;
}

/* Loads and stores, checked and _FP alike. */
static void emit_mem(struct jit_state *st, size_t pc, const struct vm_op *op)
{
	static const uint8_t sizes[] = {1, 2, 4, 8, 1, 2, 4, 1, 2, 4, 8, 1, 2, 4, 8};
	struct jit_buf *b = &st->buf;
	unsigned idx = op->code - (op->code >= VM_LDXB_FP ? VM_LDXB_FP : VM_LDXB);
	bool store = idx >= VM_STB - VM_LDXB;
	unsigned base = jit_map[store ? op->dst : op->src];
	unsigned reg = jit_map[store ? op->src : op->dst];
	int32_t off = op->off;

	if (jit_needs_check(op))
		emit_check(st, pc, base, off, sizes[idx], store);
	switch (idx + VM_LDXB) {
	case VM_LDXB:
		jit_rm(b, 0, 0x0fb6, reg, base, X_NOINDEX, off);
		break;
	case VM_LDXH:
		jit_rm(b, 0, 0x0fb7, reg, base, X_NOINDEX, off);
		break;
	case VM_LDXW:
		jit_rm(b, 0, OP_MOV_LOAD, reg, base, X_NOINDEX, off);
		break;
	case VM_LDXDW:
		jit_rm(b, JIT_W, OP_MOV_LOAD, reg, base, X_NOINDEX, off);
		break;
	case VM_LDXSB:
		jit_rm(b, JIT_W, 0x0fbe, reg, base, X_NOINDEX, off);
		break;
	case VM_LDXSH:
		jit_rm(b, JIT_W, 0x0fbf, reg, base, X_NOINDEX, off);
		break;
	case VM_LDXSW:
		jit_rm(b, JIT_W, 0x63, reg, base, X_NOINDEX, off);
		break;
	case VM_STB:
		jit_rm(b, 0, 0xc6, 0, base, X_NOINDEX, off);
		jit_emit8(b, (uint8_t)op->k);
		break;
	case VM_STH:
		jit_rm(b, JIT_OP16, 0xc7, 0, base, X_NOINDEX, off);
		jit_emit8(b, (uint8_t)op->k);
		jit_emit8(b, (uint8_t)(op->k >> 8));
		break;
	case VM_STW:
		jit_rm(b, 0, 0xc7, 0, base, X_NOINDEX, off);
		jit_emit32(b, (uint32_t)op->k);
		break;
	case VM_STDW:
		/* the decoder sign-extended a 32-bit immediate */
		jit_rm(b, JIT_W, 0xc7, 0, base, X_NOINDEX, off);
		jit_emit32(b, (uint32_t)op->k);
		break;
	case VM_STXB:
		jit_rm(b, JIT_REG8, 0x88, reg, base, X_NOINDEX, off);
		break;
	case VM_STXH:
		jit_rm(b, JIT_OP16, OP_MOV, reg, base, X_NOINDEX, off);
		break;
	case VM_STXW:
		jit_rm(b, 0, OP_MOV, reg, base, X_NOINDEX, off);
		break;
	default:
		jit_rm(b, JIT_W, OP_MOV, reg, base, X_NOINDEX, off);
		break;
	}
}

/*
 * fetch or/and/xor: no x86 instruction returns the old value, so a
 * cmpxchg loop. rax (r0) is the comparand, so r0 waits in r10 meanwhile;
 * r9 holds the address, as base may be rax.
 */
static void emit_fetch_loop(struct jit_state *st, bool w, unsigned opc, unsigned base, int32_t off,
			    unsigned src)
{
	struct jit_buf *b = &st->buf;
	unsigned fl = w ? JIT_W : 0;
	size_t loop;
	int64_t d;

	jit_push(b, X_R9);
	jit_rm(b, JIT_W, OP_LEA, X_R9, base, X_NOINDEX, off);
	jit_mov_rr(b, true, X_R10, X_RAX);
	jit_rm(b, fl, OP_MOV_LOAD, X_RAX, X_R9, X_NOINDEX, 0);
	loop = b->len;
	jit_mov_rr(b, w, X_R11, X_RAX);
	jit_rr(b, fl, opc, src == X_RAX ? X_R10 : src, X_R11);
	jit_rm(b, fl | JIT_LOCK, 0x0fb1, X_R11, X_R9, X_NOINDEX, 0);
	d = (int64_t)loop - (int64_t)(b->len + 2);
	jit_jump_op(b, CC_NE, false);
	jit_emit8(b, (uint8_t)(int8_t)d);
	jit_mov_rr(b, w, src, X_RAX);
	if (src != X_RAX)
		jit_mov_rr(b, true, X_RAX, X_R10);
	jit_pop(b, X_R9);
}

static void emit_atomic(struct jit_state *st, size_t pc, const struct vm_op *op)
{
	struct jit_buf *b = &st->buf;
	bool w = op->code < VM_AADD32;
	unsigned fl = w ? JIT_W : 0, size = w ? 8 : 4;
	unsigned base = jit_map[op->dst], src = jit_map[op->src];
	int32_t off = op->off;
	static const uint8_t rmw[] = {OP_ADD, OP_OR, OP_AND, OP_XOR};

	if (jit_needs_check(op)) {
		emit_check(st, pc, base, off, size, true);
		jit_rm(b, JIT_W, OP_LEA, X_R11, base, X_NOINDEX, off);
		jit_rr(b, JIT_RM8, 0xf6, 0, X_R11); /* test r11b, size - 1 */
		jit_emit8(b, (uint8_t)(size - 1));
		jump_fault(st, CC_NE, pc, VM_FAULT_ALIGN);
	}
	switch (atomic_index(op->code) + VM_AADD64) {
	case VM_AADD64:
	case VM_AOR64:
	case VM_AAND64:
	case VM_AXOR64:
		jit_rm(b, fl | JIT_LOCK, rmw[atomic_index(op->code)], src, base, X_NOINDEX, off);
		break;
	case VM_AFADD64:
		jit_rm(b, fl | JIT_LOCK, 0x0fc1, src, base, X_NOINDEX, off);
		break;
	case VM_AFOR64:
	case VM_AFAND64:
	case VM_AFXOR64:
		emit_fetch_loop(st, w, rmw[atomic_index(op->code) - 4], base, off, src);
		break;
	case VM_AXCHG64:
		/* xchg with memory is locked without a prefix */
		jit_rm(b, fl, 0x87, src, base, X_NOINDEX, off);
		break;
	default:
		jit_rm(b, fl | JIT_LOCK, 0x0fb1, src, base, X_NOINDEX, off);
		/* a successful 32-bit cmpxchg leaves the upper half of rax as it was */
		if (!w)
			jit_mov_rr(b, false, X_RAX, X_RAX);
		break;
	}
}

/*
 * div, mod, sdiv, smod. x86 divides rdx:rax, so both are saved unless dst;
 * the divisor goes to r11. Register divisors of 0 (x / 0 = 0, x % 0 = x)
 * and, signed, -1 (x / -1 = -x, x % -1 = 0, where idiv would trap on
 * INT_MIN) take side exits; the decoder folded constant ones.
 */
static void emit_divmod(struct jit_state *st, const struct vm_op *op, bool w, bool is_signed,
			bool is_mod, bool k_form)
{
	struct jit_buf *b = &st->buf;
	unsigned fl = w ? JIT_W : 0;
	unsigned dst = jit_map[op->dst];
	unsigned result = is_mod ? X_RDX : X_RAX;
	size_t zero = 0, minus1 = 0, done[2];

	if (k_form) {
		jit_mov_ri(b, X_R11, w ? op->k : (uint32_t)op->k);
	} else {
		jit_mov_rr(b, w, X_R11, jit_map[op->src]);
		jit_rr(b, fl, OP_TEST, X_R11, X_R11);
		zero = jump_local(b, CC_E);
		if (is_signed) {
			jit_alu_ri(b, w, EXT_CMP, X_R11, -1);
			minus1 = jump_local(b, CC_E);
		}
	}
	if (dst != X_RAX)
		jit_mov_rr(b, true, X_R10, X_RAX);
	if (dst != X_RDX)
		jit_push(b, X_RDX);
	if (dst != X_RAX)
		jit_mov_rr(b, w, X_RAX, dst);
	if (is_signed) {
		if (w)
			jit_emit8(b, 0x48);
		jit_emit8(b, 0x99); /* cqo / cdq */
	} else {
		jit_rr(b, 0, OP_XOR, X_RDX, X_RDX);
	}
	jit_rr(b, fl, 0xf7, is_signed ? EXT_IDIV : EXT_DIV, X_R11);
	if (dst != result)
		jit_mov_rr(b, w, dst, result);
	if (dst != X_RDX)
		jit_pop(b, X_RDX);
	if (dst != X_RAX)
		jit_mov_rr(b, true, X_RAX, X_R10);
	if (k_form)
		return;

	done[0] = jump_local(b, -1);
	if (is_signed) {
		land_local(st, minus1);
		if (is_mod)
			jit_rr(b, 0, OP_XOR, dst, dst);
		else
			jit_rr(b, fl, 0xf7, EXT_NEG, dst);
		done[1] = jump_local(b, -1);
	}
	land_local(st, zero);
	if (!is_mod)
		jit_rr(b, 0, OP_XOR, dst, dst);
	else if (!w)
		jit_mov_rr(b, false, dst, dst);
	land_local(st, done[0]);
	if (is_signed)
		land_local(st, done[1]);
}

/*
 * Unsigned division and modulo by a constant d, without div (tens of
 * cycles): a power of two is a shift or a mask; any other d >= 3 is a
 * multiplication by its reciprocal (Granlund and Montgomery): with
 * l = ceil(log2 d) and m = floor(2^64 (2^l - d) / d) + 1, for every 64-bit n
 * n / d = (t + ((n - t) >> 1)) >> (l - 1) where t is the high half of m * n.
 * A 32-bit operation divides its zero-extended operand the same way. mul
 * writes rdx:rax, so those are saved unless dst; n waits in r11.
 */
static void emit_udiv_const(struct jit_state *st, const struct vm_op *op, bool w, bool is_mod)
{
	struct jit_buf *b = &st->buf;
	uint64_t d = w ? op->k : (uint32_t)op->k;
	unsigned dst = jit_map[op->dst], l, result = is_mod ? X_R11 : X_RAX;
	uint64_t m;

	if (!(d & (d - 1))) {
		if (is_mod && (!w || d - 1 <= INT32_MAX)) {
			jit_alu_ri(b, w, EXT_AND, dst, (int32_t)(d - 1));
		} else if (is_mod) {
			jit_mov_ri(b, X_R11, d - 1);
			jit_rr(b, JIT_W, OP_AND, X_R11, dst);
		} else if (d > 1) {
			jit_shift_ri(b, w, EXT_SHR, dst, (uint8_t)__builtin_ctzll(d));
		} else if (!w) {
			jit_mov_rr(b, false, dst, dst);
		}
		return;
	}
	l = 64 - (unsigned)__builtin_clzll(d - 1);
	m = (uint64_t)(((((unsigned __int128)1 << l) - d) << 64) / d) + 1;
	jit_mov_rr(b, w, X_R11, dst);
	if (dst != X_RAX)
		jit_mov_rr(b, true, X_R10, X_RAX);
	if (dst != X_RDX)
		jit_push(b, X_RDX);
	jit_mov_ri(b, X_RAX, m);
	jit_rr(b, JIT_W, 0xf7, EXT_MUL, X_R11);
	jit_mov_rr(b, true, X_RAX, X_R11);
	jit_rr(b, JIT_W, OP_SUB, X_RDX, X_RAX);
	jit_shift_ri(b, true, EXT_SHR, X_RAX, 1);
	jit_rr(b, JIT_W, OP_ADD, X_RDX, X_RAX);
	jit_shift_ri(b, true, EXT_SHR, X_RAX, (uint8_t)(l - 1));
	if (is_mod) {
		if (d <= INT32_MAX) {
			jit_rr(b, JIT_W, 0x69, X_RAX, X_RAX);
			jit_emit32(b, (uint32_t)d);
		} else {
			jit_mov_ri(b, X_RDX, d);
			jit_rr(b, JIT_W, 0x0faf, X_RAX, X_RDX);
		}
		jit_rr(b, JIT_W, OP_SUB, X_RAX, X_R11);
	}
	jit_mov_rr(b, w, dst, result);
	if (dst != X_RDX)
		jit_pop(b, X_RDX);
	if (dst != X_RAX)
		jit_mov_rr(b, true, X_RAX, X_R10);
}

/* Shift by a register: x86 takes the count in cl, which is r4. */
static void emit_shift_x(struct jit_buf *b, bool w, unsigned ext, unsigned dst, unsigned src)
{
	if (src == X_RCX) {
		jit_shift_cl(b, w, ext, dst);
		return;
	}
	jit_mov_rr(b, true, X_R11, X_RCX);
	jit_mov_rr(b, true, X_RCX, src);
	if (dst == X_RCX) {
		/* the value to shift is r4 itself, now in r11 */
		jit_shift_cl(b, w, ext, X_R11);
		jit_mov_rr(b, true, X_RCX, X_R11);
		return;
	}
	jit_shift_cl(b, w, ext, dst);
	jit_mov_rr(b, true, X_RCX, X_R11);
}

/* add, sub, or, and, xor with an immediate, wider than 32 bits only via r11 */
static void emit_alu_k(struct jit_buf *b, bool w, unsigned ext, unsigned opc, unsigned dst,
		       uint64_t k)
{
	if (!w || jit_fits32((int64_t)k)) {
		jit_alu_ri(b, w, ext, dst, (int32_t)k);
		return;
	}
	jit_mov_ri(b, X_R11, k);
	jit_rr(b, JIT_W, opc, X_R11, dst);
}

/* The x86 condition of each eBPF jump, by (code - VM_JEQ64_K) / 2. */
static const uint8_t jcc_of[] = {
	CC_E, CC_NE, CC_A, CC_AE, CC_B, CC_BE, CC_G, CC_GE, CC_L, CC_LE, CC_NE,
};

static void emit_jcond(struct jit_state *st, size_t pc, const struct vm_op *op, int zf_reg,
		       bool zf_32)
{
	struct jit_buf *b = &st->buf;
	bool w = op->code < VM_JEQ32_K;
	unsigned rel = op->code - (w ? VM_JEQ64_K : VM_JEQ32_K);
	bool x = rel & 1, jset = rel / 2 == (VM_JSET64_K - VM_JEQ64_K) / 2;
	unsigned fl = w ? JIT_W : 0, dst = jit_map[op->dst];
	uint64_t k = op->k;

	if (x) {
		jit_rr(b, fl, jset ? OP_TEST : OP_CMP, jit_map[op->src], dst);
	} else if (!w || jit_fits32((int64_t)k)) {
		if (jset) {
			jit_rr(b, fl, 0xf7, 0, dst);
			jit_emit32(b, (uint32_t)k);
		} else if (k == 0 && zf_reg == op->dst && (zf_32 || w) &&
			   (rel / 2 == 0 || rel / 2 == 1)) {
			/* the flags of the add/sub/and/or/xor just before are those of test */
		} else if (k == 0) {
			jit_rr(b, fl, OP_TEST, dst, dst);
		} else {
			jit_alu_ri(b, w, EXT_CMP, dst, (int32_t)k);
		}
	} else {
		jit_mov_ri(b, X_R11, k);
		jit_rr(b, JIT_W, jset ? OP_TEST : OP_CMP, X_R11, dst);
	}
	jump_pc(st, jcc_of[rel / 2], pc, target_pc(st, op));
}

/*
 * In a program with callbacks, a helper may run eBPF code of its own
 * (jit_call_sub): it learns where the caller's frame ends from
 * run->frame_lo, and a fault in the callback ends the run once the helper
 * returns.
 */
static void emit_publish_frame(struct jit_state *st)
{
	struct jit_buf *b = &st->buf;

	if (!st->callbacks)
		return;
	jit_rm(b, JIT_W, OP_LEA, X_R11, X_RBP, X_NOINDEX, -ISA_STACK_SIZE);
	jit_rm(b, JIT_W, OP_MOV_LOAD, X_R10, X_RSP, X_NOINDEX, 8);
	jit_rm(b, JIT_W, OP_MOV_LOAD, X_R10, X_R10, X_NOINDEX, offsetof(struct jit_ctx, run));
	jit_rm(b, JIT_W, OP_MOV, X_R11, X_R10, X_NOINDEX, offsetof(struct vm_run, frame_lo));
}

/* Stop if something the helper ran (a callback, a tail call's target) faulted. */
static void emit_check_run_fault(struct jit_state *st)
{
	struct jit_buf *b = &st->buf;

	jit_rm(b, JIT_W, OP_MOV_LOAD, X_R10, X_RSP, X_NOINDEX, 8);
	jit_rm(b, JIT_W, OP_MOV_LOAD, X_R10, X_R10, X_NOINDEX, offsetof(struct jit_ctx, run));
	jit_rm(b, 0, 0x83, EXT_CMP, X_R10, X_NOINDEX, offsetof(struct vm_run, fault));
	jit_emit8(b, 0);
	jump_far(st, CC_NE, FIX_ROUTINE, ROUTINE_STOP);
}

static void emit_check_callback_fault(struct jit_state *st)
{
	if (st->callbacks)
		emit_check_run_fault(st);
}

/*
 * A helper call. VM_CALL_TAILF calls vm_tail_call_frame instead, which
 * returns { err, r0 } in rax:rdx: on err 0 the subprogram returns r0 (its
 * exit is a plain ret: a subprogram is never bare).
 */
static void emit_call_helper(struct jit_state *st, const struct vm_op *op)
{
	struct jit_buf *b = &st->buf;
	size_t over;

	emit_publish_frame(st);
	if (r9_live(st)) {
		jit_push(b, X_R9);
		jit_push(b, X_R9);
	}
	emit_call(st, op->code == VM_CALL_TAILF ? (const void *)vm_tail_call_frame
						: (const void *)op->fn);
	if (r9_live(st)) {
		jit_pop(b, X_R9);
		jit_pop(b, X_R9);
	}
	if (op->code == VM_CALL_TAILF) {
		emit_check_run_fault(st);
		jit_rr(b, JIT_W, OP_TEST, X_RAX, X_RAX);
		over = jump_local(b, CC_NE);
		jit_mov_rr(b, true, X_RAX, X_RDX);
		jit_emit8(b, 0xc3);
		land_local(st, over);
		return;
	}
	emit_check_callback_fault(st);
	if (op->code != VM_CALL_STOPZ)
		return;
	jit_rr(b, JIT_W, OP_TEST, X_RAX, X_RAX);
	if ((size_t)(op - st->ops) >= st->vm->main_end) {
		jump_far(st, CC_E, FIX_ROUTINE, ROUTINE_STOP);
		return;
	}
	/*
	 * In the main function the body's own ret stops it (r0 = 0) and
	 * keeps calls and returns paired: the stop routine's jump past the
	 * frames would leave the CPU's return predictions wrong all the way
	 * out of the run (a tail call cost 3x more).
	 */
	over = jump_local(b, CC_NE);
	jit_emit8(b, 0xc3);
	land_local(st, over);
}

/* dst *= k, k unsigned. */
static void emit_mul_u(struct jit_buf *b, unsigned dst, uint64_t k)
{
	if (k <= INT32_MAX) {
		jit_rr(b, JIT_W, 0x69, dst, dst);
		jit_emit32(b, (uint32_t)k);
	} else {
		jit_mov_ri(b, X_R11, k);
		jit_rr(b, JIT_W, 0x0faf, dst, X_R11);
	}
}

/*
 * The test that the key's key_size bytes lie in the current eBPF frame
 * [rbp - 512, rbp), where a key almost always is. Returns the jump taken
 * when they do not (to patch with land_local), to the helper, whose own
 * checks then decide.
 */
static size_t emit_key_in_frame(struct jit_state *st, uint32_t key_size)
{
	struct jit_buf *b = &st->buf;

	jit_rm(b, JIT_W, OP_LEA, X_R11, X_RSI, X_NOINDEX, ISA_STACK_SIZE);
	jit_rr(b, JIT_W, OP_SUB, X_RBP, X_R11);
	jit_alu_ri(b, true, EXT_CMP, X_R11, (int32_t)(ISA_STACK_SIZE - key_size));
	return jump_local(b, CC_A);
}

/*
 * bpf_map_lookup_elem of an array known at compile time (jit_inline_lookup),
 * computed in place as the kernel's JIT does: the 4-byte key is read on
 * the frame; a key past max_entries gives NULL; a PERCPU_ARRAY adds this
 * CPU's copy, the CPU read from the rseq area. A key elsewhere, or a CPU
 * the rseq area does not give in range (not yet registered: negative),
 * goes to the helper, whose checks then decide: the result is map_lookup's
 * either way, and r1-r5 are left as they were.
 */
static void emit_array_lookup(struct jit_state *st, const struct vm_op *op,
			      const struct jit_lookup *lk)
{
	struct jit_buf *b = &st->buf;
	size_t slow[2], null, done[2];
	unsigned nslow = 0;
	int32_t cpu_off = 0;

	if (lk->cpu_step && !jit_rseq_cpu_off(&cpu_off)) {
		emit_call_helper(st, op);
		return;
	}
	if (!lk->key_known)
		slow[nslow++] = emit_key_in_frame(st, 4);
	if (lk->cpu_step) {
		jit_load32_fs(b, X_R10, cpu_off);
		jit_alu_ri(b, false, EXT_CMP, X_R10, (int32_t)lk->nr_cpus);
		slow[nslow++] = jump_local(b, CC_AE);
	}
	if (lk->key_known)
		jit_rm(b, 0, OP_MOV_LOAD, X_RAX, X_RBP, X_NOINDEX, lk->key_off);
	else
		jit_rm(b, 0, OP_MOV_LOAD, X_RAX, X_RSI, X_NOINDEX, 0);
	jit_alu_ri(b, false, EXT_CMP, X_RAX, (int32_t)lk->max_entries);
	null = jump_local(b, CC_AE);
	emit_mul_u(b, X_RAX, lk->stride);
	if (lk->cpu_step) {
		emit_mul_u(b, X_R10, lk->cpu_step);
		jit_rr(b, JIT_W, OP_ADD, X_R10, X_RAX);
	}
	jit_mov_ri(b, X_R11, lk->values);
	jit_rr(b, JIT_W, OP_ADD, X_R11, X_RAX);
	done[0] = jump_local(b, -1);
	land_local(st, null);
	jit_rr(b, 0, OP_XOR, X_RAX, X_RAX);
	if (nslow) {
		done[1] = jump_local(b, -1);
		for (unsigned i = 0; i < nslow; i++)
			land_local(st, slow[i]);
		emit_call_helper(st, op);
		land_local(st, done[1]);
	}
	land_local(st, done[0]);
}

/*
 * bpf_map_lookup_elem of another map known at compile time: with the key
 * on the frame, the map's own lookup is called with (map, key), the call
 * the helper makes once it has checked handle and key; else the helper.
 * r1 is the map then, not the handle: the ISA leaves r1-r5 undefined after
 * a call.
 */
static void emit_direct_lookup(struct jit_state *st, const struct vm_op *op,
			       const struct jit_lookup *lk)
{
	struct jit_buf *b = &st->buf;
	size_t slow = 0, done = 0;

	if (!lk->key_known)
		slow = emit_key_in_frame(st, lk->key_size);
	jit_mov_ri(b, X_RDI, (uintptr_t)lk->map);
	if (r9_live(st)) {
		jit_push(b, X_R9);
		jit_push(b, X_R9);
	}
	emit_call(st, lk->fn);
	if (r9_live(st)) {
		jit_pop(b, X_R9);
		jit_pop(b, X_R9);
	}
	if (lk->key_known)
		return;
	done = jump_local(b, -1);
	land_local(st, slow);
	emit_call_helper(st, op);
	land_local(st, done);
}

/*
 * bpf_map_update_elem or _delete_elem that jit_inline_change proved needs
 * none of the helper's checks: map_update(map, r2, r3, r4) or
 * map_delete(map, r2), the map in r1's place, and its int widened to the
 * helper's 64-bit result.
 */
static void emit_direct_change(struct jit_state *st, const struct jit_lookup *lk)
{
	struct jit_buf *b = &st->buf;

	jit_mov_ri(b, X_RDI, (uintptr_t)lk->map);
	if (r9_live(st)) {
		jit_push(b, X_R9);
		jit_push(b, X_R9);
	}
	emit_call(st, lk->fn);
	if (r9_live(st)) {
		jit_pop(b, X_R9);
		jit_pop(b, X_R9);
	}
	jit_rr(b, JIT_W, 0x63, X_RAX, X_RAX);
}

/*
 * callx: vm_helper() finds the helper at run time, with r1-r5 saved around
 * it; the ID waits on the stack for the fault path. Then the helper is
 * called through its entry, and its flags decide on a stop.
 */
static void emit_callx(struct jit_state *st, size_t pc, const struct vm_op *op)
{
	static const uint8_t args[] = {X_RDI, X_RSI, X_RDX, X_RCX, X_R8};
	struct jit_buf *b = &st->buf;
	unsigned id = jit_map[op->dst];
	size_t done;

	for (unsigned i = 0; i < 5; i++)
		jit_push(b, args[i]);
	jit_push(b, id);
	if (r9_live(st)) {
		jit_push(b, X_R9);
		jit_push(b, X_R9);
	}
	if (id != X_RSI)
		jit_mov_rr(b, true, X_RSI, id);
	jit_mov_ri(b, X_RDI, (uint64_t)(uintptr_t)st->vm);
	emit_call(st, (const void *)vm_helper);
	if (r9_live(st)) {
		jit_pop(b, X_R9);
		jit_pop(b, X_R9);
	}
	jit_pop(b, X_R11);
	for (unsigned i = 5; i-- > 0;)
		jit_pop(b, args[i]);
	jit_rr(b, JIT_W, OP_TEST, X_RAX, X_RAX);
	jump_fault(st, CC_E, pc, VM_FAULT_HELPER);

	emit_publish_frame(st);
	jit_mov_rr(b, true, X_R10, X_RAX);
	if (r9_live(st)) {
		jit_push(b, X_R9);
		jit_push(b, X_R9);
	}
	jit_push(b, X_R10);
	jit_push(b, X_R10);
	jit_rm(b, 0, 0xff, 2, X_R10, X_NOINDEX, offsetof(struct vm_helper, fn));
	jit_pop(b, X_R10);
	jit_pop(b, X_R10);
	if (r9_live(st)) {
		jit_pop(b, X_R9);
		jit_pop(b, X_R9);
	}
	jit_rr(b, JIT_W, OP_TEST, X_RAX, X_RAX);
	done = jump_local(b, CC_NE);
	jit_rm(b, 0, 0xf6, 0, X_R10, X_NOINDEX, offsetof(struct vm_helper, flags));
	jit_emit8(b, UEBPF_HELPER_STOP_ON_ZERO);
	jump_far(st, CC_NE, FIX_ROUTINE, ROUTINE_STOP);
	land_local(st, done);
	emit_check_callback_fault(st);
}

static void emit_call_local(struct jit_state *st, size_t pc, const struct vm_op *op)
{
	struct jit_buf *b = &st->buf;
	bool pad = st->nsaved % 2;

	jit_rm(b, JIT_W, OP_MOV_LOAD, X_R11, X_RSP, X_NOINDEX, 8);
	jit_rm(b, JIT_W, OP_LEA, X_R10, X_R11, X_NOINDEX,
	       -(ISA_MAX_CALL_DEPTH - 1) * ISA_STACK_SIZE);
	jit_rr(b, JIT_W, OP_CMP, X_R10, X_RBP);
	jump_fault(st, CC_E, pc, VM_FAULT_DEPTH);
	push_saved(st);
	if (pad)
		jit_alu_ri(b, true, EXT_SUB, X_RSP, 8);
	jit_push(b, X_R11);
	jit_alu_ri(b, true, EXT_SUB, X_RBP, ISA_STACK_SIZE);
	jump_pc(st, JIT_CALL, pc, target_pc(st, op));
	jit_alu_ri(b, true, EXT_ADD, X_RSP, pad ? 16 : 8);
	pop_saved(st);
	jit_alu_ri(b, true, EXT_ADD, X_RBP, ISA_STACK_SIZE);
}

/* The operation of an ALU code: index into the per-width group. */
static unsigned alu_index(unsigned c)
{
	return c >= VM_ADD32_K ? c - VM_ADD32_K : c;
}

static void emit_alu(struct jit_state *st, const struct vm_op *op)
{
	/* add, sub, or, and, xor: "op r/m, reg" opcode and group extension */
	static const struct {
		uint8_t code, opc, ext;
	} simple[] = {
		{VM_ADD64_K, OP_ADD, EXT_ADD}, {VM_SUB64_K, OP_SUB, EXT_SUB},
		{VM_OR64_K, OP_OR, EXT_OR},    {VM_AND64_K, OP_AND, EXT_AND},
		{VM_XOR64_K, OP_XOR, EXT_XOR},
	};
	struct jit_buf *b = &st->buf;
	bool w = op->code < VM_ADD32_K;
	unsigned fl = w ? JIT_W : 0;
	unsigned dst = jit_map[op->dst], src = jit_map[op->src];
	unsigned a = alu_index(op->code);
	unsigned base = a & ~1u;
	bool x = a & 1;

	/* the two ALU operations without a K and X pair */
	if (a == VM_MOV64_X) {
		if (dst != src || !w)
			jit_mov_rr(b, w, dst, src);
		return;
	}
	if (a == VM_NEG64) {
		jit_rr(b, fl, 0xf7, EXT_NEG, dst);
		return;
	}
	for (unsigned i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (base != simple[i].code)
			continue;
		if (x)
			jit_rr(b, fl, simple[i].opc, src, dst);
		else
			emit_alu_k(b, w, simple[i].ext, simple[i].opc, dst, op->k);
		st->zf_reg = op->dst;
		st->zf_32 = !w;
		return;
	}
	switch (base) {
	case VM_MUL64_K:
		if (x) {
			jit_rr(b, fl, 0x0faf, dst, src);
		} else if (!w || jit_fits32((int64_t)op->k)) {
			jit_rr(b, fl, 0x69, dst, dst);
			jit_emit32(b, (uint32_t)op->k);
		} else {
			jit_mov_ri(b, X_R11, op->k);
			jit_rr(b, fl, 0x0faf, dst, X_R11);
		}
		break;
	case VM_DIV64_K:
	case VM_MOD64_K:
		if (x)
			emit_divmod(st, op, w, false, base == VM_MOD64_K, false);
		else
			emit_udiv_const(st, op, w, base == VM_MOD64_K);
		break;
	case VM_SDIV64_K:
	case VM_SMOD64_K:
		emit_divmod(st, op, w, true, base == VM_SMOD64_K, !x);
		break;
	case VM_LSH64_K:
	case VM_RSH64_K:
	case VM_ARSH64_K: {
		unsigned ext = base == VM_LSH64_K ? EXT_SHL : base == VM_RSH64_K ? EXT_SHR : EXT_SAR;

		if (x)
			emit_shift_x(b, w, ext, dst, src);
		else if (op->k)
			jit_shift_ri(b, w, ext, dst, (uint8_t)op->k);
		else if (!w)
			jit_mov_rr(b, false, dst, dst);
		break;
	}
	}
}

static void emit_insn(struct jit_state *st, size_t pc)
{
	const struct vm_op *op = &st->ops[pc];
	struct jit_buf *b = &st->buf;
	unsigned dst = jit_map[op->dst], src = jit_map[op->src];
	int zf_reg = st->leader[pc] ? -1 : st->zf_reg;
	bool zf_32 = st->zf_32;

	st->zf_reg = -1;
	if (st->budgeted && st->leader[pc]) {
		jit_alu_ri(b, true, EXT_SUB, X_R9, (int32_t)st->block_len[pc]);
		jump_fault(st, CC_B, pc, VM_FAULT_BUDGET);
	}
	if (op_is_alu(op->code)) {
		emit_alu(st, op);
		return;
	}
	if (op_is_jcond(op->code)) {
		emit_jcond(st, pc, op, zf_reg, zf_32);
		return;
	}
	if (op_is_atomic(op->code)) {
		emit_atomic(st, pc, op);
		return;
	}
	if (op_is_mem(op->code)) {
		emit_mem(st, pc, op);
		return;
	}
	switch (op->code) {
	case VM_MOV64_K:
	case VM_LDDW:
		jit_mov_ri(b, dst, op->k);
		break;
	case VM_MOVSX8_64:
		jit_rr(b, JIT_W | JIT_RM8, 0x0fbe, dst, src);
		break;
	case VM_MOVSX16_64:
		jit_rr(b, JIT_W, 0x0fbf, dst, src);
		break;
	case VM_MOVSX32_64:
		jit_rr(b, JIT_W, 0x63, dst, src);
		break;
	case VM_MOVSX8_32:
		jit_rr(b, JIT_RM8, 0x0fbe, dst, src);
		break;
	case VM_MOVSX16_32:
		jit_rr(b, 0, 0x0fbf, dst, src);
		break;
	case VM_BE16:
		jit_bswap(b, false, dst);
		jit_shift_ri(b, false, EXT_SHR, dst, 16);
		break;
	case VM_BE32:
		jit_bswap(b, false, dst);
		break;
	case VM_BE64:
		jit_bswap(b, true, dst);
		break;
	case VM_JA:
		if (target_pc(st, op) != pc + 1)
			jump_pc(st, -1, pc, target_pc(st, op));
		break;
	case VM_CALL_TAILF:
		emit_call_helper(st, op);
		break;
	case VM_CALL:
	case VM_CALL_STOPZ: {
		struct jit_lookup lk;

		if (jit_inline_change(st->vm, st->leader, pc, &lk))
			emit_direct_change(st, &lk);
		else if (!jit_inline_lookup(st->vm, st->leader, pc, &lk))
			emit_call_helper(st, op);
		else if (lk.kind == JIT_LOOKUP_ARRAY)
			emit_array_lookup(st, op, &lk);
		else
			emit_direct_lookup(st, op, &lk);
		break;
	}
	case VM_CALLX:
		emit_callx(st, pc, op);
		break;
	case VM_CALL_LOCAL:
		emit_call_local(st, pc, op);
		break;
	case VM_EXIT:
		if (st->bare)
			emit_bare_exit(st);
		else
			jit_emit8(b, 0xc3);
		break;
	default: /* VM_NOP: nothing to do */
		break;
	}
}

static void emit_stubs(struct jit_state *st)
{
	struct jit_buf *b = &st->buf;

	for (size_t i = 0; i < st->nstubs; i++) {
		struct jit_stub *s = &st->stubs[i];

		s->pos = (uint32_t)b->len;
		if (s->kind == STUB_FAULT) {
			jit_mov_ri(b, X_R10, s->info);
			jump_far(st, -1, FIX_ROUTINE, ROUTINE_FAULT);
			continue;
		}
		jit_rm(b, JIT_W, OP_LEA, X_R11, s->base, X_NOINDEX, s->off);
		jit_mov_ri(b, X_R10, s->info);
		jump_far(st, JIT_CALL, FIX_ROUTINE, ROUTINE_MEMSLOW);
		jit_emit8(b, 0xe9);
		jit_emit32(b, (uint32_t)((int64_t)s->resume - (int64_t)(b->len + 4)));
	}
}

/*
 * The slow memory check, called from a stub with the address in r11 and the
 * descriptor in r10: the stack window inline, then C. Returns when the
 * access is allowed, else goes to the fault path.
 */
static void emit_memslow(struct jit_state *st)
{
	static const uint8_t saved[] = {X_RAX, X_RCX, X_RDX, X_RSI, X_RDI,
					X_R8,  X_R9,  X_R10, X_R11};
	struct jit_buf *b = &st->buf;
	size_t ok, bad;

	/* [rsp] returns to the stub, [rsp + 16] is the context: the stack top */
	jit_push(b, X_RAX);
	jit_push(b, X_RDX);
	jit_rm(b, JIT_W, OP_MOV_LOAD, X_RAX, X_RSP, X_NOINDEX, 32);
	jit_rr(b, JIT_W, OP_SUB, X_RBP, X_RAX);
	jit_rr(b, 0, OP_MOV, X_R10, X_RDX);
	jit_alu_ri(b, false, EXT_AND, X_RDX, 15);
	jit_rr(b, JIT_W, OP_SUB, X_RDX, X_RAX);
	/* rax = top - frame_lo - size, rdx = addr - frame_lo (frame_lo = rbp - 512) */
	jit_alu_ri(b, true, EXT_ADD, X_RAX, ISA_STACK_SIZE);
	jit_rm(b, JIT_W, OP_LEA, X_RDX, X_R11, X_NOINDEX, ISA_STACK_SIZE);
	jit_rr(b, JIT_W, OP_SUB, X_RBP, X_RDX);
	jit_rr(b, JIT_W, OP_CMP, X_RAX, X_RDX);
	jit_pop(b, X_RDX);
	jit_pop(b, X_RAX);
	ok = jump_local(b, CC_BE);

	/* nine pushes after the call's return address: rsp is 16-byte aligned */
	for (unsigned i = 0; i < sizeof(saved); i++)
		jit_push(b, saved[i]);
	jit_rm(b, JIT_W, OP_MOV_LOAD, X_RDI, X_RSP, X_NOINDEX, 8 * sizeof(saved) + 16);
	jit_mov_rr(b, true, X_RSI, X_R11);
	jit_rr(b, 0, OP_MOV, X_R10, X_RDX);
	emit_call(st, (const void *)jit_access_ok);
	jit_rr(b, 0, 0x84, X_RAX, X_RAX); /* test al, al: a bool is one byte */
	for (unsigned i = sizeof(saved); i-- > 0;)
		jit_pop(b, saved[i]);
	bad = jump_local(b, CC_E);
	land_local(st, ok);
	jit_emit8(b, 0xc3);
	land_local(st, bad);
	jit_alu_ri(b, true, EXT_ADD, X_RSP, 8);
	jump_far(st, -1, FIX_ROUTINE, ROUTINE_FAULT);
}

static void emit_fault(struct jit_state *st)
{
	struct jit_buf *b = &st->buf;

	jit_rm(b, JIT_W, OP_MOV_LOAD, X_RDI, X_RSP, X_NOINDEX, 8);
	jit_rm(b, JIT_W, OP_MOV_LOAD, X_RSP, X_RDI, X_NOINDEX, offsetof(struct jit_ctx, unwind));
	jit_mov_rr(b, true, X_RSI, X_R10);
	jit_mov_rr(b, true, X_RDX, X_R11);
	/* the prologue's rsp is 8 mod 16 */
	jit_alu_ri(b, true, EXT_SUB, X_RSP, 8);
	emit_call(st, (const void *)jit_fault);
	jit_alu_ri(b, true, EXT_ADD, X_RSP, 8);
	jit_rr(b, 0, OP_XOR, X_RAX, X_RAX);
	jit_emit8(b, 0xe9);
	jit_emit32(b, (uint32_t)((int64_t)st->epilogue - (int64_t)(b->len + 4)));
}

/*
 * The sub entry, jit_sub_fn: a callback's r1-r5 come in the argument
 * registers that hold them anyway, the context in r9. It builds the main
 * prologue's frame (same pushes, same padding) with rbp at the callback's
 * frame and unwind at its own rsp, so that the callback's exit and its
 * faults leave through the one epilogue, back to the helper that called.
 * The budget starts anew from the run's, as in the interpreter's callbacks.
 */
static void emit_sub_entry(struct jit_state *st)
{
	struct jit_buf *b = &st->buf;
	unsigned npush = st->nsaved + 1 + st->checked;

	jit_push(b, X_RBP);
	if (st->checked)
		jit_push(b, X_R12);
	push_saved(st);
	if (npush % 2 == 0)
		jit_alu_ri(b, true, EXT_SUB, X_RSP, 8);
	jit_mov_rr(b, true, X_R11, X_R9);
	jit_rm(b, JIT_W, OP_MOV_LOAD, X_RBP, X_R11, X_NOINDEX, offsetof(struct jit_ctx, sub_frame));
	if (st->checked)
		jit_rm(b, JIT_W, OP_MOV_LOAD, X_R12, X_R11, X_NOINDEX,
		       offsetof(struct jit_ctx, neg_mem));
	if (st->budgeted) {
		jit_rm(b, JIT_W, OP_MOV_LOAD, X_R9, X_R11, X_NOINDEX, offsetof(struct jit_ctx, run));
		jit_rm(b, JIT_W, OP_MOV_LOAD, X_R9, X_R9, X_NOINDEX, offsetof(struct vm_run, budget));
	} else if (st->checked) {
		jit_rm(b, JIT_W, OP_MOV_LOAD, X_R9, X_R11, X_NOINDEX, offsetof(struct jit_ctx, lim));
	}
	jit_push(b, X_R11);
	jit_rm(b, JIT_W, OP_MOV, X_RSP, X_R11, X_NOINDEX, offsetof(struct jit_ctx, unwind));
	for (unsigned r = 0; r < ISA_REG_FP; r++) {
		if ((r == 0 || r >= 6) && st->zeroed & 1u << r)
			jit_rr(b, 0, OP_XOR, jit_map[r], jit_map[r]);
	}
	jit_rm(b, 0, 0xff, 2, X_R11, X_NOINDEX, offsetof(struct jit_ctx, sub_target));
	jit_emit8(b, 0xe9);
	jit_emit32(b, (uint32_t)((int64_t)st->epilogue - (int64_t)(b->len + 4)));
}

static void emit_stop(struct jit_state *st)
{
	struct jit_buf *b = &st->buf;

	jit_rm(b, JIT_W, OP_MOV_LOAD, X_R10, X_RSP, X_NOINDEX, 8);
	jit_rm(b, JIT_W, OP_MOV_LOAD, X_RSP, X_R10, X_NOINDEX, offsetof(struct jit_ctx, unwind));
	jit_rr(b, 0, OP_XOR, X_RAX, X_RAX);
	jit_emit8(b, 0xe9);
	jit_emit32(b, (uint32_t)((int64_t)st->epilogue - (int64_t)(b->len + 4)));
}

static void resolve_fixups(struct jit_state *st)
{
	for (size_t i = 0; i < st->nfix; i++) {
		const struct jit_fixup *f = &st->fix[i];
		uint32_t dest;
		int64_t d;

		if (f->kind == FIX_PC)
			dest = st->off[f->target];
		else if (f->kind == FIX_STUB)
			dest = st->stubs[f->target].pos;
		else
			dest = st->routine[f->target];
		d = (int64_t)dest - (int64_t)(f->pos + f->size);
		if (f->size == 1) {
			if (!jit_fits8(d))
				st->error = -EFAULT;
			jit_patch8(&st->buf, f->pos, (int8_t)d);
		} else {
			jit_patch32(&st->buf, f->pos, (int32_t)d);
		}
	}
	for (size_t i = 0; st->base && i < st->ncalls; i++) {
		const struct jit_call *c = &st->calls[i];

		jit_patch32(&st->buf, c->pos, (int32_t)(c->fn - (st->base + c->pos + 4)));
	}
}

static void emit_pass(struct jit_state *st)
{
	st->buf.len = 0;
	st->nfix = 0;
	st->nstubs = 0;
	st->ncalls = 0;
	st->zf_reg = -1;
	memset(st->routine_used, 0, sizeof(st->routine_used));
	emit_prologue(st);
	for (size_t pc = 0; pc < st->n; pc++) {
		st->off[pc] = (uint32_t)st->buf.len;
		emit_insn(st, pc);
	}
	st->off[st->n] = (uint32_t)st->buf.len;
	emit_stubs(st);
	/* the slow check ends in the fault path, so it goes first */
	if (st->routine_used[ROUTINE_MEMSLOW]) {
		st->routine[ROUTINE_MEMSLOW] = (uint32_t)st->buf.len;
		emit_memslow(st);
	}
	if (st->routine_used[ROUTINE_FAULT]) {
		st->routine[ROUTINE_FAULT] = (uint32_t)st->buf.len;
		emit_fault(st);
	}
	if (st->routine_used[ROUTINE_STOP]) {
		st->routine[ROUTINE_STOP] = (uint32_t)st->buf.len;
		emit_stop(st);
	}
	if (st->callbacks) {
		st->routine[ROUTINE_SUB] = (uint32_t)st->buf.len;
		emit_sub_entry(st);
	}
	resolve_fixups(st);
}

/* One pass into a buffer large enough for it, growing it as needed. */
static int emit_sized_pass(struct jit_state *st)
{
	for (;;) {
		emit_pass(st);
		if (st->error)
			return st->error;
		if (st->buf.len <= st->buf.cap)
			return 0;
		free(st->buf.p);
		st->buf.cap = st->buf.len + st->buf.len / 4;
		st->buf.p = malloc(st->buf.cap);
		if (!st->buf.p)
			return -ENOMEM;
	}
}

static void state_free(struct jit_state *st)
{
	free(st->buf.p);
	free(st->offsets[0]);
	free(st->offsets[1]);
	free(st->fix);
	free(st->stubs);
	free(st->calls);
	free(st->leader);
	free(st->block_len);
}

/* This pass's offsets become the estimates of the next. */
static void next_pass(struct jit_state *st)
{
	uint32_t *other = st->off == st->offsets[0] ? st->offsets[1] : st->offsets[0];

	st->prev = st->off;
	st->off = other;
}

/* Passes until the code's size stops changing: st->buf holds the last. */
static int emit_passes(struct jit_state *st)
{
	size_t last = 0;
	int ret;

	st->prev = NULL;
	st->off = st->offsets[0];
	for (unsigned pass = 0;; pass++) {
		ret = emit_sized_pass(st);
		if (ret || (pass && st->buf.len == last) || pass == JIT_MAX_PASSES)
			return ret;
		last = st->buf.len;
		next_pass(st);
	}
}

/*
 * Code for an address: passes taking calls to C as direct, then memory near
 * those functions and a last pass there, which patches the calls (and may
 * still shrink a jump). If some call cannot reach from there, passes again
 * with calls through a register, for memory anywhere.
 */
static int place(struct jit_state *st, void **code, size_t *map_len)
{
	size_t len;
	int ret = emit_passes(st);

	if (ret)
		return ret;
	len = st->buf.len;
	*code = jit_mem_reserve(len, (const void *)jit_fault, map_len);
	if (*code) {
		st->base = (uintptr_t)*code;
		next_pass(st);
		ret = emit_sized_pass(st);
		if (!ret && st->buf.len <= len && calls_reach(st, st->base))
			goto seal;
		jit_mem_unmap(*code, *map_len);
		if (ret)
			return ret;
	}
	st->far = true;
	st->base = 0;
	ret = emit_passes(st);
	if (ret)
		return ret;
	*code = jit_mem_reserve(st->buf.len, NULL, map_len);
	if (!*code)
		return -errno;
seal:
	ret = jit_mem_seal(*code, st->buf.p, st->buf.len, *map_len);
	if (ret)
		jit_mem_unmap(*code, *map_len);
	return ret;
}

int jit_compile(const struct uebpf_vm *vm, struct jit_image *img, char *err, size_t err_len)
{
	struct jit_state st = {.vm = vm, .ops = vm->ops, .n = vm->ninsns};
	int ret;

	st.buf.cap = st.n * 16 + 1024;
	st.buf.p = malloc(st.buf.cap);
	st.offsets[0] = malloc((st.n + 1) * sizeof(uint32_t));
	st.offsets[1] = malloc((st.n + 1) * sizeof(uint32_t));
	ret = st.buf.p && st.offsets[0] && st.offsets[1] ? analyze(&st) : -ENOMEM;
	if (!ret)
		ret = place(&st, &img->code, &img->map_len);
	if (ret) {
		errbuf_set(err, err_len, "jit: cannot compile the program: %s",
			   ret == -ENOMEM   ? "out of memory"
			   : ret == -EFAULT ? "internal error (jump out of range)"
					    : "no executable memory");
		state_free(&st);
		return ret;
	}
	img->code_len = st.buf.len;
	img->entry = (jit_entry_fn)img->code;
	img->insn_off = st.off;
	img->bare = st.bare;
	img->sub_entry = st.callbacks
				 ? (jit_sub_fn)((uint8_t *)img->code + st.routine[ROUTINE_SUB])
				 : NULL;
	if (st.off == st.offsets[0])
		st.offsets[0] = NULL;
	else
		st.offsets[1] = NULL;
	state_free(&st);
	return 0;
}
