// SPDX-License-Identifier: MIT
/*
 * Decoding of validated instructions into struct vm_op, once per load.
 *
 * Work that would otherwise be repeated per executed instruction happens
 * here: the opcode becomes one dense code (operation, width and operand kind
 * together), immediates are widened the way the operation uses them, jump
 * targets become pointers, helper IDs become function pointers, and
 * operations whose effect is known from the immediate are rewritten into
 * cheaper ones (x / 0 is 0, x % 0 is x, le16 is an and, mov32 imm is a
 * 64-bit move of the zero-extended value, ...), so their handlers need no
 * test at run time.
 */
#include "vm.h"

/* Codes of the ALU operations, indexed by isa_op() >> 4 (NEG, END handled apart). */
#define ALU_ROW(W)                                                                                 \
	{                                                                                          \
		{VM_ADD##W##_K, VM_ADD##W##_X}, {VM_SUB##W##_K, VM_SUB##W##_X},                    \
			{VM_MUL##W##_K, VM_MUL##W##_X}, {VM_DIV##W##_K, VM_DIV##W##_X},            \
			{VM_OR##W##_K, VM_OR##W##_X}, {VM_AND##W##_K, VM_AND##W##_X},              \
			{VM_LSH##W##_K, VM_LSH##W##_X}, {VM_RSH##W##_K, VM_RSH##W##_X},            \
			{VM_NOP, VM_NOP}, {VM_MOD##W##_K, VM_MOD##W##_X},                          \
			{VM_XOR##W##_K, VM_XOR##W##_X}, {VM_MOV64_K, VM_MOV##W##_X},               \
			{VM_ARSH##W##_K, VM_ARSH##W##_X},                                          \
	}

static const uint8_t alu_codes[2][13][2] = {ALU_ROW(32), ALU_ROW(64)};

/* Codes of conditional jumps, indexed by isa_op() >> 4; 0 where not a condition. */
#define JMP_ROW(W)                                                                                 \
	{                                                                                          \
		{0, 0}, {VM_JEQ##W##_K, VM_JEQ##W##_X}, {VM_JGT##W##_K, VM_JGT##W##_X},            \
			{VM_JGE##W##_K, VM_JGE##W##_X}, {VM_JSET##W##_K, VM_JSET##W##_X},          \
			{VM_JNE##W##_K, VM_JNE##W##_X}, {VM_JSGT##W##_K, VM_JSGT##W##_X},          \
			{VM_JSGE##W##_K, VM_JSGE##W##_X}, {0, 0}, {0, 0},                          \
			{VM_JLT##W##_K, VM_JLT##W##_X}, {VM_JLE##W##_K, VM_JLE##W##_X},            \
			{VM_JSLT##W##_K, VM_JSLT##W##_X}, {VM_JSLE##W##_K, VM_JSLE##W##_X},        \
	}

static const uint8_t jmp_codes[2][14][2] = {JMP_ROW(32), JMP_ROW(64)};

/* Loads and stores by size index (isa_size() >> 3: W, H, B, DW). */
static const uint8_t ldx_codes[4] = {VM_LDXW, VM_LDXH, VM_LDXB, VM_LDXDW};
static const uint8_t ldxsx_codes[4] = {VM_LDXSW, VM_LDXSH, VM_LDXSB, VM_NOP};
static const uint8_t st_codes[4] = {VM_STW, VM_STH, VM_STB, VM_STDW};
static const uint8_t stx_codes[4] = {VM_STXW, VM_STXH, VM_STXB, VM_STXDW};

/* The _FP twin of a checked memory operation. */
static uint8_t fp_variant(uint8_t code)
{
	return code - VM_LDXB + VM_LDXB_FP;
}

static void decode_alu(const struct isa_insn *in, struct vm_op *op)
{
	bool alu64 = isa_class(in->opcode) == ISA_ALU64;
	bool x = isa_srcbit(in->opcode) == ISA_X;
	unsigned op4 = isa_op(in->opcode) >> 4;
	uint32_t imm = (uint32_t)in->imm;

	op->k = alu64 ? (uint64_t)(int64_t)in->imm : imm;
	if (isa_op(in->opcode) == ISA_NEG) {
		op->code = alu64 ? VM_NEG64 : VM_NEG32;
		return;
	}
	if (isa_op(in->opcode) == ISA_END) {
		if (alu64 || x) { /* bswap, and be on a little endian host, both swap */
			op->code = imm == 16 ? VM_BE16 : imm == 32 ? VM_BE32 : VM_BE64;
		} else if (imm == 16) { /* little endian host: le is a truncation */
			op->code = VM_AND64_K;
			op->k = 0xffff;
		} else if (imm == 32) {
			op->code = VM_MOV32_X;
			op->src = op->dst;
		} else {
			op->code = VM_NOP;
		}
		return;
	}
	if (isa_op(in->opcode) == ISA_MOV && x && in->off) {
		switch (in->off) {
		case 8:
			op->code = alu64 ? VM_MOVSX8_64 : VM_MOVSX8_32;
			break;
		case 16:
			op->code = alu64 ? VM_MOVSX16_64 : VM_MOVSX16_32;
			break;
		default:
			op->code = VM_MOVSX32_64;
			break;
		}
		return;
	}
	op->code = alu_codes[alu64][op4][x];
	if (x) {
		if (in->off == 1 && isa_op(in->opcode) == ISA_DIV)
			op->code = alu64 ? VM_SDIV64_X : VM_SDIV32_X;
		else if (in->off == 1 && isa_op(in->opcode) == ISA_MOD)
			op->code = alu64 ? VM_SMOD64_X : VM_SMOD32_X;
		return;
	}

	switch (isa_op(in->opcode)) {
	case ISA_LSH:
	case ISA_RSH:
	case ISA_ARSH:
		op->k &= alu64 ? 63 : 31;
		break;
	case ISA_DIV:
		if (in->off == 1) {
			op->code = alu64 ? VM_SDIV64_K : VM_SDIV32_K;
			if (in->imm == -1) /* INT_MIN / -1 wraps: the same as neg */
				op->code = alu64 ? VM_NEG64 : VM_NEG32;
		}
		if (in->imm == 0) { /* x / 0 = 0 */
			op->code = VM_MOV64_K;
			op->k = 0;
		}
		break;
	case ISA_MOD:
		if (in->off == 1) {
			op->code = alu64 ? VM_SMOD64_K : VM_SMOD32_K;
			if (in->imm == -1) { /* x % -1 = 0, INT_MIN included */
				op->code = VM_MOV64_K;
				op->k = 0;
			}
		}
		if (in->imm == 0) { /* x % 0 = x, truncated to the width */
			op->code = alu64 ? VM_NOP : VM_MOV32_X;
			op->src = op->dst;
		}
		break;
	}
}

static void decode_jmp(const struct isa_insn *in, struct vm_op *op, struct vm_op *ops, size_t pc,
		       const struct uebpf_vm *vm, bool in_sub)
{
	bool jmp64 = isa_class(in->opcode) == ISA_JMP;
	bool x = isa_srcbit(in->opcode) == ISA_X;
	const struct vm_helper *h;

	switch (isa_op(in->opcode)) {
	case ISA_JA:
		op->code = VM_JA;
		op->target = &ops[pc + 1 + (jmp64 ? in->off : in->imm)];
		return;
	case ISA_EXIT:
		op->code = VM_EXIT;
		return;
	case ISA_CALL:
		if (x) {
			op->code = VM_CALLX;
		} else if (in->src == ISA_CALL_LOCAL) {
			op->code = VM_CALL_LOCAL;
			op->target = &ops[pc + 1 + in->imm];
		} else {
			h = vm_helper(vm, (uint32_t)in->imm);
			op->code = (h->flags & UEBPF_HELPER_STOP_ON_ZERO) ? VM_CALL_STOPZ : VM_CALL;
			op->fn = h->fn;
			if (in_sub && h->fn == vm_tail_call)
				op->code = VM_CALL_TAILF;
		}
		return;
	}
	op->code = jmp_codes[jmp64][isa_op(in->opcode) >> 4][x];
	op->k = jmp64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;
	op->target = &ops[pc + 1 + in->off];
}

/* A stack access through r10 whose whole width lies inside the frame. */
static bool in_frame(const struct isa_insn *in, unsigned base)
{
	int size = isa_size_bytes(in->opcode);

	return base == ISA_REG_FP && in->off >= -ISA_STACK_SIZE && in->off <= -size;
}

/* proven: the verifier proved this access inside the run's memory or stack. */
static void decode_mem(const struct isa_insn *in, struct vm_op *op, bool proven)
{
	unsigned sz = isa_size(in->opcode) >> 3;
	bool dw = isa_size(in->opcode) == ISA_DW;
	unsigned base;

	op->off = in->off;
	switch (isa_class(in->opcode)) {
	case ISA_LDX:
		op->code = isa_mode(in->opcode) == ISA_MEMSX ? ldxsx_codes[sz] : ldx_codes[sz];
		base = in->src;
		break;
	case ISA_ST:
		op->code = st_codes[sz];
		op->k = (uint64_t)(int64_t)in->imm;
		base = in->dst;
		break;
	default:
		base = in->dst;
		if (isa_mode(in->opcode) == ISA_MEM) {
			op->code = stx_codes[sz];
			break;
		}
		/* atomics: checked always, for alignment */
		switch (in->imm) {
		case ISA_ADD:
			op->code = dw ? VM_AADD64 : VM_AADD32;
			return;
		case ISA_OR:
			op->code = dw ? VM_AOR64 : VM_AOR32;
			return;
		case ISA_AND:
			op->code = dw ? VM_AAND64 : VM_AAND32;
			return;
		case ISA_XOR:
			op->code = dw ? VM_AXOR64 : VM_AXOR32;
			return;
		case ISA_ADD | ISA_FETCH:
			op->code = dw ? VM_AFADD64 : VM_AFADD32;
			return;
		case ISA_OR | ISA_FETCH:
			op->code = dw ? VM_AFOR64 : VM_AFOR32;
			return;
		case ISA_AND | ISA_FETCH:
			op->code = dw ? VM_AFAND64 : VM_AFAND32;
			return;
		case ISA_XOR | ISA_FETCH:
			op->code = dw ? VM_AFXOR64 : VM_AFXOR32;
			return;
		case ISA_XCHG:
			op->code = dw ? VM_AXCHG64 : VM_AXCHG32;
			return;
		default:
			op->code = dw ? VM_ACMPXCHG64 : VM_ACMPXCHG32;
			return;
		}
	}
	if (proven || in_frame(in, base))
		op->code = fp_variant(op->code);
}

size_t vm_main_end(const struct isa_insn *insns, size_t n)
{
	size_t end = n;

	for (size_t pc = 0; pc < n; pc++) {
		const struct isa_insn *in = &insns[pc];
		bool local = in->opcode == ISA_OP_CALL && in->src == ISA_CALL_LOCAL;
		bool func = in->opcode == ISA_OP_LDDW && in->src == ISA_PSEUDO_FUNC;
		int64_t target = (int64_t)pc + 1 + in->imm;

		if ((local || func) && target >= 0 && (size_t)target < end)
			end = (size_t)target;
	}
	return end;
}

int vm_decode(const struct uebpf_vm *vm, const struct isa_insn *insns, size_t n,
	      struct vm_op *ops)
{
	for (size_t pc = 0; pc < n; pc++) {
		const struct isa_insn *in = &insns[pc];
		struct vm_op *op = &ops[pc];

		*op = (struct vm_op){.code = VM_NOP, .dst = in->dst, .src = in->src};
		switch (isa_class(in->opcode)) {
		case ISA_ALU:
		case ISA_ALU64:
			decode_alu(in, op);
			break;
		case ISA_JMP:
		case ISA_JMP32:
			decode_jmp(in, op, ops, pc, vm, pc >= vm->main_end);
			break;
		case ISA_LD: /* lddw, the only LD that validates */
			op->code = VM_LDDW;
			if (in->src == ISA_PSEUDO_IMM64)
				op->k = (uint32_t)in->imm | ((uint64_t)(uint32_t)in[1].imm << 32);
			else if (in->src == ISA_PSEUDO_FUNC)
				op->k = (uintptr_t)&ops[pc + 1 + in->imm];
			else
				op->k = vm_lddw_value(vm, in);
			ops[++pc] = (struct vm_op){.code = VM_NOP};
			break;
		default:
			decode_mem(in, op, vm->proven && vm->proven[pc]);
			break;
		}
	}
	return 0;
}
