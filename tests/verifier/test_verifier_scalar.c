// SPDX-License-Identifier: MIT
/*
 * Soundness of the verifier's scalar arithmetic, by sampling: for random
 * abstract scalars and concrete members of them, the concrete result of
 * every ALU operation, byte swap and comparison must be a member of the
 * abstract result, scalar_sync must keep every member, a comparison the
 * bounds call decided must come out that way, and narrowing for a branch
 * must keep every pair of members for which the branch is taken.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "verifier/scalar.h"

#define ROUNDS 60000
#define MEMBERS 6

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned long failures;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Values where arithmetic goes wrong: around 0, the sign bits, the widths. */
static uint64_t interesting(void)
{
	static const uint64_t edges[] = {0,
					 1,
					 2,
					 7,
					 8,
					 31,
					 32,
					 63,
					 64,
					 255,
					 256,
					 0x7fff,
					 0x8000,
					 0xffff,
					 0x7fffffff,
					 0x80000000,
					 0xffffffff,
					 0x100000000,
					 0x7fffffffffffffff,
					 0x8000000000000000,
					 UINT64_MAX};
	uint64_t e = edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];

	switch (rnd() % 4) {
	case 0:
		return e;
	case 1:
		return e + (rnd() % 5) - 2;
	case 2:
		return rnd() >> (rnd() % 64);
	default:
		return rnd();
	}
}

/* A scalar from random constraints of one or two kinds, synced. */
static struct scalar random_scalar(void)
{
	struct scalar s = scalar_unknown();
	uint64_t a = interesting(), b = interesting(), t;

	switch (rnd() % 6) {
	case 0:
		return scalar_const(a);
	case 1:
		if (a > b)
			t = a, a = b, b = t;
		s.umin = a;
		s.umax = b;
		break;
	case 2:
		if ((int64_t)a > (int64_t)b)
			t = a, a = b, b = t;
		s.smin = (int64_t)a;
		s.smax = (int64_t)b;
		break;
	case 3:
		s.var.mask = interesting();
		s.var.value = a & ~s.var.mask;
		break;
	case 4:
		if ((uint32_t)a > (uint32_t)b)
			t = a, a = b, b = t;
		s.u32min = (uint32_t)a;
		s.u32max = (uint32_t)b;
		break;
	default:
		if ((int32_t)a > (int32_t)b)
			t = a, a = b, b = t;
		s.s32min = (int32_t)a;
		s.s32max = (int32_t)b;
		s.var.mask = rnd() % 2 ? UINT64_MAX : 0xffffffff;
		s.var.value = (a & ~s.var.mask);
		break;
	}
	return s;
}

/* A random value of [lo, hi], the full 64-bit range included. */
static uint64_t between(uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;

	return hi < lo ? lo : span ? lo + rnd() % span : rnd();
}

/* A member of s (before or after sync), or false when sampling finds none. */
static bool member(const struct scalar *s, uint64_t *v)
{
	for (int i = 0; i < 200; i++) {
		uint64_t c;

		switch (i % 4) {
		case 0:
			c = s->var.value | (rnd() & s->var.mask);
			break;
		case 1:
			c = between(s->umin, s->umax);
			break;
		case 2:
			c = i % 8 < 4 ? s->umin : s->umax;
			break;
		default:
			c = (uint64_t)s->smin + between(0, (uint64_t)s->smax - (uint64_t)s->smin);
			break;
		}
		if (scalar_has(s, c)) {
			*v = c;
			return true;
		}
	}
	return false;
}

static void fail(const char *what, const struct scalar *s, uint64_t v)
{
	if (failures++ < 20)
		fprintf(stderr,
			"FAIL %s: %#" PRIx64 " not in var=(%#" PRIx64 ";%#" PRIx64 ") u=[%" PRIu64
			",%" PRIu64 "] s=[%" PRId64 ",%" PRId64 "] u32=[%u,%u] s32=[%d,%d]\n",
			what, v, s->var.value, s->var.mask, s->umin, s->umax, s->smin, s->smax,
			s->u32min, s->u32max, s->s32min, s->s32max);
}

static void test_sync(void)
{
	for (int i = 0; i < ROUNDS; i++) {
		struct scalar s = random_scalar(), t;
		uint64_t v[MEMBERS];
		int n = 0;

		for (int k = 0; k < MEMBERS; k++)
			n += member(&s, &v[n]);
		t = s;
		if (!scalar_sync(&t) && n)
			fail("sync emptied a scalar with members", &t, v[0]);
		for (int k = 0; k < n; k++)
			if (!scalar_has(&t, v[k]))
				fail("sync", &t, v[k]);
	}
}

