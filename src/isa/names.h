/* SPDX-License-Identifier: MIT */
/*
 * isa names: the mnemonic spellings of the text syntax, shared by the
 * assembler and the disassembler so that the two cannot drift apart and the
 * round trip text -> instructions -> text -> instructions stays exact.
 */
#ifndef UEBPF_ISA_NAMES_H
#define UEBPF_ISA_NAMES_H

#include "isa.h"

/* ALU operations by isa_op() >> 4; NULL where the opcode has no plain name. */
static const char *const isa_alu_names[16] = {
	"add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "neg", "mod", "xor", "mov", "arsh",
};

/* Jump operations by isa_op() >> 4: conditions, and ja, call, exit. */
static const char *const isa_jmp_names[16] = {
	"ja",	"jeq",	"jgt",	"jge", "jset", "jne",  "jsgt",
	"jsge", "call", "exit", "jlt", "jle",  "jslt", "jsle",
};

/* Load and store size suffixes by isa_size() >> 3. */
static const char *const isa_size_names[4] = {"w", "h", "b", "dw"};

/*
 * Atomic operations by their imm. add/or/and/xor also exist with ISA_FETCH
 * (written `lock fetch add`); xchg and cmpxchg always fetch.
 */
struct isa_atomic_name {
	const char *name;
	int32_t imm;
};

static const struct isa_atomic_name isa_atomic_names[] = {
	{"add", ISA_ADD}, {"or", ISA_OR},     {"and", ISA_AND},
	{"xor", ISA_XOR}, {"xchg", ISA_XCHG}, {"cmpxchg", ISA_CMPXCHG},
};

#define ISA_NATOMIC_NAMES (sizeof(isa_atomic_names) / sizeof(isa_atomic_names[0]))

#endif
