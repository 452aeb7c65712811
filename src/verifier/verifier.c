// SPDX-License-Identifier: MIT
/*
 * The verifier: abstract interpretation of every path of a program.
 *
 * Algorithm. After the control-flow checks of cfg.c, one path is
 * interpreted at a time, instruction by instruction, on an abstract state:
 * for each frame of the call chain its registers (type, constant offset,
 * scalar knowledge: known bits and signed/unsigned 64- and 32-bit bounds)
 * and its stack bytes (never written, written, or part of a spilled
 * register). Each instruction is checked against the state and applied to
 * it. A conditional jump whose outcome the state does not decide splits
 * the path: the fall-through goes on at once and the taken branch waits on
 * a stack of pending states (depth first, as the kernel). A path ends at
 * the exit of the main function, and the next pending state is resumed.
 * The program is accepted when every path has ended without an error.
 *
 * Termination. Loops are unrolled: a path comes back to a loop head with a
 * new state each time. The total of instructions interpreted over all
 * paths is capped at 1M and pending branches at 8192, so any loop whose
 * every path does not end within that budget is refused.
 *
 * Pruning. At prune points (cfg.c: conditional jumps, jump targets,
 * function entries, returns from calls) the state may be stored as a
 * checkpoint. A later path arriving at the same point with a state that a
 * stored one subsumes (state.c) is cut: everything it could do, the stored
 * state's exploration already proved safe. Registers and stack slots
 * nothing reads any more are not compared, and scalars whose value nothing
 * after the point depends on (cfg.c) subsume each other whatever their
 * bounds, so that a loop accumulating a result converges on its counter
 * alone. A checkpoint may prune only once that exploration is complete:
 * every path and branch started from it has ended (its live count is 0).
 * Pruning against a checkpoint still being explored would accept a path
 * that loops back into its own past, i.e. a loop nobody showed ends.
 *
 * Which states are stored follows the kernel's heuristics, since storing
 * costs memory and every later visit a comparison: only after 2 jumps and
 * 8 instructions since the last store, and inside a loop (a checkpoint at
 * the same point is still being explored) only after 20 jumps or 100
 * instructions, so that a long loop keeps a state every few iterations. A
 * stored state that keeps failing to prune leaves the list (it stays in
 * memory while its exploration goes on: it is its paths' parent). None of
 * this affects soundness: a state not stored only prunes less.
 *
 * Calls of helpers check arguments against prototypes (helper_protos.c).
 * A helper taking a callback starts the callback's path as a call made at
 * the helper; at the callback's exit its next call is pushed too, from the
 * exit state with the caller's changed scalars widened, and cut once a call
 * in progress covers it (the helper bounds the repetitions at run time).
 * References (ring buffer reservations) live in the state: every path to
 * the main exit must have released them.
 *
 * Invariants. Every register a path reads was written on that path. A
 * pointer's offset stays within 2^29 in magnitude (no address arithmetic
 * wraps). A packet pointer's range is never more than what a comparison
 * with the end proved for its identity. What a load or store was proven
 * inside of is recorded per instruction (verifier.h); with every path of
 * the program checked, it holds for every execution.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isa/asm.h"
#include "state.h"

#define V_LOOP_WINDOW 8 /* checkpoints searched back for an infinite loop */

const char *const v_type_names[V_NTYPES] = {
	[V_NOT_INIT] = "?",
	[V_SCALAR] = "scalar",
	[V_CTX] = "ctx",
	[V_STACK] = "fp",
	[V_PKT] = "pkt",
	[V_PKT_META] = "pkt_meta",
	[V_PKT_END] = "pkt_end",
	[V_MAP_PTR] = "map_ptr",
	[V_MAP_VALUE] = "map_value",
	[V_MAP_VALUE_OR_NULL] = "map_value_or_null",
	[V_MAP_KEY] = "map_key",
	[V_RINGBUF_MEM] = "ringbuf_mem",
	[V_RINGBUF_MEM_OR_NULL] = "ringbuf_mem_or_null",
	[V_FUNC] = "func",
};

