// SPDX-License-Identifier: MIT
/*
 * The JIT against the interpreter over random programs: both engines run
 * each program on the same memory and must agree on r0, on the fault (kind,
 * instruction, address, size) and on every byte of memory afterwards.
 *
 * The generator here writes programs the kernel verifier would refuse,
 * which is the point: memory accesses through any register at offsets
 * inside and just outside the run's memory, two VM regions (one read-only)
 * and the stack, so that checked accesses pass and fault at the edges;
 * atomics, aligned or not; ALU operations with divisors of zero and -1 in
 * registers and INT_MIN dividends; helper calls, one that stops on zero, and
 * callx to known and unknown IDs; local calls (and runaway recursion);
 * bounded loops, and unbounded ones under an instruction budget. The
 * kernel-differential generator (tests/kernel/proggen) adds programs of its
 * own shape.
 *
 * What a program may not do is let the engines' stack addresses into its
 * results: the register holding a stack pointer is never an operand of
 * anything but an access, and r10 reaches memory only once, into a buffer of
 * its own that tells the harness where each engine's stack was, so that
 * fault addresses on the stack compare relative to it. Helpers leave r1-r5
 * undefined (the JIT leaves what the helper left), so programs set them
 * again after each call.
 *
 * Usage: test_jit_diff [--seed S] [--count N] [--dump SEED]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/asm.h"
#include "proggen.h"
#include "vm/vm.h"

#define MEM_LEN 256
#define RW_LEN 128
#define RO_LEN 64
#define MAX_INSNS 8192
#define MAX_LABELS 1024
#define MAX_FUNCS 5

static uint8_t mem[MEM_LEN] __attribute__((aligned(64)));
static uint8_t rw[RW_LEN] __attribute__((aligned(64)));
static uint8_t ro[RO_LEN] __attribute__((aligned(64)));
static uint64_t stack_top_out; /* where the program stores its r10 */

static uint8_t mem0[MEM_LEN], rw0[RW_LEN], ro0[RO_LEN];

/* splitmix64 */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned below(uint64_t *s, unsigned n)
{
	return (unsigned)(rnd(s) % n);
}

/* Helpers: pure functions of r1-r5, so both engines see the same results. */
static uint64_t h_mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return (a * 0x9e3779b97f4a7c15ull) ^ (b + 3) ^ (c << 7) ^ (d * 31) ^ (e >> 3);
}

static uint64_t h_stopz(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return (a ^ b ^ c ^ d ^ e) & 3;
}

enum { HELPER_MIX = 1, HELPER_STOPZ = 2, HELPER_UNKNOWN = 77 };

/* Roles of the registers holding pointers. */
enum { P_MEM, P_RW, P_RO, P_STACK, NPTRS };

struct fixup {
	uint32_t at;
	uint16_t label;
	bool imm; /* the displacement goes into imm (gotol, call), else into off */
};

struct gen {
	uint64_t s;
	bool budget; /* runs under a budget: unbounded loops allowed */
	struct isa_insn insns[MAX_INSNS];
	size_t n;
	struct fixup fix[MAX_LABELS];
	size_t nfix;
	int32_t label_pos[MAX_LABELS];
	size_t nlabels;
	struct {
		uint16_t label;
		int countdown;
	} pending[MAX_LABELS];
	size_t npending;
	int ptr[NPTRS];
	bool is_ptr[ISA_NREGS];
	int data[ISA_NREGS];
	int ndata;
	int counter; /* the loop counter while in a loop, else -1 */
	uint16_t func[MAX_FUNCS];
	int nfuncs, cur;
};

static void emit(struct gen *g, uint8_t op, unsigned dst, unsigned src, int16_t off, int32_t imm)
{
	if (g->n < MAX_INSNS)
		g->insns[g->n++] = (struct isa_insn){op, dst, src, off, imm};
}

