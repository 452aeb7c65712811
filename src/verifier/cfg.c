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
 * Also computed here, for pruning: prune points (jump targets, branch
 * fall-throughs, subprogram entries) and static register liveness, the
 * registers each instruction may read before they are written again within
 * its subprogram. A call reads r1-r5 and writes r0-r5; exit reads r0.
 * And the live registers whose scalar value may matter (precise_before):
 * pruning compares only those scalars' bounds.
 */
#include <errno.h>
#include <stdlib.h>

#include "state.h"

#define R1_R5 0x3e
#define R0_R5 0x3f

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

static uint16_t live_before(const struct venv *env, size_t pc, uint16_t out)
{
	uint16_t use, def;

	uses_defs(&env->insns[pc], &use, &def);
	return (uint16_t)(use | (out & ~def));
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
 * taken may depend on it: a branch condition, the base or the stored value
 * of a memory access (a stored value may be loaded again: memory is not
 * followed), a call's arguments, r0 at the exit of a function (its caller
 * or the helper calling it may depend on it; the main function's r0 is
 * only checked to be set, unless a call can enter it), either operand of
 * 64-bit add or sub (pointer arithmetic checks the scalar's bounds). Any other ALU
 * operation only computes its destination: its operands matter when the
 * destination does (32-bit arithmetic on a pointer is refused by type, or
 * makes an unknown scalar). Unlisted cases (atomics, legacy packet loads)
 * keep every register they name, and whatever mattered after.
 *
 * Why pruning may then ignore the others' values: a register outside the
 * set at pc flows, on every path from pc, only into registers also outside
 * the set at their instruction (an operation whose destination is outside
 * adds none of its operands) or is overwritten; it is never compared,
 * stored, passed or returned. So two states at pc with the same types and
 * the same needed values pass the same checks, split at the same branches
 * the same way, and stay that way, whatever those registers hold: the
 * types the checks look at never depend on them (every operation's result
 * type depends on its operands' types only).
 */
static uint16_t precise_before(const struct venv *env, size_t pc, uint16_t out)
{
	const struct isa_insn *in = &env->insns[pc];
	unsigned cls = isa_class(in->opcode), op = isa_op(in->opcode);
	uint16_t d = (uint16_t)(1u << in->dst), s = (uint16_t)(1u << in->src);
	bool x = isa_srcbit(in->opcode) == ISA_X;

	switch (cls) {
	case ISA_ALU:
	case ISA_ALU64:
		if (cls == ISA_ALU64 && x && (op == ISA_ADD || op == ISA_SUB))
			return out | d | s;
		if (!(out & d))
			return out;
		if (op == ISA_MOV)
			return (uint16_t)((out & ~d) | (x ? s : 0));
		return out | (x && op != ISA_END && op != ISA_NEG ? s : 0);
	case ISA_LD:
		return is_lddw(in) ? (uint16_t)(out & ~d) : 0x3ff;
	case ISA_LDX:
		return (uint16_t)((out & ~d) | s);
	case ISA_ST:
		return out | d;
	case ISA_STX:
		return out | d | s | (isa_mode(in->opcode) == ISA_ATOMIC ? 1 : 0);
	default:
		if (op == ISA_EXIT)
			return env->subprog_of[pc] == 0 && !env->main_called ? 0 : 1;
		if (op == ISA_CALL)
			return (uint16_t)((out & ~R0_R5) | R1_R5 | (x ? d : 0));
		if (op == ISA_JA)
			return out;
		return out | d | (x ? s : 0);
	}
}

/* A backward data flow over the instructions, to its fixed point: in[pc] from its successors'. */
static void flow_backward(struct venv *env, const bool *second, uint16_t *in_of,
			  uint16_t (*before)(const struct venv *, size_t, uint16_t))
{
	bool changed = true;
	size_t succ[2];

	while (changed) {
		changed = false;
		for (size_t pc = env->n; pc-- > 0;) {
			uint16_t out = 0, in;
			unsigned ns;

			if (second[pc])
				continue;
			ns = successors(env, pc, succ);
			for (unsigned i = 0; i < ns; i++)
				out |= in_of[succ[i]];
			in = before(env, pc, out);
			if (in != in_of[pc]) {
				in_of[pc] = in;
				changed = true;
			}
		}
	}
}

static void mark_prune_points(struct venv *env, const bool *second)
{
	for (size_t i = 0; i < env->nsubprogs; i++)
		env->prune_point[env->subprogs[i].start] = true;
	for (size_t pc = 0; pc < env->n; pc++) {
		const struct isa_insn *in = &env->insns[pc];
		long t = jump_target(in, pc);

		if (second[pc] || !has_target(in) || is_local_call(in))
			continue;
		env->prune_point[t] = true;
		if (is_cond_jump(in))
			env->prune_point[pc + 1] = true;
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
		flow_backward(env, second, env->live_in, live_before);
		env->main_called = main_called(env);
		flow_backward(env, second, env->precise_in, precise_before);
	}
out:
	free(second);
	return ret;
}
