// SPDX-License-Identifier: MIT
/*
 * AOT against the interpreter, over generated programs.
 *
 * Each program is random but well formed: registers start from the run's
 * memory, the stack bytes it reads were written first, pointers never reach
 * r0 or the registers stored at exit, so that the two engines must agree
 * bit for bit. A program mixes every ALU operation (divisors 0 and -1,
 * INT_MIN dividends), forward branches, counted loops, stack and memory
 * accesses at unchecked (r10 + constant) and checked addresses, region
 * accesses, atomics, helper calls, local calls (nested, recursive, with
 * pointers into the caller's frame) and fault sites. One compiled program
 * is run on many inputs: the first bytes of memory choose which fault site
 * (if any) fires and how deep the recursion goes, so each compilation
 * covers many paths. Compared per run: r0, fault kind, pc, size and
 * address (not for faults on stack addresses, which differ between the two
 * engines' stacks), all of the run's memory and the writable region.
 * Some programs are also run against instruction budgets.
 *
 * Usage: test_aot_diff [PROGRAMS [SEED]]
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "aot/aot.h"
#include "check.h"
#include "isa/asm.h"
#include "uebpf/uebpf.h"
#include "vm/vm.h"

#define MAX_INSNS 4096
#define MEM_LEN 256
#define REGION_LEN 64

/* Layout of the run's memory. */
enum {
	SEL_SITE = 0,	/* the fault site that fires, 0 for none */
	SEL_DEPTH = 1,	/* recursion depth of the recursive function */
	SEL_STOP = 2,	/* the stop-on-zero helper gets this byte */
	MEM_REGS = 16,	/* r0..r8 on entry; at exit, r0..r8 are stored back here */
	MEM_RO = 88,	/* address of the read-only region */
	MEM_RW = 96,	/* address of the writable region */
	MEM_DATA = 104, /* free for loads, stores and atomics */
};

enum { HELPER_MIX = 1, HELPER_STOP = 2 };

enum { FN_ALU, FN_PTR, FN_REC, FN_NEST, NFN };

struct gen {
	uint64_t s;
	struct isa_insn p[MAX_INSNS];
	size_t n;
	bool stack_fault[MAX_INSNS]; /* a fault here is at a stack address */
	unsigned nsites;
	size_t call_pc[256];
	unsigned call_fn[256], ncalls;
	size_t fn_pc[NFN];
	bool in_fn; /* generating a function body: no local calls, no fault sites */
};

static uint8_t mem[MEM_LEN] __attribute__((aligned(16)));
static uint8_t ro[REGION_LEN] __attribute__((aligned(16)));
static uint8_t rw[REGION_LEN] __attribute__((aligned(16)));
static uint8_t rw_init[REGION_LEN];

static uint64_t rnd64(struct gen *g)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return g->s;
}

static unsigned rnd(struct gen *g, unsigned n)
{
	return (unsigned)(rnd64(g) % n);
}

static int32_t special32(struct gen *g)
{
	static const int32_t v[] = {0,	     1,	 -1, 2,	 7,  -7,  INT32_MIN, INT32_MAX,
				    0x10000, 31, 32, 63, 64, -64, 0x7f};

	return rnd(g, 4) ? v[rnd(g, sizeof(v) / sizeof(v[0]))] : (int32_t)rnd64(g);
}

static uint64_t special64(struct gen *g)
{
	static const uint64_t v[] = {0,
				     1,
				     UINT64_MAX,
				     0x8000000000000000ull,
				     0x7fffffffffffffffull,
				     0x80000000ull,
				     0xffffffff80000000ull,
				     0xffffffffull,
				     0x7fffffffull,
				     0xffffffff00000000ull,
				     3};

	return rnd(g, 3) ? v[rnd(g, sizeof(v) / sizeof(v[0]))] : rnd64(g);
}

static void emit(struct gen *g, uint8_t op, unsigned dst, unsigned src, int16_t off, int32_t imm)
{
	if (g->n < MAX_INSNS)
		g->p[g->n++] = (struct isa_insn){op, dst, src, off, imm};
}

