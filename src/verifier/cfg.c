// SPDX-License-Identifier: MIT
/*
 * Control-flow checks before any path is interpreted: every jump and local
 * call lands on an instruction start inside the program (never on the
 * second slot of lddw); the program splits into subprograms at local call
 * targets, a jump never leaves its subprogram, and each ends in exit or ja;
 * every instruction is reachable from the entry through jumps, fall-through
 * and calls (a function whose address an lddw takes, a callback, is a
 * subprogram reached from there). Loops are allowed (the kernel's bounded
 * loops): the path walk bounds them.
 *
 * Also computed here, for pruning: prune points (as the kernel's:
 * conditional jumps, jump targets, subprogram entries and the instruction
 * after each call) and static liveness, the registers and
 * stack slots of its frame each instruction may read before they are
 * written again within its subprogram. A call reads r1-r5 (a helper: its
 * arguments) and writes r0-r5; exit reads r0. And the live registers and slots whose scalar value
 * may matter (precise_before): pruning compares only those scalars' bounds.
 *
 * Stack slots are followed only through accesses based on r10 itself, whose
 * slot the instruction names: any other load (a copy of r10 may be its
 * base), any call (a helper or function may be handed a pointer to the
 * stack) and atomics read every slot; only an 8-byte store at an aligned
 * r10 offset overwrites one. The frame dies at exit.
 */
#include <errno.h>
#include <stdlib.h>

#include "state.h"

#define R1_R5 0x3e
#define R0_R5 0x3f
#define ALL_SLOTS UINT64_MAX

static bool is_lddw(const struct isa_insn *in)
{
	return in->opcode == ISA_OP_LDDW;
}

static bool is_local_call(const struct isa_insn *in)
{
	return in->opcode == ISA_OP_CALL && in->src == ISA_CALL_LOCAL;
}

/* lddw of BPF_PSEUDO_FUNC: the address of a function, for a helper to call back. */
static bool is_func_ref(const struct isa_insn *in)
{
	return in->opcode == ISA_OP_LDDW && in->src == ISA_PSEUDO_FUNC;
}

/* Whether the instruction jumps or calls locally: only those have a target. */
static bool has_target(const struct isa_insn *in)
{
	unsigned op = isa_op(in->opcode);

	if (!isa_is_jmp(in->opcode) || op == ISA_EXIT || in->opcode == ISA_OP_CALLX)
		return false;
	return op != ISA_CALL || is_local_call(in);
}

/* Target of a jump or local call at pc (has_target), possibly outside the program. */
static long jump_target(const struct isa_insn *in, size_t pc)
{
	unsigned op = isa_op(in->opcode);

	if (op == ISA_CALL)
		return (long)pc + 1 + in->imm;
	if (op == ISA_JA && isa_class(in->opcode) == ISA_JMP32)
		return (long)pc + 1 + in->imm;
	return (long)pc + 1 + in->off;
}

