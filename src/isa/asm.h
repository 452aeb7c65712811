/* SPDX-License-Identifier: MIT */
/*
 * isa text forms: an assembler and a disassembler for the syntax of the
 * bpf_conformance suite (`mov %r0, 1`, `ldxw %r1, [%r2+4]`, `lock fetch add
 * [%r10-8], %r1`, `call local fn`, labels ending in `:`, `#` comments).
 * disassemble(assemble(text)) assembles back to the same instructions.
 */
#ifndef UEBPF_ISA_ASM_H
#define UEBPF_ISA_ASM_H

#include <stddef.h>

#include "isa.h"

/*
 * Assemble text into *insns (malloc'd, *n slots). Returns 0, or a negative
 * errno with a message naming the line in err.
 */
int isa_assemble(const char *text, struct isa_insn **insns, size_t *n, char *err, size_t err_len);

/*
 * Write the text of the instruction at insns[pc] (pc < n) into buf, with
 * jump and local call targets as relative offsets (`+3`, `-2`). Returns the
 * slots it takes (2 for lddw, 1 otherwise), or a negative errno for a slot
 * that is no valid instruction (buf then holds a `.raw 0x...` line).
 */
int isa_disasm_insn(const struct isa_insn *insns, size_t n, size_t pc, char *buf, size_t len);

/*
 * The whole program as text, one instruction a line, with labels for jump
 * and call targets. Returns a malloc'd string, or NULL when out of memory.
 */
char *isa_disassemble(const struct isa_insn *insns, size_t n);

#endif