static void lddw(struct gen *g, unsigned dst, uint64_t v)
{
	emit(g, ISA_OP_LDDW, dst, 0, 0, (int32_t)(uint32_t)v);
	emit(g, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

/* Data registers: r0..r7 as destinations; r8 (loop counter) may be read too. */
static unsigned dreg(struct gen *g)
{
	return rnd(g, 8);
}

static unsigned sreg(struct gen *g)
{
	return rnd(g, 9);
}

static void gen_alu(struct gen *g)
{
	static const uint8_t ops[] = {ISA_ADD, ISA_SUB, ISA_MUL, ISA_DIV, ISA_OR,  ISA_AND,
				      ISA_LSH, ISA_RSH, ISA_MOD, ISA_XOR, ISA_MOV, ISA_ARSH};
	bool is64 = rnd(g, 2);
	uint8_t cls = is64 ? ISA_ALU64 : ISA_ALU, op = ops[rnd(g, sizeof(ops))];
	unsigned d = dreg(g), kind = rnd(g, 20);

	if (kind == 0) {
		emit(g, cls | ISA_NEG, d, 0, 0, 0);
	} else if (kind == 1) {
		static const int32_t widths[] = {16, 32, 64};
		bool x = !is64 && rnd(g, 2);

		emit(g, cls | ISA_END | (x ? ISA_X : ISA_K), d, 0, 0, widths[rnd(g, 3)]);
	} else if (kind == 2) {
		lddw(g, d, special64(g));
	} else if (kind == 3) {
		static const int16_t sx[] = {8, 16, 32};

		emit(g, cls | ISA_MOV | ISA_X, d, sreg(g), sx[rnd(g, is64 ? 3 : 2)], 0);
	} else if (rnd(g, 2)) {
		int16_t off = (op == ISA_DIV || op == ISA_MOD) ? (int16_t)rnd(g, 2) : 0;

		emit(g, cls | op | ISA_X, d, sreg(g), off, 0);
	} else {
		int16_t off = (op == ISA_DIV || op == ISA_MOD) ? (int16_t)rnd(g, 2) : 0;

		emit(g, cls | op | ISA_K, d, 0, off, special32(g));
	}
}

static void gen_alus(struct gen *g, unsigned n)
{
	while (n--)
		gen_alu(g);
}

/* The RFC 9669 edge cases of division, forced rather than left to chance. */
static void gen_div_edges(struct gen *g)
{
	unsigned a = dreg(g), b = dreg(g);
	bool is64 = rnd(g, 2);
	uint8_t cls = is64 ? ISA_ALU64 : ISA_ALU, op = rnd(g, 2) ? ISA_DIV : ISA_MOD;

	if (a == b)
		b = (a + 1) % 8;
	lddw(g, a, is64 ? 0x8000000000000000ull : 0x80000000ull);
	emit(g, ISA_ALU64 | ISA_MOV | ISA_K, b, 0, 0, rnd(g, 2) ? -1 : 0);
	if (rnd(g, 2))
		emit(g, cls | op | ISA_X, a, b, (int16_t)rnd(g, 2), 0);
	else
		emit(g, cls | op | ISA_K, a, 0, (int16_t)rnd(g, 2), rnd(g, 2) ? -1 : 0);
}

static uint8_t jmp_op(struct gen *g)
{
	static const uint8_t ops[] = {ISA_JEQ,	ISA_JGT, ISA_JGE, ISA_JSET, ISA_JNE, ISA_JSGT,
				      ISA_JSGE, ISA_JLT, ISA_JLE, ISA_JSLT, ISA_JSLE};

	return ops[rnd(g, sizeof(ops))] | (rnd(g, 2) ? ISA_JMP : ISA_JMP32);
}

static void gen_branch(struct gen *g)
{
	size_t at = g->n;

	if (rnd(g, 2))
		emit(g, jmp_op(g) | ISA_X, dreg(g), sreg(g), 0, 0);
	else
		emit(g, jmp_op(g) | ISA_K, dreg(g), 0, 0, special32(g));
	gen_alus(g, 1 + rnd(g, 4));
	if (rnd(g, 4) == 0) { /* an unconditional jump over a part, either encoding */
		size_t ja = g->n;

		emit(g, ISA_JMP | ISA_JA, 0, 0, 0, 0);
		gen_alus(g, 1 + rnd(g, 2));
		if (rnd(g, 2))
			g->p[ja].off = (int16_t)(g->n - ja - 1);
		else
			g->p[ja] = (struct isa_insn){ISA_JMP32 | ISA_JA, 0, 0, 0,
						     (int32_t)(g->n - ja - 1)};
	}
	g->p[at].off = (int16_t)(g->n - at - 1);
}

static void gen_loop(struct gen *g)
{
	static const uint8_t back[] = {ISA_JNE, ISA_JSGT, ISA_JGT};
	size_t top;

	emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 8, 0, 0, 1 + (int32_t)rnd(g, 6));
	top = g->n;
	gen_alus(g, 1 + rnd(g, 5));
	if (rnd(g, 2))
		gen_branch(g);
	emit(g, ISA_ALU64 | ISA_ADD | ISA_K, 8, 0, 0, -1);
	emit(g, back[rnd(g, 3)] | (rnd(g, 2) ? ISA_JMP : ISA_JMP32) | ISA_K, 8, 0,
	     (int16_t)(top - g->n - 1), 0);
}

static uint8_t size_bits(unsigned bytes)
{
	return bytes == 1 ? ISA_B : bytes == 2 ? ISA_H : bytes == 4 ? ISA_W : ISA_DW;
}

static unsigned rnd_size(struct gen *g)
{
	return 1u << rnd(g, 4);
}

/* A load of some size and signedness from [base + off] into a data register. */
static void gen_load(struct gen *g, unsigned base, int16_t off, unsigned size)
{
	bool sx = size < 8 && rnd(g, 3) == 0;

	emit(g, ISA_LDX | (sx ? ISA_MEMSX : ISA_MEM) | size_bits(size), dreg(g), base, off, 0);
}

/* A store of a data register or an immediate; never of base, which may point into the stack. */
static void gen_store(struct gen *g, unsigned base, int16_t off, unsigned size)
{
	unsigned src = sreg(g);

	if (rnd(g, 2))
		emit(g, ISA_STX | ISA_MEM | size_bits(size), base, src == base ? 0 : src, off, 0);
	else
		emit(g, ISA_ST | ISA_MEM | size_bits(size), base, 0, off, special32(g));
}

/*
 * The stack: the frame's last 64 bytes, written in the prologue, through
 * r10 (unchecked) or a pointer in r6 (checked), possibly misaligned.
 */
static void gen_stack(struct gen *g)
{
	unsigned size = rnd_size(g);
	int16_t off = -(int16_t)(size + rnd(g, 64 - size + 1));

	if (rnd(g, 2)) {
		if (rnd(g, 2))
			gen_store(g, 10, off, size);
		gen_load(g, 10, off, size);
		return;
	}
	emit(g, ISA_ALU64 | ISA_MOV | ISA_X, 6, 10, 0, 0);
	emit(g, ISA_ALU64 | ISA_ADD | ISA_K, 6, 0, 0, off);
	if (rnd(g, 2))
		gen_store(g, 6, 0, size);
	gen_load(g, 6, 0, size);
	emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 6, 0, 0, special32(g));
}

