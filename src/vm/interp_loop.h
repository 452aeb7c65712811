/* SPDX-License-Identifier: MIT */
/*
 * The interpreter's loop, included by interp.c once per variant: without an
 * instruction budget, and with one (INTERP_BUDGET 1), so the common case pays
 * nothing for the count. Expects INTERP_NAME and INTERP_BUDGET, and
 * INTERP_SUB 1 for the variant that runs a callback for a helper
 * (vm_engine.call_sub): it starts at a given op with r1-r5 given, and its
 * frames continue the calling run's stack below the caller's frame, so
 * pointers into the caller's frames stay valid and the depth limit counts
 * them all.
 *
 * Dispatch is direct threading over the decoded ops: each handler ends by
 * jumping through the label table to the next op's handler. Registers live
 * in a local array; op->dst and op->src index it. The stack is a local array
 * of eight 512-byte frames; r10 points at the top of the current frame and
 * a local call moves it down by one frame.
 */

#if INTERP_SUB
static uint64_t INTERP_NAME(struct vm_run *run, const struct vm_op *start, const uint64_t *args)
#else
static uint64_t INTERP_NAME(struct vm_run *run, uint64_t r1, uint64_t r2)
#endif
{
	static const void *const labels[VM_NOPCODES] = {
#define VM_LABEL(name) [VM_##name] = &&L_##name,
		VM_OPS(VM_LABEL)
#undef VM_LABEL
	};
	const struct uebpf_vm *vm = run->vm;
	/* what a program reads before writing is 0 on every engine (r1, r2, r10 are set) */
	uint64_t reg[ISA_NREGS] = {0};
#if INTERP_SUB
	const struct vm_op *op = start;
	const uintptr_t stack_top = run->stack_hi;
	uintptr_t frame_lo = run->frame_lo - ISA_STACK_SIZE;
	/* frames left on the run's stack, this one included */
	const unsigned max_depth = (unsigned)((frame_lo - run->stack_lo) / ISA_STACK_SIZE) + 1;
#else
	const struct vm_op *op = vm->ops;
	uint8_t stack[ISA_STACK_SIZE * ISA_MAX_CALL_DEPTH] __attribute__((aligned(16)));
	const uintptr_t stack_top = (uintptr_t)(stack + sizeof(stack));
	uintptr_t frame_lo = stack_top - ISA_STACK_SIZE;
	const unsigned max_depth = ISA_MAX_CALL_DEPTH;
#endif
	struct {
		const struct vm_op *ret;
		uint64_t callee_saved[4];
	} frames[ISA_MAX_CALL_DEPTH];
	unsigned depth = 0;
	const uintptr_t mem = run->mem;
	/*
	 * An access of size n at a is inside the run's memory when a - mem <
	 * mem_len - n + 1: one compare per access, the limit computed per size
	 * here once (indexed by n / 2: sizes 1, 2, 4, 8).
	 */
	size_t mem_lim[5];
	const struct vm_helper *h;
	uintptr_t a;
#if INTERP_BUDGET
	uint64_t budget = run->budget;
#endif

	for (unsigned n = 1; n <= 8; n *= 2)
		mem_lim[n >> 1] = run->mem_len >= n ? run->mem_len - n + 1 : 0;
#if INTERP_SUB
	if (run->frame_lo < run->stack_lo + ISA_STACK_SIZE) {
		run->fault = VM_FAULT_DEPTH;
		goto out_error;
	}
	memcpy(&reg[1], args, 5 * sizeof(reg[1]));
	reg[ISA_REG_FP] = frame_lo + ISA_STACK_SIZE;
#else
	reg[1] = r1;
	reg[2] = r2;
	reg[ISA_REG_FP] = stack_top;
#endif

#if INTERP_BUDGET
#define DISPATCH()                                                                                 \
	do {                                                                                       \
		if (__builtin_expect(budget-- == 0, 0))                                            \
			goto out_budget;                                                           \
		goto *labels[op->code];                                                            \
	} while (0)
#else
#define DISPATCH() goto *labels[op->code]
#endif
#define NEXT()                                                                                     \
	do {                                                                                       \
		op++;                                                                              \
		DISPATCH();                                                                        \
	} while (0)
#define JUMP()                                                                                     \
	do {                                                                                       \
		op = op->target;                                                                   \
		DISPATCH();                                                                        \
	} while (0)
/*
 * Before a helper call: where the stack is, for the helper's pointer
 * checks, and the current frame, for callbacks. Only then, so runs that
 * call no helper pay nothing; a callback's frames are on the run's stack,
 * already published.
 */
#if INTERP_SUB
#define PUBLISH() (run->frame_lo = frame_lo)
#else
#define PUBLISH()                                                                                  \
	(run->stack_lo = (uintptr_t)stack, run->stack_hi = stack_top, run->frame_lo = frame_lo)
#endif
#define DST reg[op->dst]
#define SRC reg[op->src]
/*
 * The access [a, a + size) is allowed when it lies in the run's memory, in
 * the stack window (the current frame and its callers': a pointer into a
 * caller's frame may be passed down), or in a region of the VM. The run's
 * memory comes first: r10-relative stack accesses were mostly proven at
 * decode, so what reaches here is mostly packet or context memory. Unsigned
 * differences make one comparison test both ends of a range.
 */
#define CHECK(size, write)                                                                         \
	do {                                                                                       \
		if (__builtin_expect(!(a - mem < mem_lim[(size) >> 1] ||                            \
				       a - frame_lo <= stack_top - frame_lo - (size) ||            \
				       vm_region_ok(vm, a, (size), (write))),                      \
				     0))                                                           \
			goto out_fault_##size;                                                     \
	} while (0)
#define LOAD_BODY(type, ext)                                                                       \
	do {                                                                                       \
		type v;                                                                            \
		memcpy(&v, (const void *)a, sizeof(v));                                            \
		DST = (uint64_t)(ext)v;                                                            \
		NEXT();                                                                            \
	} while (0)
#define LOAD(name, type, ext, size)                                                                \
	L_##name : a = SRC + (uint64_t)(int64_t)op->off;                                           \
	CHECK(size, false);                                                                        \
	LOAD_BODY(type, ext);                                                                      \
	L_##name##_FP : a = SRC + (uint64_t)(int64_t)op->off;                                      \
	LOAD_BODY(type, ext);
#define STORE_BODY(type, value)                                                                    \
	do {                                                                                       \
		type v = (type)(value);                                                            \
		memcpy((void *)a, &v, sizeof(v));                                                  \
		NEXT();                                                                            \
	} while (0)
#define STORE(name, type, value, size)                                                             \
	L_##name : a = DST + (uint64_t)(int64_t)op->off;                                           \
	CHECK(size, true);                                                                         \
	STORE_BODY(type, value);                                                                   \
	L_##name##_FP : a = DST + (uint64_t)(int64_t)op->off;                                      \
	STORE_BODY(type, value);
#define BINOP(name, OP)                                                                            \
	L_##name##64_K : DST = DST OP op->k;                                                       \
	NEXT();                                                                                    \
	L_##name##64_X : DST = DST OP SRC;                                                         \
	NEXT();                                                                                    \
	L_##name##32_K : DST = (uint32_t)((uint32_t)DST OP(uint32_t) op->k);                       \
	NEXT();                                                                                    \
	L_##name##32_X : DST = (uint32_t)((uint32_t)DST OP(uint32_t) SRC);                         \
	NEXT();
#define JCOND(name, OP, T64, T32)                                                                  \
	L_##name##64_K : if ((T64)DST OP(T64) op->k) JUMP();                                       \
	NEXT();                                                                                    \
	L_##name##64_X : if ((T64)DST OP(T64) SRC) JUMP();                                         \
	NEXT();                                                                                    \
	L_##name##32_K : if ((T32)DST OP(T32) op->k) JUMP();                                       \
	NEXT();                                                                                    \
	L_##name##32_X : if ((T32)DST OP(T32) SRC) JUMP();                                         \
	NEXT();
#define ATOMIC(name, type, size, ...)                                                              \
	L_##name:                                                                                  \
	a = DST + op->off;                                                                         \
	CHECK(size, true);                                                                         \
	if (__builtin_expect(a & ((size)-1), 0))                                                   \
		goto out_misaligned;                                                               \
	{                                                                                          \
		type *p = (type *)a;                                                               \
		__VA_ARGS__;                                                                       \
	}                                                                                          \
	NEXT();
#define ATOMIC_RMW(name, W, type, size, fn)                                                        \
	ATOMIC(A##name##W, type, size, (void)fn(p, (type)SRC, __ATOMIC_SEQ_CST))                   \
	ATOMIC(AF##name##W, type, size, SRC = fn(p, (type)SRC, __ATOMIC_SEQ_CST))

	DISPATCH();

	BINOP(ADD, +)
	BINOP(SUB, -)
	BINOP(MUL, *)
	BINOP(OR, |)
	BINOP(AND, &)
	BINOP(XOR, ^)

	/* shift counts of K forms were masked at decode */
L_LSH64_K:
	DST <<= op->k;
	NEXT();
L_LSH64_X:
	DST <<= SRC & 63;
	NEXT();
L_LSH32_K:
	DST = (uint32_t)((uint32_t)DST << op->k);
	NEXT();
L_LSH32_X:
	DST = (uint32_t)((uint32_t)DST << (SRC & 31));
	NEXT();
L_RSH64_K:
	DST >>= op->k;
	NEXT();
L_RSH64_X:
	DST >>= SRC & 63;
	NEXT();
L_RSH32_K:
	DST = (uint32_t)DST >> op->k;
	NEXT();
L_RSH32_X:
	DST = (uint32_t)DST >> (SRC & 31);
	NEXT();
L_ARSH64_K:
	DST = (uint64_t)((int64_t)DST >> op->k);
	NEXT();
L_ARSH64_X:
	DST = (uint64_t)((int64_t)DST >> (SRC & 63));
	NEXT();
L_ARSH32_K:
	DST = (uint32_t)((int32_t)DST >> op->k);
	NEXT();
L_ARSH32_X:
	DST = (uint32_t)((int32_t)DST >> (SRC & 31));
	NEXT();

	/* K divisors of 0 and -1 were folded at decode; X ones are tested here (RFC 9669) */
L_DIV64_K:
	DST /= op->k;
	NEXT();
L_DIV64_X:
	DST = SRC ? DST / SRC : 0;
	NEXT();
L_DIV32_K:
	DST = (uint32_t)DST / (uint32_t)op->k;
	NEXT();
L_DIV32_X:
	DST = (uint32_t)SRC ? (uint32_t)DST / (uint32_t)SRC : 0;
	NEXT();
L_MOD64_K:
	DST %= op->k;
	NEXT();
L_MOD64_X:
	DST = SRC ? DST % SRC : DST;
	NEXT();
L_MOD32_K:
	DST = (uint32_t)DST % (uint32_t)op->k;
	NEXT();
L_MOD32_X:
	DST = (uint32_t)SRC ? (uint32_t)DST % (uint32_t)SRC : (uint32_t)DST;
	NEXT();
L_SDIV64_K:
	DST = (uint64_t)((int64_t)DST / (int64_t)op->k);
	NEXT();
L_SDIV64_X:
	if ((int64_t)SRC == -1)
		DST = 0 - DST;
	else
		DST = SRC ? (uint64_t)((int64_t)DST / (int64_t)SRC) : 0;
	NEXT();
L_SDIV32_K:
	DST = (uint32_t)((int32_t)DST / (int32_t)op->k);
	NEXT();
L_SDIV32_X:
	if ((int32_t)SRC == -1)
		DST = (uint32_t)(0 - (uint32_t)DST);
	else
		DST = (uint32_t)SRC ? (uint32_t)((int32_t)DST / (int32_t)SRC) : 0;
	NEXT();
L_SMOD64_K:
	DST = (uint64_t)((int64_t)DST % (int64_t)op->k);
	NEXT();
L_SMOD64_X:
	if ((int64_t)SRC == -1)
		DST = 0;
	else if (SRC)
		DST = (uint64_t)((int64_t)DST % (int64_t)SRC);
	NEXT();
L_SMOD32_K:
	DST = (uint32_t)((int32_t)DST % (int32_t)op->k);
	NEXT();
L_SMOD32_X:
	if ((int32_t)SRC == -1)
		DST = 0;
	else if ((uint32_t)SRC)
		DST = (uint32_t)((int32_t)DST % (int32_t)SRC);
	else
		DST = (uint32_t)DST;
	NEXT();

L_NEG64:
	DST = 0 - DST;
	NEXT();
L_NEG32:
	DST = (uint32_t)(0 - (uint32_t)DST);
	NEXT();
L_MOV64_K:
	DST = op->k;
	NEXT();
L_MOV64_X:
	DST = SRC;
	NEXT();
L_MOV32_X:
	DST = (uint32_t)SRC;
	NEXT();
L_MOVSX8_64:
	DST = (uint64_t)(int64_t)(int8_t)SRC;
	NEXT();
L_MOVSX16_64:
	DST = (uint64_t)(int64_t)(int16_t)SRC;
	NEXT();
L_MOVSX32_64:
	DST = (uint64_t)(int64_t)(int32_t)SRC;
	NEXT();
L_MOVSX8_32:
	DST = (uint32_t)(int32_t)(int8_t)SRC;
	NEXT();
L_MOVSX16_32:
	DST = (uint32_t)(int32_t)(int16_t)SRC;
	NEXT();
L_BE16:
	DST = __builtin_bswap16((uint16_t)DST);
	NEXT();
L_BE32:
	DST = __builtin_bswap32((uint32_t)DST);
	NEXT();
L_BE64:
	DST = __builtin_bswap64(DST);
	NEXT();
L_NOP:
	NEXT();
L_LDDW:
	DST = op->k;
	op += 2;
	DISPATCH();

	JCOND(JEQ, ==, uint64_t, uint32_t)
	JCOND(JNE, !=, uint64_t, uint32_t)
	JCOND(JGT, >, uint64_t, uint32_t)
	JCOND(JGE, >=, uint64_t, uint32_t)
	JCOND(JLT, <, uint64_t, uint32_t)
	JCOND(JLE, <=, uint64_t, uint32_t)
	JCOND(JSGT, >, int64_t, int32_t)
	JCOND(JSGE, >=, int64_t, int32_t)
	JCOND(JSLT, <, int64_t, int32_t)
	JCOND(JSLE, <=, int64_t, int32_t)
	JCOND(JSET, &, uint64_t, uint32_t)
L_JA:
	JUMP();

	/* a fault in a callback the helper ran stops this run too */
L_CALL:
	PUBLISH();
	reg[0] = op->fn(reg[1], reg[2], reg[3], reg[4], reg[5]);
	if (__builtin_expect(run->fault != VM_FAULT_NONE, 0))
		return 0;
	NEXT();
L_CALL_STOPZ:
	PUBLISH();
	reg[0] = op->fn(reg[1], reg[2], reg[3], reg[4], reg[5]);
	if (__builtin_expect(run->fault != VM_FAULT_NONE, 0))
		return 0;
	if (!reg[0])
		goto out_stopped;
	NEXT();
L_CALL_TAILF: {
	struct vm_tail_ret t;

	PUBLISH();
	t = vm_tail_call_frame(reg[1], reg[2], reg[3], reg[4], reg[5]);
	if (__builtin_expect(run->fault != VM_FAULT_NONE, 0))
		return 0;
	reg[0] = t.err ? t.err : t.r0;
	if (!t.err)
		goto L_EXIT;
	NEXT();
}
L_CALLX:
	h = vm_helper(vm, DST);
	if (!h) {
		run->fault = VM_FAULT_HELPER;
		run->addr = DST;
		goto out_error;
	}
	PUBLISH();
	reg[0] = h->fn(reg[1], reg[2], reg[3], reg[4], reg[5]);
	if (__builtin_expect(run->fault != VM_FAULT_NONE, 0))
		return 0;
	if (!reg[0] && (h->flags & UEBPF_HELPER_STOP_ON_ZERO))
		goto out_stopped;
	NEXT();
L_CALL_LOCAL:
	if (depth + 1 == max_depth) {
		run->fault = VM_FAULT_DEPTH;
		goto out_error;
	}
	frames[depth].ret = op + 1;
	memcpy(frames[depth].callee_saved, &reg[6], sizeof(frames[depth].callee_saved));
	depth++;
	reg[ISA_REG_FP] -= ISA_STACK_SIZE;
	frame_lo -= ISA_STACK_SIZE;
	JUMP();
L_EXIT:
	if (!depth) {
#if INTERP_BUDGET && !INTERP_SUB
		run->executed = run->budget - budget;
#endif
		return reg[0];
	}
	depth--;
	op = frames[depth].ret;
	memcpy(&reg[6], frames[depth].callee_saved, sizeof(frames[depth].callee_saved));
	reg[ISA_REG_FP] += ISA_STACK_SIZE;
	frame_lo += ISA_STACK_SIZE;
	DISPATCH();

	LOAD(LDXB, uint8_t, uint64_t, 1)
	LOAD(LDXH, uint16_t, uint64_t, 2)
	LOAD(LDXW, uint32_t, uint64_t, 4)
	LOAD(LDXDW, uint64_t, uint64_t, 8)
	LOAD(LDXSB, int8_t, int64_t, 1)
	LOAD(LDXSH, int16_t, int64_t, 2)
	LOAD(LDXSW, int32_t, int64_t, 4)
	STORE(STB, uint8_t, op->k, 1)
	STORE(STH, uint16_t, op->k, 2)
	STORE(STW, uint32_t, op->k, 4)
	STORE(STDW, uint64_t, op->k, 8)
	STORE(STXB, uint8_t, SRC, 1)
	STORE(STXH, uint16_t, SRC, 2)
	STORE(STXW, uint32_t, SRC, 4)
	STORE(STXDW, uint64_t, SRC, 8)

	ATOMIC_RMW(ADD, 64, uint64_t, 8, __atomic_fetch_add)
	ATOMIC_RMW(OR, 64, uint64_t, 8, __atomic_fetch_or)
	ATOMIC_RMW(AND, 64, uint64_t, 8, __atomic_fetch_and)
	ATOMIC_RMW(XOR, 64, uint64_t, 8, __atomic_fetch_xor)
	ATOMIC_RMW(ADD, 32, uint32_t, 4, __atomic_fetch_add)
	ATOMIC_RMW(OR, 32, uint32_t, 4, __atomic_fetch_or)
	ATOMIC_RMW(AND, 32, uint32_t, 4, __atomic_fetch_and)
	ATOMIC_RMW(XOR, 32, uint32_t, 4, __atomic_fetch_xor)
	ATOMIC(AXCHG64, uint64_t, 8, SRC = __atomic_exchange_n(p, SRC, __ATOMIC_SEQ_CST))
	ATOMIC(AXCHG32, uint32_t, 4,
	       SRC = __atomic_exchange_n(p, (uint32_t)SRC, __ATOMIC_SEQ_CST))
	ATOMIC(ACMPXCHG64, uint64_t, 8, {
		uint64_t old = reg[0];
		__atomic_compare_exchange_n(p, &old, SRC, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
		reg[0] = old;
	})
	ATOMIC(ACMPXCHG32, uint32_t, 4, {
		uint32_t old = (uint32_t)reg[0];
		__atomic_compare_exchange_n(p, &old, (uint32_t)SRC, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
		reg[0] = old;
	})

out_stopped:
#if INTERP_BUDGET && !INTERP_SUB
	run->executed = run->budget - budget;
#endif
	return 0;
out_fault_1:
	run->size = 1;
	goto out_fault;
out_fault_2:
	run->size = 2;
	goto out_fault;
out_fault_4:
	run->size = 4;
	goto out_fault;
out_fault_8:
	run->size = 8;
out_fault:
	run->fault = VM_FAULT_MEM;
	run->addr = a;
	goto out_error;
out_misaligned:
	run->fault = VM_FAULT_ALIGN;
	run->addr = a;
	goto out_error;
#if INTERP_BUDGET
out_budget:
	run->fault = VM_FAULT_BUDGET;
	run->addr = run->budget;
#endif
out_error:
	run->pc = (size_t)(op - vm->ops);
	return 0;

#undef DISPATCH
#undef NEXT
#undef JUMP
#undef PUBLISH
#undef DST
#undef SRC
#undef CHECK
#undef LOAD_BODY
#undef LOAD
#undef STORE_BODY
#undef STORE
#undef BINOP
#undef JCOND
#undef ATOMIC
#undef ATOMIC_RMW
}

#undef INTERP_NAME
#undef INTERP_BUDGET
#undef INTERP_SUB
