// SPDX-License-Identifier: MIT
/*
 * Loads, stores and atomics: the base register must be a pointer whose
 * region the access stays inside for every value the abstract state allows.
 *
 * Stack: within the 512 bytes of the frame pointed into, aligned to the
 * access size (spill tracking needs it, as in the kernel). An aligned
 * 8-byte store spills the register, pointer or scalar, and an aligned
 * 8-byte load of the slot fills it back; any other store leaves its bytes
 * "written, value unknown" and breaks a spill it overlaps. A privileged
 * loader may read stack never written: the value is unknown.
 * Context: only the fields of the program type (ctx.c), through the
 * unmodified context pointer. Packet (and raw memory): from base + variable
 * part, [off, off + size) inside the range a comparison with the end proved,
 * and never before the start. Sized regions (map value, map key, ring
 * buffer memory): [off, off + size) inside [0, region size) for every value
 * of the variable part, whose minimum must not be negative; read-only ones
 * (a BPF_F_RDONLY_PROG map, a callback's key) are never written. Helpers
 * reach memory through the same checks (mem_helper_access).
 */
#include <errno.h>

#include "state.h"

static const char *type_name(uint8_t t)
{
	return v_type_names[t];
}

/* What a load of size bytes gives when nothing more is known. */
static void loaded_unknown(struct vreg *r, unsigned size, bool sx)
{
	r->type = V_SCALAR;
	r->is_len = false;
	r->s = sx ? scalar_sext_any(size * 8) : scalar_bytes(size);
}

static void note_depth(struct venv *env, const struct vframe *f, int lowest)
{
	struct vsubprog *sp = &env->subprogs[f->subprog];

	if ((uint32_t)-lowest > sp->stack_depth)
		sp->stack_depth = (uint32_t)-lowest;
}

/* A spill about to be partly overwritten: its bytes stay known if it was a constant. */
static void spill_to_bytes(struct vslot *s)
{
	uint8_t v;

	if (s->kind[0] != SLOT_SPILL)
		return;
	for (unsigned b = 0; b < 8; b++) {
		bool known = slot_byte_known(s, b, &v);

		s->kind[b] = known ? SLOT_CONST : SLOT_MISC;
		s->val[b] = known ? v : 0;
	}
}

static unsigned byte_index(int o)
{
	return (unsigned)(o % 8 + 8) % 8;
}

/*
 * Bytes [lo, hi) of frame f now hold the little-endian bytes of *value, or
 * unknown data when value is NULL; spills they touch are broken.
 */
static int stack_bytes(struct venv *env, size_t pc, struct vframe *f, int lo, int hi,
		       const uint64_t *value)
{
	for (int o = lo; o < hi; o++) {
		struct vslot *s = frame_slot(f, o);
		unsigned b = byte_index(o);

		if (!s)
			return v_err(env, -ENOMEM, pc, "out of memory");
		spill_to_bytes(s);
		s->kind[b] = value ? SLOT_CONST : SLOT_MISC;
		s->val[b] = value ? (uint8_t)(*value >> (8 * (o - lo))) : 0;
	}
	return 0;
}

static int stack_read(struct venv *env, size_t pc, struct vframe *f, int o, unsigned size, bool sx,
		      struct vreg *dst)
{
	struct vslot *s = frame_slot(f, o);
	uint64_t v = 0;
	uint8_t byte;

	if (!s)
		return v_err(env, -ENOMEM, pc, "out of memory");
	if (size == 8 && s->kind[0] == SLOT_SPILL) {
		*dst = s->spill;
		return 0;
	}
	/* an aligned access stays inside one slot */
	for (unsigned i = 0; i < size; i++) {
		if (!slot_byte_known(s, byte_index(o) + i, &byte)) {
			loaded_unknown(dst, size, sx);
			return 0;
		}
		v |= (uint64_t)byte << (8 * i);
	}
	if (sx)
		v = (uint64_t)((int64_t)(v << (64 - 8 * size)) >> (64 - 8 * size));
	reg_mark_const(dst, v);
	return 0;
}

