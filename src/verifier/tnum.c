// SPDX-License-Identifier: MIT
/*
 * Operations on tnums. Each one reasons bit by bit about which result bits
 * can differ between members of the operands; carries are what make
 * addition and subtraction interesting: a result bit is unknown when the
 * sums of the smallest and the largest members differ there, or when an
 * operand bit is unknown.
 */
#include <stdio.h>

#include "tnum.h"

struct tnum tnum_range(uint64_t min, uint64_t max)
{
	uint64_t diff = min ^ max;
	unsigned bits;

	if (!diff)
		return tnum_const(min);
	/* every bit below the highest one where min and max differ may vary */
	bits = 64 - (unsigned)__builtin_clzll(diff);
	if (bits == 64)
		return tnum_unknown();
	return (struct tnum){min & ~((1ull << bits) - 1), (1ull << bits) - 1};
}

struct tnum tnum_add(struct tnum a, struct tnum b)
{
	uint64_t lo = a.value + b.value;
	uint64_t hi = (a.value | a.mask) + (b.value | b.mask);
	uint64_t carries = lo ^ hi;
	uint64_t unknown = carries | a.mask | b.mask;

	return (struct tnum){lo & ~unknown, unknown};
}

struct tnum tnum_sub(struct tnum a, struct tnum b)
{
	/* the largest difference takes the largest a and the smallest b, and back */
	uint64_t hi = (a.value | a.mask) - b.value;
	uint64_t lo = a.value - (b.value | b.mask);
	uint64_t unknown = (hi ^ lo) | a.mask | b.mask;

	return (struct tnum){(a.value - b.value) & ~unknown, unknown};
}

struct tnum tnum_and(struct tnum a, struct tnum b)
{
	uint64_t maybe_a = a.value | a.mask, maybe_b = b.value | b.mask;
	uint64_t ones = a.value & b.value;

	return (struct tnum){ones, (maybe_a & maybe_b) & ~ones};
}

struct tnum tnum_or(struct tnum a, struct tnum b)
{
	uint64_t ones = a.value | b.value;

	return (struct tnum){ones, (a.mask | b.mask) & ~ones};
}

struct tnum tnum_xor(struct tnum a, struct tnum b)
{
	uint64_t unknown = a.mask | b.mask;

	return (struct tnum){(a.value ^ b.value) & ~unknown, unknown};
}

/*
 * Long multiplication: for each bit of a that is 1 for sure, b shifted is
 * added; for each bit that may be 1, a tnum holding 0 and b shifted is.
 */
struct tnum tnum_mul(struct tnum a, struct tnum b)
{
	struct tnum acc = tnum_const(a.value * b.value);
	struct tnum partial = tnum_const(0), t;

	/* one round per bit of a that may be set: let the shorter operand count */
	if ((a.value | a.mask) > (b.value | b.mask)) {
		t = a;
		a = b;
		b = t;
	}

	while (a.value | a.mask) {
		if (a.mask & 1)
			partial = tnum_add(partial, (struct tnum){0, b.value | b.mask});
		else if (a.value & 1)
			partial = tnum_add(partial, (struct tnum){0, b.mask});
		a = tnum_rsh(a, 1);
		b = tnum_lsh(b, 1);
	}
	return tnum_add(acc, partial);
}

struct tnum tnum_lsh(struct tnum a, unsigned n)
{
	return (struct tnum){a.value << n, a.mask << n};
}

struct tnum tnum_rsh(struct tnum a, unsigned n)
{
	return (struct tnum){a.value >> n, a.mask >> n};
}

struct tnum tnum_arsh(struct tnum a, unsigned n, unsigned width)
{
	struct tnum r;

	if (width == 32) {
		r.value = (uint32_t)((int32_t)(uint32_t)a.value >> n);
		r.mask = (uint32_t)((int32_t)(uint32_t)a.mask >> n);
	} else {
		r.value = (uint64_t)((int64_t)a.value >> n);
		r.mask = (uint64_t)((int64_t)a.mask >> n);
	}
	return r;
}

struct tnum tnum_intersect(struct tnum a, struct tnum b)
{
	uint64_t v = a.value | b.value, mu = a.mask & b.mask;

	return (struct tnum){v & ~mu, mu};
}

bool tnum_disjoint(struct tnum a, struct tnum b)
{
	uint64_t known_both = ~a.mask & ~b.mask;

	return ((a.value ^ b.value) & known_both) != 0;
}

struct tnum tnum_trunc(struct tnum a, unsigned bytes)
{
	uint64_t keep = bytes >= 8 ? UINT64_MAX : (1ull << (bytes * 8)) - 1;

	return (struct tnum){a.value & keep, a.mask & keep};
}

struct tnum tnum_sext(struct tnum a, unsigned bits)
{
	unsigned sh = 64 - bits;

	return (struct tnum){(uint64_t)((int64_t)(a.value << sh) >> sh),
			     (uint64_t)((int64_t)(a.mask << sh) >> sh)};
}

int tnum_fmt(char *buf, unsigned long len, struct tnum t)
{
	return snprintf(buf, len, "(%#llx; %#llx)", (unsigned long long)t.value,
			(unsigned long long)t.mask);
}