/* The run's memory, through r9 or a pointer in r6; and the two regions. */
static void gen_mem(struct gen *g)
{
	unsigned size = rnd_size(g);
	int16_t off = (int16_t)(MEM_DATA + rnd(g, MEM_LEN - MEM_DATA - size + 1));
	unsigned kind = rnd(g, 4);

	if (kind == 0) {
		if (rnd(g, 2))
			gen_store(g, 9, off, size);
		gen_load(g, 9, off, size);
		return;
	}
	if (kind == 1) {
		emit(g, ISA_ALU64 | ISA_MOV | ISA_X, 6, 9, 0, 0);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_K, 6, 0, 0, off);
		off = 0;
	} else {
		emit(g, ISA_LDX | ISA_MEM | ISA_DW, 6, 9, kind == 2 ? MEM_RO : MEM_RW, 0);
		off = (int16_t)rnd(g, REGION_LEN - size + 1);
	}
	if (kind != 2 && rnd(g, 2))
		gen_store(g, 6, off, size);
	gen_load(g, 6, off, size);
	emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 6, 0, 0, special32(g));
}

static void gen_atomic(struct gen *g)
{
	static const int32_t ops[] = {ISA_ADD,
				      ISA_OR,
				      ISA_AND,
				      ISA_XOR,
				      ISA_ADD | ISA_FETCH,
				      ISA_OR | ISA_FETCH,
				      ISA_AND | ISA_FETCH,
				      ISA_XOR | ISA_FETCH,
				      ISA_XCHG,
				      ISA_CMPXCHG};
	bool dw = rnd(g, 2);
	unsigned size = dw ? 8 : 4, src = rnd(g, 6);
	int32_t op = ops[rnd(g, 10)];

	if (rnd(g, 2)) { /* stack */
		emit(g, ISA_ALU64 | ISA_MOV | ISA_X, 6, 10, 0, 0);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_K, 6, 0, 0,
		     -(int32_t)(size * (1 + rnd(g, 64 / size))));
	} else {
		emit(g, ISA_ALU64 | ISA_MOV | ISA_X, 6, 9, 0, 0);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_K, 6, 0, 0,
		     (int32_t)(MEM_DATA + size * rnd(g, (MEM_LEN - MEM_DATA) / size)));
	}
	if (op == ISA_CMPXCHG && rnd(g, 2)) /* make the exchange happen */
		emit(g, ISA_LDX | ISA_MEM | size_bits(size), 0, 6, 0, 0);
	emit(g, ISA_STX | ISA_ATOMIC | (dw ? ISA_DW : ISA_W), 6, src, 0, op);
	emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 6, 0, 0, special32(g));
}

