/* SPDX-License-Identifier: MIT */
/*
 * isa: the eBPF instruction encoding of RFC 9669.
 *
 * Offers the 8-byte instruction slot, the opcode field constants, the pseudo
 * source values of lddw and call, and small predicates every other module
 * (validator, interpreter, JIT, assembler) uses to take an opcode apart.
 */
#ifndef UEBPF_ISA_H
#define UEBPF_ISA_H

#include <stdbool.h>
#include <stdint.h>

/* One 64-bit instruction slot, in the byte order of the host (little endian). */
struct isa_insn {
	uint8_t opcode;
	uint8_t dst : 4;
	uint8_t src : 4;
	int16_t off;
	int32_t imm;
};

_Static_assert(sizeof(struct isa_insn) == 8, "an eBPF instruction is 8 bytes");

#define ISA_NREGS 11 /* r0..r10 */
#define ISA_REG_FP 10 /* r10: read-only frame pointer */
#define ISA_STACK_SIZE 512 /* bytes per frame */
#define ISA_MAX_CALL_DEPTH 8 /* frames, the main function's included */

/* Instruction classes: the low three bits of the opcode. */
enum {
	ISA_LD = 0x00,
	ISA_LDX = 0x01,
	ISA_ST = 0x02,
	ISA_STX = 0x03,
	ISA_ALU = 0x04,
	ISA_JMP = 0x05,
	ISA_JMP32 = 0x06,
	ISA_ALU64 = 0x07,
};

/* Source bit of arithmetic and jump instructions. */
enum {
	ISA_K = 0x00, /* immediate operand */
	ISA_X = 0x08, /* register operand */
};

/* Arithmetic operations: the high four bits of ALU and ALU64 opcodes. */
enum {
	ISA_ADD = 0x00,
	ISA_SUB = 0x10,
	ISA_MUL = 0x20,
	ISA_DIV = 0x30, /* off 1: sdiv */
	ISA_OR = 0x40,
	ISA_AND = 0x50,
	ISA_LSH = 0x60,
	ISA_RSH = 0x70,
	ISA_NEG = 0x80,
	ISA_MOD = 0x90, /* off 1: smod */
	ISA_XOR = 0xa0,
	ISA_MOV = 0xb0, /* off 8/16/32 with ISA_X: movsx */
	ISA_ARSH = 0xc0,
	ISA_END = 0xd0, /* ALU: to little (K) or big (X) endian; ALU64 K: bswap */
};

/* Jump operations: the high four bits of JMP and JMP32 opcodes. */
enum {
	ISA_JA = 0x00,
	ISA_JEQ = 0x10,
	ISA_JGT = 0x20,
	ISA_JGE = 0x30,
	ISA_JSET = 0x40,
	ISA_JNE = 0x50,
	ISA_JSGT = 0x60,
	ISA_JSGE = 0x70,
	ISA_CALL = 0x80,
	ISA_EXIT = 0x90,
	ISA_JLT = 0xa0,
	ISA_JLE = 0xb0,
	ISA_JSLT = 0xc0,
	ISA_JSLE = 0xd0,
};

/* Load and store sizes and modes. */
enum {
	ISA_W = 0x00,
	ISA_H = 0x08,
	ISA_B = 0x10,
	ISA_DW = 0x18,
};

enum {
	ISA_IMM = 0x00, /* lddw */
	ISA_ABS = 0x20, /* legacy packet access */
	ISA_IND = 0x40, /* legacy packet access */
	ISA_MEM = 0x60,
	ISA_MEMSX = 0x80, /* sign-extending load */
	ISA_ATOMIC = 0xc0,
};

/* Atomic operations, carried in imm. */
enum {
	ISA_FETCH = 0x01,
	ISA_XCHG = 0xe0 | ISA_FETCH,
	ISA_CMPXCHG = 0xf0 | ISA_FETCH,
};

/* Pseudo source values of lddw (what the 64-bit immediate means). */
enum {
	ISA_PSEUDO_IMM64 = 0,
	ISA_PSEUDO_MAP_FD = 1,
	ISA_PSEUDO_MAP_VALUE = 2,
	ISA_PSEUDO_BTF_ID = 3,
	ISA_PSEUDO_FUNC = 4,
	ISA_PSEUDO_MAP_IDX = 5,
	ISA_PSEUDO_MAP_IDX_VALUE = 6,
};

/* Pseudo source values of call. */
enum {
	ISA_CALL_HELPER = 0,
	ISA_CALL_LOCAL = 1,
	ISA_CALL_KFUNC = 2,
};

#define ISA_OP_LDDW (ISA_LD | ISA_IMM | ISA_DW)
#define ISA_OP_CALL (ISA_JMP | ISA_CALL | ISA_K)
#define ISA_OP_CALLX (ISA_JMP | ISA_CALL | ISA_X)
#define ISA_OP_EXIT (ISA_JMP | ISA_EXIT | ISA_K)

static inline unsigned isa_class(uint8_t opcode)
{
	return opcode & 0x07;
}

static inline bool isa_is_alu(uint8_t opcode)
{
	return isa_class(opcode) == ISA_ALU || isa_class(opcode) == ISA_ALU64;
}

static inline bool isa_is_jmp(uint8_t opcode)
{
	return isa_class(opcode) == ISA_JMP || isa_class(opcode) == ISA_JMP32;
}

/* The operation field of ALU and JMP opcodes. */
static inline unsigned isa_op(uint8_t opcode)
{
	return opcode & 0xf0;
}

static inline unsigned isa_srcbit(uint8_t opcode)
{
	return opcode & 0x08;
}

/* The size field of loads and stores, and its width in bytes. */
static inline unsigned isa_size(uint8_t opcode)
{
	return opcode & 0x18;
}

static inline unsigned isa_size_bytes(uint8_t opcode)
{
	static const uint8_t bytes[4] = {4, 2, 1, 8};

	return bytes[isa_size(opcode) >> 3];
}

static inline unsigned isa_mode(uint8_t opcode)
{
	return opcode & 0xe0;
}

#endif
