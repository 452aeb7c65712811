// SPDX-License-Identifier: MIT
/*
 * Conditional jumps. Each jump is a comparison (cmp, left, right); the
 * fall-through holds its negation. When the bounds decide the comparison
 * only one successor is explored, otherwise both, each with its operands
 * narrowed to the values for which the branch can be taken; a branch whose
 * narrowing leaves no value cannot run and is dropped.
 *
 * Packet pointers learn their range here: on the branch where
 * pkt + off <= end holds, every register with the same identity (same
 * variable part) may access off bytes past its base (off + 1 where
 * pkt + off < end). pkt_meta is bounded by the start of the packet the same
 * way. In raw mode a branch on the memory length (r2 as given) proves as
 * many bytes from the start of the memory as its lower bound.
 *
 * Null checks: a pointer that may be null (a map lookup's result, a ring
 * buffer reservation) compared for equality with 0 becomes the constant 0
 * on one branch and the pointer on the other, and so do all its copies
 * (registers and spills with the same id), as in the kernel. A reservation
 * found null holds no reference any more.
 */
#include <errno.h>

#include "state.h"

struct cond {
	enum scalar_cmp cmp;
	bool swap; /* right-hand side first: (src cmp dst) */
};

/* The taken branch's comparison of (dst, src), by jump operation >> 4. */
static const struct cond conds[16] = {
	[ISA_JEQ >> 4] = {CMP_EQ, false},   [ISA_JNE >> 4] = {CMP_NE, false},
	[ISA_JGT >> 4] = {CMP_ULT, true},   [ISA_JGE >> 4] = {CMP_ULE, true},
	[ISA_JLT >> 4] = {CMP_ULT, false},  [ISA_JLE >> 4] = {CMP_ULE, false},
	[ISA_JSGT >> 4] = {CMP_SLT, true},  [ISA_JSGE >> 4] = {CMP_SLE, true},
	[ISA_JSLT >> 4] = {CMP_SLT, false}, [ISA_JSLE >> 4] = {CMP_SLE, false},
	[ISA_JSET >> 4] = {CMP_SET, false},
};

static struct cond negate(struct cond c)
{
	switch (c.cmp) {
	case CMP_EQ:
		return (struct cond){CMP_NE, c.swap};
	case CMP_NE:
		return (struct cond){CMP_EQ, c.swap};
	case CMP_ULT:
		return (struct cond){CMP_ULE, !c.swap};
	case CMP_ULE:
		return (struct cond){CMP_ULT, !c.swap};
	case CMP_SLT:
		return (struct cond){CMP_SLE, !c.swap};
	case CMP_SLE:
		return (struct cond){CMP_SLT, !c.swap};
	case CMP_SET:
		return (struct cond){CMP_NSET, c.swap};
	default:
		return (struct cond){CMP_SET, c.swap};
	}
}

static void widen_range(struct vstate *st, uint8_t type, uint32_t id, int64_t range)
{
	if (range <= 0)
		return;
	if (range > V_MAX_VAR_OFF)
		range = V_MAX_VAR_OFF;
	FOR_EACH_REG(st, r, {
		if (r->type == type && r->id == id && r->range < range)
			r->range = (uint32_t)range;
	})
}

/* The memory is at least umin bytes long: pointers into it at offset 0 know as much. */
static void len_known(struct vstate *st, const struct vreg *len)
{
	widen_range(st, V_PKT, 0,
		    len->s.umin > V_MAX_VAR_OFF ? V_MAX_VAR_OFF : (int64_t)len->s.umin);
}

/* Whether e ends the region p points into: pkt_end for pkt, the packet start for pkt_meta. */
static bool ends(const struct vreg *p, const struct vreg *e)
{
	if (p->type == V_PKT)
		return e->type == V_PKT_END;
	return p->type == V_PKT_META && e->type == V_PKT && !e->off && !e->id &&
	       scalar_is_const(&e->s) && !e->s.var.value;
}

/* On a branch where (l cmp r) holds, what it proves about packet ranges. */
static void pkt_learn(struct vstate *st, struct cond c, const struct vreg *dst,
		      const struct vreg *src)
{
	const struct vreg *l = c.swap ? src : dst, *r = c.swap ? dst : src;

	if ((c.cmp != CMP_ULT && c.cmp != CMP_ULE) || !ends(l, r) || l->off < 0)
		return;
	widen_range(st, l->type, l->id, (int64_t)l->off + (c.cmp == CMP_ULT));
}

static bool is_or_null(const struct vreg *r)
{
	return r->type == V_MAP_VALUE_OR_NULL || r->type == V_RINGBUF_MEM_OR_NULL;
}

static bool is_zero(const struct vreg *r)
{
	return r->type == V_SCALAR && scalar_is_const(&r->s) && !r->s.var.value;
}