static const char *const op_names[] = {"add", "sub", "mul", "div", "or",  "and", "lsh",
				       "rsh", "neg", "mod", "xor", "mov", "arsh"};

static void test_alu(void)
{
	for (int op = SC_ADD; op <= SC_ARSH; op++) {
		for (int i = 0; i < ROUNDS; i++) {
			struct scalar a = random_scalar(), b = random_scalar(), r;
			bool alu64 = rnd() % 2;
			int off = 0;
			uint64_t va, vb, want;
			char what[64];

			if (!scalar_sync(&a) || !scalar_sync(&b) || !member(&a, &va) ||
			    !member(&b, &vb))
				continue;
			if (op == SC_DIV || op == SC_MOD)
				off = (int)(rnd() % 2);
			if (op == SC_MOV && rnd() % 2)
				off = alu64 ? 8 << (rnd() % 3) : 8 << (rnd() % 2);
			if (op == SC_NEG) {
				b = a;
				vb = va;
			}
			r = a;
			scalar_alu(&r, &b, (enum scalar_op)op, alu64, off);
			want = scalar_eval((enum scalar_op)op, alu64, off, va, vb);
			if (!scalar_has(&r, want)) {
				snprintf(what, sizeof(what),
					 "%s%s off %d of %#" PRIx64 ", %#" PRIx64, op_names[op],
					 alu64 ? "64" : "32", off, va, vb);
				fail(what, &r, want);
			}
		}
	}
}

static uint64_t swap(uint64_t v, unsigned bits)
{
	return bits == 16   ? __builtin_bswap16((uint16_t)v)
	       : bits == 32 ? __builtin_bswap32((uint32_t)v)
			    : __builtin_bswap64(v);
}

static void test_end(void)
{
	for (int i = 0; i < ROUNDS; i++) {
		struct scalar a = random_scalar(), r;
		unsigned bits = 16u << (rnd() % 3);
		bool be = rnd() % 2;
		uint64_t va, want;

		if (!scalar_sync(&a) || !member(&a, &va))
			continue;
		r = a;
		scalar_end(&r, be, bits);
		want = be ? swap(va, bits) : bits == 64 ? va : va & ((1ull << bits) - 1);
		if (!scalar_has(&r, want))
			fail(be ? "bswap" : "le", &r, want);
	}
}

static bool holds(enum scalar_cmp c, uint64_t a, uint64_t b, bool is64)
{
	int64_t sa = is64 ? (int64_t)a : (int32_t)(uint32_t)a;
	int64_t sb = is64 ? (int64_t)b : (int32_t)(uint32_t)b;

	if (!is64) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	switch (c) {
	case CMP_EQ:
		return a == b;
	case CMP_NE:
		return a != b;
	case CMP_ULT:
		return a < b;
	case CMP_ULE:
		return a <= b;
	case CMP_SLT:
		return sa < sb;
	case CMP_SLE:
		return sa <= sb;
	case CMP_SET:
		return (a & b) != 0;
	default:
		return (a & b) == 0;
	}
}

static void test_cmp(void)
{
	for (int c = CMP_EQ; c <= CMP_NSET; c++) {
		for (int i = 0; i < ROUNDS; i++) {
			struct scalar a = random_scalar(), b = random_scalar(), ra, rb;
			bool is64 = rnd() % 2, h;
			uint64_t va, vb;
			int known;

			if (!scalar_sync(&a) || !scalar_sync(&b) || !member(&a, &va))
				continue;
			/* equal operands are where EQ and the edges of NE get interesting */
			if (rnd() % 4 == 0 && scalar_has(&b, va))
				vb = va;
			else if (!member(&b, &vb))
				continue;
			h = holds((enum scalar_cmp)c, va, vb, is64);
			known = scalar_cmp_known(&a, &b, (enum scalar_cmp)c, is64);
			if (known >= 0 && known != h)
				fail("comparison decided wrongly", &a, va);
			if (!h)
				continue;
			ra = a;
			rb = b;
			if (!scalar_refine(&ra, &rb, (enum scalar_cmp)c, is64))
				fail("refinement dropped a branch that is taken", &a, va);
			else if (!scalar_has(&ra, va))
				fail("refinement lost the left operand", &ra, va);
			else if (!scalar_has(&rb, vb))
				fail("refinement lost the right operand", &rb, vb);
		}
	}
}

int main(void)
{
	test_sync();
	test_alu();
	test_end();
	test_cmp();
	if (failures) {
		fprintf(stderr, "%lu failure(s)\n", failures);
		return 1;
	}
	printf("scalar arithmetic sound on all samples\n");
	return 0;
}