static void gen_helper(struct gen *g)
{
	switch (rnd(g, 3)) {
	case 0:
		emit(g, ISA_OP_CALL, 0, 0, 0, HELPER_MIX);
		break;
	case 1: /* a known helper through callx */
		emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 6, 0, 0, HELPER_MIX);
		emit(g, ISA_OP_CALLX, 6, 0, 0, 0);
		break;
	default: /* stops the program when the input's stop byte is 0 */
		emit(g, ISA_LDX | ISA_MEM | ISA_B, 1, 9, SEL_STOP, 0);
		emit(g, ISA_OP_CALL, 0, 0, 0, HELPER_STOP);
		break;
	}
}

static void call_local(struct gen *g, unsigned fn)
{
	g->call_pc[g->ncalls] = g->n;
	g->call_fn[g->ncalls++] = fn;
	emit(g, ISA_OP_CALL, 0, ISA_CALL_LOCAL, 0, 0);
}

static void gen_call(struct gen *g)
{
	unsigned fn = rnd(g, NFN);

	if (g->in_fn || g->ncalls == sizeof(g->call_pc) / sizeof(g->call_pc[0]))
		return;
	if (fn == FN_PTR) { /* r1 points into this frame, at bytes the prologue wrote */
		emit(g, ISA_ALU64 | ISA_MOV | ISA_X, 1, 10, 0, 0);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_K, 1, 0, 0, -32);
	} else if (fn == FN_REC) {
		emit(g, ISA_LDX | ISA_MEM | ISA_B, 1, 9, SEL_DEPTH, 0);
	}
	call_local(g, fn);
}

/*
 * A fault site: it fires only when the input's site byte selects it, so
 * that the rest of the program runs on the other inputs. r7 is free here.
 */
static void gen_fault(struct gen *g)
{
	size_t jump, at;
	unsigned kind = rnd(g, 9);

	if (g->in_fn || g->nsites == 250)
		return;
	emit(g, ISA_LDX | ISA_MEM | ISA_B, 7, 9, SEL_SITE, 0);
	jump = g->n;
	emit(g, ISA_JMP | ISA_JNE | ISA_K, 7, 0, 0, (int32_t)++g->nsites);
	switch (kind) {
	case 0: /* straddles the end of memory */
		emit(g, ISA_LDX | ISA_MEM | ISA_W, dreg(g), 9, MEM_LEN - 2, 0);
		break;
	case 1: /* far past it, a store */
		emit(g, ISA_ST | ISA_MEM | ISA_DW, 9, 0, 4096, 1);
		break;
	case 2: /* a write into the read-only region */
		emit(g, ISA_LDX | ISA_MEM | ISA_DW, 7, 9, MEM_RO, 0);
		emit(g, ISA_STX | ISA_MEM | ISA_W, 7, 1, 8, 0);
		break;
	case 3: /* below the frame */
		emit(g, ISA_ALU64 | ISA_MOV | ISA_X, 7, 10, 0, 0);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_K, 7, 0, 0, -520);
		at = g->n;
		emit(g, ISA_LDX | ISA_MEM | ISA_DW, dreg(g), 7, 0, 0);
		g->stack_fault[at] = true;
		break;
	case 4: /* above the stack's top: not provable at decode, so checked */
		at = g->n;
		emit(g, ISA_LDX | ISA_MEM | ISA_H, dreg(g), 10, 2, 0);
		g->stack_fault[at] = true;
		break;
	case 5: /* near NULL */
		emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 7, 0, 0, 16);
		emit(g, ISA_LDX | ISA_MEM | ISA_B, dreg(g), 7, 0, 0);
		break;
	case 6: /* a misaligned atomic */
		emit(g, ISA_ALU64 | ISA_MOV | ISA_X, 7, 9, 0, 0);
		emit(g, ISA_STX | ISA_ATOMIC | (rnd(g, 2) ? ISA_DW : ISA_W), 7, 1, MEM_DATA + 2,
		     ISA_ADD | ISA_FETCH);
		break;
	case 7: /* an atomic out of bounds */
		emit(g, ISA_STX | ISA_ATOMIC | ISA_DW, 9, 2, MEM_LEN, ISA_XCHG);
		break;
	default: /* callx to no helper */
		emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 7, 0, 0, 77);
		emit(g, ISA_OP_CALLX, 7, 0, 0, 0);
		break;
	}
	g->p[jump].off = (int16_t)(g->n - jump - 1);
}