const char *v_reg_str(const struct vreg *r, char *buf, size_t len)
{
	const struct scalar *s = &r->s;

	if (r->type == V_SCALAR && scalar_is_const(s))
		snprintf(buf, len, "%lld", (long long)s->var.value);
	else if (r->type == V_SCALAR)
		snprintf(buf, len, "scalar(umin=%llu,umax=%llu,smin=%lld,smax=%lld%s)",
			 (unsigned long long)s->umin, (unsigned long long)s->umax,
			 (long long)s->smin, (long long)s->smax, r->is_len ? ",len" : "");
	else if (r->type == V_PKT || r->type == V_PKT_META)
		snprintf(buf, len, "%s(id=%u,off=%d,r=%u,var=[%lld,%lld])", v_type_names[r->type],
			 r->id, r->off, r->range, (long long)s->smin, (long long)s->smax);
	else if (r->type == V_STACK)
		snprintf(buf, len, "fp%u(off=%d,var=[%lld,%lld])", r->frameno, r->off,
			 (long long)s->smin, (long long)s->smax);
	else if (r->type >= V_MAP_PTR && r->type <= V_RINGBUF_MEM_OR_NULL)
		snprintf(buf, len, "%s(%sid=%u,ref=%u,off=%d,size=%u,var=[%lld,%lld])",
			 v_type_names[r->type], r->rdonly ? "rdonly," : "", r->id, r->ref, r->off,
			 r->range, (long long)s->smin, (long long)s->smax);
	else
		snprintf(buf, len, "%s(off=%d)", v_type_names[r->type], r->off);
	return buf;
}

