/* SPDX-License-Identifier: MIT */
/*
 * tnum: a 64-bit value of which some bits are known ("tristate number").
 *
 * A tnum (value, mask) stands for every x with x & ~mask == value: bits set
 * in mask are unknown, the others are those of value (value & mask is always
 * 0). Every operation returns a tnum containing each result of the operation
 * applied to members of its operands, so it may lose precision, never
 * soundness.
 */
#ifndef UEBPF_VERIFIER_TNUM_H
#define UEBPF_VERIFIER_TNUM_H

#include <stdbool.h>
#include <stdint.h>

struct tnum {
	uint64_t value;
	uint64_t mask;
};

static inline struct tnum tnum_const(uint64_t v)
{
	return (struct tnum){v, 0};
}

static inline struct tnum tnum_unknown(void)
{
	return (struct tnum){0, UINT64_MAX};
}

static inline bool tnum_is_const(struct tnum t)
{
	return !t.mask;
}

/* Whether x is one of the values t stands for. */
static inline bool tnum_has(struct tnum t, uint64_t x)
{
	return (x & ~t.mask) == t.value;
}

/* Whether every member of b is a member of a. */
static inline bool tnum_in(struct tnum a, struct tnum b)
{
	return !(b.mask & ~a.mask) && (b.value & ~a.mask) == a.value;
}

/* The smallest tnum holding every value of [min, max]. */
struct tnum tnum_range(uint64_t min, uint64_t max);
struct tnum tnum_add(struct tnum a, struct tnum b);
struct tnum tnum_sub(struct tnum a, struct tnum b);
struct tnum tnum_and(struct tnum a, struct tnum b);
struct tnum tnum_or(struct tnum a, struct tnum b);
struct tnum tnum_xor(struct tnum a, struct tnum b);
struct tnum tnum_mul(struct tnum a, struct tnum b);
struct tnum tnum_lsh(struct tnum a, unsigned n);
struct tnum tnum_rsh(struct tnum a, unsigned n);
/* Arithmetic shift of the low `width` bits (32 or 64), the result in those bits. */
struct tnum tnum_arsh(struct tnum a, unsigned n, unsigned width);
/* Values in both a and b; only meaningful when they have one in common. */
struct tnum tnum_intersect(struct tnum a, struct tnum b);
/* The low `bytes` bytes of a, zero-extended. */
struct tnum tnum_trunc(struct tnum a, unsigned bytes);
/* The low `bits` bits of a, sign-extended to 64 bits. */
struct tnum tnum_sext(struct tnum a, unsigned bits);
/* Whether a and b have no member in common. */
bool tnum_disjoint(struct tnum a, struct tnum b);
/* "0x1 or (0x0; 0xff)" style text, for the log. */
int tnum_fmt(char *buf, unsigned long len, struct tnum t);

#endif
