// SPDX-License-Identifier: MIT
/*
 * Helper calls: each helper the verifier admits has a prototype saying what
 * each argument register must hold, what r0 holds on return, which program
 * types may call it, and what else the call does (acquire or release a
 * reference, move the packet, call back into the program). The kinds of
 * argument and return are the kernel's (ARG_CONST_MAP_PTR,
 * ARG_PTR_TO_MAP_KEY, ARG_PTR_TO_MEM with ARG_CONST_SIZE, ...), and so are
 * the map types each helper takes (check_map_func_compatibility). A call
 * checks the arguments in order, then leaves r1-r5 unreadable (the callee
 * clobbers them) and r0 as the prototype says. Helpers without a prototype,
 * or not allowed for the program type, are refused.
 *
 * Callbacks (bpf_loop, bpf_for_each_map_elem) are verified as a call made
 * at the helper's instruction: the caller's path goes on at once as if the
 * callback never ran, and the callback's path, with the arguments the
 * helper gives it, returns to the instruction after the helper (see
 * verifier.c for its repetitions).
 */
#include <errno.h>
#include <linux/bpf.h>

#include "state.h"

enum arg_kind {
	ARG_NONE,
	ARG_ANYTHING,	     /* any initialized value */
	ARG_MAP_PTR,	     /* a map (CONST_PTR_TO_MAP) */
	ARG_MAP_KEY,	     /* key_size readable bytes of the map argument's key */
	ARG_MAP_VALUE,	     /* value_size readable bytes */
	ARG_MAP_VALUE_OUT,   /* value_size writable bytes (pop, peek) */
	ARG_MEM,	     /* readable memory, its size in the next argument */
	ARG_MEM_OR_NULL,     /* the same, or the constant 0 */
	ARG_MEM_OUT,	     /* writable memory, its size in the next argument */
	ARG_MEM_OUT_OR_NULL, /* the same, or the constant 0 */
	ARG_SIZE,	     /* the size of the previous argument, above 0 */
	ARG_SIZE_OR_ZERO,    /* the same, 0 allowed */
	ARG_ALLOC_SIZE,	     /* a constant size to allocate (ringbuf_reserve) */
	ARG_CTX,	     /* the unmodified context pointer */
	ARG_FUNC,	     /* a function of the program (callback) */
	ARG_STACK_OR_NULL,   /* a stack pointer or the constant 0 (callback context) */
	ARG_RINGBUF_RELEASE, /* a reservation, at its start, released by the call */
	ARG_CONST_STR,	     /* a NUL-terminated string in read-only map memory */
};

enum ret_kind {
	RET_SCALAR,		/* any 64-bit value */
	RET_U32,		/* a value below 2^32 */
	RET_VOID,		/* nothing: r0 unreadable */
	RET_MAP_VALUE_OR_NULL,	/* a value of the map argument, or NULL */
	RET_RINGBUF_MEM_OR_NULL /* a new reservation of the constant size, or NULL */
};

/* Program types: bits of enum uebpf_prog_type. */
#define T(x) (1u << UEBPF_PROG_##x)
#define T_TRACING (T(KPROBE) | T(RAW_TRACEPOINT) | T(TRACEPOINT) | T(RAW_MEM))
#define T_NET (T(SOCKET_FILTER) | T(SCHED_CLS) | T(XDP))
#define T_ALL (T_TRACING | T_NET)

enum {
	H_PKT_CHANGE = 1u << 0, /* moves packet data: packet pointers become stale */
};

/* Map types a helper takes (0: any map type that does not restrict its helpers). */
enum map_need {
	NEED_ANY,
	NEED_PROG_ARRAY,
	NEED_RINGBUF,
	NEED_PERF_ARRAY,
	NEED_QUEUE_STACK,
	NEED_WALKABLE, /* for_each_map_elem: arrays and hashes */
};

struct helper_proto {
	uint32_t id;
	const char *name;
	enum ret_kind ret;
	uint8_t args[5]; /* enum arg_kind */
	uint32_t types;	 /* program types allowed */
	uint8_t need;	 /* enum map_need */
	uint8_t flags;
};

#define MAPK ARG_MAP_PTR, ARG_MAP_KEY

