// SPDX-License-Identifier: MIT
/*
 * ALU and ALU64 instructions on the abstract state.
 *
 * Scalars go through scalar_alu. Pointers follow the kernel's rules for a
 * privileged loader: a 64-bit add or subtract of a scalar moves a pointer
 * (a constant into its fixed offset, anything else into its variable part,
 * both kept below 2^29 in magnitude so no address wraps); the difference of
 * two pointers, and any other operation a privileged loader may do on a
 * pointer (a 32-bit subtract, a move of its low half, a byte swap, a
 * negation), gives an unknown scalar; everything else is refused. Map
 * pointers, functions, packet ends and pointers not yet null-checked do not
 * move at all. A packet
 * pointer that gains a variable part gets a new identity and no proven
 * range, since comparisons made before no longer describe it.
 *
 * Raw mode: the run's memory pointer (r1 on entry, offset 0) plus a scalar
 * still equal to the memory length (r2 on entry, moved or spilled but not
 * changed) is the end of the memory, the raw counterpart of pkt_end.
 */
#include <errno.h>

#include "state.h"

static const char *const op_names[16] = {
	"+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "end",
};

static const enum scalar_op scalar_ops[16] = {
	SC_ADD, SC_SUB, SC_MUL, SC_DIV, SC_OR,	SC_AND,	 SC_LSH,
	SC_RSH, SC_NEG, SC_MOD, SC_XOR, SC_MOV, SC_ARSH,
};

static int reg_readable(struct venv *env, size_t pc, const struct vreg *regs, unsigned r)
{
	if (regs[r].type == V_NOT_INIT)
		return v_err(env, -EACCES, pc, "R%u !read_ok", r);
	return 0;
}

static bool is_pkt(uint8_t t)
{
	return t == V_PKT || t == V_PKT_META;
}

/* ptr (+|-) scalar into *res; the rules of the file comment. */
static int ptr_arith(struct venv *env, size_t pc, unsigned dst, const struct vreg *ptr,
		     const struct vreg *sc, bool sub, struct vreg *res)
{
	const char *const *names = v_type_names;
	int64_t c, off;

	switch (ptr->type) {
	case V_PKT_END:
	case V_MAP_PTR:
	case V_FUNC:
		return v_err(env, -EACCES, pc, "R%u pointer arithmetic on %s prohibited", dst,
			     names[ptr->type]);
	case V_MAP_VALUE_OR_NULL:
	case V_RINGBUF_MEM_OR_NULL:
		return v_err(env, -EACCES, pc,
			     "R%u pointer arithmetic on %s prohibited, null-check it first", dst,
			     names[ptr->type]);
	default:
		break;
	}
	*res = *ptr;
	if (env->raw && !sub && sc->is_len && ptr->type == V_PKT && !ptr->off && !ptr->id &&
	    scalar_is_const(&ptr->s) && !ptr->s.var.value) {
		*res = (struct vreg){.type = V_PKT_END, .s = scalar_const(0)};
		return 0;
	}
	if (scalar_is_const(&sc->s)) {
		c = (int64_t)sc->s.var.value;
		if (c <= -V_MAX_VAR_OFF || c >= V_MAX_VAR_OFF)
			return v_err(env, -EACCES, pc,
				     "math between %s pointer and %lld is not allowed",
				     names[ptr->type], (long long)c);
		off = sub ? (int64_t)ptr->off - c : (int64_t)ptr->off + c;
		if (off <= -V_MAX_VAR_OFF || off >= V_MAX_VAR_OFF)
			return v_err(env, -EACCES, pc, "R%u %s pointer offset %lld is not allowed",
				     dst, names[ptr->type], (long long)off);
		res->off = (int32_t)off;
		return 0;
	}
	if (sc->s.smin <= -V_MAX_VAR_OFF || sc->s.smax >= V_MAX_VAR_OFF)
		return v_err(env, -EACCES, pc,
			     "R%u math between %s pointer and register with unbounded value "
			     "[%lld, %lld] is not allowed",
			     dst, names[ptr->type], (long long)sc->s.smin, (long long)sc->s.smax);
	scalar_alu(&res->s, &sc->s, sub ? SC_SUB : SC_ADD, true, 0);
	if (res->s.smin <= -V_MAX_VAR_OFF || res->s.smax >= V_MAX_VAR_OFF)
		return v_err(env, -EACCES, pc, "R%u variable %s pointer offset out of bounds", dst,
			     names[ptr->type]);
	if (is_pkt(ptr->type)) {
		res->id = ++env->next_id;
		res->range = 0;
	}
	return 0;
}