static void emit_lddw(struct gen *g, unsigned dst, uint64_t v)
{
	emit(g, ISA_OP_LDDW, dst, 0, 0, (int32_t)(uint32_t)v);
	emit(g, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

static uint16_t new_label(struct gen *g)
{
	g->label_pos[g->nlabels] = -1;
	return (uint16_t)g->nlabels++;
}

static void bind(struct gen *g, uint16_t label)
{
	g->label_pos[label] = (int32_t)g->n;
}

static void jump_to(struct gen *g, uint8_t op, unsigned dst, unsigned src, int32_t imm,
		    uint16_t label)
{
	bool gotol = op == (ISA_JMP32 | ISA_JA);

	g->fix[g->nfix++] = (struct fixup){(uint32_t)g->n, label, gotol || op == ISA_OP_CALL};
	emit(g, op, dst, src, 0, imm);
}

/* An item ended: forward labels whose count ran out land here. */
static void item_done(struct gen *g)
{
	size_t k = 0;

	for (size_t i = 0; i < g->npending; i++) {
		if (--g->pending[i].countdown <= 0)
			bind(g, g->pending[i].label);
		else
			g->pending[k++] = g->pending[i];
	}
	g->npending = k;
}

static void flush_labels(struct gen *g)
{
	for (size_t i = 0; i < g->npending; i++)
		bind(g, g->pending[i].label);
	g->npending = 0;
}

static uint16_t forward_label(struct gen *g)
{
	uint16_t l = new_label(g);

	g->pending[g->npending].label = l;
	g->pending[g->npending++].countdown = 1 + (int)below(&g->s, 6);
	return l;
}

static uint64_t value(struct gen *g)
{
	static const uint64_t special[] = {
		0,	    1,		2,	    3,		 7,	     0xff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, INT64_MAX, (uint64_t)INT64_MIN,
		UINT64_MAX, UINT64_MAX - 1, 0xffffffff80000000ull, 0x8000000080000000ull,
	};

	switch (below(&g->s, 4)) {
	case 0:
		return special[below(&g->s, sizeof(special) / sizeof(special[0]))];
	case 1:
		return below(&g->s, 64);
	case 2:
		return (uint64_t)(int64_t)(int32_t)rnd(&g->s);
	default:
		return rnd(&g->s);
	}
}

static int32_t imm(struct gen *g)
{
	static const int32_t special[] = {0, 1, -1, 2, 31, 32, 63, 64, 0x7fffffff, INT32_MIN,
					  0xff, 0xffff, -2};

	if (below(&g->s, 2))
		return special[below(&g->s, sizeof(special) / sizeof(special[0]))];
	return below(&g->s, 2) ? (int32_t)below(&g->s, 100) : (int32_t)rnd(&g->s);
}

static unsigned data_reg(struct gen *g)
{
	return (unsigned)g->data[below(&g->s, (unsigned)g->ndata)];
}

/* A data register the current item may write: not the loop counter. */
static unsigned data_dst(struct gen *g)
{
	unsigned r;

	do {
		r = data_reg(g);
	} while ((int)r == g->counter);
	return r;
}

/* A register whose value is the same on both engines: data or a non-stack pointer. */
static unsigned value_reg(struct gen *g)
{
	if (below(&g->s, 8) == 0)
		return (unsigned)g->ptr[below(&g->s, P_STACK)];
	return data_reg(g);
}

static void set_ptr(struct gen *g, int role)
{
	unsigned r = (unsigned)g->ptr[role];

	switch (role) {
	case P_MEM:
		emit_lddw(g, r, (uintptr_t)mem);
		break;
	case P_RW:
		emit_lddw(g, r, (uintptr_t)rw);
		break;
	case P_RO:
		emit_lddw(g, r, (uintptr_t)ro);
		break;
	default:
		emit(g, ISA_ALU64 | ISA_MOV | ISA_X, r, ISA_REG_FP, 0, 0);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_K, r, 0, 0, -256);
		break;
	}
}

static void set_data(struct gen *g, unsigned r)
{
	uint64_t v = value(g);

	if ((int64_t)v == (int32_t)v)
		emit(g, ISA_ALU64 | ISA_MOV | ISA_K, r, 0, 0, (int32_t)v);
	else
		emit_lddw(g, r, v);
}

/* After a call: pointers in r1-r5 are set again, data there gets new values. */
static void after_call(struct gen *g)
{
	for (unsigned r = 1; r <= 5; r++) {
		if (!g->is_ptr[r]) {
			set_data(g, r);
			continue;
		}
		for (int role = 0; role < NPTRS; role++) {
			if (g->ptr[role] == (int)r)
				set_ptr(g, role);
		}
	}
}

static void gen_alu(struct gen *g)
{
	static const uint8_t ops[] = {ISA_ADD, ISA_SUB, ISA_MUL, ISA_DIV, ISA_OR,  ISA_AND, ISA_LSH,
				      ISA_RSH, ISA_NEG, ISA_MOD, ISA_XOR, ISA_MOV, ISA_ARSH, ISA_END};
	uint8_t op = ops[below(&g->s, sizeof(ops))];
	bool alu64 = below(&g->s, 2), x = below(&g->s, 2);
	uint8_t cls = alu64 ? ISA_ALU64 : ISA_ALU;
	unsigned dst = data_dst(g), src = value_reg(g);
	int16_t off = 0;

	if (below(&g->s, 12) == 0) {
		emit_lddw(g, dst, value(g));
		return;
	}
	switch (op) {
	case ISA_NEG:
		emit(g, cls | ISA_NEG, dst, 0, 0, 0);
		return;
	case ISA_END:
		emit(g, cls | ISA_END | (alu64 ? ISA_K : (x ? ISA_X : ISA_K)), dst, 0, 0,
		     16 << below(&g->s, 3));
		return;
	case ISA_DIV:
	case ISA_MOD:
		off = (int16_t)below(&g->s, 2);
		break;
	case ISA_MOV:
		if (x && below(&g->s, 3) == 0)
			off = (int16_t)(8 << below(&g->s, alu64 ? 3 : 2));
		break;
	}
	if (x)
		emit(g, cls | op | ISA_X, dst, src, off, 0);
	else
		emit(g, cls | op | ISA_K, dst, 0, off, imm(g));
}

/*
 * A base register and offset for an access of size bytes: mostly inside the
 * target, sometimes straddling or past one of its ends.
 */
static void mem_target(struct gen *g, unsigned size, bool atomic, unsigned *base, int16_t *off)
{
	int lo, hi; /* valid offsets from the base: [lo, hi] */
	unsigned pick = below(&g->s, 20);

	if (pick < 7) {
		*base = (unsigned)g->ptr[P_MEM];
		lo = 0, hi = MEM_LEN - (int)size;
	} else if (pick < 10) {
		*base = (unsigned)g->ptr[P_RW];
		lo = 0, hi = RW_LEN - (int)size;
	} else if (pick < 12) {
		*base = (unsigned)g->ptr[P_RO];
		lo = 0, hi = RO_LEN - (int)size;
	} else if (pick < 15) {
		*base = (unsigned)g->ptr[P_STACK];
		lo = -256, hi = 256 - (int)size;
	} else if (pick < 19 || below(&g->s, 4)) {
		*base = ISA_REG_FP;
		lo = -ISA_STACK_SIZE, hi = -(int)size;
	} else {
		*base = data_reg(g);
		*off = (int16_t)imm(g);
		return;
	}
	if (below(&g->s, 16) == 0)
		*off = (int16_t)(below(&g->s, 2) ? lo - 1 - (int)below(&g->s, 8)
						 : hi + 1 + (int)below(&g->s, 8));
	else
		*off = (int16_t)(lo + (int)below(&g->s, (unsigned)(hi - lo + 1)));
	if (atomic && below(&g->s, 6))
		*off = (int16_t)(*off & ~(int)(size - 1));
}

static void gen_mem(struct gen *g)
{
	static const uint8_t sizes[] = {ISA_B, ISA_H, ISA_W, ISA_DW};
	uint8_t sz = sizes[below(&g->s, 4)];
	unsigned size = isa_size_bytes(sz), base;
	int16_t off;

	mem_target(g, size, false, &base, &off);
	switch (below(&g->s, 4)) {
	case 0:
		emit(g, ISA_LDX | ISA_MEM | sz, data_dst(g), base, off, 0);
		break;
	case 1:
		if (sz == ISA_DW)
			sz = ISA_W;
		emit(g, ISA_LDX | ISA_MEMSX | sz, data_dst(g), base, off, 0);
		break;
	case 2:
		emit(g, ISA_ST | ISA_MEM | sz, base, 0, off, imm(g));
		break;
	default:
		emit(g, ISA_STX | ISA_MEM | sz, base, value_reg(g), off, 0);
		break;
	}
}

static void gen_atomic(struct gen *g)
{
	static const int32_t ops[] = {ISA_ADD,	     ISA_OR,	       ISA_AND,
				      ISA_XOR,	     ISA_ADD | ISA_FETCH, ISA_OR | ISA_FETCH,
				      ISA_AND | ISA_FETCH, ISA_XOR | ISA_FETCH, ISA_XCHG,
				      ISA_CMPXCHG};
	uint8_t sz = below(&g->s, 2) ? ISA_DW : ISA_W;
	int32_t op = ops[below(&g->s, sizeof(ops) / sizeof(ops[0]))];
	unsigned base, src = (op & ISA_FETCH) ? data_dst(g) : data_reg(g);
	int16_t off;

	mem_target(g, isa_size_bytes(sz), true, &base, &off);
	emit(g, ISA_STX | ISA_ATOMIC | sz, base, src, off, op);
}

static void gen_jump(struct gen *g)
{
	static const uint8_t ops[] = {ISA_JEQ, ISA_JGT, ISA_JGE,  ISA_JSET, ISA_JNE, ISA_JSGT,
				      ISA_JSGE, ISA_JLT, ISA_JLE, ISA_JSLT, ISA_JSLE};
	uint8_t cls = below(&g->s, 2) ? ISA_JMP : ISA_JMP32;
	uint16_t l;

	if (below(&g->s, 8) == 0) {
		l = forward_label(g);
		if (cls == ISA_JMP)
			jump_to(g, ISA_JMP | ISA_JA, 0, 0, 0, l);
		else
			jump_to(g, ISA_JMP32 | ISA_JA, 0, 0, 0, l);
		return;
	}
	l = forward_label(g);
	if (below(&g->s, 2))
		jump_to(g, cls | ops[below(&g->s, sizeof(ops))] | ISA_X, value_reg(g), value_reg(g),
			0, l);
	else
		jump_to(g, cls | ops[below(&g->s, sizeof(ops))] | ISA_K, value_reg(g), 0, imm(g), l);
}

/*
 * An add, sub, and, or or xor, then a test of a register against 0 as the
 * next item: the JIT may take the flags of the first for the second.
 */
static void gen_flag_pair(struct gen *g)
{
	static const uint8_t ops[] = {ISA_ADD, ISA_SUB, ISA_AND, ISA_OR, ISA_XOR};
	uint8_t op = ops[below(&g->s, sizeof(ops))];
	unsigned dst = data_dst(g);

	if (below(&g->s, 2))
		emit(g, (below(&g->s, 2) ? ISA_ALU64 : ISA_ALU) | op | ISA_X, dst, value_reg(g), 0, 0);
	else
		emit(g, (below(&g->s, 2) ? ISA_ALU64 : ISA_ALU) | op | ISA_K, dst, 0, 0,
		     (int32_t)below(&g->s, 3) - 1);
	item_done(g);
	jump_to(g,
		(below(&g->s, 2) ? ISA_JMP : ISA_JMP32) | (below(&g->s, 2) ? ISA_JEQ : ISA_JNE) |
			ISA_K,
		below(&g->s, 4) ? dst : data_reg(g), 0, 0, forward_label(g));
}

/* r1-r5 as helper arguments: values only, no stack pointer. */
static void helper_args(struct gen *g)
{
	for (unsigned r = 1; r <= 5; r++) {
		if (g->ptr[P_STACK] == (int)r || below(&g->s, 3) == 0)
			set_data(g, r);
	}
}

static void gen_call(struct gen *g)
{
	unsigned r;

	helper_args(g);
	switch (below(&g->s, 8)) {
	case 0:
	case 1:
		/* callx, through a data register holding the ID */
		r = data_reg(g);
		emit(g, ISA_ALU64 | ISA_MOV | ISA_K, r, 0, 0,
		     below(&g->s, 6) ? (below(&g->s, 2) ? HELPER_MIX : HELPER_STOPZ)
				     : HELPER_UNKNOWN);
		emit(g, ISA_OP_CALLX, r, 0, 0, 0);
		break;
	case 2:
		emit(g, ISA_OP_CALL, 0, 0, 0, HELPER_STOPZ);
		break;
	default:
		emit(g, ISA_OP_CALL, 0, 0, 0, HELPER_MIX);
		break;
	}
	after_call(g);
}

static void gen_local_call(struct gen *g)
{
	int callee;

	/* calls go down the list of functions, so depth stays bounded, but for rare recursion */
	if (below(&g->s, 40) == 0)
		callee = g->cur;
	else if (g->cur + 1 < g->nfuncs)
		callee = g->cur + 1 + (int)below(&g->s, (unsigned)(g->nfuncs - g->cur - 1));
	else
		return;
	jump_to(g, ISA_OP_CALL, 0, ISA_CALL_LOCAL, 0, g->func[callee]);
	after_call(g);
}

static void gen_items(struct gen *g, unsigned n, bool in_loop);

/* A loop counting a data register down, or with a budget, maybe forever. */
static void gen_loop(struct gen *g)
{
	bool forever = g->budget && below(&g->s, 3) == 0;
	uint16_t top = new_label(g);
	unsigned c;

	/* not r0, which cmpxchg writes */
	do {
		c = data_dst(g);
	} while (c == 0);

	flush_labels(g);
	g->counter = (int)c;
	emit(g, ISA_ALU64 | ISA_MOV | ISA_K, c, 0, 0, 1 + (int32_t)below(&g->s, 5));
	bind(g, top);
	gen_items(g, 1 + below(&g->s, 8), true);
	if (forever) {
		jump_to(g, ISA_JMP | ISA_JA, 0, 0, 0, top);
	} else {
		emit(g, ISA_ALU64 | ISA_SUB | ISA_K, c, 0, 0, 1);
		jump_to(g, ISA_JMP | ISA_JNE | ISA_K, c, 0, 0, top);
	}
	g->counter = -1;
}

static void gen_items(struct gen *g, unsigned n, bool in_loop)
{
	while (n-- && g->n < MAX_INSNS - 256) {
		unsigned k = below(&g->s, 100);

		if (k < 40)
			gen_alu(g);
		else if (k < 65)
			gen_mem(g);
		else if (k < 71)
			gen_atomic(g);
		else if (k < 80)
			gen_jump(g);
		else if (k < 85)
			gen_flag_pair(g);
		else if (k < 90 && !in_loop)
			gen_call(g);
		else if (k < 94 && !in_loop)
			gen_local_call(g);
		else if (k < 97 && !in_loop)
			gen_loop(g);
		else
			gen_alu(g);
		item_done(g);
	}
}

/* Fill the frame, so that no engine reads what happens to be on its stack. */
static void init_frame(struct gen *g)
{
	for (int i = 1; i <= ISA_STACK_SIZE / 8; i++)
		emit(g, ISA_ST | ISA_MEM | ISA_DW, ISA_REG_FP, 0, (int16_t)(-8 * i), imm(g));
}

/* Fold the data registers and a few stack slots into r0. */
static void fold(struct gen *g)
{
	unsigned t = (unsigned)g->data[1];

	flush_labels(g);
	for (int i = 1; i < g->ndata; i++)
		emit(g, ISA_ALU64 | ISA_XOR | ISA_X, 0, (unsigned)g->data[i], 0, 0);
	for (int i = 0; i < 3; i++) {
		emit(g, ISA_LDX | ISA_MEM | ISA_DW, t, ISA_REG_FP,
		     (int16_t)(-8 * (1 + (int)below(&g->s, 64))), 0);
		emit(g, ISA_ALU64 | ISA_MUL | ISA_K, 0, 0, 0, 0x2545f491);
		emit(g, ISA_ALU64 | ISA_ADD | ISA_X, 0, t, 0, 0);
	}
	emit(g, ISA_OP_EXIT, 0, 0, 0, 0);
}

static void generate(struct gen *g, uint64_t seed, bool budget)
{
	int regs[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	unsigned t;

	memset(g, 0, sizeof(*g));
	g->s = seed;
	g->budget = budget;
	g->counter = -1;
	for (int i = 8; i > 0; i--) {
		int j = (int)below(&g->s, (unsigned)i + 1), tmp = regs[i];

		regs[i] = regs[j];
		regs[j] = tmp;
	}
	for (int i = 0; i < NPTRS; i++) {
		g->ptr[i] = regs[i];
		g->is_ptr[regs[i]] = true;
	}
	g->data[g->ndata++] = 0;
	for (int i = NPTRS; i < 9; i++)
		g->data[g->ndata++] = regs[i];
	g->nfuncs = 1 + (int)below(&g->s, MAX_FUNCS);
	for (int f = 0; f < g->nfuncs; f++)
		g->func[f] = new_label(g);

	/* main: tell the harness where the stack is, then set everything */
	bind(g, g->func[0]);
	t = (unsigned)g->data[1];
	emit_lddw(g, t, (uintptr_t)&stack_top_out);
	emit(g, ISA_STX | ISA_MEM | ISA_DW, t, ISA_REG_FP, 0, 0);
	for (int i = 0; i < NPTRS; i++)
		set_ptr(g, i);
	for (int i = 0; i < g->ndata; i++)
		set_data(g, (unsigned)g->data[i]);
	for (g->cur = 0; g->cur < g->nfuncs; g->cur++) {
		if (g->cur)
			bind(g, g->func[g->cur]);
		init_frame(g);
		gen_items(g, 10 + below(&g->s, 60), false);
		fold(g);
	}
	for (size_t i = 0; i < g->nfix; i++) {
		const struct fixup *f = &g->fix[i];
		int32_t d = g->label_pos[f->label] - (int32_t)f->at - 1;

		if (f->imm)
			g->insns[f->at].imm = d;
		else
			g->insns[f->at].off = (int16_t)d;
	}
}

struct outcome {
	int load;
	uint64_t r0;
	struct vm_run run;
	uint64_t top;
	uint8_t mem[MEM_LEN], rw[RW_LEN], ro[RO_LEN];
};

static struct uebpf_vm *make_vm(enum uebpf_engine e, uint64_t budget)
{
	struct uebpf_vm *vm = uebpf_vm_create();

	if (!vm)
		return NULL;
	uebpf_vm_set_engine(vm, e);
	uebpf_vm_set_insn_budget(vm, budget);
	uebpf_vm_register_helper(vm, HELPER_MIX, "mix", h_mix);
	uebpf_vm_register_helper_ex(vm, HELPER_STOPZ, "stopz", h_stopz, UEBPF_HELPER_STOP_ON_ZERO);
	uebpf_vm_add_region(vm, rw, sizeof(rw), 1);
	uebpf_vm_add_region(vm, ro, sizeof(ro), 0);
	uebpf_vm_add_region(vm, &stack_top_out, sizeof(stack_top_out), 1);
	return vm;
}

static void run_one(enum uebpf_engine e, const struct isa_insn *insns, size_t n, uint64_t budget,
		    struct outcome *o)
{
	struct uebpf_vm *vm = make_vm(e, budget);
	char err[256];

	memset(o, 0, sizeof(*o));
	o->load = vm ? uebpf_vm_load(vm, insns, n * sizeof(*insns), err, sizeof(err)) : -ENOMEM;
	if (!o->load) {
		memcpy(mem, mem0, sizeof(mem));
		memcpy(rw, rw0, sizeof(rw));
		memcpy(ro, ro0, sizeof(ro));
		stack_top_out = 0;
		o->run = (struct vm_run){.vm = vm,
					 .mem = (uintptr_t)mem,
					 .mem_len = sizeof(mem),
					 .budget = vm->insn_budget};
		o->r0 = vm->engine->run(&o->run, (uintptr_t)mem, sizeof(mem));
		o->run.vm = NULL;
		o->top = stack_top_out;
		memcpy(o->mem, mem, sizeof(mem));
		memcpy(o->rw, rw, sizeof(rw));
		memcpy(o->ro, ro, sizeof(ro));
	}
	uebpf_vm_destroy(vm);
}

/* A fault address near the engine's stack, as an offset from its top. */
static uint64_t fault_addr(const struct outcome *o)
{
	if (o->run.fault != VM_FAULT_MEM && o->run.fault != VM_FAULT_ALIGN)
		return o->run.addr;
	if (o->run.addr - o->top + 16384 < 32768)
		return o->run.addr - o->top;
	return o->run.addr;
}

/*
 * Whether the JIT's outcome j is what the interpreter's i allows. With a
 * budget the JIT counts per block, before running it: it may stop with
 * VM_FAULT_BUDGET (at the block's start) where the interpreter ran part of
 * that block into another stop, and no memory comparison holds after that.
 */
static bool agree(const struct outcome *i, const struct outcome *j, uint64_t budget, char *why,
		  size_t len)
{
	if (i->load || j->load) {
		snprintf(why, len, "load: interp %d, jit %d", i->load, j->load);
		return i->load == j->load;
	}
	if (budget && j->run.fault == VM_FAULT_BUDGET) {
		snprintf(why, len, "jit ran out of budget, interp: fault %d r0 0x%" PRIx64,
			 i->run.fault, i->r0);
		return i->run.fault || i->r0 == 0;
	}
	if (i->run.fault != j->run.fault || (i->run.fault != VM_FAULT_BUDGET && i->run.pc != j->run.pc)) {
		snprintf(why, len, "fault: interp %d at %zu, jit %d at %zu", i->run.fault, i->run.pc,
			 j->run.fault, j->run.pc);
		return false;
	}
	if (i->run.fault == VM_FAULT_BUDGET)
		return true;
	if (fault_addr(i) != fault_addr(j) || i->run.size != j->run.size) {
		snprintf(why, len, "fault detail: interp addr 0x%" PRIx64 " size %u, jit 0x%" PRIx64
			 " size %u",
			 fault_addr(i), i->run.size, fault_addr(j), j->run.size);
		return false;
	}
	if (i->r0 != j->r0) {
		snprintf(why, len, "r0: interp 0x%" PRIx64 ", jit 0x%" PRIx64, i->r0, j->r0);
		return false;
	}
	/* a stop mid-block leaves the JIT's count at the block's end */
	if (budget && !i->run.fault && i->r0 && i->run.executed != j->run.executed) {
		snprintf(why, len, "executed: interp %" PRIu64 ", jit %" PRIu64, i->run.executed,
			 j->run.executed);
		return false;
	}
	for (size_t k = 0; k < MEM_LEN; k++) {
		if (i->mem[k] != j->mem[k]) {
			snprintf(why, len, "mem[%zu]: interp 0x%02x, jit 0x%02x", k, i->mem[k],
				 j->mem[k]);
			return false;
		}
	}
	if (memcmp(i->rw, j->rw, RW_LEN) || memcmp(i->ro, j->ro, RO_LEN)) {
		snprintf(why, len, "region contents differ");
		return false;
	}
	return true;
}

struct stats {
	unsigned long passed, failed, faults[VM_FAULT_BUDGET + 1];
};

static void dump(const struct isa_insn *insns, size_t n)
{
	char *text = isa_disassemble(insns, n);

	printf("%s", text ? text : "(out of memory)\n");
	free(text);
}

static void check(struct stats *st, const char *kind, uint64_t seed, const struct isa_insn *insns,
		  size_t n, uint64_t budget, bool verbose)
{
	static struct outcome i, j;
	char why[256] = "";

	run_one(UEBPF_ENGINE_INTERP, insns, n, budget, &i);
	run_one(UEBPF_ENGINE_JIT, insns, n, budget, &j);
	if (agree(&i, &j, budget, why, sizeof(why))) {
		st->passed++;
		st->faults[i.run.fault]++;
		if (verbose) {
			dump(insns, n);
			printf("agree: fault %d at %zu, r0 0x%" PRIx64 "\n", i.run.fault, i.run.pc,
			       i.r0);
		}
		return;
	}
	st->failed++;
	if (st->failed <= 10)
		printf("FAIL %s seed %" PRIu64 " budget %" PRIu64 ": %s\n", kind, seed, budget, why);
	if (verbose)
		dump(insns, n);
}

int main(int argc, char **argv)
{
	static struct gen g;
	static struct isa_insn buf[4096];
	struct stats st = {0};
	uint64_t base = 1, count = 3000, s;
	long dump_seed = -1;

	for (int a = 1; a + 1 < argc; a += 2) {
		if (!strcmp(argv[a], "--seed"))
			base = strtoull(argv[a + 1], NULL, 0);
		else if (!strcmp(argv[a], "--count"))
			count = strtoull(argv[a + 1], NULL, 0);
		else if (!strcmp(argv[a], "--dump"))
			dump_seed = strtol(argv[a + 1], NULL, 0);
	}
	s = base;
	for (size_t k = 0; k < sizeof(mem0); k++)
		mem0[k] = (uint8_t)rnd(&s);
	for (size_t k = 0; k < sizeof(rw0); k++)
		rw0[k] = (uint8_t)rnd(&s);
	for (size_t k = 0; k < sizeof(ro0); k++)
		ro0[k] = (uint8_t)rnd(&s);
	if (dump_seed >= 0) {
		generate(&g, (uint64_t)dump_seed, false);
		check(&st, "dump", (uint64_t)dump_seed, g.insns, g.n, 0, true);
		return st.failed != 0;
	}

	for (uint64_t seed = base; seed < base + count; seed++) {
		/* every program plain, every fourth also under a budget */
		generate(&g, seed, false);
		check(&st, "gen", seed, g.insns, g.n, 0, false);
		if (seed % 4 == 0) {
			generate(&g, seed, true);
			check(&st, "gen-budget", seed, g.insns, g.n,
			      seed % 8 ? 1u << 20 : 50 + seed % 500, false);
		}
		/* the kernel-differential generator's programs, of its own shape */
		long n = proggen_generate(seed, 20 + seed % 200, NULL, buf,
					  sizeof(buf) / sizeof(buf[0]));

		if (n > 0)
			check(&st, "proggen", seed, buf, (size_t)n, seed % 3 ? 0 : 1u << 20, false);
	}
	printf("outcomes: %lu normal, %lu memory, %lu alignment, %lu helper, %lu depth, %lu budget\n",
	       st.faults[VM_FAULT_NONE], st.faults[VM_FAULT_MEM], st.faults[VM_FAULT_ALIGN],
	       st.faults[VM_FAULT_HELPER], st.faults[VM_FAULT_DEPTH], st.faults[VM_FAULT_BUDGET]);
	printf("%lu passed, %lu failed\n", st.passed, st.failed);
	return st.failed ? 1 : 0;
}