/* fidx: the index of frame f in the call chain. */
static int stack_write(struct venv *env, size_t pc, struct vframe *f, unsigned fidx, int o,
		       unsigned size, const struct vreg *val)
{
	struct vslot *s;

	if (val && val->type == V_STACK && val->frameno > fidx)
		return v_err(env, -EACCES, pc,
			     "cannot spill pointers to stack into stack frame of the caller");
	if (size != 8 || !val) {
		if (val && val->type == V_SCALAR && scalar_is_const(&val->s))
			return stack_bytes(env, pc, f, o, o + (int)size, &val->s.var.value);
		return stack_bytes(env, pc, f, o, o + (int)size, NULL);
	}
	s = frame_slot(f, o);
	if (!s)
		return v_err(env, -ENOMEM, pc, "out of memory");
	for (int b = 0; b < 8; b++)
		s->kind[b] = SLOT_SPILL;
	s->spill = *val;
	return 0;
}

struct access {
	size_t pc;
	unsigned regno; /* base register */
	int off;	/* instruction offset */
	unsigned size;
	bool write, sx, atomic;
	const struct vreg *val; /* the register stored, NULL when unknown or none */
	struct vreg *dst;	/* where a load's value goes */
};

static int check_stack(struct venv *env, struct vstate *st, const struct vreg *base,
		       const struct access *a)
{
	struct vframe *f = base->frameno <= st->curframe ? st->frames[base->frameno] : NULL;
	int64_t lo = base->off + a->off + base->s.smin, hi = base->off + a->off + base->s.smax;
	char buf[64];

	if (!f)
		return v_err(env, -EACCES, a->pc, "R%u points into a frame that returned",
			     a->regno);
	if (lo < -ISA_STACK_SIZE || hi + a->size > 0)
		return v_err(env, -EACCES, a->pc, "invalid %s stack R%u off=%lld size=%u",
			     a->write ? "write to" : "read from", a->regno, (long long)lo, a->size);
	if (!scalar_is_const(&base->s)) {
		if (a->atomic)
			return v_err(env, -EACCES, a->pc,
				     "variable-offset atomic access to stack R%u var_off=%s",
				     a->regno, (tnum_fmt(buf, sizeof(buf), base->s.var), buf));
		note_depth(env, f, (int)lo);
		if (a->write)
			return stack_bytes(env, a->pc, f, (int)lo, (int)hi + (int)a->size, NULL);
		loaded_unknown(a->dst, a->size, a->sx);
		return 0;
	}
	if (lo % (int)a->size)
		return v_err(env, -EACCES, a->pc, "misaligned stack access off %lld size %u",
			     (long long)lo, a->size);
	note_depth(env, f, (int)lo);
	if (a->atomic) {
		struct vslot *s = frame_slot(f, (int)lo);

		if (!s)
			return v_err(env, -ENOMEM, a->pc, "out of memory");
		if (s->kind[0] == SLOT_SPILL && s->spill.type != V_SCALAR)
			return v_err(env, -EACCES, a->pc,
				     "atomic operation on a spilled pointer at stack off %lld",
				     (long long)lo);
		if (a->dst)
			loaded_unknown(a->dst, a->size, false);
		return stack_bytes(env, a->pc, f, (int)lo, (int)lo + (int)a->size, NULL);
	}
	if (a->write)
		return stack_write(env, a->pc, f, base->frameno, (int)lo, a->size, a->val);
	return stack_read(env, a->pc, f, (int)lo, a->size, a->sx, a->dst);
}

static bool pkt_writable(const struct venv *env)
{
	return env->raw || env->opts.type == UEBPF_PROG_XDP ||
	       env->opts.type == UEBPF_PROG_SCHED_CLS;
}

static int check_pkt(struct venv *env, const struct vreg *base, const struct access *a)
{
	int64_t off = (int64_t)base->off + a->off;
	char buf[96];

	if (a->atomic)
		return v_err(env, -EACCES, a->pc, "BPF_ATOMIC stores into R%u %s is not allowed",
			     a->regno, type_name(base->type));
	if (a->write && !pkt_writable(env))
		return v_err(env, -EACCES, a->pc, "cannot write into packet");
	if (base->s.smin + off < 0 || off + a->size > base->range)
		return v_err(env, -EACCES, a->pc,
			     "invalid access to packet, off=%lld size=%u, %s: outside of the "
			     "range a comparison with the end proved",
			     (long long)off, a->size, v_reg_str(base, buf, sizeof(buf)));
	if (!a->write)
		loaded_unknown(a->dst, a->size, a->sx);
	return 0;
}

