/* SPDX-License-Identifier: MIT */
/*
 * proggen: seeded random eBPF programs that the kernel verifier accepts, for
 * differential tests (uebpf against the kernel, engine against engine).
 *
 * A program sets r0..r9 to constants and fills a stack area, runs a body of
 * random ALU, byte swap, forward jump, stack load/store and atomic
 * instructions, then folds r0..r9 and the stack area into r0 and exits, so
 * r0 is a 64-bit digest of the whole final state. It reads neither r1 nor r2
 * as given on entry, nor any memory but its own stack: any run of it on any
 * engine must give the same r0. The same seed and options give the same
 * program on every host.
 */
#ifndef UEBPF_PROGGEN_H
#define UEBPF_PROGGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"

/* Kinds of body instructions; opts.features selects a subset. */
enum {
	PROGGEN_ALU = 1u << 0,	  /* ALU and ALU64 arithmetic, mov, movsx, lddw */
	PROGGEN_BSWAP = 1u << 1,  /* le, be, bswap */
	PROGGEN_JMP = 1u << 2,	  /* JMP and JMP32 conditions, ja, gotol: forward only */
	PROGGEN_MEM = 1u << 3,	  /* stack loads (sign-extending too) and stores */
	PROGGEN_ATOMIC = 1u << 4, /* lock add/or/and/xor (fetch), xchg, cmpxchg on the stack */
	PROGGEN_ALL = (1u << 5) - 1,
};

struct proggen_opts {
	unsigned features;   /* PROGGEN_* bits; 0 means PROGGEN_ALL */
	unsigned stack_size; /* bytes below r10 that the program uses: a multiple of 8 up to
			      * ISA_STACK_SIZE; 0 means 64 */
	/*
	 * Shape fetching atomics so that two verifier bugs of Linux 6.18 cannot
	 * change what the kernel runs (see proggen.c). For runs in the kernel;
	 * engine-against-engine tests leave it off and test the plain forms.
	 */
	bool avoid_kernel_bugs;
};

/* Slots a buffer needs for a program of body_len body slots. */
size_t proggen_max_len(size_t body_len, const struct proggen_opts *opts);

/*
 * Write the program of seed and opts with a body of body_len slots into
 * buf (cap slots; opts may be NULL). Returns its length in slots, or
 * -EINVAL for bad options or a buffer smaller than proggen_max_len().
 */
long proggen_generate(uint64_t seed, size_t body_len, const struct proggen_opts *opts,
		      struct isa_insn *buf, size_t cap);

#endif