static void mark_null_checked(struct vstate *st, uint32_t id, bool is_null)
{
	uint32_t ref = 0;

	FOR_EACH_REG(st, r, {
		if (r->id == id && is_or_null(r)) {
			if (is_null) {
				ref = r->ref ? r->ref : ref;
				reg_mark_const(r, 0);
			} else {
				r->type = r->type == V_MAP_VALUE_OR_NULL ? V_MAP_VALUE
									 : V_RINGBUF_MEM;
				r->id = 0;
			}
		}
	})
	for (unsigned i = 0; ref && i < st->nrefs; i++) {
		if (st->refs[i].id == ref) {
			st->refs[i] = st->refs[--st->nrefs];
			break;
		}
	}
}

/*
 * Narrows the registers of st for the branch where c holds. Returns false
 * when it cannot hold.
 */
static bool take(struct venv *env, struct vstate *st, const struct isa_insn *in, struct cond c,
		 const struct vreg *kreg)
{
	struct vreg *regs = cur_regs(st), *d = &regs[in->dst];
	struct vreg kcopy, *s = kreg ? (kcopy = *kreg, &kcopy) : &regs[in->src];
	bool is64 = isa_class(in->opcode) == ISA_JMP, ok;

	if (reg_is_pointer(d) || reg_is_pointer(s)) {
		const struct vreg *p = is_or_null(d) && is_zero(s)   ? d
				       : is_or_null(s) && is_zero(d) ? s
								     : NULL;

		if (is64 && p && (c.cmp == CMP_EQ || c.cmp == CMP_NE))
			mark_null_checked(st, p->id, c.cmp == CMP_EQ);
		else if (is64)
			pkt_learn(st, c, d, s);
		return true;
	}
	/*
	 * A register compared with itself learns nothing: narrowing x < x as
	 * if the sides were two values would shrink x by one on each turn of
	 * a loop jumping on it, a new state each time, where the kernel sees
	 * the same state come back and reports an infinite loop at once.
	 */
	if (s == d)
		return true;
	ok = c.swap ? scalar_refine(&s->s, &d->s, c.cmp, is64)
		    : scalar_refine(&d->s, &s->s, c.cmp, is64);
	if (!ok)
		return false;
	if (env->raw && d->is_len)
		len_known(st, d);
	if (env->raw && s->is_len && s != &kcopy)
		len_known(st, s);
	return true;
}

/*
 * Outcome known in advance: 1 taken, 0 not taken, -1 either. Comparisons
 * involving a pointer are never decided, as in the kernel, which explores
 * both sides even of "fp != 0".
 */
static int outcome(const struct isa_insn *in, struct cond c, const struct vreg *d,
		   const struct vreg *s)
{
	bool is64 = isa_class(in->opcode) == ISA_JMP;

	if (reg_is_pointer(d) || reg_is_pointer(s))
		return -1;
	return c.swap ? scalar_cmp_known(&s->s, &d->s, c.cmp, is64)
		      : scalar_cmp_known(&d->s, &s->s, c.cmp, is64);
}

int jmp_cond(struct venv *env, struct vstate *st, struct vstate **taken, bool *fall_dead)
{
	const struct isa_insn *in = &env->insns[st->pc];
	struct vreg *regs = cur_regs(st), kreg;
	bool x = isa_srcbit(in->opcode) == ISA_X;
	struct cond c = conds[isa_op(in->opcode) >> 4];
	const struct vreg *s;
	int known;

	*taken = NULL;
	*fall_dead = false;
	if (regs[in->dst].type == V_NOT_INIT)
		return v_err(env, -EACCES, st->pc, "R%u !read_ok", in->dst);
	if (x && regs[in->src].type == V_NOT_INIT)
		return v_err(env, -EACCES, st->pc, "R%u !read_ok", in->src);
	reg_mark_const(&kreg, isa_class(in->opcode) == ISA_JMP ? (uint64_t)(int64_t)in->imm
							       : (uint32_t)in->imm);
	s = x ? &regs[in->src] : &kreg;
	known = outcome(in, c, &regs[in->dst], s);
	if (known == 1) {
		/* only the jump happens: st itself becomes the taken branch, no copy */
		if (!take(env, st, in, c, x ? NULL : &kreg))
			*fall_dead = true;
		return *fall_dead ? 0 : 1;
	}
	if (known != 0) {
		*taken = state_copy(st);
		if (!*taken)
			return v_err(env, -ENOMEM, st->pc, "out of memory");
		if (!take(env, *taken, in, c, x ? NULL : &kreg)) {
			state_free(*taken);
			*taken = NULL;
		}
	}
	if (!take(env, st, in, negate(c), x ? NULL : &kreg))
		*fall_dead = true;
	return 0;
}
