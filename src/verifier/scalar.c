// SPDX-License-Identifier: MIT
/*
 * Abstract arithmetic on scalars (see scalar.h).
 *
 * Bounds are computed for one width at a time (64 bits, or the low 32 bits
 * for ALU32 operations and JMP32 comparisons) on a struct bnd holding
 * unsigned and signed bounds of that width; 128-bit intermediate arithmetic
 * makes "does this overflow the width" a plain comparison. An operation
 * whose bounds would wrap gives the full range of the width: the tnum part,
 * computed alongside, often still knows bits, and scalar_sync() carries them
 * into the bounds.
 */
#include "scalar.h"

#define U32_HI 0xffffffff00000000ull

typedef __int128 s128;
typedef unsigned __int128 u128;

/* Bounds of one width w (32 or 64), values kept in their 64-bit containers. */
struct bnd {
	uint64_t umin, umax;
	int64_t smin, smax;
};

static uint64_t umax_of(unsigned w)
{
	return w == 64 ? UINT64_MAX : UINT32_MAX;
}

static int64_t smin_of(unsigned w)
{
	return w == 64 ? INT64_MIN : INT32_MIN;
}

static int64_t smax_of(unsigned w)
{
	return w == 64 ? INT64_MAX : INT32_MAX;
}

static struct bnd bnd_full(unsigned w)
{
	return (struct bnd){0, umax_of(w), smin_of(w), smax_of(w)};
}

static struct bnd bnd_of(const struct scalar *s, unsigned w)
{
	if (w == 64)
		return (struct bnd){s->umin, s->umax, s->smin, s->smax};
	return (struct bnd){s->u32min, s->u32max, s->s32min, s->s32max};
}

static void bnd_store(struct scalar *s, const struct bnd *b, unsigned w)
{
	if (w == 64) {
		s->umin = b->umin;
		s->umax = b->umax;
		s->smin = b->smin;
		s->smax = b->smax;
	} else {
		s->u32min = (uint32_t)b->umin;
		s->u32max = (uint32_t)b->umax;
		s->s32min = (int32_t)b->smin;
		s->s32max = (int32_t)b->smax;
	}
}

/* Sets the unsigned part to [lo, hi] when that fits the width, else leaves it full. */
static void set_u(struct bnd *r, u128 lo, u128 hi, unsigned w)
{
	if (lo <= hi && hi <= umax_of(w)) {
		r->umin = (uint64_t)lo;
		r->umax = (uint64_t)hi;
	}
}

static void set_s(struct bnd *r, s128 lo, s128 hi, unsigned w)
{
	if (lo <= hi && lo >= smin_of(w) && hi <= smax_of(w)) {
		r->smin = (int64_t)lo;
		r->smax = (int64_t)hi;
	}
}

static s128 min4(s128 a, s128 b, s128 c, s128 d)
{
	s128 m = a < b ? a : b;

	m = m < c ? m : c;
	return m < d ? m : d;
}

static s128 max4(s128 a, s128 b, s128 c, s128 d)
{
	s128 m = a > b ? a : b;

	m = m > c ? m : c;
	return m > d ? m : d;
}