static const char *region_name(uint8_t t)
{
	return t == V_MAP_VALUE ? "map value" : t == V_MAP_KEY ? "map key" : "mem";
}

/* [off, off + size) from a sized region's pointer, for every value of its variable part. */
static int region_bounds(struct venv *env, size_t pc, unsigned regno, const struct vreg *base,
			 int64_t off, uint64_t size, bool write)
{
	const char *what = region_name(base->type);

	if (base->s.smin < 0 && !scalar_is_const(&base->s))
		return v_err(env, -EACCES, pc,
			     "R%u min value is negative, either use unsigned index or do a if "
			     "(index >=0) check.",
			     regno);
	if (base->s.umax >= V_MAX_VAR_OFF && !scalar_is_const(&base->s))
		return v_err(env, -EACCES, pc,
			     "R%u unbounded memory access, make sure to bounds check any such "
			     "access",
			     regno);
	if (off + base->s.smin < 0 || off + base->s.smax + (int64_t)size > (int64_t)base->range)
		return v_err(env, -EACCES, pc,
			     "invalid access to %s, %s_size=%u off=%lld size=%llu", what,
			     base->type == V_MAP_KEY ? "key" : "value", base->range,
			     (long long)(off + base->s.smin), (unsigned long long)size);
	if (write && base->rdonly)
		return v_err(env, -EACCES, pc,
			     "write into %s forbidden, value_size=%u off=%lld "
			     "size=%llu",
			     base->type == V_MAP_KEY ? "map key" : "map", base->range,
			     (long long)off, (unsigned long long)size);
	return 0;
}

static int check_region(struct venv *env, const struct vreg *base, const struct access *a)
{
	int ret = region_bounds(env, a->pc, a->regno, base, (int64_t)base->off + a->off, a->size,
				a->write);

	if (!ret && a->dst)
		loaded_unknown(a->dst, a->size, a->sx);
	return ret;
}

int mem_helper_access(struct venv *env, struct vstate *st, unsigned regno, const struct vreg *ptr,
		      uint64_t size_max, bool write)
{
	size_t pc = st->pc;
	int64_t lo, hi;
	struct vframe *f;
	char buf[96];

	switch (ptr->type) {
	case V_STACK:
		f = ptr->frameno <= st->curframe ? st->frames[ptr->frameno] : NULL;
		lo = ptr->off + ptr->s.smin;
		hi = ptr->off + ptr->s.smax + (int64_t)size_max;
		if (!f)
			return v_err(env, -EACCES, pc, "R%u points into a frame that returned",
				     regno);
		if (lo < -ISA_STACK_SIZE || hi > 0 || size_max > ISA_STACK_SIZE)
			return v_err(env, -EACCES, pc,
				     "invalid indirect %s of stack R%u off %lld+%llu size %llu",
				     write ? "access" : "read", regno, (long long)lo,
				     (unsigned long long)0, (unsigned long long)size_max);
		note_depth(env, f, (int)lo);
		return write ? stack_bytes(env, pc, f, (int)lo, (int)hi, NULL) : 0;
	case V_PKT:
	case V_PKT_META:
		if (write && !pkt_writable(env))
			return v_err(env, -EACCES, pc, "cannot write into packet");
		if (ptr->s.smin + ptr->off < 0 || ptr->off + (int64_t)size_max > ptr->range)
			return v_err(env, -EACCES, pc,
				     "invalid access to packet, off=%d size=%llu, %s: outside of "
				     "the range a comparison with the end proved",
				     ptr->off, (unsigned long long)size_max,
				     v_reg_str(ptr, buf, sizeof(buf)));
		return 0;
	case V_MAP_VALUE:
	case V_MAP_KEY:
	case V_RINGBUF_MEM:
		return region_bounds(env, pc, regno, ptr, ptr->off, size_max, write);
	default:
		return v_err(env, -EACCES, pc, "R%u type=%s expected=fp, pkt, map_value, mem",
			     regno, type_name(ptr->type));
	}
}

