// SPDX-License-Identifier: MIT
/*
 * Helper calls: each helper the verifier admits has a prototype saying what
 * each argument register must hold and what r0 holds on return. A call
 * checks the arguments, then leaves r1-r5 unreadable (the callee clobbers
 * them) and r0 as the prototype says. Helpers without a prototype are
 * refused. Map and memory arguments (map pointer, pointer to initialized
 * stack of the key size, constant size, ...) and map-value returns are new
 * argument and return kinds here, with their checks beside check_arg.
 */
#include <errno.h>

#include "state.h"

enum arg_kind {
	ARG_NONE,
	ARG_ANYTHING, /* any initialized value */
};

enum ret_kind {
	RET_SCALAR, /* any 64-bit value */
	RET_U32,    /* a value below 2^32 */
};

struct helper_proto {
	uint32_t id;
	const char *name;
	enum ret_kind ret;
	uint8_t args[5]; /* enum arg_kind */
};

/* IDs as in linux/bpf.h; helpers every program type may call. */
static const struct helper_proto protos[] = {
	{5, "bpf_ktime_get_ns", RET_SCALAR, {ARG_NONE}},
	{7, "bpf_get_prandom_u32", RET_U32, {ARG_NONE}},
	{8, "bpf_get_smp_processor_id", RET_U32, {ARG_NONE}},
};

static const struct helper_proto *find_proto(uint32_t id)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].id == id)
			return &protos[i];
	return NULL;
}

static int check_arg(struct venv *env, size_t pc, const struct helper_proto *p, unsigned i,
		     const struct vreg *r)
{
	if (p->args[i] == ARG_ANYTHING && r->type == V_NOT_INIT)
		return v_err(env, -EACCES, pc, "R%u !read_ok (argument %u of %s)", i + 1, i + 1,
			     p->name);
	return 0;
}

int helper_call(struct venv *env, struct vstate *st)
{
	const struct isa_insn *in = &env->insns[st->pc];
	const struct helper_proto *p = find_proto((uint32_t)in->imm);
	struct vreg *regs = cur_regs(st);
	int ret;

	if (!p)
		return v_err(env, -EINVAL, st->pc, "invalid func unknown#%d", in->imm);
	for (unsigned i = 0; i < 5; i++) {
		ret = check_arg(env, st->pc, p, i, &regs[i + 1]);
		if (ret)
			return ret;
	}
	for (unsigned r = 1; r <= 5; r++)
		reg_mark_not_init(&regs[r]);
	reg_mark_unknown(&regs[0]);
	if (p->ret == RET_U32)
		regs[0].s = scalar_bytes(4);
	return 0;
}
