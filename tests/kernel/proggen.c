// SPDX-License-Identifier: MIT
/*
 * The program generator. Its programs must pass the kernel verifier, whose
 * rules shape them:
 *  - every register is written before it is read, and r10 is only ever a
 *    memory base, so no register holds a pointer the verifier would track;
 *  - stack accesses have constant offsets inside the initialised area and
 *    are aligned to their size (the verifier demands aligned stack access);
 *  - shift immediates are below the operand width and K divisors are not
 *    zero (both rejected at load);
 *  - jumps go forward, so the program ends, and never into an lddw;
 *  - no instruction is unreachable in the control flow graph (rejected at
 *    load): a ja or gotol always comes right after a conditional jump over
 *    it, so the instruction after it is a jump target.
 *
 * With avoid_kernel_bugs, two verifier bugs seen in Linux 6.18 are kept out
 * of reach; both make the kernel run something other than the program:
 *  - precision tracking does not follow the value an atomic fetch loads from
 *    a stack slot that holds a known constant, so a branch on that value can
 *    be judged always taken and the other side removed as dead code. A
 *    non-fetching atomic on the same slot first leaves it unknown to the
 *    verifier.
 *  - the zero-extension of r0 after a 32-bit cmpxchg (the x86 JIT needs it
 *    inserted) is dropped when the only 64-bit use of r0 is on a path the
 *    verifier pruned. A mov32 r0, r0 after it does the extension itself.
 */
#include <errno.h>
#include <stdbool.h>

#include "proggen.h"

#define PROGGEN_NREGS 10	  /* r0..r9: the registers a program may write */
#define PROGGEN_FOLD_K 0x2545f491 /* odd, so each fold step keeps all bits of r0 */

struct proggen {
	uint64_t rng;
	unsigned features;
	int stack_size;
	bool avoid_kernel_bugs;
	struct isa_insn *buf;
	size_t len;	 /* slots written so far */
	size_t body_end; /* the slot after the body: the farthest jump target */
};