static bool is_cond_jump(const struct isa_insn *in)
{
	unsigned op = isa_op(in->opcode);

	return isa_is_jmp(in->opcode) && op != ISA_JA && op != ISA_CALL && op != ISA_EXIT;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int find_subprogs(struct venv *env, const bool *second)
{
	size_t starts[V_MAX_SUBPROGS], n = 1;

	starts[0] = 0;
	for (size_t pc = 0; pc < env->n; pc++) {
		long t = jump_target(&env->insns[pc], pc);

		if (!second[pc] && is_func_ref(&env->insns[pc]))
			t = (long)pc + 1 + env->insns[pc].imm;
		else if (second[pc] || !has_target(&env->insns[pc]))
			continue;
		if (t < 0 || t >= (long)env->n)
			return v_err(env, -EINVAL, pc, "jump out of range from insn %zu to %ld", pc,
				     t);
		if (second[t])
			return v_err(env, -EINVAL, pc,
				     "jump from insn %zu into the middle of ldimm64 insn %ld", pc,
				     t - 1);
		if (!is_local_call(&env->insns[pc]) && !is_func_ref(&env->insns[pc]))
			continue;
		for (size_t i = 0; i < n; i++)
			if (starts[i] == (size_t)t)
				goto known;
		if (n == V_MAX_SUBPROGS)
			return v_err(env, -E2BIG, pc, "too many subprograms (over %d)",
				     V_MAX_SUBPROGS);
		starts[n++] = (size_t)t;
	known:;
	}
	qsort(starts, n, sizeof(starts[0]), cmp_size);
	env->nsubprogs = n;
	for (size_t i = 0; i < n; i++) {
		env->subprogs[i].start = starts[i];
		env->subprogs[i].end = i + 1 < n ? starts[i + 1] : env->n;
		for (size_t pc = starts[i]; pc < env->subprogs[i].end; pc++)
			env->subprog_of[pc] = (uint16_t)i;
	}
	for (size_t pc = 0; pc < env->n; pc++)
		if (!second[pc] && is_func_ref(&env->insns[pc]))
			env->subprogs[env->subprog_of[pc + 1 + env->insns[pc].imm]].is_cb = true;
	return 0;
}

static int check_subprog_bounds(struct venv *env, const bool *second)
{
	for (size_t pc = 0; pc < env->n; pc++) {
		const struct isa_insn *in = &env->insns[pc];
		const struct vsubprog *sp = &env->subprogs[env->subprog_of[pc]];
		long t = jump_target(in, pc);

		if (second[pc])
			continue;
		if (has_target(in) && !is_local_call(in) &&
		    ((size_t)t < sp->start || (size_t)t >= sp->end))
			return v_err(env, -EINVAL, pc, "jump out of range from insn %zu to %ld", pc,
				     t);
		if (pc + 1 == sp->end || (is_lddw(in) && pc + 2 == sp->end)) {
			if (is_lddw(in) ||
			    (in->opcode != ISA_OP_EXIT &&
			     !(isa_is_jmp(in->opcode) && isa_op(in->opcode) == ISA_JA)))
				return v_err(env, -EINVAL, pc, "last insn is not an exit or jmp");
		}
	}
	return 0;
}

/* Successors of pc in the control flow within its subprogram (a call falls through). */
static unsigned successors(const struct venv *env, size_t pc, size_t succ[2])
{
	const struct isa_insn *in = &env->insns[pc];
	long t = jump_target(in, pc);
	unsigned n = 0;

	if (is_lddw(in)) {
		succ[n++] = pc + 2;
		return n;
	}
	if (in->opcode == ISA_OP_EXIT)
		return 0;
	if (isa_is_jmp(in->opcode) && isa_op(in->opcode) == ISA_JA) {
		succ[n++] = (size_t)t;
		return n;
	}
	succ[n++] = pc + 1;
	if (is_cond_jump(in))
		succ[n++] = (size_t)t;
	return n;
}

static int check_reachable(struct venv *env, const bool *second)
{
	size_t *stack = malloc(env->n * sizeof(*stack)), top = 0, succ[3];
	bool *seen = calloc(env->n, sizeof(*seen));
	int ret = 0;

	if (!stack || !seen) {
		ret = v_err(env, -ENOMEM, 0, "out of memory");
		goto out;
	}
	stack[top++] = 0;
	seen[0] = true;
	while (top) {
		size_t pc = stack[--top];
		unsigned ns = successors(env, pc, succ);

		if (is_local_call(&env->insns[pc]))
			succ[ns++] = (size_t)jump_target(&env->insns[pc], pc);
		if (is_func_ref(&env->insns[pc]))
			succ[ns++] = (size_t)((long)pc + 1 + env->insns[pc].imm);
		for (unsigned i = 0; i < ns; i++) {
			if (succ[i] >= env->n) {
				ret = v_err(env, -EINVAL, pc,
					    "jump out of range from insn %zu to %zu", pc, succ[i]);
				goto out;
			}
			if (!seen[succ[i]]) {
				seen[succ[i]] = true;
				stack[top++] = succ[i];
			}
		}
	}
	for (size_t pc = 0; pc < env->n; pc++) {
		if (!seen[pc] && !second[pc]) {
			ret = v_err(env, -EINVAL, pc, "unreachable insn %zu", pc);
			break;
		}
	}
out:
	free(stack);
	free(seen);
	return ret;
}

static void uses_defs(const struct isa_insn *in, uint16_t *use, uint16_t *def)
{
	unsigned cls = isa_class(in->opcode), op = isa_op(in->opcode);
	uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
	bool x = isa_srcbit(in->opcode) == ISA_X;

	*use = *def = 0;
	switch (cls) {
	case ISA_ALU:
	case ISA_ALU64:
		*def = d;
		if (op == ISA_MOV)
			*use = x ? s : 0;
		else
			*use = d | (x && op != ISA_END && op != ISA_NEG ? s : 0);
		break;
	case ISA_LD:
		*def = d;
		break;
	case ISA_LDX:
		*use = s;
		*def = d;
		break;
	case ISA_ST:
		*use = d;
		break;
	case ISA_STX:
		*use = d | s;
		if (isa_mode(in->opcode) == ISA_ATOMIC) {
			if (in->imm == ISA_CMPXCHG) {
				*use |= 1;
				*def = 1;
			} else if (in->imm & ISA_FETCH) {
				*def = s;
			}
		}
		break;
	default:
		if (op == ISA_EXIT) {
			*use = 1;
		} else if (op == ISA_CALL) {
			*use = R1_R5 | (x ? d : 0);
			*def = R0_R5;
		} else if (op != ISA_JA) {
			*use = d | (x ? s : 0);
		}
		break;
	}
}

/* The slots bytes [off, off + size) below the frame top cover; every slot when outside it. */
static uint64_t slots_of(int off, unsigned size)
{
	unsigned lo, hi;

	if (off >= 0 || off < -ISA_STACK_SIZE || off + (int)size > 0)
		return ALL_SLOTS;
	lo = (unsigned)(-off - (int)size) / 8; /* the slot of the last byte */
	hi = (unsigned)(-off - 1) / 8;	       /* the slot of the first */
	return (hi == 63 ? ALL_SLOTS : (UINT64_C(1) << (hi + 1)) - 1) & ~((UINT64_C(1) << lo) - 1);
}

/* The slot an 8-byte store at r10 + off overwrites whole, or 0. */
static uint64_t slot_killed(const struct isa_insn *in)
{
	if (in->dst != ISA_REG_FP || isa_size_bytes(in->opcode) != 8 || in->off >= 0 ||
	    in->off < -ISA_STACK_SIZE || in->off % 8)
		return 0;
	return UINT64_C(1) << ((unsigned)-in->off / 8 - 1);
}

/*
 * The stack slots a memory access at pc may touch: the ones it names
 * through r10, every one through a register that may point into the frame,
 * none through any other.
 */
static uint64_t slots_accessed(const struct venv *env, size_t pc, unsigned base)
{
	const struct isa_insn *in = &env->insns[pc];

	if (base == ISA_REG_FP)
		return slots_of(in->off, isa_size_bytes(in->opcode));
	return env->fp_regs[pc] >> base & 1 ? ALL_SLOTS : 0;
}

static bool is_atomic(const struct isa_insn *in)
{
	return isa_class(in->opcode) == ISA_STX && isa_mode(in->opcode) == ISA_ATOMIC;
}

static bool is_helper_call(const struct isa_insn *in)
{
	return in->opcode == ISA_OP_CALL && in->src == ISA_CALL_HELPER;
}

/*
 * The registers a call at pc reads: a helper's arguments, r1-r5 for a
 * function. Every stack slot becomes read (*slots) when one of them may
 * point into the frame: the callee may read through it.
 */
static uint16_t call_reads(const struct venv *env, size_t pc, uint64_t *slots)
{
	const struct isa_insn *in = &env->insns[pc];
	uint16_t regs = R1_R5;

	if (is_helper_call(in))
		regs = helper_args_read((uint32_t)in->imm);
	if (env->fp_regs[pc] & regs || in->opcode == ISA_OP_CALLX)
		*slots = ALL_SLOTS;
	return regs;
}

static struct vflow live_before(const struct venv *env, size_t pc, struct vflow out)
{
	const struct isa_insn *in = &env->insns[pc];
	unsigned cls = isa_class(in->opcode), op = isa_op(in->opcode);
	uint16_t use, def;
	uint64_t slots = out.slots;

	uses_defs(in, &use, &def);
	if (cls == ISA_LDX) {
		slots |= slots_accessed(env, pc, in->src);
	} else if (is_atomic(in)) {
		slots |= slots_accessed(env, pc, in->dst);
	} else if (cls == ISA_ST || cls == ISA_STX) {
		slots &= ~slot_killed(in);
	} else if (isa_is_jmp(in->opcode) && op == ISA_EXIT) {
		slots = 0;
	} else if (isa_is_jmp(in->opcode) && op == ISA_CALL) {
		use = (uint16_t)(call_reads(env, pc, &slots) | (use & ~R1_R5));
	}
	return (struct vflow){(uint16_t)(use | (out.regs & ~def)), slots};
}

/* Whether a local call or a function reference names the main function (its first slot). */
static bool main_called(const struct venv *env)
{
	for (size_t pc = 0; pc < env->n; pc++) {
		const struct isa_insn *in = &env->insns[pc];

		if ((is_local_call(in) || is_func_ref(in)) && (long)pc + 1 + in->imm == 0)
			return true;
	}
	return false;
}

/*
 * The registers whose scalar value may still matter before in, given those
 * that matter after it (out). A value matters where a check or the path
 * taken may depend on it: a branch condition, the base of a memory access,
 * a value stored anywhere but a stack slot of r10 (it may be loaded again
 * through any pointer), a call's arguments, r0 at the exit of a function
 * (its caller or the helper calling it may depend on it; the main
 * function's r0 is only checked to be set, unless a call can enter it),
 * either operand of 64-bit add or sub (pointer arithmetic checks the
 * scalar's bounds). Any other ALU operation only computes its destination:
 * its operands matter when the destination does (32-bit arithmetic on a
 * pointer is refused by type, or makes an unknown scalar). Stack slots
 * written through r10 are followed: a slot matters where a load through
 * r10 fills a register that matters from it, and a store through r10
 * makes its register matter when the slot does; loads through any other
 * base into a register that matters, calls and atomics make every slot
 * matter. Unlisted cases (legacy packet loads) keep every register, and
 * whatever mattered after.
 *
 * Why pruning may then ignore the others' values: a register or slot
 * outside the set at pc flows, on every path from pc, only into registers
 * and slots also outside the set at their instruction (an operation whose
 * destination is outside adds none of its operands) or is overwritten; it
 * is never compared, stored elsewhere, passed or returned. So two states at
 * pc with the same types and the same needed values pass the same checks,
 * split at the same branches the same way, and stay that way, whatever
 * those hold: the types the checks look at never depend on them (every
 * operation's result type depends on its operands' types only).
 */
static struct vflow precise_before(const struct venv *env, size_t pc, struct vflow out)
{
	const struct isa_insn *in = &env->insns[pc];
	unsigned cls = isa_class(in->opcode), op = isa_op(in->opcode);
	uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
	bool x = isa_srcbit(in->opcode) == ISA_X;
	uint16_t r = out.regs;
	uint64_t slots = out.slots, at;

	switch (cls) {
	case ISA_ALU:
	case ISA_ALU64:
		if (cls == ISA_ALU64 && x && (op == ISA_ADD || op == ISA_SUB))
			r |= d | s;
		else if ((r & d) && op == ISA_MOV)
			r = (uint16_t)((r & ~d) | (x ? s : 0));
		else if (r & d)
			r |= x && op != ISA_END && op != ISA_NEG ? s : 0;
		break;
	case ISA_LD:
		if (is_lddw(in))
			r &= (uint16_t)~d;
		else
			r = 0x3ff;
		break;
	case ISA_LDX:
		if (r & d)
			slots |= slots_accessed(env, pc, in->src);
		r = (uint16_t)((r & ~d) | s);
		break;
	case ISA_ST:
		r |= d;
		slots &= ~slot_killed(in);
		break;
	case ISA_STX:
		if (is_atomic(in)) {
			r |= d | s | 1;
			slots |= slots_accessed(env, pc, in->dst);
			break;
		}
		at = slots_accessed(env, pc, in->dst);
		r |= d | (in->dst != ISA_REG_FP || (slots & at) ? s : 0);
		slots &= ~slot_killed(in);
		break;
	default:
		if (op == ISA_EXIT) {
			r = env->subprog_of[pc] == 0 && !env->main_called ? 0 : 1;
			slots = 0;
		} else if (op == ISA_CALL) {
			r = (uint16_t)((r & ~R0_R5) | call_reads(env, pc, &slots) | (x ? d : 0));
		} else if (op != ISA_JA) {
			r |= d | (x ? s : 0);
		}
		break;
	}
	return (struct vflow){r, slots};
}

/*
 * The registers that may point into the frame's own stack after in, given
 * those before (m; r10 always does, and is left out). Such a pointer is
 * made only from r10 or another one: copies, 64-bit add and sub (a scalar
 * plus a pointer is a pointer), loads of 8 bytes when one may have been
 * stored to memory anywhere in the subprogram (spilled), and the result of
 * a call of a function (it may return a pointer it was given). Loads from
 * maps or the context give scalars, and a pointer into this frame cannot
 * be stored into a caller's (mem.c refuses it), so nothing else makes one.
 */
static uint16_t fp_after(const struct isa_insn *in, uint16_t m, bool spilled)
{
	unsigned cls = isa_class(in->opcode), op = isa_op(in->opcode);
	uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
	bool x = isa_srcbit(in->opcode) == ISA_X;
	bool src_fp = x && (in->src == ISA_REG_FP || (m & s));

	switch (cls) {
	case ISA_ALU64:
		if (op == ISA_MOV)
			return src_fp ? m | d : (uint16_t)(m & ~d);
		if (op == ISA_ADD || op == ISA_SUB)
			return (m & d) || (op == ISA_ADD && src_fp) ? m | d : m;
		return (uint16_t)(m & ~d);
	case ISA_ALU:
	case ISA_LD:
		return (uint16_t)(m & ~d);
	case ISA_LDX:
		return spilled && isa_size_bytes(in->opcode) == 8 ? m | d : (uint16_t)(m & ~d);
	case ISA_STX:
		if (is_atomic(in) && (in->imm == ISA_CMPXCHG || (in->imm & ISA_FETCH))) {
			uint16_t r = in->imm == ISA_CMPXCHG ? 1 : s;

			return spilled ? m | r : (uint16_t)(m & ~r);
		}
		return m;
	case ISA_ST:
		return m;
	default:
		if (op == ISA_CALL)
			return is_local_call(in) ? (uint16_t)((m & ~R0_R5) | 1)
						 : (uint16_t)(m & ~R0_R5);
		return m;
	}
}

/* Whether the instruction stores a register that may point into the frame. */
static bool stores_fp(const struct isa_insn *in, uint16_t m)
{
	return isa_class(in->opcode) == ISA_STX && (in->src == ISA_REG_FP || (m >> in->src & 1));
}

/*
 * fp_regs[pc] for every instruction: a forward data flow from each
 * subprogram's entry (nothing but r10 points into a new frame), repeated
 * while some store of such a pointer is found (spilled, per subprogram).
 */
static void flow_fp(struct venv *env, const bool *second)
{
	bool *spilled = calloc(env->nsubprogs, sizeof(*spilled));
	bool changed = true;
	size_t succ[2];

	if (!spilled) {
		/* without the memory to tell: every register may (the safe answer) */
		for (size_t pc = 0; pc < env->n; pc++)
			env->fp_regs[pc] = 0x3ff;
		return;
	}
	while (changed) {
		changed = false;
		for (size_t pc = 0; pc < env->n; pc++) {
			const struct isa_insn *in = &env->insns[pc];
			unsigned sp = env->subprog_of[pc];
			uint16_t out;
			unsigned ns;

			if (second[pc])
				continue;
			if (stores_fp(in, env->fp_regs[pc]) && !spilled[sp])
				changed = spilled[sp] = true;
			out = fp_after(in, env->fp_regs[pc], spilled[sp]);
			ns = successors(env, pc, succ);
			for (unsigned i = 0; i < ns; i++) {
				if ((env->fp_regs[succ[i]] | out) != env->fp_regs[succ[i]]) {
					env->fp_regs[succ[i]] |= out;
					changed = true;
				}
			}
		}
	}
	free(spilled);
}

/* A backward data flow over the instructions, to its fixed point: in[pc] from its successors'. */
static void flow_backward(struct venv *env, const bool *second, struct vflow *in_of,
			  struct vflow (*before)(const struct venv *, size_t, struct vflow))
{
	bool changed = true;
	size_t succ[2];

	while (changed) {
		changed = false;
		for (size_t pc = env->n; pc-- > 0;) {
			struct vflow out = {0, 0}, in;
			unsigned ns;

			if (second[pc])
				continue;
			ns = successors(env, pc, succ);
			for (unsigned i = 0; i < ns; i++) {
				out.regs |= in_of[succ[i]].regs;
				out.slots |= in_of[succ[i]].slots;
			}
			in = before(env, pc, out);
			if (in.regs != in_of[pc].regs || in.slots != in_of[pc].slots) {
				in_of[pc] = in;
				changed = true;
			}
		}
	}
}

/*
 * Where states are compared and stored, as the kernel places them:
 * conditional jumps (before the path splits), jump targets, function
 * entries and the instruction after a call. Every cycle of the control
 * flow goes through a jump's target, so a loop always meets one. Callback entries always store
 * a state: their repetitions converge on it (verifier.c).
 */
static void mark_prune_points(struct venv *env, const bool *second)
{
	for (size_t i = 0; i < env->nsubprogs; i++)
		env->prune_point[env->subprogs[i].start] =
			V_PRUNE | (env->subprogs[i].is_cb ? V_PRUNE_FORCE : 0);
	for (size_t pc = 0; pc < env->n; pc++) {
		const struct isa_insn *in = &env->insns[pc];

		if (second[pc] || !isa_is_jmp(in->opcode) || in->opcode == ISA_OP_EXIT)
			continue;
		if (isa_op(in->opcode) == ISA_CALL) {
			if (pc + 1 < env->n)
				env->prune_point[pc + 1] |= V_PRUNE;
			continue;
		}
		env->prune_point[jump_target(in, pc)] |= V_PRUNE;
		if (is_cond_jump(in))
			env->prune_point[pc] |= V_PRUNE;
	}
}

int cfg_check(struct venv *env)
{
	bool *second = calloc(env->n, sizeof(*second));
	int ret;

	if (!second)
		return v_err(env, -ENOMEM, 0, "out of memory");
	ret = -EINVAL;
	for (size_t pc = 0; pc < env->n; pc++) {
		if (!is_lddw(&env->insns[pc]))
			continue;
		if (pc + 1 >= env->n) {
			v_err(env, -EINVAL, pc, "invalid bpf_ld_imm64 insn");
			goto out;
		}
		second[++pc] = true;
	}
	ret = find_subprogs(env, second);
	if (!ret)
		ret = check_subprog_bounds(env, second);
	if (!ret)
		ret = check_reachable(env, second);
	if (!ret) {
		mark_prune_points(env, second);
		env->fp_regs = calloc(env->n, sizeof(*env->fp_regs));
		if (!env->fp_regs) {
			ret = v_err(env, -ENOMEM, 0, "out of memory");
			goto out;
		}
		flow_fp(env, second);
		flow_backward(env, second, env->live, live_before);
		env->main_called = main_called(env);
		flow_backward(env, second, env->precise, precise_before);
		free(env->fp_regs);
		env->fp_regs = NULL;
	}
out:
	free(second);
	return ret;
}