static void gen_segments(struct gen *g, unsigned n)
{
	while (n-- && g->n < MAX_INSNS - 64) {
		switch (rnd(g, 12)) {
		case 0:
		case 1:
			gen_alus(g, 1 + rnd(g, 6));
			break;
		case 2:
			gen_div_edges(g);
			break;
		case 3:
			gen_branch(g);
			break;
		case 4:
			gen_loop(g);
			break;
		case 5:
			gen_stack(g);
			break;
		case 6:
			gen_mem(g);
			break;
		case 7:
			gen_atomic(g);
			break;
		case 8:
			gen_helper(g);
			break;
		case 9:
			gen_call(g);
			break;
		default:
			gen_fault(g);
			break;
		}
	}
}

/* Bytes [r10 - bytes, r10) of the current frame, zeroed before any read. */
static void init_frame(struct gen *g, int bytes)
{
	for (int off = 8; off <= bytes; off += 8)
		emit(g, ISA_ST | ISA_MEM | ISA_DW, 10, 0, (int16_t)-off, 0);
}

static void gen_function(struct gen *g, unsigned fn)
{
	g->fn_pc[fn] = g->n;
	g->in_fn = true;
	switch (fn) {
	case FN_ALU: /* changes r6-r9 freely: the caller must get its own back */
		init_frame(g, 64);
		gen_segments(g, 4 + rnd(g, 6));
		emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 9, 0, 0, 1234);
		emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 6, 0, 0, 5678);
		break;
	case FN_PTR: /* reads and writes the caller's frame through r1 */
		emit(g, ISA_LDX | ISA_MEM | ISA_DW, 0, 1, 0, 0);
		emit(g, ISA_STX | ISA_MEM | ISA_DW, 1, 2, 8, 0);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_X, 0, 3, 0, 0);
		emit(g, ISA_ALU64 | ISA_MOV | ISA_K, 1, 0, 0, 5);
		break;
	case FN_REC: /* r1 levels deeper, then r2 + 7 per level */
		emit(g, ISA_JMP | ISA_JNE | ISA_K, 1, 0, 2, 0);
		emit(g, ISA_ALU64 | ISA_MOV | ISA_X, 0, 2, 0, 0);
		emit(g, ISA_OP_EXIT, 0, 0, 0, 0);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_K, 1, 0, 0, -1);
		call_local(g, FN_REC);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_K, 0, 0, 0, 7);
		break;
	default: /* two levels */
		init_frame(g, 64);
		gen_alus(g, 3);
		call_local(g, FN_ALU);
		gen_stack(g);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_X, 0, 6, 0, 0);
		break;
	}
	g->in_fn = false;
	emit(g, ISA_OP_EXIT, 0, 0, 0, 0);
}