/* splitmix64: tiny, and neighbouring seeds give unrelated streams. */
static uint64_t pg_next(struct proggen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned pg_below(struct proggen *g, unsigned n)
{
	return (unsigned)(pg_next(g) % n);
}

static unsigned pg_reg(struct proggen *g)
{
	return pg_below(g, PROGGEN_NREGS);
}

/*
 * Immediates lean on the values where arithmetic has edge cases (zero, one,
 * minus one, the sign bits, shift widths) rather than on uniform noise.
 */
static int32_t pg_imm32(struct proggen *g)
{
	static const int32_t special[] = {0,	      1,	 -1,	       2,     -2,
					  7,	      8,	 31,	       32,    63,
					  64,	      0x7f,	 0x80,	       0xff,  0x7fff,
					  0x8000,     0xffff,	 0x10000,      -0x80, -0x8000,
					  0x7fffffff, INT32_MIN, INT32_MIN + 1};

	switch (pg_below(g, 4)) {
	case 0:
		return special[pg_below(g, sizeof(special) / sizeof(special[0]))];
	case 1:
		return (int32_t)pg_below(g, 33) - 16;
	case 2:
		return (int32_t)((pg_below(g, 2) ? 1u : ~0u) << pg_below(g, 32));
	default:
		return (int32_t)pg_next(g);
	}
}

static uint64_t pg_imm64(struct proggen *g)
{
	static const uint64_t special[] = {
		0x8000000000000000ull, 0x7fffffffffffffffull, 0xffffffff00000000ull,
		0x00000000ffffffffull, 0x0000000100000000ull, 0x0000000080000000ull,
		0xffffffff80000000ull, 0x8000000080000000ull,
	};

	switch (pg_below(g, 3)) {
	case 0:
		return special[pg_below(g, sizeof(special) / sizeof(special[0]))];
	case 1:
		return (uint64_t)(uint32_t)pg_imm32(g) << 32 | (uint32_t)pg_imm32(g);
	default:
		return pg_next(g);
	}
}

static void pg_emit(struct proggen *g, uint8_t opcode, unsigned dst, unsigned src, int16_t off,
		    int32_t imm)
{
	g->buf[g->len++] = (struct isa_insn){
		.opcode = opcode, .dst = dst & 0xf, .src = src & 0xf, .off = off, .imm = imm};
}

static void pg_emit_lddw(struct proggen *g, unsigned dst, uint64_t v)
{
	pg_emit(g, ISA_OP_LDDW, dst, 0, 0, (int32_t)(uint32_t)v);
	pg_emit(g, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

/* A constant into dst: mov (sign-extended), mov32 (zero-extended) or lddw. */
static void pg_emit_const(struct proggen *g, unsigned dst, bool lddw_ok)
{
	switch (pg_below(g, lddw_ok ? 3 : 2)) {
	case 0:
		pg_emit(g, ISA_ALU64 | ISA_MOV | ISA_K, dst, 0, 0, pg_imm32(g));
		break;
	case 1:
		pg_emit(g, ISA_ALU | ISA_MOV | ISA_K, dst, 0, 0, pg_imm32(g));
		break;
	default:
		pg_emit_lddw(g, dst, pg_imm64(g));
		break;
	}
}

/* A stack offset for an access of size bytes: inside the area, aligned. */
static int16_t pg_stack_off(struct proggen *g, unsigned size)
{
	return (int16_t)(-g->stack_size + (int)(pg_below(g, g->stack_size / size) * size));
}

static const uint8_t pg_sizes[4] = {ISA_B, ISA_H, ISA_W, ISA_DW}; /* 1, 2, 4, 8 bytes */

static void pg_prologue(struct proggen *g)
{
	for (unsigned r = 0; r < PROGGEN_NREGS; r++)
		pg_emit_const(g, r, true);

	/* Each 8-byte slot is filled by pieces of one size, immediates or registers. */
	for (int slot = -g->stack_size; slot < 0; slot += 8) {
		uint8_t size = pg_sizes[pg_below(g, 4)];
		unsigned bytes = isa_size_bytes(size);

		for (unsigned at = 0; at < 8; at += bytes) {
			int16_t off = (int16_t)(slot + (int)at);

			if (pg_below(g, 2))
				pg_emit(g, ISA_ST | ISA_MEM | size, ISA_REG_FP, 0, off,
					pg_imm32(g));
			else
				pg_emit(g, ISA_STX | ISA_MEM | size, ISA_REG_FP, pg_reg(g), off, 0);
		}
	}
}

static void pg_alu(struct proggen *g)
{
	static const struct {
		uint8_t op;
		int16_t off;
	} ops[] = {
		{ISA_ADD, 0}, {ISA_SUB, 0},  {ISA_MUL, 0}, {ISA_DIV, 0}, {ISA_DIV, 1},
		{ISA_MOD, 0}, {ISA_MOD, 1},  {ISA_OR, 0},  {ISA_AND, 0}, {ISA_LSH, 0},
		{ISA_RSH, 0}, {ISA_ARSH, 0}, {ISA_XOR, 0}, {ISA_MOV, 0}, {ISA_NEG, 0},
	};
	unsigned i = pg_below(g, sizeof(ops) / sizeof(ops[0]));
	uint8_t op = ops[i].op;
	bool alu64 = pg_below(g, 2);
	uint8_t cls = alu64 ? ISA_ALU64 : ISA_ALU;
	unsigned dst = pg_reg(g);
	int32_t imm;

	if (op != ISA_NEG && pg_below(g, 2)) {
		pg_emit(g, cls | op | ISA_X, dst, pg_reg(g), ops[i].off, 0);
		return;
	}
	switch (op) {
	case ISA_NEG:
		imm = 0;
		break;
	case ISA_LSH:
	case ISA_RSH:
	case ISA_ARSH:
		imm = (int32_t)pg_below(g, alu64 ? 64 : 32);
		break;
	case ISA_DIV:
	case ISA_MOD:
		do {
			imm = pg_imm32(g);
		} while (!imm);
		break;
	default:
		imm = pg_imm32(g);
		break;
	}
	pg_emit(g, cls | op | ISA_K, dst, 0, ops[i].off, imm);
}

static void pg_movsx(struct proggen *g)
{
	static const int16_t widths[] = {8, 16, 32};
	bool alu64 = pg_below(g, 2);

	/* movsx32 has no 32-bit form: it would be a plain mov32 */
	pg_emit(g, (alu64 ? ISA_ALU64 : ISA_ALU) | ISA_MOV | ISA_X, pg_reg(g), pg_reg(g),
		widths[pg_below(g, alu64 ? 3 : 2)], 0);
}

static void pg_const(struct proggen *g)
{
	pg_emit_const(g, pg_reg(g), g->body_end - g->len >= 2);
}

static void pg_bswap(struct proggen *g)
{
	/* le, be and the unconditional bswap (ALU64 with the K bit) */
	static const uint8_t opcodes[] = {ISA_ALU | ISA_END | ISA_K, ISA_ALU | ISA_END | ISA_X,
					  ISA_ALU64 | ISA_END | ISA_K};
	static const int32_t widths[] = {16, 32, 64};

	pg_emit(g, opcodes[pg_below(g, 3)], pg_reg(g), 0, 0, widths[pg_below(g, 3)]);
}

/* A forward jump distance from the next slot: mostly short, now and then to anywhere. */
static int32_t pg_jump_off(struct proggen *g)
{
	size_t max = g->body_end - g->len - 1;

	if (max > INT16_MAX)
		max = INT16_MAX;
	if (max > 8 && pg_below(g, 4))
		max = 8;
	return (int32_t)pg_below(g, (unsigned)max + 1);
}

static void pg_emit_jcond(struct proggen *g, int16_t off)
{
	static const uint8_t conds[] = {ISA_JEQ,  ISA_JGT, ISA_JGE, ISA_JSET, ISA_JNE, ISA_JSGT,
					ISA_JSGE, ISA_JLT, ISA_JLE, ISA_JSLT, ISA_JSLE};
	uint8_t cls = pg_below(g, 2) ? ISA_JMP : ISA_JMP32;
	uint8_t op = conds[pg_below(g, sizeof(conds) / sizeof(conds[0]))];

	if (pg_below(g, 2))
		pg_emit(g, cls | op | ISA_X, pg_reg(g), pg_reg(g), off, 0);
	else
		pg_emit(g, cls | op | ISA_K, pg_reg(g), 0, off, pg_imm32(g));
}

static void pg_jcond(struct proggen *g)
{
	pg_emit_jcond(g, (int16_t)pg_jump_off(g));
}

static void pg_goto(struct proggen *g)
{
	pg_emit_jcond(g, 1); /* the way to the slot after the goto */
	if (pg_below(g, 2))
		pg_emit(g, ISA_JMP | ISA_JA, 0, 0, (int16_t)pg_jump_off(g), 0);
	else
		pg_emit(g, ISA_JMP32 | ISA_JA, 0, 0, 0, pg_jump_off(g));
}

static void pg_load(struct proggen *g)
{
	/* sign-extending loads have no 8-byte form */
	bool sx = pg_below(g, 3) == 0;
	uint8_t size = pg_sizes[pg_below(g, sx ? 3 : 4)];

	pg_emit(g, ISA_LDX | (sx ? ISA_MEMSX : ISA_MEM) | size, pg_reg(g), ISA_REG_FP,
		pg_stack_off(g, isa_size_bytes(size)), 0);
}

static void pg_store(struct proggen *g)
{
	uint8_t size = pg_sizes[pg_below(g, 4)];
	int16_t off = pg_stack_off(g, isa_size_bytes(size));

	if (pg_below(g, 2))
		pg_emit(g, ISA_ST | ISA_MEM | size, ISA_REG_FP, 0, off, pg_imm32(g));
	else
		pg_emit(g, ISA_STX | ISA_MEM | size, ISA_REG_FP, pg_reg(g), off, 0);
}

static void pg_atomic(struct proggen *g)
{
	/* the first four also come with ISA_FETCH */
	static const int32_t ops[] = {ISA_ADD, ISA_OR, ISA_AND, ISA_XOR, ISA_XCHG, ISA_CMPXCHG};
	unsigned i = pg_below(g, sizeof(ops) / sizeof(ops[0]));
	int32_t op = ops[i] | (i < 4 && pg_below(g, 2) ? ISA_FETCH : 0);
	uint8_t opcode = ISA_STX | ISA_ATOMIC | (pg_below(g, 2) ? ISA_DW : ISA_W);
	int16_t off = pg_stack_off(g, isa_size_bytes(opcode));
	bool guard = g->avoid_kernel_bugs && (op & ISA_FETCH);
	bool zext = g->avoid_kernel_bugs && op == ISA_CMPXCHG && isa_size(opcode) == ISA_W;

	if ((size_t)(1 + guard + zext) > g->body_end - g->len) {
		/* no room left for the workarounds: a non-fetching operation needs none */
		op = ops[pg_below(g, 4)];
		guard = zext = false;
	}
	if (guard)
		pg_emit(g, opcode, ISA_REG_FP, pg_reg(g), off, ops[pg_below(g, 4)]);
	pg_emit(g, opcode, ISA_REG_FP, pg_reg(g), off, op);
	if (zext)
		pg_emit(g, ISA_ALU | ISA_MOV | ISA_X, 0, 0, 0, 0);
}

/* Body instruction kinds, chosen with these weights among the enabled features. */
static const struct {
	unsigned feature;
	unsigned weight;
	unsigned min_slots;
	void (*emit)(struct proggen *g);
} pg_kinds[] = {
	{PROGGEN_ALU, 40, 1, pg_alu},	   {PROGGEN_ALU, 4, 1, pg_movsx},
	{PROGGEN_ALU, 3, 1, pg_const},	   {PROGGEN_BSWAP, 5, 1, pg_bswap},
	{PROGGEN_JMP, 14, 1, pg_jcond},	   {PROGGEN_JMP, 4, 2, pg_goto},
	{PROGGEN_MEM, 10, 1, pg_load},	   {PROGGEN_MEM, 10, 1, pg_store},
	{PROGGEN_ATOMIC, 8, 1, pg_atomic},
};

#define PG_NKINDS (sizeof(pg_kinds) / sizeof(pg_kinds[0]))

static void pg_body(struct proggen *g)
{
	while (g->len < g->body_end) {
		size_t room = g->body_end - g->len;
		unsigned total = 0, pick;
		size_t k;

		for (k = 0; k < PG_NKINDS; k++) {
			if ((pg_kinds[k].feature & g->features) && pg_kinds[k].min_slots <= room)
				total += pg_kinds[k].weight;
		}
		pick = pg_below(g, total);
		for (k = 0; k < PG_NKINDS; k++) {
			if (!(pg_kinds[k].feature & g->features) || pg_kinds[k].min_slots > room)
				continue;
			if (pick < pg_kinds[k].weight)
				break;
			pick -= pg_kinds[k].weight;
		}
		pg_kinds[k].emit(g);
	}
}

/*
 * Whether slot pc is a fetching atomic behind its avoid_kernel_bugs guard: a
 * jump onto it would bypass the guard.
 */
static bool pg_guarded(const struct proggen *g, size_t pc)
{
	const struct isa_insn *in = &g->buf[pc], *prev = &g->buf[pc - 1];

	return g->avoid_kernel_bugs && isa_class(in->opcode) == ISA_STX &&
	       isa_mode(in->opcode) == ISA_ATOMIC && (in->imm & ISA_FETCH) &&
	       prev->opcode == in->opcode && prev->off == in->off && !(prev->imm & ISA_FETCH);
}

/*
 * Jump distances were drawn before the slots they land on existed. A jump
 * that lands on the second slot of an lddw, or between a guard and the
 * atomic it guards, moves back by one slot. A second slot is one right after
 * an lddw opcode, as second slots themselves hold opcode 0.
 */
static int32_t pg_overshoot(const struct proggen *g, size_t target)
{
	return g->buf[target - 1].opcode == ISA_OP_LDDW ||
	       (target < g->len && pg_guarded(g, target));
}

static void pg_fix_targets(struct proggen *g)
{
	for (size_t pc = 0; pc < g->len; pc++) {
		struct isa_insn *in = &g->buf[pc];

		if (!isa_is_jmp(in->opcode))
			continue;
		if (in->opcode == (ISA_JMP32 | ISA_JA))
			in->imm -= pg_overshoot(g, pc + 1 + in->imm);
		else
			in->off -= pg_overshoot(g, pc + 1 + in->off);
	}
}

/* r0 = r0 * K + x for each x of r1..r9 and the stack area's 8-byte words. */
static void pg_epilogue(struct proggen *g)
{
	for (unsigned r = 1; r < PROGGEN_NREGS; r++) {
		pg_emit(g, ISA_ALU64 | ISA_MUL | ISA_K, 0, 0, 0, PROGGEN_FOLD_K);
		pg_emit(g, ISA_ALU64 | ISA_ADD | ISA_X, 0, r, 0, 0);
	}
	for (int off = -g->stack_size; off < 0; off += 8) {
		pg_emit(g, ISA_LDX | ISA_MEM | ISA_DW, 1, ISA_REG_FP, (int16_t)off, 0);
		pg_emit(g, ISA_ALU64 | ISA_MUL | ISA_K, 0, 0, 0, PROGGEN_FOLD_K);
		pg_emit(g, ISA_ALU64 | ISA_ADD | ISA_X, 0, 1, 0, 0);
	}
	pg_emit(g, ISA_OP_EXIT, 0, 0, 0, 0);
}

static bool pg_resolve(const struct proggen_opts *opts, unsigned *features, int *stack_size)
{
	unsigned stack = opts && opts->stack_size ? opts->stack_size : 64;

	*features = opts && opts->features ? opts->features : PROGGEN_ALL;
	*stack_size = (int)stack;
	return !(*features & ~PROGGEN_ALL) && stack % 8 == 0 && stack <= ISA_STACK_SIZE;
}

size_t proggen_max_len(size_t body_len, const struct proggen_opts *opts)
{
	unsigned features;
	int stack_size;
	size_t words;

	if (!pg_resolve(opts, &features, &stack_size))
		return 0;
	words = (size_t)stack_size / 8;
	/* prologue: lddw per register, stb per byte; epilogue: two per register, three per word */
	return 2 * PROGGEN_NREGS + 8 * words + body_len + 2 * (PROGGEN_NREGS - 1) + 3 * words + 1;
}

long proggen_generate(uint64_t seed, size_t body_len, const struct proggen_opts *opts,
		      struct isa_insn *buf, size_t cap)
{
	struct proggen g = {
		.rng = seed, .buf = buf, .avoid_kernel_bugs = opts && opts->avoid_kernel_bugs};

	if (!buf || !pg_resolve(opts, &g.features, &g.stack_size) ||
	    cap < proggen_max_len(body_len, opts))
		return -EINVAL;
	pg_prologue(&g);
	g.body_end = g.len + body_len;
	pg_body(&g);
	pg_fix_targets(&g);
	pg_epilogue(&g);
	return (long)g.len;
}
