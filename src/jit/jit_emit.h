/* SPDX-License-Identifier: MIT */
/*
 * jit_emit: an x86-64 instruction encoder for the JIT, just wide enough for
 * what the compiler emits. Instructions are appended to a jit_buf; an
 * emitter never fails: past the capacity it only counts bytes, so a pass
 * always learns the size it needs and the caller grows the buffer and emits
 * again.
 */
#ifndef UEBPF_JIT_EMIT_H
#define UEBPF_JIT_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* x86-64 general purpose registers, by their encoding. */
enum jit_reg {
	X_RAX,
	X_RCX,
	X_RDX,
	X_RBX,
	X_RSP,
	X_RBP,
	X_RSI,
	X_RDI,
	X_R8,
	X_R9,
	X_R10,
	X_R11,
	X_R12,
	X_R13,
	X_R14,
	X_R15,
};

/* No index register in a memory operand. */
#define X_NOINDEX 0xff

/* Condition codes, the low nibble of jcc. */
enum jit_cc {
	CC_B = 0x2,
	CC_AE = 0x3,
	CC_E = 0x4,
	CC_NE = 0x5,
	CC_BE = 0x6,
	CC_A = 0x7,
	CC_L = 0xc,
	CC_GE = 0xd,
	CC_LE = 0xe,
	CC_G = 0xf,
};

/* Flags of jit_rr and jit_rm. */
enum {
	JIT_W = 1u << 0, /* REX.W: 64-bit operand */
	JIT_OP16 = 1u << 1, /* 0x66 prefix: 16-bit operand */
	JIT_LOCK = 1u << 2, /* 0xf0 prefix */
	JIT_REG8 = 1u << 3, /* ModRM.reg names a byte register: spl..dil need a REX */
	JIT_RM8 = 1u << 4, /* the same for a register ModRM.rm */
};

/* Opcodes of the two-operand ALU instructions, "op r/m, reg" form. */
enum {
	OP_ADD = 0x01,
	OP_OR = 0x09,
	OP_AND = 0x21,
	OP_SUB = 0x29,
	OP_XOR = 0x31,
	OP_CMP = 0x39,
	OP_TEST = 0x85,
	OP_MOV = 0x89,
	OP_MOV_LOAD = 0x8b,
	OP_LEA = 0x8d,
};

/* ModRM.reg extensions of the group opcodes (0x81/0x83, 0xc1/0xd3, 0xf7). */
enum {
	EXT_ADD = 0,
	EXT_OR = 1,
	EXT_AND = 4,
	EXT_SUB = 5,
	EXT_XOR = 6,
	EXT_CMP = 7,
	EXT_SHL = 4,
	EXT_SHR = 5,
	EXT_SAR = 7,
	EXT_NEG = 3,
	EXT_MUL = 4, /* unsigned rdx:rax = rax * r/m */
	EXT_DIV = 6,
	EXT_IDIV = 7,
};

struct jit_buf {
	uint8_t *p;
	size_t len; /* bytes emitted, which may exceed cap */
	size_t cap;
};

static inline void jit_emit8(struct jit_buf *b, uint8_t v)
{
	if (b->len < b->cap)
		b->p[b->len] = v;
	b->len++;
}

void jit_emit32(struct jit_buf *b, uint32_t v);
void jit_emit64(struct jit_buf *b, uint64_t v);
/* Overwrite a displacement emitted earlier (only if it is inside the buffer). */
void jit_patch8(struct jit_buf *b, size_t pos, int8_t v);
void jit_patch32(struct jit_buf *b, size_t pos, int32_t v);

static inline bool jit_fits8(int64_t v)
{
	return v >= INT8_MIN && v <= INT8_MAX;
}

static inline bool jit_fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/*
 * [prefixes] [REX] opcode ModRM: a register operand reg (or an opcode
 * extension) and a register rm. opcode is one byte, or two (0x0fxx).
 */
void jit_rr(struct jit_buf *b, unsigned flags, unsigned opcode, unsigned reg, unsigned rm);
/* The same with a memory operand [base + index + disp]. */
void jit_rm(struct jit_buf *b, unsigned flags, unsigned opcode, unsigned reg, unsigned base,
	    unsigned index, int32_t disp);

void jit_mov_rr(struct jit_buf *b, bool w, unsigned dst, unsigned src);
/* dst = k, in the shortest form; may clobber the flags. */
void jit_mov_ri(struct jit_buf *b, unsigned dst, uint64_t k);
/* An ALU group operation (EXT_*) of dst with a 32-bit immediate. */
void jit_alu_ri(struct jit_buf *b, bool w, unsigned ext, unsigned dst, int32_t imm);
void jit_shift_ri(struct jit_buf *b, bool w, unsigned ext, unsigned dst, uint8_t count);
void jit_shift_cl(struct jit_buf *b, bool w, unsigned ext, unsigned dst);
void jit_bswap(struct jit_buf *b, bool w, unsigned reg);
void jit_push(struct jit_buf *b, unsigned reg);
void jit_pop(struct jit_buf *b, unsigned reg);
/* dst = the 32 bits at fs:[disp] (thread-local data: fs is the thread pointer), zero-extended */
void jit_load32_fs(struct jit_buf *b, unsigned dst, int32_t disp);
/* call through rax to an absolute address; clobbers rax */
void jit_call_abs(struct jit_buf *b, const void *fn);

/*
 * Jumps: the opcode only, the caller appends the displacement. cc < 0 is an
 * unconditional jmp; wide selects rel32 over rel8. The encoded size of the
 * whole jump is returned.
 */
size_t jit_jump_op(struct jit_buf *b, int cc, bool wide);

#endif