static void gen_program(struct gen *g, uint64_t seed)
{
	memset(g, 0, sizeof(*g));
	g->s = seed * 0x9e3779b97f4a7c15ull + 1;
	emit(g, ISA_ALU64 | ISA_MOV | ISA_X, 9, 1, 0, 0);
	init_frame(g, 64);
	for (unsigned r = 0; r <= 8; r++)
		emit(g, ISA_LDX | ISA_MEM | ISA_DW, r, 9, (int16_t)(MEM_REGS + 8 * r), 0);
	gen_segments(g, 30 + rnd(g, 30));
	for (unsigned r = 0; r <= 8; r++)
		emit(g, ISA_STX | ISA_MEM | ISA_DW, 9, r, (int16_t)(MEM_REGS + 8 * r), 0);
	for (unsigned r = 1; r <= 8; r++)
		emit(g, ISA_ALU64 | ISA_XOR | ISA_X, 0, r, 0, 0);
	emit(g, ISA_OP_EXIT, 0, 0, 0, 0);
	for (unsigned fn = 0; fn < NFN; fn++)
		gen_function(g, fn);
	for (unsigned i = 0; i < g->ncalls; i++)
		g->p[g->call_pc[i]].imm = (int32_t)(g->fn_pc[g->call_fn[i]] - g->call_pc[i] - 1);
}

static uint64_t mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a * 3 ^ b * 5 ^ c * 7 ^ d * 11 ^ e * 13 ^ 0x5bd1e995;
}

static uint64_t stop_on_zero(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)b, (void)c, (void)d, (void)e;
	return a;
}

/* Input number i: which site fires, how deep the recursion goes, and data. */
static void make_input(struct gen *g, unsigned i, unsigned nsites, uint8_t *in)
{
	uint64_t ro_addr = (uintptr_t)ro, rw_addr = (uintptr_t)rw;

	for (unsigned b = 0; b < MEM_LEN; b++)
		in[b] = (uint8_t)rnd64(g);
	in[SEL_SITE] = i < nsites ? (uint8_t)(i + 1) : 0;
	in[SEL_DEPTH] = i == nsites ? 7 : (uint8_t)rnd(g, 5);
	in[SEL_STOP] = i == nsites + 1 ? 0 : (uint8_t)(1 + rnd(g, 255));
	for (unsigned r = 0; r <= 8; r++) {
		uint64_t v = special64(g);

		memcpy(&in[MEM_REGS + 8 * r], &v, 8);
	}
	memcpy(&in[MEM_RO], &ro_addr, 8);
	memcpy(&in[MEM_RW], &rw_addr, 8);
}

struct outcome {
	uint64_t r0;
	struct vm_run run;
	uint8_t mem[MEM_LEN], rw[REGION_LEN];
};

static void run_on(struct uebpf_vm *vm, const uint8_t *in, uint64_t budget, struct outcome *o)
{
	memcpy(mem, in, MEM_LEN);
	memcpy(rw, rw_init, REGION_LEN);
	o->run = (struct vm_run){
		.vm = vm, .mem = (uintptr_t)mem, .mem_len = MEM_LEN, .budget = budget};
	o->r0 = vm->engine->run(&o->run, (uintptr_t)mem, MEM_LEN);
	memcpy(o->mem, mem, MEM_LEN);
	memcpy(o->rw, rw, REGION_LEN);
}

static struct uebpf_vm *make_vm(const struct gen *g, enum uebpf_engine engine, uint64_t budget)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[1024] = "";
	int ret;

	uebpf_vm_register_helper(vm, HELPER_MIX, "mix", mix);
	uebpf_vm_register_helper_ex(vm, HELPER_STOP, "stop", stop_on_zero,
				    UEBPF_HELPER_STOP_ON_ZERO);
	uebpf_vm_add_region(vm, ro, sizeof(ro), 0);
	uebpf_vm_add_region(vm, rw, sizeof(rw), 1);
	uebpf_vm_set_insn_budget(vm, budget);
	uebpf_vm_set_engine(vm, engine);
	ret = uebpf_vm_load(vm, g->p, g->n * sizeof(g->p[0]), err, sizeof(err));
	EXPECT(!ret && !err[0], "load on engine %d: %d %s", engine, ret, err);
	if (ret) {
		uebpf_vm_destroy(vm);
		return NULL;
	}
	if (engine == UEBPF_ENGINE_AOT)
		EXPECT(vm->engine == &vm_aot_engine, "the AOT load fell back: %s", err);
	return vm;
}

static void dump(const struct gen *g)
{
	char *text = isa_disassemble(g->p, g->n);

	printf("--- program (%zu slots) ---\n%s---\n", g->n, text ? text : "");
	free(text);
}