/* IDs as in linux/bpf.h; availability per type as the kernel's for a privileged loader. */
static const struct helper_proto protos[] = {
	{BPF_FUNC_map_lookup_elem, "map_lookup_elem", RET_MAP_VALUE_OR_NULL, {MAPK}, T_ALL},
	{BPF_FUNC_map_update_elem,
	 "map_update_elem",
	 RET_SCALAR,
	 {MAPK, ARG_MAP_VALUE, ARG_ANYTHING},
	 T_ALL},
	{BPF_FUNC_map_delete_elem, "map_delete_elem", RET_SCALAR, {MAPK}, T_ALL},
	{BPF_FUNC_map_push_elem,
	 "map_push_elem",
	 RET_SCALAR,
	 {ARG_MAP_PTR, ARG_MAP_VALUE, ARG_ANYTHING},
	 T_ALL,
	 NEED_QUEUE_STACK},
	{BPF_FUNC_map_pop_elem,
	 "map_pop_elem",
	 RET_SCALAR,
	 {ARG_MAP_PTR, ARG_MAP_VALUE_OUT},
	 T_ALL,
	 NEED_QUEUE_STACK},
	{BPF_FUNC_map_peek_elem,
	 "map_peek_elem",
	 RET_SCALAR,
	 {ARG_MAP_PTR, ARG_MAP_VALUE_OUT},
	 T_ALL,
	 NEED_QUEUE_STACK},
	{BPF_FUNC_ringbuf_output,
	 "ringbuf_output",
	 RET_SCALAR,
	 {ARG_MAP_PTR, ARG_MEM, ARG_SIZE_OR_ZERO, ARG_ANYTHING},
	 T_ALL,
	 NEED_RINGBUF},
	{BPF_FUNC_ringbuf_reserve,
	 "ringbuf_reserve",
	 RET_RINGBUF_MEM_OR_NULL,
	 {ARG_MAP_PTR, ARG_ALLOC_SIZE, ARG_ANYTHING},
	 T_ALL,
	 NEED_RINGBUF},
	{BPF_FUNC_ringbuf_submit,
	 "ringbuf_submit",
	 RET_VOID,
	 {ARG_RINGBUF_RELEASE, ARG_ANYTHING},
	 T_ALL},
	{BPF_FUNC_ringbuf_discard,
	 "ringbuf_discard",
	 RET_VOID,
	 {ARG_RINGBUF_RELEASE, ARG_ANYTHING},
	 T_ALL},
	{BPF_FUNC_ringbuf_query,
	 "ringbuf_query",
	 RET_SCALAR,
	 {ARG_MAP_PTR, ARG_ANYTHING},
	 T_ALL,
	 NEED_RINGBUF},
	{BPF_FUNC_perf_event_output,
	 "perf_event_output",
	 RET_SCALAR,
	 {ARG_CTX, ARG_MAP_PTR, ARG_ANYTHING, ARG_MEM, ARG_SIZE_OR_ZERO},
	 T_ALL,
	 NEED_PERF_ARRAY},
	{BPF_FUNC_tail_call,
	 "tail_call",
	 RET_SCALAR,
	 {ARG_CTX, ARG_MAP_PTR, ARG_ANYTHING},
	 T_ALL,
	 NEED_PROG_ARRAY},
	{BPF_FUNC_ktime_get_ns, "ktime_get_ns", RET_SCALAR, {ARG_NONE}, T_ALL},
	{BPF_FUNC_ktime_get_boot_ns, "ktime_get_boot_ns", RET_SCALAR, {ARG_NONE}, T_ALL},
	{BPF_FUNC_ktime_get_coarse_ns,
	 "ktime_get_coarse_ns",
	 RET_SCALAR,
	 {ARG_NONE},
	 T_NET | T(RAW_MEM)},
	{BPF_FUNC_get_prandom_u32, "get_prandom_u32", RET_U32, {ARG_NONE}, T_ALL},
	{BPF_FUNC_get_smp_processor_id, "get_smp_processor_id", RET_U32, {ARG_NONE}, T_ALL},
	{BPF_FUNC_get_numa_node_id, "get_numa_node_id", RET_U32, {ARG_NONE}, T_ALL},
	{BPF_FUNC_get_current_pid_tgid, "get_current_pid_tgid", RET_SCALAR, {ARG_NONE}, T_ALL},
	{BPF_FUNC_get_current_uid_gid, "get_current_uid_gid", RET_SCALAR, {ARG_NONE}, T_ALL},
	{BPF_FUNC_get_current_comm, "get_current_comm", RET_SCALAR, {ARG_MEM_OUT, ARG_SIZE}, T_ALL},
	{BPF_FUNC_get_func_ip, "get_func_ip", RET_SCALAR, {ARG_CTX}, T(KPROBE)},
	{BPF_FUNC_get_attach_cookie, "get_attach_cookie", RET_SCALAR, {ARG_CTX}, T_TRACING},
	{BPF_FUNC_probe_read,
	 "probe_read",
	 RET_SCALAR,
	 {ARG_MEM_OUT, ARG_SIZE_OR_ZERO, ARG_ANYTHING},
	 T_TRACING},
	{BPF_FUNC_probe_read_str,
	 "probe_read_str",
	 RET_SCALAR,
	 {ARG_MEM_OUT, ARG_SIZE_OR_ZERO, ARG_ANYTHING},
	 T_TRACING},
	{BPF_FUNC_probe_read_user,
	 "probe_read_user",
	 RET_SCALAR,
	 {ARG_MEM_OUT, ARG_SIZE_OR_ZERO, ARG_ANYTHING},
	 T_ALL},
	{BPF_FUNC_probe_read_user_str,
	 "probe_read_user_str",
	 RET_SCALAR,
	 {ARG_MEM_OUT, ARG_SIZE_OR_ZERO, ARG_ANYTHING},
	 T_ALL},
	{BPF_FUNC_probe_read_kernel,
	 "probe_read_kernel",
	 RET_SCALAR,
	 {ARG_MEM_OUT, ARG_SIZE_OR_ZERO, ARG_ANYTHING},
	 T_ALL},
	{BPF_FUNC_probe_read_kernel_str,
	 "probe_read_kernel_str",
	 RET_SCALAR,
	 {ARG_MEM_OUT, ARG_SIZE_OR_ZERO, ARG_ANYTHING},
	 T_ALL},
	{BPF_FUNC_probe_write_user,
	 "probe_write_user",
	 RET_SCALAR,
	 {ARG_ANYTHING, ARG_MEM, ARG_SIZE},
	 T(KPROBE) | T(RAW_MEM)},
	{BPF_FUNC_trace_printk, "trace_printk", RET_SCALAR, {ARG_MEM, ARG_SIZE}, T_ALL},
	{BPF_FUNC_snprintf,
	 "snprintf",
	 RET_SCALAR,
	 {ARG_MEM_OUT_OR_NULL, ARG_SIZE_OR_ZERO, ARG_CONST_STR, ARG_MEM_OR_NULL, ARG_SIZE_OR_ZERO},
	 T_ALL},
	{BPF_FUNC_csum_diff,
	 "csum_diff",
	 RET_SCALAR,
	 {ARG_MEM_OR_NULL, ARG_SIZE_OR_ZERO, ARG_MEM_OR_NULL, ARG_SIZE_OR_ZERO, ARG_ANYTHING},
	 T(SCHED_CLS) | T(XDP) | T(RAW_MEM)},
	{BPF_FUNC_strncmp, "strncmp", RET_SCALAR, {ARG_MEM, ARG_SIZE, ARG_CONST_STR}, T_ALL},
	{BPF_FUNC_loop,
	 "loop",
	 RET_SCALAR,
	 {ARG_ANYTHING, ARG_FUNC, ARG_STACK_OR_NULL, ARG_ANYTHING},
	 T_ALL},
	{BPF_FUNC_for_each_map_elem,
	 "for_each_map_elem",
	 RET_SCALAR,
	 {ARG_MAP_PTR, ARG_FUNC, ARG_STACK_OR_NULL, ARG_ANYTHING},
	 T_ALL,
	 NEED_WALKABLE},
	{BPF_FUNC_xdp_adjust_head,
	 "xdp_adjust_head",
	 RET_SCALAR,
	 {ARG_CTX, ARG_ANYTHING},
	 T(XDP),
	 NEED_ANY,
	 H_PKT_CHANGE},
	{BPF_FUNC_xdp_adjust_tail,
	 "xdp_adjust_tail",
	 RET_SCALAR,
	 {ARG_CTX, ARG_ANYTHING},
	 T(XDP),
	 NEED_ANY,
	 H_PKT_CHANGE},
	{BPF_FUNC_xdp_adjust_meta,
	 "xdp_adjust_meta",
	 RET_SCALAR,
	 {ARG_CTX, ARG_ANYTHING},
	 T(XDP),
	 NEED_ANY,
	 H_PKT_CHANGE},
	{BPF_FUNC_skb_load_bytes,
	 "skb_load_bytes",
	 RET_SCALAR,
	 {ARG_CTX, ARG_ANYTHING, ARG_MEM_OUT, ARG_SIZE},
	 T(SOCKET_FILTER) | T(SCHED_CLS)},
	{BPF_FUNC_skb_store_bytes,
	 "skb_store_bytes",
	 RET_SCALAR,
	 {ARG_CTX, ARG_ANYTHING, ARG_MEM, ARG_SIZE, ARG_ANYTHING},
	 T(SCHED_CLS),
	 NEED_ANY,
	 H_PKT_CHANGE},
};