static uint64_t umin2(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t umax2(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * Bounds of (a op b) at width w, where b's shift amounts and divisors are
 * what the run time sees (shift counts masked to the width).
 */
static struct bnd bnd_alu(enum scalar_op op, const struct bnd *a, const struct bnd *b, unsigned w,
			  int off)
{
	struct bnd r = bnd_full(w);

	switch (op) {
	case SC_ADD:
		set_u(&r, (u128)a->umin + b->umin, (u128)a->umax + b->umax, w);
		set_s(&r, (s128)a->smin + b->smin, (s128)a->smax + b->smax, w);
		break;
	case SC_SUB:
		if (a->umin >= b->umax)
			set_u(&r, a->umin - b->umax, a->umax - b->umin, w);
		set_s(&r, (s128)a->smin - b->smax, (s128)a->smax - b->smin, w);
		break;
	case SC_MUL:
		set_u(&r, (u128)a->umin * b->umin, (u128)a->umax * b->umax, w);
		set_s(&r,
		      min4((s128)a->smin * b->smin, (s128)a->smin * b->smax,
			   (s128)a->smax * b->smin, (s128)a->smax * b->smax),
		      max4((s128)a->smin * b->smin, (s128)a->smin * b->smax,
			   (s128)a->smax * b->smin, (s128)a->smax * b->smax),
		      w);
		break;
	case SC_AND:
		r.umax = umin2(a->umax, b->umax);
		if (a->smin >= 0 && b->smin >= 0)
			set_s(&r, 0, a->smax < b->smax ? a->smax : b->smax, w);
		break;
	case SC_OR:
		r.umin = umax2(a->umin, b->umin);
		break;
	case SC_LSH:
		if (b->umax < w) {
			if (a->umax <= (umax_of(w) >> b->umax))
				set_u(&r, (u128)a->umin << b->umin, (u128)a->umax << b->umax, w);
		}
		break;
	case SC_RSH:
		if (b->umax < w)
			set_u(&r, a->umin >> b->umax, a->umax >> b->umin, w);
		break;
	case SC_ARSH:
		if (b->umax < w) {
			s128 x1 = a->smin >> b->umin, x2 = a->smin >> b->umax;
			s128 y1 = a->smax >> b->umin, y2 = a->smax >> b->umax;

			set_s(&r, min4(x1, x2, y1, y2), max4(x1, x2, y1, y2), w);
		}
		break;
	case SC_DIV:
		if (off)
			break;
		if (b->umin > 0)
			set_u(&r, a->umin / b->umax, a->umax / b->umin, w);
		else
			set_u(&r, 0, a->umax, w);
		break;
	case SC_MOD:
		if (off)
			break;
		/* x % 0 is x, else below the divisor: never above x either way */
		set_u(&r, 0, b->umin > 0 ? umin2(a->umax, b->umax - 1) : a->umax, w);
		break;
	case SC_NEG:
		if (a->smin != smin_of(w))
			set_s(&r, -(s128)a->smax, -(s128)a->smin, w);
		break;
	default:
		break;
	}
	return r;
}

static struct tnum tnum_op(enum scalar_op op, struct tnum a, struct tnum b, const struct bnd *bb,
			   unsigned w)
{
	bool kshift = tnum_is_const(b) || bb->umin == bb->umax;
	unsigned n = (unsigned)(bb->umin & (w - 1));

	switch (op) {
	case SC_ADD:
		return tnum_add(a, b);
	case SC_SUB:
		return tnum_sub(a, b);
	case SC_MUL:
		return tnum_mul(a, b);
	case SC_AND:
		return tnum_and(a, b);
	case SC_OR:
		return tnum_or(a, b);
	case SC_XOR:
		return tnum_xor(a, b);
	case SC_NEG:
		return tnum_sub(tnum_const(0), a);
	case SC_LSH:
		return kshift ? tnum_lsh(a, n) : tnum_unknown();
	case SC_RSH:
		return kshift ? tnum_rsh(a, n) : tnum_unknown();
	case SC_ARSH:
		return kshift ? tnum_arsh(a, n, w) : tnum_unknown();
	default:
		return tnum_unknown();
	}
}

struct scalar scalar_unknown(void)
{
	return (struct scalar){tnum_unknown(), 0,	  UINT64_MAX, INT64_MIN, INT64_MAX, 0,
			       UINT32_MAX,     INT32_MIN, INT32_MAX};
}

struct scalar scalar_const(uint64_t v)
{
	return (struct scalar){tnum_const(v),	    v,		 v,	      (int64_t)v,
			       (int64_t)v,	    (uint32_t)v, (uint32_t)v, (int32_t)(uint32_t)v,
			       (int32_t)(uint32_t)v};
}

struct scalar scalar_bytes(unsigned bytes)
{
	struct scalar s = scalar_unknown();

	s.var = tnum_trunc(tnum_unknown(), bytes);
	scalar_sync(&s);
	return s;
}

struct scalar scalar_sext_any(unsigned bits)
{
	struct scalar s = scalar_unknown();

	s.var = tnum_sext(tnum_trunc(tnum_unknown(), bits / 8), bits);
	s.smin = -(int64_t)(1ull << (bits - 1));
	s.smax = (int64_t)((1ull << (bits - 1)) - 1);
	scalar_sync(&s);
	return s;
}

static int64_t smax64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t smin64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static void sync_once(struct scalar *s)
{
	struct tnum t = s->var, t32;
	uint64_t sign = 1ull << 63, hi;
	uint32_t lv = (uint32_t)t.value, lm = (uint32_t)t.mask, sign32 = 1u << 31;

	/* known bits bound each interpretation */
	s->umin = umax2(s->umin, t.value);
	s->umax = umin2(s->umax, t.value | t.mask);
	s->smin = smax64(s->smin, (int64_t)(t.value | (t.mask & sign)));
	s->smax = smin64(s->smax, (int64_t)((t.value | t.mask) & ~(t.mask & sign)));
	s->u32min = s->u32min > lv ? s->u32min : lv;
	s->u32max = s->u32max < (lv | lm) ? s->u32max : (lv | lm);
	if (s->s32min < (int32_t)(lv | (lm & sign32)))
		s->s32min = (int32_t)(lv | (lm & sign32));
	if (s->s32max > (int32_t)((lv | lm) & ~(lm & sign32)))
		s->s32max = (int32_t)((lv | lm) & ~(lm & sign32));

	/* a signed range not crossing the sign is the same unsigned range, and back */
	if ((s->smin < 0) == (s->smax < 0)) {
		s->umin = umax2(s->umin, (uint64_t)s->smin);
		s->umax = umin2(s->umax, (uint64_t)s->smax);
	}
	if ((int64_t)s->umin <= (int64_t)s->umax && (s->umin >> 63) == (s->umax >> 63)) {
		s->smin = smax64(s->smin, (int64_t)s->umin);
		s->smax = smin64(s->smax, (int64_t)s->umax);
	}
	if ((s->s32min < 0) == (s->s32max < 0)) {
		if (s->u32min < (uint32_t)s->s32min)
			s->u32min = (uint32_t)s->s32min;
		if (s->u32max > (uint32_t)s->s32max)
			s->u32max = (uint32_t)s->s32max;
	}
	if ((s->u32min >> 31) == (s->u32max >> 31)) {
		if (s->s32min < (int32_t)s->u32min)
			s->s32min = (int32_t)s->u32min;
		if (s->s32max > (int32_t)s->u32max)
			s->s32max = (int32_t)s->u32max;
	}

	/* values inside one 2^32-aligned block: their low halves are contiguous */
	if ((s->umin >> 32) == (s->umax >> 32)) {
		if (s->u32min < (uint32_t)s->umin)
			s->u32min = (uint32_t)s->umin;
		if (s->u32max > (uint32_t)s->umax)
			s->u32max = (uint32_t)s->umax;
	}
	if ((s->smin >> 32) == (s->smax >> 32)) {
		if (s->u32min < (uint32_t)s->smin)
			s->u32min = (uint32_t)s->smin;
		if (s->u32max > (uint32_t)s->smax)
			s->u32max = (uint32_t)s->smax;
	}
	/* known upper half: the low bounds bound the whole, in both orders */
	if (!(t.mask >> 32)) {
		hi = t.value & U32_HI;
		s->umin = umax2(s->umin, hi | s->u32min);
		s->umax = umin2(s->umax, hi | s->u32max);
		s->smin = smax64(s->smin, (int64_t)(hi | s->u32min));
		s->smax = smin64(s->smax, (int64_t)(hi | s->u32max));
	}

	/* and the bounds give known bits back */
	if (s->umin <= s->umax && !tnum_disjoint(s->var, tnum_range(s->umin, s->umax)))
		s->var = tnum_intersect(s->var, tnum_range(s->umin, s->umax));
	if (s->u32min <= s->u32max) {
		t32 = tnum_range(s->u32min, s->u32max);
		t32.mask |= U32_HI;
		if (!tnum_disjoint(s->var, t32))
			s->var = tnum_intersect(s->var, t32);
	}
}

bool scalar_empty(const struct scalar *s)
{
	return s->umin > s->umax || s->smin > s->smax || s->u32min > s->u32max ||
	       s->s32min > s->s32max || tnum_disjoint(s->var, tnum_range(s->umin, s->umax)) ||
	       (s->var.value & s->var.mask);
}

bool scalar_sync(struct scalar *s)
{
	sync_once(s);
	sync_once(s);
	return !scalar_empty(s);
}

bool scalar_has(const struct scalar *s, uint64_t v)
{
	return tnum_has(s->var, v) && v >= s->umin && v <= s->umax && (int64_t)v >= s->smin &&
	       (int64_t)v <= s->smax && (uint32_t)v >= s->u32min && (uint32_t)v <= s->u32max &&
	       (int32_t)(uint32_t)v >= s->s32min && (int32_t)(uint32_t)v <= s->s32max;
}

bool scalar_in(const struct scalar *a, const struct scalar *b)
{
	return tnum_in(a->var, b->var) && a->umin <= b->umin && b->umax <= a->umax &&
	       a->smin <= b->smin && b->smax <= a->smax && a->u32min <= b->u32min &&
	       b->u32max <= a->u32max && a->s32min <= b->s32min && b->s32max <= a->s32max;
}

static uint64_t sext(uint64_t v, unsigned bits)
{
	unsigned sh = 64 - bits;

	return (uint64_t)((int64_t)(v << sh) >> sh);
}

uint64_t scalar_eval(enum scalar_op op, bool alu64, int off, uint64_t a, uint64_t b)
{
	unsigned w = alu64 ? 64 : 32;
	uint64_t m = umax_of(w), r;
	int64_t sa, sb;

	a &= m;
	if (op != SC_MOV)
		b &= m;
	sa = (int64_t)sext(a, w);
	sb = (int64_t)sext(b, w);
	switch (op) {
	case SC_ADD:
		r = a + b;
		break;
	case SC_SUB:
		r = a - b;
		break;
	case SC_MUL:
		r = a * b;
		break;
	case SC_DIV:
		if (!b)
			r = 0;
		else if (!off)
			r = a / b;
		else
			r = sb == -1 ? (uint64_t)0 - (uint64_t)sa : (uint64_t)(sa / sb);
		break;
	case SC_MOD:
		if (!b)
			r = a;
		else if (!off)
			r = a % b;
		else
			r = sb == -1 ? 0 : (uint64_t)(sa % sb);
		break;
	case SC_OR:
		r = a | b;
		break;
	case SC_AND:
		r = a & b;
		break;
	case SC_XOR:
		r = a ^ b;
		break;
	case SC_LSH:
		r = a << (b & (w - 1));
		break;
	case SC_RSH:
		r = a >> (b & (w - 1));
		break;
	case SC_ARSH:
		r = (uint64_t)(sa >> (b & (w - 1)));
		break;
	case SC_NEG:
		r = (uint64_t)0 - a;
		break;
	case SC_MOV:
		r = off ? sext(b, (unsigned)off) : b;
		break;
	default:
		r = 0;
		break;
	}
	return r & m;
}

/* The low 32 bits of s as a scalar of their own, zero-extended. */
static struct scalar low32(const struct scalar *s)
{
	struct scalar r = scalar_unknown();

	r.var = tnum_trunc(s->var, 4);
	r.umin = s->u32min;
	r.umax = s->u32max;
	r.u32min = s->u32min;
	r.u32max = s->u32max;
	r.s32min = s->s32min;
	r.s32max = s->s32max;
	return r;
}

static bool low_const(const struct scalar *s, bool alu64)
{
	return alu64 ? tnum_is_const(s->var) : !(uint32_t)s->var.mask;
}

void scalar_alu(struct scalar *dst, const struct scalar *src, enum scalar_op op, bool alu64,
		int off)
{
	unsigned w = alu64 ? 64 : 32;
	struct bnd a = bnd_of(dst, w), b = bnd_of(src, w), r;
	struct tnum ta = alu64 ? dst->var : tnum_trunc(dst->var, 4);
	struct tnum tb = alu64 ? src->var : tnum_trunc(src->var, 4);
	struct scalar res = scalar_unknown();

	if (op == SC_MOV && !off) {
		*dst = alu64 ? *src : low32(src);
		scalar_sync(dst);
		return;
	}
	if (low_const(src, alu64) && (op == SC_MOV || low_const(dst, alu64))) {
		*dst = scalar_const(scalar_eval(op, alu64, off, ta.value, tb.value));
		return;
	}
	if (op == SC_MOV) { /* movsx of a value not known */
		res = scalar_sext_any((unsigned)off);
		if (!alu64) {
			res.var = tnum_trunc(res.var, 4);
			res.umin = res.smin = 0;
			res.umax = res.smax = UINT32_MAX;
		}
		*dst = res;
		scalar_sync(dst);
		return;
	}
	if (op == SC_LSH || op == SC_RSH || op == SC_ARSH) {
		/* the run time masks the count; a range past the width is left to bnd_alu */
		if (tnum_is_const(tb))
			b.umin = b.umax = tb.value & (w - 1);
	}
	r = bnd_alu(op, &a, &b, w, off);
	res.var = tnum_op(op, ta, tb, &b, w);
	if (alu64) {
		bnd_store(&res, &r, 64);
	} else {
		res.var = tnum_trunc(res.var, 4);
		bnd_store(&res, &r, 32);
		res.umin = res.u32min;
		res.umax = res.u32max;
		res.smin = res.u32min;
		res.smax = res.u32max;
		if (res.u32min > res.u32max) {
			res.umin = res.smin = 0;
			res.umax = res.smax = UINT32_MAX;
		}
	}
	if (!scalar_sync(&res)) {
		res = scalar_unknown();
		if (!alu64)
			res.var = tnum_trunc(res.var, 4);
		scalar_sync(&res);
	}
	*dst = res;
}

static uint64_t bswap(uint64_t v, unsigned bits)
{
	switch (bits) {
	case 16:
		return __builtin_bswap16((uint16_t)v);
	case 32:
		return __builtin_bswap32((uint32_t)v);
	default:
		return __builtin_bswap64(v);
	}
}

void scalar_end(struct scalar *dst, bool be, unsigned bits)
{
	uint64_t keep = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;

	if (tnum_is_const(dst->var)) {
		*dst = scalar_const(be ? bswap(dst->var.value, bits) : dst->var.value & keep);
		return;
	}
	if (be) {
		/* a byte swap moves known bits, it does not lose them */
		dst->var = (struct tnum){bswap(dst->var.value, bits), bswap(dst->var.mask, bits)};
	} else {
		dst->var = tnum_trunc(dst->var, bits / 8);
	}
	*dst = (struct scalar){dst->var, 0,	     UINT64_MAX, INT64_MIN, INT64_MAX,
			       0,	 UINT32_MAX, INT32_MIN,	 INT32_MAX};
	scalar_sync(dst);
}

/* Compare outcome from the bounds of one width alone. */
static int cmp_known(const struct bnd *a, const struct bnd *b, struct tnum ta, struct tnum tb,
		     enum scalar_cmp cmp)
{
	struct tnum both;

	switch (cmp) {
	case CMP_EQ:
	case CMP_NE: {
		int eq = -1;

		if (tnum_is_const(ta) && tnum_is_const(tb))
			eq = ta.value == tb.value;
		else if (a->umin > b->umax || a->umax < b->umin || a->smin > b->smax ||
			 a->smax < b->smin || tnum_disjoint(ta, tb))
			eq = 0;
		return eq < 0 ? -1 : cmp == CMP_EQ ? eq : !eq;
	}
	case CMP_ULT:
		return a->umax < b->umin ? 1 : a->umin >= b->umax ? 0 : -1;
	case CMP_ULE:
		return a->umax <= b->umin ? 1 : a->umin > b->umax ? 0 : -1;
	case CMP_SLT:
		return a->smax < b->smin ? 1 : a->smin >= b->smax ? 0 : -1;
	case CMP_SLE:
		return a->smax <= b->smin ? 1 : a->smin > b->smax ? 0 : -1;
	case CMP_SET:
	case CMP_NSET:
		both = tnum_and(ta, tb);
		if (both.value)
			return cmp == CMP_SET;
		if (!(both.value | both.mask))
			return cmp == CMP_NSET;
		return -1;
	}
	return -1;
}

int scalar_cmp_known(const struct scalar *a, const struct scalar *b, enum scalar_cmp cmp, bool is64)
{
	unsigned w = is64 ? 64 : 32;
	struct bnd ba = bnd_of(a, w), bb = bnd_of(b, w);
	struct tnum ta = is64 ? a->var : tnum_trunc(a->var, 4);
	struct tnum tb = is64 ? b->var : tnum_trunc(b->var, 4);

	return cmp_known(&ba, &bb, ta, tb, cmp);
}

/* A tnum over the low half that says nothing about the upper one. */
static struct tnum low_only(struct tnum t)
{
	return (struct tnum){(uint32_t)t.value, (uint32_t)t.mask | U32_HI};
}

/* Narrows one side of != against a constant at the edge of its range. */
static void ne_edge(struct bnd *a, uint64_t c, unsigned w)
{
	int64_t sc = w == 64 ? (int64_t)c : (int64_t)(int32_t)(uint32_t)c;

	if (a->umin == c && a->umin < a->umax)
		a->umin++;
	else if (a->umax == c && a->umin < a->umax)
		a->umax--;
	if (a->smin == sc && a->smin < a->smax)
		a->smin++;
	else if (a->smax == sc && a->smin < a->smax)
		a->smax--;
}

bool scalar_refine(struct scalar *a, struct scalar *b, enum scalar_cmp cmp, bool is64)
{
	unsigned w = is64 ? 64 : 32;
	struct bnd ba = bnd_of(a, w), bb = bnd_of(b, w);
	struct tnum ta = is64 ? a->var : tnum_trunc(a->var, 4);
	struct tnum tb = is64 ? b->var : tnum_trunc(b->var, 4);
	struct tnum t;

	if (cmp_known(&ba, &bb, ta, tb, cmp) == 0)
		return false;
	switch (cmp) {
	case CMP_EQ:
		if (tnum_disjoint(ta, tb))
			return false;
		ba.umin = bb.umin = umax2(ba.umin, bb.umin);
		ba.umax = bb.umax = umin2(ba.umax, bb.umax);
		ba.smin = bb.smin = smax64(ba.smin, bb.smin);
		ba.smax = bb.smax = smin64(ba.smax, bb.smax);
		t = tnum_intersect(ta, tb);
		if (is64) {
			a->var = b->var = t;
		} else {
			a->var = tnum_intersect(a->var, low_only(t));
			b->var = tnum_intersect(b->var, low_only(t));
		}
		break;
	case CMP_NE:
		if (tnum_is_const(tb))
			ne_edge(&ba, tb.value, w);
		if (tnum_is_const(ta))
			ne_edge(&bb, ta.value, w);
		break;
	case CMP_ULT:
		ba.umax = umin2(ba.umax, bb.umax - 1);
		bb.umin = umax2(bb.umin, ba.umin + 1);
		break;
	case CMP_ULE:
		ba.umax = umin2(ba.umax, bb.umax);
		bb.umin = umax2(bb.umin, ba.umin);
		break;
	case CMP_SLT:
		ba.smax = smin64(ba.smax, bb.smax - 1);
		bb.smin = smax64(bb.smin, ba.smin + 1);
		break;
	case CMP_SLE:
		ba.smax = smin64(ba.smax, bb.smax);
		bb.smin = smax64(bb.smin, ba.smin);
		break;
	case CMP_SET:
		break;
	case CMP_NSET:
		/* bits set in a constant side are clear in the other */
		if (tnum_is_const(tb)) {
			if (ta.value & tb.value)
				return false;
			a->var.mask &= ~tb.value;
		}
		if (tnum_is_const(ta)) {
			if (tb.value & ta.value)
				return false;
			b->var.mask &= ~ta.value;
		}
		break;
	}
	bnd_store(a, &ba, w);
	bnd_store(b, &bb, w);
	return scalar_sync(a) && scalar_sync(b);
}
