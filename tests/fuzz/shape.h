/* SPDX-License-Identifier: MIT */
/*
 * Raw fuzz bytes shaped into mostly valid programs: each 8 bytes make one
 * instruction, its opcode picked from the valid ones, registers, offsets
 * and immediates from the values that matter to each kind; a prologue that
 * zeroes the main frame and every register but r1 and r2 first, r1-r5 set
 * again after each helper call, and exit last. Jumps that would leave the program or land on the
 * second slot of an lddw go to the exit instead.
 *
 * r10 is only ever the base of a memory access, never a value (each engine
 * has its stack elsewhere); programs with local calls read no stack (the
 * stack is not cleared between runs).
 */
#ifndef UEBPF_TESTS_FUZZ_SHAPE_H
#define UEBPF_TESTS_FUZZ_SHAPE_H

#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"

#define FUZZ_PROLOGUE (ISA_STACK_SIZE / 8 + 8)
#define FUZZ_MAX_INSNS (FUZZ_PROLOGUE + 160)

/* The helper IDs shaped calls use: mix is registered (fuzz_mix), unknown is not. */
enum { FUZZ_HELPER_MIX = 1, FUZZ_HELPER_UNKNOWN = 9 };

uint64_t fuzz_mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e);

/* The program of an input into p (FUZZ_MAX_INSNS slots); its length in slots. */
size_t fuzz_build(const uint8_t *data, size_t size, struct isa_insn *p);

/*
 * The same with calls of the map helpers (lookup 1, update 2, delete 3,
 * as their kernel IDs) on maps fd 0..nmaps-1 (lddw of BPF_PSEUDO_MAP_FD)
 * in place of calls of mix, with r10 copied into r2 (and r3) as the key's
 * (and value's) address: for the harnesses that do not compare engines.
 */
size_t fuzz_build_maps(const uint8_t *data, size_t size, struct isa_insn *p, unsigned nmaps);

#endif