/* The first byte where a and b differ, or -1. */
static int first_difference(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (a[i] != b[i])
			return (int)i;
	}
	return -1;
}

/* Compare one run; stores may differ after a budget fault (see aot.c). */
static bool same(const struct gen *g, const struct outcome *a, const struct outcome *b,
		 const char *what, uint64_t seed, unsigned input)
{
	bool budget = a->run.fault == VM_FAULT_BUDGET;
	bool ok = a->run.fault == b->run.fault && a->r0 == b->r0;

	if (ok && a->run.fault && !budget)
		ok = a->run.pc == b->run.pc && a->run.size == b->run.size &&
		     (a->run.addr == b->run.addr || g->stack_fault[a->run.pc]);
	if (ok && !budget)
		ok = !memcmp(a->mem, b->mem, MEM_LEN) && !memcmp(a->rw, b->rw, REGION_LEN);
	if (ok && !a->run.fault && a->run.budget)
		ok = a->run.executed == b->run.executed;
	EXPECT(ok,
	       "%s: program %" PRIu64 " input %u: interp r0 %#" PRIx64
	       " fault %d pc %zu addr %#" PRIx64 " size %u executed %" PRIu64 "; aot r0 %#" PRIx64
	       " fault %d pc %zu addr %#" PRIx64 " size %u executed %" PRIu64
	       "; memory differs at %d, region at %d",
	       what, seed, input, a->r0, a->run.fault, a->run.pc, a->run.addr, a->run.size,
	       a->run.executed, b->r0, b->run.fault, b->run.pc, b->run.addr, b->run.size,
	       b->run.executed, first_difference(a->mem, b->mem, MEM_LEN),
	       first_difference(a->rw, b->rw, REGION_LEN));
	return ok;
}

static unsigned faults_seen[VM_FAULT_BUDGET + 1];

static bool check_program(uint64_t seed, bool budgets)
{
	static struct gen g;
	struct uebpf_vm *interp, *aot, *aot_budget = NULL;
	unsigned ninputs;
	bool ok = true;

	gen_program(&g, seed);
	interp = make_vm(&g, UEBPF_ENGINE_INTERP, 0);
	aot = make_vm(&g, UEBPF_ENGINE_AOT, 0);
	if (budgets && interp)
		aot_budget = make_vm(&g, UEBPF_ENGINE_AOT, 1);
	if (!interp || !aot || (budgets && !aot_budget)) {
		dump(&g);
		ok = false;
		goto out;
	}
	ninputs = g.nsites + 6;
	for (unsigned i = 0; i < ninputs; i++) {
		uint8_t in[MEM_LEN];
		struct outcome a, b;

		make_input(&g, i, g.nsites, in);
		run_on(interp, in, 0, &a);
		run_on(aot, in, 0, &b);
		ok &= same(&g, &a, &b, "unbudgeted", seed, i);
		faults_seen[a.run.fault]++;
		if (!aot_budget)
			continue;
		run_on(interp, in, UINT64_MAX, &a);
		for (uint64_t total = a.run.executed, k = 0; k < 5; k++) {
			const uint64_t budgets[] = {total, total - 1, total / 2, 1, total + 3};

			run_on(interp, in, budgets[k] ? budgets[k] : 1, &a);
			run_on(aot_budget, in, budgets[k] ? budgets[k] : 1, &b);
			ok &= same(&g, &a, &b, "budgeted", seed, i);
		}
	}
	if (!ok)
		dump(&g);
out:
	uebpf_vm_destroy(interp);
	uebpf_vm_destroy(aot);
	uebpf_vm_destroy(aot_budget);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned programs = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 24;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
	unsigned dumped = 0;

	for (unsigned i = 0; i < REGION_LEN; i++) {
		ro[i] = (uint8_t)(i * 7 + 1);
		rw_init[i] = (uint8_t)(i * 13 + 5);
	}
	for (unsigned i = 0; i < programs; i++) {
		if (!check_program(seed + i, i % 3 == 0) && ++dumped == 3)
			break;
	}
	printf("runs ending in: none %u, mem %u, align %u, helper %u, depth %u\n", faults_seen[0],
	       faults_seen[VM_FAULT_MEM], faults_seen[VM_FAULT_ALIGN], faults_seen[VM_FAULT_HELPER],
	       faults_seen[VM_FAULT_DEPTH]);
	return check_summary();
}