void v_log(struct venv *env, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (!env->log || env->log_used + 1 >= env->log_len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(env->log + env->log_used, env->log_len - env->log_used, fmt, ap);
	va_end(ap);
	if (w > 0)
		env->log_used += (size_t)w < env->log_len - env->log_used
					 ? (size_t)w
					 : env->log_len - env->log_used - 1;
}

/* The registers of the innermost frame, on one line. */
static void log_regs(struct venv *env, const struct vstate *st)
{
	const struct vreg *regs = cur_regs(st);
	char reg[160];
	bool first = true;

	for (unsigned i = 0; i < ISA_NREGS; i++) {
		if (regs[i].type == V_NOT_INIT)
			continue;
		v_log(env, "%sR%u=%s", first ? "" : " ", i, v_reg_str(&regs[i], reg, sizeof(reg)));
		first = false;
	}
	v_log(env, "\n");
}

int v_err(struct venv *env, int err, size_t pc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v_log(env, "insn %zu: %s\n", pc, msg);
	if (env->opts.log_level && env->cur)
		log_regs(env, env->cur);
	return err;
}

/* Level 2: each instruction as it is interpreted, after the registers it starts with. */
static void log_insn(struct venv *env, const struct vstate *st)
{
	char text[96];

	if (isa_disasm_insn(env->insns, env->n, st->pc, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "(invalid)");
	v_log(env, "%zu: ", st->pc);
	log_regs(env, st);
	v_log(env, "%zu: %s\n", st->pc, text);
}

static int push(struct venv *env, struct vstate *st)
{
	struct vstate **p;

	if (env->npending == V_MAX_PENDING)
		return v_err(env, -E2BIG, st->pc, "the sequence of %u jumps is too complex",
			     V_MAX_PENDING);
	if (env->npending == env->cap_pending) {
		size_t cap = env->cap_pending ? env->cap_pending * 2 : 64;

		p = realloc(env->pending, cap * sizeof(*p));
		if (!p)
			return v_err(env, -ENOMEM, st->pc, "out of memory");
		env->pending = p;
		env->cap_pending = cap;
	}
	env->pending[env->npending++] = st;
	if (st->cp)
		st->cp->live++;
	if (env->npending > env->stats->peak_pending)
		env->stats->peak_pending = env->npending;
	return 0;
}

static void ckpt_free(struct venv *env, struct vckpt *ck)
{
	for (int i = 0; i <= ck->st.curframe; i++)
		frame_free(ck->st.frames[i]);
	v_mem_add(-(long)sizeof(*ck));
	env->nstates--;
	free(ck);
}

/* A path ended (or was pruned): checkpoints it kept open may now be complete. */
static void path_done(struct venv *env, struct vckpt *cp)
{
	while (cp && --cp->live == 0) {
		struct vckpt *parent = cp->parent;

		if (cp->evicted) {
			if (cp->prev)
				cp->prev->next = cp->next;
			else
				env->evicted = cp->next;
			if (cp->next)
				cp->next->prev = cp->prev;
			ckpt_free(env, cp);
		}
		cp = parent;
	}
}

/*
 * Drops a checkpoint from its list: freed when complete (nothing refers to
 * it any more), else kept in env->evicted until its exploration ends.
 */
static void ckpt_evict(struct venv *env, struct vckpt *ck)
{
	if (!ck->live) {
		ckpt_free(env, ck);
		return;
	}
	ck->evicted = true;
	ck->prev = NULL;
	ck->next = env->evicted;
	if (env->evicted)
		env->evicted->prev = ck;
	env->evicted = ck;
}

/*
 * A path back at a state it already was in loops forever: the kernel's
 * "infinite loop detected". The checkpoints at this point still being
 * explored are all on this path (exploration is depth first: a checkpoint
 * whose branches are not all done is an ancestor of the path running), and
 * so are the last few it went through, searched even if evicted.
 */
static bool loops_back(const struct venv *env, const struct vstate *st)
{
	const struct vckpt *ck = st->cp;

	for (unsigned i = 0; ck && i < V_LOOP_WINDOW; i++, ck = ck->parent)
		if (ck->st.pc == st->pc && state_equal(env, &ck->st, st))
			return true;
	return false;
}

/*
 * A callback called again in a state its earlier call (still being
 * explored) covers: that exploration goes through everything this call can
 * do. Unlike a loop of the program, the repetitions need no proof that they
 * end: the helper bounds them at run time.
 */
static bool callback_converged(const struct venv *env, const struct vstate *st)
{
	const struct vframe *f = cur_frame(st);
	const struct vckpt *ck = st->cp;

	if (!f->cb_helper || st->pc != env->subprogs[f->subprog].start)
		return false;
	for (; ck; ck = ck->parent)
		if (ck->st.pc == st->pc && state_subsumes(env, &ck->st, st))
			return true;
	return false;
}

/*
 * 1 when a stored state subsumes st (the path is done), 0 to go on (st
 * stored or not), <0 on error.
 */
static int visit(struct venv *env, struct vstate *st)
{
	struct vckpt **link = &env->explored[st->pc], *ck;
	bool force = env->prune_point[st->pc] & V_PRUNE_FORCE;
	uint64_t jmps = env->jmps_processed - env->ckpt_jmps;
	uint64_t insns = env->stats->insns_processed - env->ckpt_insns;
	bool add = force || (jmps >= 2 && insns >= 8);
	unsigned stored = 0;

	if (callback_converged(env, st)) {
		env->stats->states_pruned++;
		return 1;
	}
	while ((ck = *link)) {
		unsigned tolerance;

		if (ck->live) {
			if (state_equal(env, &ck->st, st))
				return v_err(env, -EINVAL, st->pc,
					     "infinite loop detected at insn %zu", st->pc);
			/* a loop: keep a state every so many iterations only */
			if (!force && jmps < 20 && insns < 100)
				add = false;
		} else if (state_subsumes(env, &ck->st, st)) {
			ck->hits++;
			env->stats->states_pruned++;
			return 1;
		}
		/* misses count only when a state is stored: a loop keeps its early states */
		if (add)
			ck->misses++;
		tolerance = force && ck->live ? 64 : 3;
		if (ck->misses > ck->hits * tolerance + tolerance) {
			*link = ck->next;
			ckpt_evict(env, ck);
			continue;
		}
		stored++;
		link = &ck->next;
	}
	if (loops_back(env, st))
		return v_err(env, -EINVAL, st->pc, "infinite loop detected at insn %zu", st->pc);
	if (!add)
		return 0;
	ck = calloc(1, sizeof(*ck));
	if (!ck || state_copy_into(&ck->st, st)) {
		free(ck);
		return v_err(env, -ENOMEM, st->pc, "out of memory");
	}
	v_mem_add(sizeof(*ck));
	if (++env->nstates > env->stats->peak_states)
		env->stats->peak_states = env->nstates;
	if (++stored > env->stats->max_per_insn)
		env->stats->max_per_insn = stored;
	ck->st.cp = NULL;
	ck->parent = st->cp;
	ck->live = 1;
	ck->next = env->explored[st->pc];
	env->explored[st->pc] = ck;
	st->cp = ck;
	env->stats->states_stored++;
	env->ckpt_jmps = env->jmps_processed;
	env->ckpt_insns = env->stats->insns_processed;
	return 0;
}

static int init_state(struct venv *env, struct vstate *st)
{
	struct vframe *f = frame_new();
	struct vreg *regs;

	if (!f)
		return v_err(env, -ENOMEM, 0, "out of memory");
	st->frames[0] = f;
	f->callsite = -1;
	regs = f->regs;
	for (unsigned i = 0; i < ISA_NREGS; i++)
		reg_mark_not_init(&regs[i]);
	regs[ISA_REG_FP] = (struct vreg){.type = V_STACK, .s = scalar_const(0)};
	if (env->raw) {
		regs[1] = (struct vreg){.type = V_PKT, .s = scalar_const(0)};
		reg_mark_unknown(&regs[2]);
		regs[2].is_len = true;
	} else {
		regs[1] = (struct vreg){.type = V_CTX, .s = scalar_const(0)};
	}
	return 0;
}

static int subprog_at(const struct venv *env, size_t pc)
{
	return env->subprog_of[pc];
}

static int call_local(struct venv *env, struct vstate *st)
{
	const struct isa_insn *in = &env->insns[st->pc];
	struct vframe *caller = cur_frame(st), *f;
	size_t target = st->pc + 1 + (size_t)(long)in->imm;

	if (st->curframe + 1 >= ISA_MAX_CALL_DEPTH)
		return v_err(env, -E2BIG, st->pc, "the call stack of %d frames is too deep",
			     st->curframe + 2);
	f = frame_new();
	if (!f)
		return v_err(env, -ENOMEM, st->pc, "out of memory");
	for (unsigned i = 0; i < ISA_NREGS; i++)
		reg_mark_not_init(&f->regs[i]);
	for (unsigned i = 1; i <= 5; i++)
		f->regs[i] = caller->regs[i];
	f->regs[ISA_REG_FP] = (struct vreg){
		.type = V_STACK, .frameno = (uint8_t)(st->curframe + 1), .s = scalar_const(0)};
	f->callsite = (int)st->pc;
	f->subprog = subprog_at(env, target);
	st->frames[++st->curframe] = f;
	st->pc = target;
	return 0;
}

/*
 * The callback's next call: the state at its exit, callback frame replaced
 * by a fresh one. Caller scalars the callback changed since its first call
 * are widened to unknown (the kernel widens imprecise scalars the same
 * way), so the repetitions reach a state the first call's covers.
 */
static int callback_again(struct venv *env, const struct vstate *st)
{
	const struct vframe *cb = cur_frame(st);
	size_t target = env->subprogs[cb->subprog].start;
	const struct vckpt *ck;
	struct vstate *again = state_copy(st);
	int ret;

	if (!again)
		return v_err(env, -ENOMEM, st->pc, "out of memory");
	frame_free(again->frames[again->curframe]);
	again->frames[again->curframe--] = NULL;
	again->pc = (size_t)cb->callsite;
	for (ck = st->cp; ck; ck = ck->parent)
		if (ck->st.pc == target && ck->st.curframe == st->curframe)
			break;
	if (ck)
		state_widen(&ck->st, again);
	ret = helper_callback_enter(env, again, cb->cb_helper, target);
	if (!ret)
		ret = push(env, again);
	if (ret)
		state_free(again);
	return ret;
}

/* Exit of a called function: r0 back to the caller, whose r1-r5 the call clobbered. */
static int return_local(struct venv *env, struct vstate *st)
{
	struct vframe *callee = cur_frame(st), *caller = st->frames[st->curframe - 1];
	int ret;

	if (callee->regs[0].type == V_STACK && callee->regs[0].frameno == st->curframe)
		return v_err(env, -EACCES, st->pc,
			     "cannot return stack pointer to the caller frame");
	if (callee->cb_helper) {
		ret = helper_callback_ret(env, st);
		if (!ret)
			ret = callback_again(env, st);
		if (ret)
			return ret;
		/* the helper's own result: the number of calls made */
		reg_mark_unknown(&caller->regs[0]);
	} else {
		caller->regs[0] = callee->regs[0];
	}
	for (unsigned i = 1; i <= 5; i++)
		reg_mark_not_init(&caller->regs[i]);
	st->pc = (size_t)callee->callsite + 1;
	frame_free(callee);
	st->frames[st->curframe--] = NULL;
	return 0;
}

static int exit_main(struct venv *env, struct vstate *st)
{
	if (st->nrefs)
		return v_err(env, -EINVAL, st->pc, "Unreleased reference id=%u alloc_insn=%u",
			     st->refs[0].id, st->refs[0].insn);
	return 1;
}

static int call_helper(struct venv *env, struct vstate *st)
{
	struct vstate *cb;
	int ret = helper_call(env, st, &cb);

	if (!ret && cb) {
		ret = push(env, cb);
		if (ret)
			state_free(cb);
	}
	st->pc++;
	return ret;
}

/* 1 when the path ended, 0 to go on, <0 on error. */
static int step_jmp(struct venv *env, struct vstate *st)
{
	const struct isa_insn *in = &env->insns[st->pc];
	unsigned op = isa_op(in->opcode);
	struct vstate *taken;
	bool fall_dead;
	int ret;

	switch (op) {
	case ISA_JA:
		st->pc +=
			1 + (size_t)(long)(isa_class(in->opcode) == ISA_JMP32 ? in->imm : in->off);
		return 0;
	case ISA_EXIT:
		if (cur_regs(st)[0].type == V_NOT_INIT)
			return v_err(env, -EACCES, st->pc, "R0 !read_ok");
		if (!st->curframe)
			return exit_main(env, st);
		return return_local(env, st);
	case ISA_CALL:
		if (isa_srcbit(in->opcode) == ISA_X)
			return v_err(env, -EINVAL, st->pc, "callx is not supported");
		if (in->src == ISA_CALL_LOCAL)
			return call_local(env, st);
		if (in->src != ISA_CALL_HELPER)
			return v_err(env, -EINVAL, st->pc,
				     "kernel function calls are not supported");
		return call_helper(env, st);
	}
	ret = jmp_cond(env, st, &taken, &fall_dead);
	if (ret < 0)
		return ret;
	if (ret) {
		st->pc += 1 + (size_t)(long)in->off;
		return 0;
	}
	if (taken) {
		taken->pc = st->pc + 1 + (size_t)(long)in->off;
		if (fall_dead) {
			struct vstate swap = *st;

			*st = *taken;
			*taken = swap;
			state_free(taken);
			return 0;
		}
		ret = push(env, taken);
		if (ret) {
			state_free(taken);
			return ret;
		}
	} else if (fall_dead) {
		return 1; /* neither branch can run: this path never happens */
	}
	st->pc++;
	return 0;
}

/* lddw: a constant, a map, a map's value (global data) or a function. */
static int step_lddw(struct venv *env, struct vstate *st)
{
	const struct isa_insn *in = &env->insns[st->pc];
	struct vreg *d = &cur_regs(st)[in->dst];
	const struct verifier_map *m;

	switch (in->src) {
	case ISA_PSEUDO_IMM64:
		reg_mark_const(d, (uint32_t)in->imm | (uint64_t)(uint32_t)in[1].imm << 32);
		break;
	case ISA_PSEUDO_MAP_FD:
	case ISA_PSEUDO_MAP_IDX:
		*d = (struct vreg){
			.type = V_MAP_PTR, .map = env->lddw_map[st->pc], .s = scalar_const(0)};
		break;
	case ISA_PSEUDO_MAP_VALUE:
	case ISA_PSEUDO_MAP_IDX_VALUE:
		m = &env->maps[env->lddw_map[st->pc]].info;
		*d = (struct vreg){.type = V_MAP_VALUE,
				   .map = env->lddw_map[st->pc],
				   .rdonly = (m->flags & BPF_F_RDONLY_PROG) != 0,
				   .range = m->value_size,
				   .off = in[1].imm,
				   .s = scalar_const(0)};
		break;
	case ISA_PSEUDO_FUNC:
		*d = (struct vreg){.type = V_FUNC,
				   .off = (int32_t)(st->pc + 1 + (size_t)(long)in->imm),
				   .s = scalar_const(0)};
		break;
	default:
		return v_err(env, -EINVAL, st->pc,
			     "lddw with pseudo source %u (a kernel object without BTF) is refused",
			     in->src);
	}
	st->pc += 2;
	return 0;
}

static int step(struct venv *env, struct vstate *st)
{
	const struct isa_insn *in = &env->insns[st->pc];
	int ret;

	switch (isa_class(in->opcode)) {
	case ISA_ALU:
	case ISA_ALU64:
		ret = alu_check(env, st);
		st->pc++;
		return ret;
	case ISA_LD:
		if (in->opcode != ISA_OP_LDDW)
			return v_err(env, -EINVAL, st->pc, "legacy packet access is not supported");
		return step_lddw(env, st);
	case ISA_LDX:
	case ISA_ST:
	case ISA_STX:
		ret = mem_check(env, st);
		st->pc++;
		return ret;
	default:
		env->jmps_processed++;
		return step_jmp(env, st);
	}
}

static int explore(struct venv *env, struct vstate *st)
{
	int ret;

	for (;;) {
		env->cur = st;
		if (env->opts.log_level >= 2)
			log_insn(env, st);
		if (++env->stats->insns_processed > V_MAX_PROCESSED)
			ret = v_err(env, -E2BIG, st->pc,
				    "BPF program is too large. Processed %u insn",
				    V_MAX_PROCESSED + 1);
		else
			ret = env->prune_point[st->pc] ? visit(env, st) : 0;
		if (!ret)
			ret = step(env, st);
		if (ret < 0) {
			state_free(st);
			return ret;
		}
		if (!ret)
			continue;
		path_done(env, st->cp);
		state_free(st);
		env->cur = NULL;
		if (!env->npending)
			return 0;
		st = env->pending[--env->npending];
	}
}

/*
 * The deepest stack of any call chain, each frame rounded up as the kernel's
 * JIT does; a function whose address a subprogram takes counts as its
 * callee (the helper it is given to calls it on a frame below).
 */
static uint32_t chain_depth(const struct venv *env, size_t sp, int frames)
{
	uint32_t own = (env->subprogs[sp].stack_depth + 15) & ~15u, deepest = 0;

	if (frames >= ISA_MAX_CALL_DEPTH)
		return own;
	for (size_t pc = env->subprogs[sp].start; pc < env->subprogs[sp].end; pc++) {
		const struct isa_insn *in = &env->insns[pc];
		uint32_t d;

		bool func_ref = in->opcode == ISA_OP_LDDW && in->src == ISA_PSEUDO_FUNC;

		if (!func_ref && (in->opcode != ISA_OP_CALL || in->src != ISA_CALL_LOCAL))
			continue;
		d = chain_depth(env, env->subprog_of[pc + 1 + in->imm], frames + 1);
		deepest = d > deepest ? d : deepest;
	}
	return own + deepest;
}

static void env_free(struct venv *env, uint8_t *own_proven)
{
	if (env->explored) {
		for (size_t pc = 0; pc < env->n; pc++) {
			struct vckpt *ck = env->explored[pc], *next;

			for (; ck; ck = next) {
				next = ck->next;
				ckpt_free(env, ck);
			}
		}
	}
	while (env->evicted) {
		struct vckpt *next = env->evicted->next;

		ckpt_free(env, env->evicted);
		env->evicted = next;
	}
	while (env->npending)
		state_free(env->pending[--env->npending]);
	free(env->pending);
	free(env->explored);
	free(env->prune_point);
	free(env->live);
	free(env->precise);
	free(env->subprog_of);
	free(env->lddw_map);
	free(env->maps);
	free(own_proven);
}

/* The maps the program's lddw instructions name, each described once. */
static int resolve_maps(struct venv *env)
{
	for (size_t pc = 0; pc < env->n; pc++) {
		const struct isa_insn *in = &env->insns[pc];
		struct verifier_map m;
		struct vmap *maps;
		size_t i;

		if (in->opcode != ISA_OP_LDDW)
			continue;
		if (pc + 1 >= env->n)
			return v_err(env, -EINVAL, pc, "invalid bpf_ld_imm64 insn");
		if (in->src != ISA_PSEUDO_MAP_FD && in->src != ISA_PSEUDO_MAP_IDX &&
		    in->src != ISA_PSEUDO_MAP_VALUE && in->src != ISA_PSEUDO_MAP_IDX_VALUE) {
			pc++;
			continue;
		}
		if (!env->opts.map_of || env->opts.map_of(env->opts.map_ctx, in, &m))
			return v_err(env, -EBADF, pc, "fd %d is not pointing to valid bpf_map",
				     in->imm);
		for (i = 0; i < env->nmaps; i++)
			if (env->maps[i].info.handle == m.handle)
				break;
		if (i == env->nmaps) {
			if (env->nmaps == UINT16_MAX)
				return v_err(env, -E2BIG, pc, "too many maps");
			maps = realloc(env->maps, (env->nmaps + 1) * sizeof(*maps));
			if (!maps)
				return v_err(env, -ENOMEM, pc, "out of memory");
			env->maps = maps;
			env->maps[env->nmaps++].info = m;
		}
		if ((in->src == ISA_PSEUDO_MAP_VALUE || in->src == ISA_PSEUDO_MAP_IDX_VALUE) &&
		    (uint32_t)in[1].imm >= m.value_size)
			return v_err(env, -EACCES, pc,
				     "invalid access to map value pointer, value_size=%u off=%u",
				     m.value_size, (uint32_t)in[1].imm);
		env->lddw_map[pc] = (uint16_t)i;
		pc++;
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int verifier_check(const struct isa_insn *insns, size_t n, const struct verifier_opts *opts,
		   uint8_t *proven, struct verifier_stats *stats, char *log, size_t log_len)
{
	struct verifier_stats own_stats;
	struct venv env = {.insns = insns, .n = n, .log = log, .log_len = log_len};
	uint8_t *own_proven = NULL;
	uint64_t t0 = now_ns();
	struct vstate *st;
	uint32_t depth;
	int ret;

	env.stats = stats ? stats : &own_stats;
	*env.stats = (struct verifier_stats){0};
	if (log && log_len)
		log[0] = 0;
	if (!opts || !insns || !n || opts->type > UEBPF_PROG_TRACEPOINT)
		return v_err(&env, -EINVAL, 0, "no program, or unknown program type");
	env.opts = *opts;
	env.raw = opts->type == UEBPF_PROG_RAW_MEM;
	if (!proven)
		proven = own_proven = malloc(n);
	env.proven = proven;
	env.subprog_of = calloc(n, sizeof(*env.subprog_of));
	env.live = calloc(n, sizeof(*env.live));
	env.precise = calloc(n, sizeof(*env.precise));
	env.prune_point = calloc(n, sizeof(*env.prune_point));
	env.explored = calloc(n, sizeof(*env.explored));
	env.lddw_map = calloc(n, sizeof(*env.lddw_map));
	v_mem_now = v_mem_peak = 0;
	st = state_new();
	if (!proven || !env.subprog_of || !env.live || !env.precise || !env.prune_point ||
	    !env.explored || !env.lddw_map || !st) {
		ret = v_err(&env, -ENOMEM, 0, "out of memory");
		goto out;
	}
	memset(proven, 0, n);
	ret = resolve_maps(&env) ?: cfg_check(&env);
	if (!ret)
		ret = init_state(&env, st);
	if (!ret) {
		ret = explore(&env, st);
		st = NULL; /* explore frees every state it ends */
	}
	if (!ret) {
		depth = chain_depth(&env, 0, 1);
		env.stats->stack_depth = depth;
		if (depth > ISA_STACK_SIZE)
			ret = v_err(&env, -EACCES, 0,
				    "combined stack size of calls is %u. Too large", depth);
	}
	if (ret)
		memset(proven, 0, n);
out:
	state_free(st);
	env.stats->peak_mem =
		v_mem_peak + env.nmaps * sizeof(struct vmap) +
		n * (sizeof(*env.subprog_of) + 2 * sizeof(*env.live) + sizeof(*env.prune_point) +
		     sizeof(*env.explored) + sizeof(*env.lddw_map) + 1);
	env_free(&env, own_proven);
	state_cache_drain();
	env.stats->time_ns = now_ns() - t0;
	return ret;
}

void verifier_stats_log(const struct verifier_stats *st, char *log, size_t log_len)
{
	size_t used = log ? strnlen(log, log_len) : 0;

	if (!log || used + 1 >= log_len)
		return;
	snprintf(log + used, log_len - used,
		 "processed %llu insns (limit %u) max_states_per_insn %llu total_states %llu "
		 "peak_states %llu mark_read 0\nverification time %llu usec\nstack depth %u\n"
		 "peak memory %llu bytes\n",
		 (unsigned long long)st->insns_processed, V_MAX_PROCESSED,
		 (unsigned long long)st->max_per_insn, (unsigned long long)st->states_stored,
		 (unsigned long long)st->peak_states, (unsigned long long)(st->time_ns / 1000),
		 st->stack_depth, (unsigned long long)st->peak_mem);
}

int verifier_prog_type(uint32_t kernel_type)
{
	switch (kernel_type) {
	case BPF_PROG_TYPE_SOCKET_FILTER:
		return UEBPF_PROG_SOCKET_FILTER;
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
		return UEBPF_PROG_SCHED_CLS;
	case BPF_PROG_TYPE_XDP:
		return UEBPF_PROG_XDP;
	case BPF_PROG_TYPE_KPROBE:
		return UEBPF_PROG_KPROBE;
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		return UEBPF_PROG_RAW_TRACEPOINT;
	case BPF_PROG_TYPE_TRACEPOINT:
		return UEBPF_PROG_TRACEPOINT;
	default:
		return -1;
	}
}