static int alu_pointer(struct venv *env, size_t pc, const struct isa_insn *in, struct vreg *d,
		       const struct vreg *s)
{
	unsigned op = isa_op(in->opcode);
	bool alu64 = isa_class(in->opcode) == ISA_ALU64;
	struct vreg res;
	int ret;

	if (!alu64) {
		if (op != ISA_SUB)
			return v_err(env, -EACCES, pc, "R%u 32-bit pointer arithmetic prohibited",
				     in->dst);
		reg_mark_unknown(d);
		d->s = scalar_bytes(4);
		return 0;
	}
	if (reg_is_pointer(d) && reg_is_pointer(s)) {
		if (op != ISA_SUB)
			return v_err(env, -EACCES, pc, "R%u pointer %s pointer prohibited", in->dst,
				     op_names[op >> 4]);
		reg_mark_unknown(d);
		return 0;
	}
	if (op != ISA_ADD && op != ISA_SUB)
		return v_err(env, -EACCES, pc, "R%u pointer arithmetic with %s operator prohibited",
			     in->dst, op_names[op >> 4]);
	if (!reg_is_pointer(d)) {
		if (op == ISA_SUB)
			return v_err(env, -EACCES, pc, "R%u tried to subtract pointer from scalar",
				     in->dst);
		ret = ptr_arith(env, pc, in->dst, s, d, false, &res);
	} else {
		ret = ptr_arith(env, pc, in->dst, d, s, op == ISA_SUB, &res);
	}
	if (!ret)
		*d = res;
	return ret;
}

int alu_check(struct venv *env, struct vstate *st)
{
	const struct isa_insn *in = &env->insns[st->pc];
	struct vreg *regs = cur_regs(st), *d = &regs[in->dst], ksrc;
	const struct vreg *s;
	unsigned op = isa_op(in->opcode);
	bool alu64 = isa_class(in->opcode) == ISA_ALU64, x = isa_srcbit(in->opcode) == ISA_X;
	int ret;

	if (x && op != ISA_END && op != ISA_NEG) {
		ret = reg_readable(env, st->pc, regs, in->src);
		if (ret)
			return ret;
		s = &regs[in->src];
	} else {
		reg_mark_const(&ksrc, alu64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm);
		s = &ksrc;
	}
	if (!x && (op == ISA_LSH || op == ISA_RSH || op == ISA_ARSH) &&
	    (in->imm < 0 || in->imm >= (alu64 ? 64 : 32)))
		return v_err(env, -EINVAL, st->pc, "invalid shift %d", in->imm);
	if (op != ISA_MOV) {
		ret = reg_readable(env, st->pc, regs, in->dst);
		if (ret)
			return ret;
	}

	if (op == ISA_MOV) {
		if (alu64 && !in->off) {
			*d = *s;
		} else if (reg_is_pointer(s)) {
			reg_mark_unknown(d); /* a part of a pointer: the loader may see it */
			if (!alu64)
				d->s = scalar_bytes(4);
		} else {
			struct scalar v = s->s;

			scalar_alu(&v, &s->s, SC_MOV, alu64, in->off);
			reg_mark_unknown(d);
			d->s = v;
		}
		return 0;
	}
	if (op == ISA_END || op == ISA_NEG) {
		if (reg_is_pointer(d)) {
			reg_mark_unknown(d);
			return 0;
		}
		d->is_len = false;
		if (op == ISA_NEG)
			scalar_alu(&d->s, &d->s, SC_NEG, alu64, 0);
		else
			scalar_end(&d->s, alu64 || x, (unsigned)in->imm);
		return 0;
	}
	if (reg_is_pointer(d) || reg_is_pointer(s))
		return alu_pointer(env, st->pc, in, d, s);
	d->is_len = false;
	scalar_alu(&d->s, &s->s, scalar_ops[op >> 4], alu64, in->off);
	return 0;
}
