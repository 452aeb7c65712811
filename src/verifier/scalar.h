/* SPDX-License-Identifier: MIT */
/*
 * scalar: what the verifier knows about a 64-bit value: its known bits (a
 * tnum), unsigned and signed 64-bit bounds, and unsigned and signed bounds
 * of its low 32 bits. Each part describes the same set of values; after
 * every change scalar_sync() lets each part tighten the others, so a fact
 * learnt about one (a branch on the signed 32-bit value, a mask) shows in
 * all. A scalar whose parts contradict each other stands for no value: the
 * path that produced it cannot run.
 */
#ifndef UEBPF_VERIFIER_SCALAR_H
#define UEBPF_VERIFIER_SCALAR_H

#include <stdbool.h>
#include <stdint.h>

#include "tnum.h"

struct scalar {
	struct tnum var;
	uint64_t umin, umax;
	int64_t smin, smax;
	uint32_t u32min, u32max;
	int32_t s32min, s32max;
};

/* Operations of the abstract ALU (the eBPF ones, by meaning not encoding). */
enum scalar_op { /* sdiv and smod are SC_DIV and SC_MOD with off 1 */
		 SC_ADD,
		 SC_SUB,
		 SC_MUL,
		 SC_DIV,
		 SC_OR,
		 SC_AND,
		 SC_LSH,
		 SC_RSH,
		 SC_NEG,
		 SC_MOD,
		 SC_XOR,
		 SC_MOV,
		 SC_ARSH,
};

struct scalar scalar_const(uint64_t v);
struct scalar scalar_unknown(void);
/* Any value of [0, 2^(8 * bytes)): what an unsigned load of that size gives. */
struct scalar scalar_bytes(unsigned bytes);
/* Any value sign-extended from `bits` bits: what a sign-extending load gives. */
struct scalar scalar_sext_any(unsigned bits);

static inline bool scalar_is_const(const struct scalar *s)
{
	return tnum_is_const(s->var);
}

/* Tightens every part from the others; false when they leave no value. */
bool scalar_sync(struct scalar *s);
/* Whether the scalar holds no value (a contradiction after refinement). */
bool scalar_empty(const struct scalar *s);
/* Whether the concrete v is one of the scalar's values. */
bool scalar_has(const struct scalar *s, uint64_t v);
/* Whether every value of b is a value of a. */
bool scalar_in(const struct scalar *a, const struct scalar *b);

/*
 * dst = dst op src, 64-bit (alu64) or 32-bit with the result zero-extended.
 * off carries the sdiv/smod selector and movsx width as the instruction
 * does (mov with off 8/16/32 sign-extends).
 */
void scalar_alu(struct scalar *dst, const struct scalar *src, enum scalar_op op, bool alu64,
		int off);
/* Byte swaps: to big endian (be), to little endian (!be), of `bits` bits. */
void scalar_end(struct scalar *dst, bool be, unsigned bits);

/* The concrete semantics of the same operations (RFC 9669), for constants. */
uint64_t scalar_eval(enum scalar_op op, bool alu64, int off, uint64_t a, uint64_t b);

/* Comparisons a conditional jump can make, after operand swap and negation. */
enum scalar_cmp {
	CMP_EQ,
	CMP_NE,
	CMP_ULT,
	CMP_ULE,
	CMP_SLT,
	CMP_SLE,
	CMP_SET,  /* a & b != 0 */
	CMP_NSET, /* a & b == 0 */
};

/* 1 when (a cmp b) holds for every pair of values, 0 when for none, -1 otherwise. */
int scalar_cmp_known(const struct scalar *a, const struct scalar *b, enum scalar_cmp cmp,
		     bool is64);
/*
 * Narrows a and b to the values for which (a cmp b) can hold, on 64 bits or
 * on the low 32. Returns false when none can (the branch is dead).
 */
bool scalar_refine(struct scalar *a, struct scalar *b, enum scalar_cmp cmp, bool is64);

#endif