void regs_invalidate_ref(struct vstate *st, uint32_t ref)
{
	FOR_EACH_REG(st, r, {
		if (r->ref == ref && r->type != V_SCALAR)
			reg_mark_unknown(r);
	})
}

void regs_forget_pkt(struct vstate *st)
{
	FOR_EACH_REG(st, r, {
		if (r->type == V_PKT || r->type == V_PKT_META || r->type == V_PKT_END)
			reg_mark_unknown(r);
	})
}

static int check_ctx(struct venv *env, const struct vreg *base, const struct access *a)
{
	if (a->atomic)
		return v_err(env, -EACCES, a->pc, "BPF_ATOMIC stores into R%u ctx are not allowed",
			     a->regno);
	if (base->off || !scalar_is_const(&base->s) || base->s.var.value)
		return v_err(env, -EACCES, a->pc, "dereference of modified ctx ptr R%u disallowed",
			     a->regno);
	if (a->sx)
		return v_err(env, -EACCES, a->pc, "sign-extending load from ctx R%u refused",
			     a->regno);
	return ctx_access(env, a->pc, a->off, a->size, a->write, a->dst);
}

static int reg_readable(struct venv *env, size_t pc, const struct vreg *regs, unsigned r)
{
	if (regs[r].type == V_NOT_INIT)
		return v_err(env, -EACCES, pc, "R%u !read_ok", r);
	return 0;
}

int mem_check(struct venv *env, struct vstate *st)
{
	const struct isa_insn *in = &env->insns[st->pc];
	struct vreg *regs = cur_regs(st), loaded, imm, base;
	unsigned cls = isa_class(in->opcode), kind;
	struct access a = {.pc = st->pc, .off = in->off, .size = isa_size_bytes(in->opcode)};
	int ret;

	reg_mark_unknown(&loaded); /* every field defined: the checks below set type and value */
	a.regno = cls == ISA_LDX ? in->src : in->dst;
	ret = reg_readable(env, st->pc, regs, a.regno);
	if (ret)
		return ret;
	base = regs[a.regno];
	a.write = cls != ISA_LDX;
	a.sx = cls == ISA_LDX && isa_mode(in->opcode) == ISA_MEMSX;
	a.atomic = cls == ISA_STX && isa_mode(in->opcode) == ISA_ATOMIC;
	if (cls == ISA_STX) {
		ret = reg_readable(env, st->pc, regs, in->src);
		if (!ret && a.atomic && in->imm == ISA_CMPXCHG)
			ret = reg_readable(env, st->pc, regs, 0);
		if (ret)
			return ret;
		a.val = a.atomic ? NULL : &regs[in->src];
		if (a.atomic && (in->imm & ISA_FETCH))
			a.dst = &loaded;
	} else if (cls == ISA_ST) {
		reg_mark_const(&imm, (uint64_t)(int64_t)in->imm);
		a.val = &imm;
	} else {
		a.dst = &loaded;
	}

	switch (base.type) {
	case V_STACK:
		ret = check_stack(env, st, &base, &a);
		kind = VERIFIER_MEM_STACK;
		break;
	case V_CTX:
		ret = check_ctx(env, &base, &a);
		kind = VERIFIER_MEM_CTX;
		break;
	case V_PKT:
	case V_PKT_META:
		ret = check_pkt(env, &base, &a);
		kind = VERIFIER_MEM_PKT;
		break;
	case V_MAP_VALUE:
	case V_MAP_KEY:
	case V_RINGBUF_MEM:
		ret = check_region(env, &base, &a);
		kind = VERIFIER_MEM_MAP;
		break;
	default:
		return v_err(env, -EACCES, st->pc, "R%u invalid mem access '%s'", a.regno,
			     type_name(base.type));
	}
	if (ret)
		return ret;
	env->proven[st->pc] |= (uint8_t)kind;
	if (a.dst) {
		if (!a.atomic)
			regs[in->dst] = loaded;
		else if (in->imm == ISA_CMPXCHG)
			regs[0] = loaded;
		else
			regs[in->src] = loaded;
	}
	return 0;
}