static const struct helper_proto *find_proto(uint32_t id)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].id == id)
			return &protos[i];
	return NULL;
}

uint16_t helper_args_read(uint32_t id)
{
	const struct helper_proto *p = find_proto(id);
	uint16_t regs = 0;

	if (!p)
		return 0x3e;
	for (unsigned i = 0; i < 5; i++)
		if (p->args[i] != ARG_NONE)
			regs |= (uint16_t)(1u << (i + 1));
	return regs;
}

static bool is_walkable(uint32_t t)
{
	return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* The kernel's check_map_func_compatibility, both ways. */
static bool map_fits(const struct helper_proto *p, uint32_t t)
{
	bool fits;

	switch (p->need) {
	case NEED_PROG_ARRAY:
		return t == BPF_MAP_TYPE_PROG_ARRAY;
	case NEED_RINGBUF:
		return t == BPF_MAP_TYPE_RINGBUF;
	case NEED_PERF_ARRAY:
		return t == BPF_MAP_TYPE_PERF_EVENT_ARRAY;
	case NEED_QUEUE_STACK:
		return t == BPF_MAP_TYPE_QUEUE || t == BPF_MAP_TYPE_STACK ||
		       (t == BPF_MAP_TYPE_BLOOM_FILTER && p->id != BPF_FUNC_map_pop_elem);
	case NEED_WALKABLE:
		return is_walkable(t);
	default:
		fits = t != BPF_MAP_TYPE_PROG_ARRAY && t != BPF_MAP_TYPE_RINGBUF &&
		       t != BPF_MAP_TYPE_PERF_EVENT_ARRAY && t != BPF_MAP_TYPE_QUEUE &&
		       t != BPF_MAP_TYPE_STACK && t != BPF_MAP_TYPE_BLOOM_FILTER;
		return fits;
	}
}

/* What the argument checks learnt, for the later arguments and the return. */
struct call_meta {
	const struct verifier_map *map;
	uint16_t map_idx;
	bool map_rdonly;
	const struct vreg *mem; /* the pointer a size argument sizes */
	unsigned mem_regno;
	bool mem_write, mem_null;
	uint64_t alloc_size;
	const struct vreg *func;
	uint32_t release_ref;
};

static bool reg_is_null(const struct vreg *r)
{
	return r->type == V_SCALAR && scalar_is_const(&r->s) && !r->s.var.value;
}

static int bad_type(struct venv *env, size_t pc, unsigned regno, const struct vreg *r,
		    const char *expected)
{
	return v_err(env, -EACCES, pc, "R%u type=%s expected=%s", regno, v_type_names[r->type],
		     expected);
}

static int check_size(struct venv *env, struct vstate *st, unsigned regno, const struct vreg *r,
		      bool zero_ok, struct call_meta *m)
{
	size_t pc = st->pc;

	if (r->type != V_SCALAR)
		return bad_type(env, pc, regno, r, "scalar");
	if (r->s.smin < 0)
		return v_err(env, -EACCES, pc,
			     "R%u min value is negative, either use unsigned or 'var &= const'",
			     regno);
	if (!r->s.umin && !zero_ok)
		return v_err(env, -EACCES, pc, "R%u invalid zero-sized read", regno);
	if (r->s.umax >= V_MAX_VAR_OFF)
		return v_err(
			env, -EACCES, pc,
			"R%u unbounded memory access, use 'var &= const' or 'if (var < const)'",
			regno);
	if (!m->mem || (m->mem_null && reg_is_null(m->mem)) || !r->s.umax)
		return 0;
	return mem_helper_access(env, st, m->mem_regno, m->mem, r->s.umax, m->mem_write);
}

static int check_map_mem(struct venv *env, struct vstate *st, unsigned regno, const struct vreg *r,
			 const struct call_meta *m, uint32_t size, bool write)
{
	if (!m->map)
		return v_err(env, -EACCES, st->pc, "invalid map_ptr to access map->%s",
			     write ? "value" : "key");
	if (!size)
		return 0;
	return mem_helper_access(env, st, regno, r, size, write);
}

static int check_const_str(struct venv *env, size_t pc, unsigned regno, const struct vreg *r)
{
	if (r->type != V_MAP_VALUE)
		return bad_type(env, pc, regno, r, "map_value");
	if (!r->rdonly)
		return v_err(env, -EACCES, pc, "R%u does not point to a readonly map'", regno);
	if (!scalar_is_const(&r->s))
		return v_err(env, -EACCES, pc, "R%u is not a constant address'", regno);
	if (r->off + (int64_t)r->s.var.value < 0 ||
	    r->off + (int64_t)r->s.var.value >= (int64_t)r->range)
		return v_err(env, -EACCES, pc, "R%u invalid access to map value, off=%d size=1",
			     regno, r->off);
	return 0;
}

static bool holds_ref(const struct vstate *st, uint32_t ref)
{
	for (unsigned i = 0; i < st->nrefs; i++)
		if (st->refs[i].id == ref)
			return true;
	return false;
}

static int check_arg(struct venv *env, struct vstate *st, const struct helper_proto *p, unsigned i,
		     struct call_meta *m)
{
	unsigned regno = i + 1;
	const struct vreg *r = &cur_regs(st)[regno];
	size_t pc = st->pc;
	bool ptr_ok;

	if (p->args[i] == ARG_NONE)
		return 0;
	if (r->type == V_NOT_INIT)
		return v_err(env, -EACCES, pc, "R%u !read_ok", regno);
	switch (p->args[i]) {
	case ARG_MAP_PTR:
		if (r->type != V_MAP_PTR)
			return bad_type(env, pc, regno, r, "map_ptr");
		m->map = reg_map(env, r);
		m->map_idx = r->map;
		m->map_rdonly = (m->map->flags & BPF_F_RDONLY_PROG) != 0;
		if (!map_fits(p, m->map->type))
			return v_err(env, -EINVAL, pc, "cannot pass map_type %u into func %s#%u",
				     m->map->type, p->name, p->id);
		return 0;
	case ARG_MAP_KEY:
		return check_map_mem(env, st, regno, r, m, m->map ? m->map->key_size : 0, false);
	case ARG_MAP_VALUE:
	case ARG_MAP_VALUE_OUT:
		return check_map_mem(env, st, regno, r, m, m->map ? m->map->value_size : 0,
				     p->args[i] == ARG_MAP_VALUE_OUT);
	case ARG_MEM:
	case ARG_MEM_OR_NULL:
	case ARG_MEM_OUT:
	case ARG_MEM_OUT_OR_NULL:
		m->mem = r;
		m->mem_regno = regno;
		m->mem_write = p->args[i] == ARG_MEM_OUT || p->args[i] == ARG_MEM_OUT_OR_NULL;
		m->mem_null = p->args[i] == ARG_MEM_OR_NULL || p->args[i] == ARG_MEM_OUT_OR_NULL;
		if (m->mem_null && reg_is_null(r))
			return 0;
		ptr_ok = r->type == V_STACK || r->type == V_PKT || r->type == V_PKT_META ||
			 r->type == V_MAP_VALUE || r->type == V_MAP_KEY || r->type == V_RINGBUF_MEM;
		if (!ptr_ok)
			return bad_type(env, pc, regno, r, "fp, pkt, pkt_meta, map_value, mem");
		return 0;
	case ARG_SIZE:
	case ARG_SIZE_OR_ZERO:
		return check_size(env, st, regno, r, p->args[i] == ARG_SIZE_OR_ZERO, m);
	case ARG_ALLOC_SIZE:
		if (r->type != V_SCALAR || !scalar_is_const(&r->s))
			return v_err(env, -EACCES, pc, "R%u is not a known constant'", regno);
		m->alloc_size = r->s.var.value;
		return 0;
	case ARG_CTX:
		if (env->raw ? r->type != V_PKT : r->type != V_CTX)
			return bad_type(env, pc, regno, r, "ctx");
		if (r->off || !scalar_is_const(&r->s) || r->s.var.value)
			return v_err(env, -EACCES, pc,
				     "dereference of modified ctx ptr R%u off=%d disallowed", regno,
				     r->off);
		return 0;
	case ARG_FUNC:
		if (r->type != V_FUNC)
			return bad_type(env, pc, regno, r, "func");
		m->func = r;
		return 0;
	case ARG_STACK_OR_NULL:
		if (r->type != V_STACK && !reg_is_null(r))
			return bad_type(env, pc, regno, r, "fp");
		return 0;
	case ARG_RINGBUF_RELEASE:
		if (r->type != V_RINGBUF_MEM)
			return bad_type(env, pc, regno, r, "ringbuf_mem");
		if (r->off || !scalar_is_const(&r->s) || r->s.var.value)
			return v_err(env, -EACCES, pc,
				     "R%u must have zero offset when passed to release func",
				     regno);
		if (!holds_ref(st, r->ref))
			return v_err(env, -EINVAL, pc, "release reference id=%u not found", r->ref);
		m->release_ref = r->ref;
		return 0;
	case ARG_CONST_STR:
		return check_const_str(env, pc, regno, r);
	default:
		return 0;
	}
}

static void release_ref(struct vstate *st, uint32_t ref)
{
	for (unsigned i = 0; i < st->nrefs; i++) {
		if (st->refs[i].id == ref) {
			st->refs[i] = st->refs[--st->nrefs];
			break;
		}
	}
	regs_invalidate_ref(st, ref);
}

/*
 * The callback's frame on top of st, whose innermost frame made the call:
 * its argument registers as the helper gives them, from the caller's
 * (still unclobbered) r1-r5.
 */
static int callback_frame(struct venv *env, struct vstate *st, uint32_t helper, size_t target)
{
	const struct vreg *caller = cur_regs(st);
	struct vframe *f;
	struct vreg *r;

	if (st->curframe + 1 >= ISA_MAX_CALL_DEPTH)
		return v_err(env, -E2BIG, st->pc, "the call stack of %d frames is too deep",
			     st->curframe + 2);
	f = frame_new();
	if (!f)
		return v_err(env, -ENOMEM, st->pc, "out of memory");
	r = f->regs;
	for (unsigned i = 0; i < ISA_NREGS; i++)
		reg_mark_not_init(&r[i]);
	if (helper == BPF_FUNC_loop) {
		reg_mark_unknown(&r[1]);
		r[1].s = scalar_bytes(4);
		r[2] = caller[3];
	} else {
		const struct verifier_map *map = reg_map(env, &caller[1]);

		r[1] = caller[1];
		r[2] = (struct vreg){.type = V_MAP_KEY,
				     .rdonly = true,
				     .range = map->key_size,
				     .map = caller[1].map,
				     .s = scalar_const(0)};
		r[3] = (struct vreg){.type = V_MAP_VALUE,
				     .rdonly = (map->flags & BPF_F_RDONLY_PROG) != 0,
				     .range = map->value_size,
				     .map = caller[1].map,
				     .s = scalar_const(0)};
		r[4] = caller[3];
	}
	r[ISA_REG_FP] = (struct vreg){
		.type = V_STACK, .frameno = (uint8_t)(st->curframe + 1), .s = scalar_const(0)};
	f->callsite = (int)st->pc;
	f->cb_helper = helper;
	f->subprog = env->subprog_of[target];
	st->frames[++st->curframe] = f;
	st->pc = target;
	return 0;
}

int helper_callback_enter(struct venv *env, struct vstate *st, uint32_t helper, size_t target)
{
	return callback_frame(env, st, helper, target);
}

int helper_callback_ret(struct venv *env, const struct vstate *st)
{
	const struct vreg *r0 = &cur_regs(st)[0];

	if (r0->type != V_SCALAR)
		return v_err(env, -EACCES, st->pc,
			     "At callback return the register R0 is not a "
			     "known value (%s)",
			     v_type_names[r0->type]);
	if (r0->s.smin < 0 || r0->s.smax > 1)
		return v_err(env, -EACCES, st->pc,
			     "At callback return the register R0 has smin=%lld smax=%lld should "
			     "have been in [0, 1]",
			     (long long)r0->s.smin, (long long)r0->s.smax);
	return 0;
}

static int set_return(struct venv *env, struct vstate *st, const struct helper_proto *p,
		      const struct call_meta *m)
{
	struct vreg *r0 = &cur_regs(st)[0];

	switch (p->ret) {
	case RET_VOID:
		reg_mark_not_init(r0);
		return 0;
	case RET_U32:
		reg_mark_unknown(r0);
		r0->s = scalar_bytes(4);
		return 0;
	case RET_MAP_VALUE_OR_NULL:
		*r0 = (struct vreg){.type = V_MAP_VALUE_OR_NULL,
				    .id = ++env->next_id,
				    .rdonly = m->map_rdonly,
				    .range = m->map->value_size,
				    .map = m->map_idx,
				    .s = scalar_const(0)};
		return 0;
	case RET_RINGBUF_MEM_OR_NULL:
		if (st->nrefs == V_MAX_REFS)
			return v_err(env, -E2BIG, st->pc, "more than %u references held",
				     V_MAX_REFS);
		if (m->alloc_size >= V_MAX_VAR_OFF)
			return v_err(env, -EACCES, st->pc, "R2 size %llu is too large",
				     (unsigned long long)m->alloc_size);
		*r0 = (struct vreg){.type = V_RINGBUF_MEM_OR_NULL,
				    .id = ++env->next_id,
				    .range = (uint32_t)m->alloc_size,
				    .s = scalar_const(0)};
		r0->ref = r0->id;
		st->refs[st->nrefs++] = (struct vref){.id = r0->id, .insn = (uint32_t)st->pc};
		return 0;
	default:
		reg_mark_unknown(r0);
		return 0;
	}
}

int helper_call(struct venv *env, struct vstate *st, struct vstate **cb)
{
	const struct isa_insn *in = &env->insns[st->pc];
	const struct helper_proto *p = find_proto((uint32_t)in->imm);
	struct call_meta m = {0};
	struct vreg *regs = cur_regs(st);
	int ret;

	*cb = NULL;
	if (!p)
		return v_err(env, -EINVAL, st->pc, "invalid func unknown#%d", in->imm);
	if (!(p->types & (1u << env->opts.type)))
		return v_err(env, -EINVAL, st->pc,
			     "program of this type cannot use helper bpf_%s#%u", p->name, p->id);
	for (unsigned i = 0; i < 5; i++) {
		ret = check_arg(env, st, p, i, &m);
		if (ret)
			return ret;
	}
	if (p->id == BPF_FUNC_tail_call && st->nrefs)
		return v_err(env, -EINVAL, st->pc, "tail_call would lead to reference leak");
	if (m.func) {
		*cb = state_copy(st);
		if (!*cb)
			return v_err(env, -ENOMEM, st->pc, "out of memory");
		ret = callback_frame(env, *cb, p->id, (size_t)m.func->off);
		if (ret) {
			state_free(*cb);
			*cb = NULL;
			return ret;
		}
	}
	if (m.release_ref)
		release_ref(st, m.release_ref);
	if (p->flags & H_PKT_CHANGE)
		regs_forget_pkt(st);
	for (unsigned r = 1; r <= 5; r++)
		reg_mark_not_init(&regs[r]);
	return set_return(env, st, p, &m);
}
