// SPDX-License-Identifier: MIT
/*
 * The translation of a decoded program into C, one statement (or small
 * block) per eBPF instruction, each under a comment with its index and text.
 *
 * The input is vm->ops, the form the interpreter runs, so that every
 * simplification decode made (constant divisors 0 and -1 folded, shift
 * counts masked, le turned into truncation) applies here alike and the two
 * engines cannot disagree about it. Each expression below is the C reading
 * of the matching handler in vm/interp_loop.h, written so that it has no
 * undefined behaviour at any input: arithmetic is unsigned, signed division
 * is guarded against -1 and 0, memory goes through __builtin_memcpy.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aot_internal.h"
#include "isa/asm.h"

/* Per slot marks of the analysis pass. */
enum {
	MARK_INSN = 1,	/* an instruction starts here (not the second slot of lddw) */
	MARK_LABEL = 2, /* a jump, local call or return lands here */
	MARK_BLOCK = 4, /* a counting block starts here */
	MARK_CALLBACK = 8, /* a callback starts here: an entry of call_sub */
};

struct emit {
	FILE *f;
	const struct uebpf_vm *vm;
	const struct aot_opts *opts;
	const struct aot_plan *plan;
	uint8_t *mark;
	uint32_t *rest; /* budgeted: instructions of its counting block after this one */
	uint32_t *len;	/* at the start of a counting block: its length */
	uint32_t *ret;	/* local calls: the number of their return site */
	size_t nret;
};

static const char *const reg[ISA_NREGS] = {"r0", "r1", "r2", "r3", "r4", "r5",
					   "r6", "r7", "r8", "r9", "r10"};

/*
 * The generated file begins with the run interface of aot_internal.h
 * restated in C, then the primitives every statement uses (emit_head).
 */
static const char prelude[] =
	"#include <stdint.h>\n"
	"\n"
	"typedef uint64_t (*aot_helper_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);\n"
	"typedef void *(*aot_lookup_fn)(void *map, const void *key);\n"
	"typedef int (*aot_update_fn)(void *map, const void *key, const void *value,\n"
	"\t\t\t     uint64_t flags);\n"
	"typedef int (*aot_delete_fn)(void *map, const void *key);\n"
	"\n"
	"struct aot_tail {\n"
	"\tuint64_t err, r0;\n"
	"};\n"
	"\n"
	"struct aot_ctx {\n"
	"\tuint64_t r1, r2, r3, r4, r5;\n"
	"\tuint64_t mem, mem_len;\n"
	"\tuint64_t budget;\n"
	"\tconst aot_helper_fn *helpers;\n"
	"\t_Bool (*region_ok)(const void *vm, uintptr_t addr, unsigned size, _Bool write);\n"
	"\taot_helper_fn (*helper)(const void *vm, uint64_t id, unsigned *flags);\n"
	"\tconst void *vm;\n"
	"\tconst uint64_t *maps;\n"
	"\tuint64_t ops;\n"
	"\tuint64_t entry;\n"
	"\tconst volatile int32_t *cpu_id;\n"
	"\tuint64_t *prandom;\n"
	"\tuintptr_t *stack_lo, *stack_hi, *frame_lo;\n"
	"\tconst volatile uint32_t *run_fault;\n"
	"\tstruct aot_tail (*tail_frame)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);\n"
	"\tuint64_t executed;\n"
	"\tuint64_t pc, addr;\n"
	"\tuint32_t fault, size;\n"
	"};\n"
	"\n"
	"struct aot_frame {\n"
	"\tuint32_t ret;\n"
	"\tuint64_t r6, r7, r8, r9;\n"
	"};\n"
	"\n"
	"#define AOT_UNUSED __attribute__((unused))\n"
	"\n"
	"/*\n"
	" * Addresses come from the program. One the compiler can see is invalid\n"
	" * (NULL + 16) faults at run time, as the check before it says: nothing\n"
	" * to warn about here.\n"
	" */\n"
	"#pragma GCC diagnostic ignored \"-Warray-bounds\"\n"
	"\n"
	"/* The slow path of AOT_OK: regions of the VM, looked up by the host. */\n"
	"AOT_UNUSED __attribute__((noinline, cold)) static _Bool\n"
	"aot_region(struct aot_ctx *ctx, uint64_t a, unsigned size, _Bool write)\n"
	"{\n"
	"\treturn ctx->region_ok(ctx->vm, (uintptr_t)a, size, write);\n"
	"}\n"
	"\n"
	"/*\n"
	" * Stop with a fault at instruction pc, the count-th one run. Had the\n"
	" * count gone past the budget, the interpreter would have stopped for\n"
	" * the budget first, so that is what is reported.\n"
	" */\n"
	"AOT_UNUSED __attribute__((noinline, cold)) static uint64_t\n"
	"aot_fault(struct aot_ctx *ctx, uint32_t fault, uint64_t pc, uint64_t addr,\n"
	"\t  uint32_t size, uint64_t count)\n"
	"{\n"
	"\tif (ctx->budget && count > ctx->budget) {\n"
	"\t\tfault = AOT_FAULT_BUDGET;\n"
	"\t\taddr = ctx->budget;\n"
	"\t\tsize = 0;\n"
	"\t}\n"
	"\tctx->fault = fault;\n"
	"\tctx->pc = pc;\n"
	"\tctx->addr = addr;\n"
	"\tctx->size = size;\n"
	"\treturn 0;\n"
	"}\n"
	"\n"
	"AOT_UNUSED static inline uint64_t aot_budget(struct aot_ctx *ctx, uint64_t pc)\n"
	"{\n"
	"\treturn aot_fault(ctx, AOT_FAULT_BUDGET, pc, ctx->budget, 0, 0);\n"
	"}\n"
	"\n"
	"AOT_UNUSED static inline uint64_t aot_exit(struct aot_ctx *ctx, uint64_t pc,\n"
	"\t\t\t\t\t    uint64_t used, uint64_t r0)\n"
	"{\n"
	"\tif (used > ctx->budget)\n"
	"\t\treturn aot_budget(ctx, pc);\n"
	"\tctx->executed = used;\n"
	"\treturn r0;\n"
	"}\n"
	"\n"
	"/* vm_run_mem_ok's test: [a, a + size) inside [base, base + len). */\n"
	"AOT_UNUSED static inline _Bool aot_in(uint64_t a, uint64_t size, uint64_t base,\n"
	"\t\t\t\t\t   uint64_t len)\n"
	"{\n"
	"\treturn a - base < len && size <= len - (a - base);\n"
	"}\n";

/*
 * Open-coded helpers (emit_inline_call): each the C reading of its function
 * in src/helpers, so that the results are the same. The clock is libc's
 * clock_gettime (the vDSO), resolved when the object is loaded.
 */
static const char inline_prelude[] =
	"struct aot_timespec {\n"
	"\tint64_t tv_sec;\n"
	"\tlong tv_nsec;\n"
	"};\n"
	"\n"
	"extern int clock_gettime(int clock, struct aot_timespec *ts);\n"
	"\n"
	"AOT_UNUSED static inline uint64_t aot_clock_ns(int clock)\n"
	"{\n"
	"\tstruct aot_timespec ts;\n"
	"\n"
	"\tclock_gettime(clock, &ts);\n"
	"\treturn (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;\n"
	"}\n"
	"\n"
	"/* bpf_csum_diff's sum of 32-bit words, complemented for the from side */\n"
	"AOT_UNUSED static inline uint64_t aot_csum_words(uint64_t sum, uint64_t p,\n"
	"\t\t\t\t\t\t  uint64_t size, _Bool negate)\n"
	"{\n"
	"\tfor (uint64_t i = 0; i < size; i += 4) {\n"
	"\t\tuint32_t w;\n"
	"\n"
	"\t\t__builtin_memcpy(&w, (const void *)(uintptr_t)(p + i), sizeof(w));\n"
	"\t\tsum += negate ? ~w : w;\n"
	"\t}\n"
	"\treturn sum;\n"
	"}\n"
	"\n"
	"AOT_UNUSED static inline uint64_t aot_csum_fold(uint64_t sum)\n"
	"{\n"
	"\twhile (sum >> 16)\n"
	"\t\tsum = (sum & 0xffff) + (sum >> 16);\n"
	"\treturn sum;\n"
	"}\n"
	"\n"
	"/* bpf_get_prandom_u32's xorshift64* step on the thread's state, seeded (not 0) */\n"
	"AOT_UNUSED static inline uint64_t aot_prandom(uint64_t *state)\n"
	"{\n"
	"\tuint64_t x = *state;\n"
	"\n"
	"\tx ^= x >> 12;\n"
	"\tx ^= x << 25;\n"
	"\tx ^= x >> 27;\n"
	"\t*state = x;\n"
	"\treturn (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);\n"
	"}\n";

/*
 * The interpreter's CHECK, on the locals of the generated function: the
 * run's memory (one compare, against a limit per access size), the stack
 * window, then the VM's regions. The first is a + mem_neg rather than
 * a - mem: see emit_locals.
 */
static const char *const check_macro[] = {
	"#define AOT_OK(a, size, write)",
	"\t__builtin_expect((a) + mem_neg < mem_lim##size ||",
	"\t\t\t (a) - frame_lo <= stack_top - frame_lo - (size) ||",
	"\t\t\t AOT_MAPS_OK(a, size, write) || aot_region(ctx, (a), (size), (write)), 1)",
};

/*
 * What a helper may be handed (vm_run_mem_ok): the run's memory, the whole
 * stack of the run, the VM's regions; for sizes 1, 2, 4, 8, and any size.
 */
static const char *const helper_mem_macro[] = {
	"#define AOT_HELPER_OK(a, size)",
	"\t((a) + mem_neg < mem_lim##size || (a) - stack_lo <= stack_top - stack_lo - (size) ||",
	"\t AOT_MAPS_OK(a, size, 0) || aot_region(ctx, (a), (size), 0))",
};

static const char *const helper_range_macro[] = {
	"#define AOT_HELPER_RANGE_OK(a, size)",
	"\t(!(size) || aot_in(a, size, mem, mem_len) ||",
	"\t aot_in(a, size, stack_lo, stack_top - stack_lo) || AOT_MAPS_IN(a, size, 0) ||",
	"\t aot_region(ctx, (a), (unsigned)(size), 0))",
};

/* Memory is read and written through __builtin_memcpy: defined for any alignment and alias. */
static const char load_store[] =
	"AOT_UNUSED static inline uint%1$u_t aot_ld%1$u(uint64_t a)\n"
	"{\n"
	"\tuint%1$u_t v;\n"
	"\n"
	"\t__builtin_memcpy(&v, (const void *)(uintptr_t)a, sizeof(v));\n"
	"\treturn v;\n"
	"}\n"
	"\n"
	"AOT_UNUSED static inline void aot_st%1$u(uint64_t a, uint%1$u_t v)\n"
	"{\n"
	"\t__builtin_memcpy((void *)(uintptr_t)a, &v, sizeof(v));\n"
	"}\n"
	"\n";

/*
 * Fetching and, or, xor as a compare-exchange loop written out: GCC 12
 * expands r0 = __atomic_fetch_xor(p, r0, ...) into a loop that overwrites
 * the result, r0, before it reads the operand, r0.
 */
static const char fetch_op[] =
	"AOT_UNUSED static inline uint%1$u_t aot_fetch_%2$s%1$u(uint64_t a, uint%1$u_t v)\n"
	"{\n"
	"\tuint%1$u_t *p = (uint%1$u_t *)(uintptr_t)a;\n"
	"\tuint%1$u_t old = __atomic_load_n(p, __ATOMIC_RELAXED);\n"
	"\n"
	"\twhile (!__atomic_compare_exchange_n(p, &old, old %3$s v, 0, __ATOMIC_SEQ_CST,\n"
	"\t\t\t\t\t    __ATOMIC_SEQ_CST))\n"
	"\t\t;\n"
	"\treturn old;\n"
	"}\n"
	"\n";
static const char *const fetch_names[] = {"and", "or", "xor"};
static const char *const fetch_ops[] = {"&", "|", "^"};

/* The members of struct aot_ctx whose offsets the generated file asserts. */
#define AOT_CTX_MEMBERS(X)                                                                         \
	X(r1) X(r2) X(r3) X(r4) X(r5) X(mem) X(mem_len) X(budget) X(helpers) X(region_ok)        \
	X(helper) X(vm) X(maps) X(ops) X(entry) X(cpu_id) X(prandom) X(stack_lo) X(stack_hi)      \
	X(frame_lo) X(run_fault) X(tail_frame) X(executed) X(pc) X(addr) X(fault) X(size)

/* jump_cond and emit_atomic compute on these positions in enum vm_opcode. */
_Static_assert(VM_JNE64_K - VM_JEQ64_K == 2 && VM_JSGT64_K - VM_JEQ64_K == 12 &&
		       VM_JSET64_X - VM_JEQ64_K == 21 && VM_JEQ32_K - VM_JEQ64_K == 22 &&
		       VM_JSET32_X - VM_JEQ32_K == 21,
	       "conditional jumps: eleven conditions, K then X, 64 then 32 bits");
_Static_assert(VM_AFADD64 - VM_AADD64 == 4 && VM_AXCHG64 - VM_AADD64 == 8 &&
		       VM_ACMPXCHG64 - VM_AADD64 == 9 && VM_AADD32 - VM_AADD64 == 10,
	       "atomics: four operations, their fetch forms, xchg, cmpxchg; 64 then 32 bits");

static bool is_cond_jump(unsigned code)
{
	return code >= VM_JEQ64_K && code <= VM_JSET32_X;
}

/* Whether control never continues at the next instruction for the counting pass. */
static bool ends_block(unsigned code)
{
	return is_cond_jump(code) || code == VM_JA || code == VM_CALL_LOCAL || code == VM_EXIT;
}

static size_t target_of(const struct emit *e, const struct vm_op *op)
{
	return (size_t)(op->target - e->vm->ops);
}

/* The first instruction of the callback an lddw of BPF_PSEUDO_FUNC at pc names. */
static size_t callback_of(const struct emit *e, size_t pc)
{
	return (size_t)((const struct vm_op *)(uintptr_t)e->vm->ops[pc].k - e->vm->ops);
}

static size_t next_insn(const struct vm_op *op, size_t pc)
{
	return pc + (op->code == VM_LDDW ? 2 : 1);
}

/*
 * Labels go where control can arrive other than by falling through. For the
 * budget, the program is cut into counting blocks: straight runs that start
 * at a label or after a block-ending instruction; each adds its length to
 * the count on entry, so the count is exact whenever control leaves a block
 * at its end, and rest[] corrects it for the instructions that can leave
 * early (faults, helper stops).
 */
static void analyse(struct emit *e)
{
	const struct vm_op *ops = e->vm->ops;
	size_t n = e->vm->ninsns, start = 0, pc;

	e->mark[0] |= MARK_BLOCK;
	for (pc = 0; pc < n; pc = next_insn(&ops[pc], pc)) {
		unsigned code = ops[pc].code;
		size_t next = next_insn(&ops[pc], pc);

		e->mark[pc] |= MARK_INSN;
		if (is_cond_jump(code) || code == VM_JA || code == VM_CALL_LOCAL)
			e->mark[target_of(e, &ops[pc])] |= MARK_LABEL | MARK_BLOCK;
		if (code == VM_LDDW && e->vm->insns[pc].src == ISA_PSEUDO_FUNC)
			e->mark[callback_of(e, pc)] |= MARK_LABEL | MARK_BLOCK | MARK_CALLBACK;
		if (code == VM_CALL_LOCAL) {
			e->ret[pc] = (uint32_t)e->nret++;
			e->mark[next] |= MARK_LABEL; /* the validator keeps next < n */
		}
		if (ends_block(code) && next < n)
			e->mark[next] |= MARK_BLOCK;
	}
	for (pc = 0; pc < n; pc = next_insn(&ops[pc], pc)) {
		size_t next = next_insn(&ops[pc], pc);

		if (e->mark[pc] & MARK_BLOCK)
			start = pc;
		e->len[start]++;
		if (next >= n || (e->mark[next] & MARK_BLOCK)) {
			uint32_t left = 0;

			for (size_t p = pc + 1; p-- > start;) {
				if (e->mark[p] & MARK_INSN)
					e->rest[p] = left++;
			}
		}
	}
}

/* Literals, printed so that the C type and value are those the interpreter uses. */
static void lit_u64(char *buf, size_t len, uint64_t v)
{
	if (v < 0x10000)
		snprintf(buf, len, "%" PRIu64, v);
	else if (0 - v < 0x10000)
		snprintf(buf, len, "(uint64_t)-%" PRIu64, 0 - v);
	else
		snprintf(buf, len, "0x%" PRIx64 "ull", v);
}

static void lit_s64(char *buf, size_t len, int64_t v)
{
	if (v == INT64_MIN)
		snprintf(buf, len, "(-0x7fffffffffffffffll - 1)");
	else if (v >= INT32_MIN && v <= INT32_MAX)
		snprintf(buf, len, "%" PRId64, v);
	else
		snprintf(buf, len, "%" PRId64 "ll", v);
}

static void lit_u32(char *buf, size_t len, uint32_t v)
{
	snprintf(buf, len, v < 0x10000 ? "%" PRIu32 "u" : "0x%" PRIx32 "u", v);
}

static void lit_s32(char *buf, size_t len, int32_t v)
{
	if (v == INT32_MIN)
		snprintf(buf, len, "(-0x7fffffff - 1)");
	else
		snprintf(buf, len, "%" PRId32, v);
}

/* Operands of one op in every spelling a statement may need. */
struct operands {
	const char *d, *s;
	char u64[32], s64[32], u32[24], s32[24];
};

static void operands(const struct vm_op *op, struct operands *o)
{
	o->d = reg[op->dst];
	o->s = reg[op->src];
	lit_u64(o->u64, sizeof(o->u64), op->k);
	lit_s64(o->s64, sizeof(o->s64), (int64_t)op->k);
	lit_u32(o->u32, sizeof(o->u32), (uint32_t)op->k);
	lit_s32(o->s32, sizeof(o->s32), (int32_t)op->k);
}

__attribute__((format(printf, 2, 3))) static void line(struct emit *e, const char *fmt, ...)
{
	va_list ap;

	fputc('\t', e->f);
	va_start(ap, fmt);
	vfprintf(e->f, fmt, ap);
	va_end(ap);
	fputc('\n', e->f);
}

static void blank(struct emit *e)
{
	fputc('\n', e->f);
}

/* The count of instructions run up to and including pc, as an expression. */
static const char *count_at(const struct emit *e, size_t pc, char *buf, size_t len)
{
	if (!e->opts->budgeted)
		return "0";
	if (!e->rest[pc])
		return "used";
	snprintf(buf, len, "used - %" PRIu32, e->rest[pc]);
	return buf;
}

static bool emit_alu(struct emit *e, const struct vm_op *op)
{
	struct operands o;
	const char *d, *s;

	operands(op, &o);
	d = o.d;
	s = o.s;
	if (op->dst == op->src &&
	    (op->code == VM_MOV64_X || op->code == VM_OR64_X || op->code == VM_AND64_X)) {
		line(e, ";"); /* no effect, and a self-assignment would draw a warning */
		return true;
	}
	switch (op->code) {
#define PLAIN(NAME, OP)                                                                            \
	case VM_##NAME##64_K:                                                                      \
		line(e, "%s %s= %s;", d, OP, o.u64);                                               \
		break;                                                                             \
	case VM_##NAME##64_X:                                                                      \
		line(e, "%s %s= %s;", d, OP, s);                                                   \
		break;                                                                             \
	case VM_##NAME##32_K:                                                                      \
		line(e, "%s = (uint32_t)%s %s %s;", d, d, OP, o.u32);                              \
		break;                                                                             \
	case VM_##NAME##32_X:                                                                      \
		line(e, "%s = (uint32_t)%s %s (uint32_t)%s;", d, d, OP, s);                        \
		break;
		PLAIN(ADD, "+")
		PLAIN(SUB, "-")
		PLAIN(MUL, "*")
		PLAIN(OR, "|")
		PLAIN(AND, "&")
		PLAIN(XOR, "^")
#undef PLAIN
	/* K shift counts were masked at decode */
	case VM_LSH64_K:
		line(e, "%s <<= %s;", d, o.u64);
		break;
	case VM_LSH64_X:
		line(e, "%s <<= %s & 63;", d, s);
		break;
	case VM_LSH32_K:
		line(e, "%s = (uint32_t)%s << %s;", d, d, o.u64);
		break;
	case VM_LSH32_X:
		line(e, "%s = (uint32_t)%s << (%s & 31);", d, d, s);
		break;
	case VM_RSH64_K:
		line(e, "%s >>= %s;", d, o.u64);
		break;
	case VM_RSH64_X:
		line(e, "%s >>= %s & 63;", d, s);
		break;
	case VM_RSH32_K:
		line(e, "%s = (uint32_t)%s >> %s;", d, d, o.u64);
		break;
	case VM_RSH32_X:
		line(e, "%s = (uint32_t)%s >> (%s & 31);", d, d, s);
		break;
	case VM_ARSH64_K:
		line(e, "%s = (uint64_t)((int64_t)%s >> %s);", d, d, o.u64);
		break;
	case VM_ARSH64_X:
		line(e, "%s = (uint64_t)((int64_t)%s >> (%s & 63));", d, d, s);
		break;
	case VM_ARSH32_K:
		line(e, "%s = (uint32_t)((int32_t)%s >> %s);", d, d, o.u64);
		break;
	case VM_ARSH32_X:
		line(e, "%s = (uint32_t)((int32_t)%s >> (%s & 31));", d, d, s);
		break;
	/*
	 * Decode turned K divisors 0 and -1 into moves and negations; register
	 * divisors are tested here, as RFC 9669 defines x / 0 = 0, x % 0 = x,
	 * and INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0 (C leaves all undefined).
	 */
	case VM_DIV64_K:
		line(e, "%s /= %s;", d, o.u64);
		break;
	case VM_DIV64_X:
		line(e, "%s = %s ? %s / %s : 0;", d, s, d, s);
		break;
	case VM_DIV32_K:
		line(e, "%s = (uint32_t)%s / %s;", d, d, o.u32);
		break;
	case VM_DIV32_X:
		line(e, "%s = (uint32_t)%s ? (uint32_t)%s / (uint32_t)%s : 0;", d, s, d, s);
		break;
	case VM_MOD64_K:
		line(e, "%s %%= %s;", d, o.u64);
		break;
	case VM_MOD64_X:
		line(e, "%s = %s ? %s %% %s : %s;", d, s, d, s, d);
		break;
	case VM_MOD32_K:
		line(e, "%s = (uint32_t)%s %% %s;", d, d, o.u32);
		break;
	case VM_MOD32_X:
		line(e, "%s = (uint32_t)%s ? (uint32_t)%s %% (uint32_t)%s : (uint32_t)%s;", d, s, d,
		     s, d);
		break;
	case VM_SDIV64_K:
		line(e, "%s = (uint64_t)((int64_t)%s / %s);", d, d, o.s64);
		break;
	case VM_SDIV64_X:
		line(e,
		     "%s = (int64_t)%s == -1 ? 0 - %s : %s ? (uint64_t)((int64_t)%s / (int64_t)%s) "
		     ": 0;",
		     d, s, d, s, d, s);
		break;
	case VM_SDIV32_K:
		line(e, "%s = (uint32_t)((int32_t)%s / %s);", d, d, o.s32);
		break;
	case VM_SDIV32_X:
		line(e,
		     "%s = (int32_t)%s == -1 ? (uint32_t)(0 - (uint32_t)%s) : (uint32_t)%s ? "
		     "(uint32_t)((int32_t)%s / (int32_t)%s) : 0;",
		     d, s, d, s, d, s);
		break;
	case VM_SMOD64_K:
		line(e, "%s = (uint64_t)((int64_t)%s %% %s);", d, d, o.s64);
		break;
	case VM_SMOD64_X:
		line(e,
		     "%s = (int64_t)%s == -1 ? 0 : %s ? (uint64_t)((int64_t)%s %% (int64_t)%s) : "
		     "%s;",
		     d, s, s, d, s, d);
		break;
	case VM_SMOD32_K:
		line(e, "%s = (uint32_t)((int32_t)%s %% %s);", d, d, o.s32);
		break;
	case VM_SMOD32_X:
		line(e,
		     "%s = (int32_t)%s == -1 ? 0 : (uint32_t)%s ? (uint32_t)((int32_t)%s %% "
		     "(int32_t)%s) : (uint32_t)%s;",
		     d, s, s, d, s, d);
		break;
	case VM_NEG64:
		line(e, "%s = 0 - %s;", d, d);
		break;
	case VM_NEG32:
		line(e, "%s = (uint32_t)(0 - (uint32_t)%s);", d, d);
		break;
	case VM_MOV64_K:
	case VM_LDDW:
		line(e, "%s = %s;", d, o.u64);
		break;
	case VM_MOV64_X:
		line(e, "%s = %s;", d, s);
		break;
	case VM_MOV32_X:
		line(e, "%s = (uint32_t)%s;", d, s);
		break;
	case VM_MOVSX8_64:
		line(e, "%s = (uint64_t)(int8_t)%s;", d, s);
		break;
	case VM_MOVSX16_64:
		line(e, "%s = (uint64_t)(int16_t)%s;", d, s);
		break;
	case VM_MOVSX32_64:
		line(e, "%s = (uint64_t)(int32_t)%s;", d, s);
		break;
	case VM_MOVSX8_32:
		line(e, "%s = (uint32_t)(int8_t)%s;", d, s);
		break;
	case VM_MOVSX16_32:
		line(e, "%s = (uint32_t)(int16_t)%s;", d, s);
		break;
	case VM_BE16:
		line(e, "%s = __builtin_bswap16((uint16_t)%s);", d, d);
		break;
	case VM_BE32:
		line(e, "%s = __builtin_bswap32((uint32_t)%s);", d, d);
		break;
	case VM_BE64:
		line(e, "%s = __builtin_bswap64(%s);", d, d);
		break;
	case VM_NOP:
		line(e, ";");
		break;
	default:
		return false;
	}
	return true;
}

/*
 * Whether an immediate makes the condition constant (x >= 0 unsigned,
 * x > INT_MAX signed, ...): 0 or 1, or -1 when it depends on the register.
 * Compilers warn about such comparisons, so they are emitted as constants.
 */
static int constant_cond(unsigned cond, bool is32, uint64_t k)
{
	uint64_t umax = is32 ? UINT32_MAX : UINT64_MAX;
	int64_t sk = is32 ? (int32_t)k : (int64_t)k;
	int64_t smin = is32 ? INT32_MIN : INT64_MIN, smax = is32 ? INT32_MAX : INT64_MAX;

	switch (cond) {
	case 2: /* > */
		return k == umax ? 0 : -1;
	case 3: /* >= */
		return k == 0 ? 1 : -1;
	case 4: /* < */
		return k == 0 ? 0 : -1;
	case 5: /* <= */
		return k == umax ? 1 : -1;
	case 6: /* signed > */
		return sk == smax ? 0 : -1;
	case 7: /* signed >= */
		return sk == smin ? 1 : -1;
	case 8: /* signed < */
		return sk == smin ? 0 : -1;
	case 9: /* signed <= */
		return sk == smax ? 1 : -1;
	default:
		return -1;
	}
}

/* The condition of a conditional jump, into buf. */
static void jump_cond(const struct vm_op *op, char *buf, size_t len)
{
	static const char *const rel[] = {
		"==", "!=", ">", ">=", "<", "<=", ">", ">=", "<", "<=", "&"};
	unsigned i = (op->code - VM_JEQ64_K) % 22, cond = i / 2;
	bool is32 = op->code >= VM_JEQ32_K, x = i & 1, sgn = cond >= 6 && cond < 10;
	const char *cast = sgn ? (is32 ? "(int32_t)" : "(int64_t)") : (is32 ? "(uint32_t)" : "");
	struct operands o;

	operands(op, &o);
	if (x && op->dst == op->src && cond != 10) { /* a constant, which C compilers warn about */
		snprintf(buf, len, "%d", strchr(rel[cond], '=') && rel[cond][0] != '!');
		return;
	}
	if (!x && constant_cond(cond, is32, op->k) >= 0) {
		snprintf(buf, len, "%d", constant_cond(cond, is32, op->k));
		return;
	}
	snprintf(buf, len, "%s%s %s %s%s", cast, o.d, rel[cond], x ? cast : "",
		 x     ? o.s
		 : sgn ? (is32 ? o.s32 : o.s64)
		       : (is32 ? o.u32 : o.u64));
}

/*
 * A jump to target. Only backward jumps can repeat code, so only they (and
 * local calls) test the budget: between two tests control only moves
 * forward, so a run overshoots its budget by less than one program length
 * before it notices, and the final count is checked again at exit.
 */
static void emit_goto(struct emit *e, size_t pc, size_t target, const char *cond)
{
	bool check = e->opts->budgeted && target <= pc;

	if (!cond && !check) {
		line(e, "goto L%zu;", target);
		return;
	}
	if (!cond) {
		line(e, "if (used > budget)");
		line(e, "\treturn aot_budget(ctx, %zu);", pc);
		line(e, "goto L%zu;", target);
		return;
	}
	if (!check) {
		line(e, "if (%s)", cond);
		line(e, "\tgoto L%zu;", target);
		return;
	}
	line(e, "if (%s) {", cond);
	line(e, "\tif (used > budget)");
	line(e, "\t\treturn aot_budget(ctx, %zu);", pc);
	line(e, "\tgoto L%zu;", target);
	line(e, "}");
}

/*
 * Whether the access of op gets a bounds check at run time: the one place
 * that decides, on the op alone. Not the _FP forms, which decode gives the
 * accesses proven safe at load (stack accesses through r10 with a constant
 * offset, and those the verifier proves when the VM verifies); all others,
 * atomics included (which also keep their alignment test).
 */
static bool needs_check(const struct vm_op *op)
{
	return op->code < VM_LDXB_FP || op->code > VM_STXDW_FP;
}

/* The run-time bounds check of the access at a. */
static void emit_bounds_check(struct emit *e, size_t pc, unsigned size, bool write)
{
	char buf[32];

	line(e, "\tif (!AOT_OK(a, %u, %d))", size, write);
	line(e, "\t\treturn aot_fault(ctx, AOT_FAULT_MEM, %zu, a, %u, %s);", pc, size,
	     count_at(e, pc, buf, sizeof(buf)));
}

/* The address base + off as an expression. */
static void address(char *buf, size_t len, unsigned base, int32_t off)
{
	if (off)
		snprintf(buf, len, "%s %c %" PRId64, reg[base], off < 0 ? '-' : '+',
			 off < 0 ? -(int64_t)off : (int64_t)off);
	else
		snprintf(buf, len, "%s", reg[base]);
}

/* Opens the block of an access with its address in a, and its check if it needs one. */
static void emit_address(struct emit *e, size_t pc, const struct vm_op *op, unsigned base,
			 unsigned size, bool write)
{
	char addr[32];

	address(addr, sizeof(addr), base, op->off);
	line(e, "{");
	line(e, "\tuint64_t a = %s;", addr);
	blank(e);
	if (needs_check(op))
		emit_bounds_check(e, pc, size, write);
}

/* Loads and stores; those that need no check go straight to memory. */
static bool emit_mem(struct emit *e, size_t pc, const struct vm_op *op)
{
	static const struct {
		uint8_t code, bits;
		bool sx, store, imm;
	} forms[] = {
		{VM_LDXB, 8, false, false, false},  {VM_LDXH, 16, false, false, false},
		{VM_LDXW, 32, false, false, false}, {VM_LDXDW, 64, false, false, false},
		{VM_LDXSB, 8, true, false, false},  {VM_LDXSH, 16, true, false, false},
		{VM_LDXSW, 32, true, false, false}, {VM_STB, 8, false, true, true},
		{VM_STH, 16, false, true, true},    {VM_STW, 32, false, true, true},
		{VM_STDW, 64, false, true, true},   {VM_STXB, 8, false, true, false},
		{VM_STXH, 16, false, true, false},  {VM_STXW, 32, false, true, false},
		{VM_STXDW, 64, false, true, false},
	};
	static const char *const sext[] = {[8] = "(uint64_t)(int8_t)",
					   [16] = "(uint64_t)(int16_t)",
					   [32] = "(uint64_t)(int32_t)"};
	static const char *const trunc[] = {
		[8] = "(uint8_t)", [16] = "(uint16_t)", [32] = "(uint32_t)", [64] = ""};
	unsigned code = op->code;
	bool checked = needs_check(op);

	if (code >= VM_LDXB_FP && code <= VM_STXDW_FP)
		code = code - VM_LDXB_FP + VM_LDXB;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		unsigned bits = forms[i].bits, base;
		const char *in = checked ? "\t" : "";
		char at[32], value[32];

		if (forms[i].code != code)
			continue;
		base = forms[i].store ? op->dst : op->src;
		if (checked) {
			emit_address(e, pc, op, base, bits / 8, forms[i].store);
			snprintf(at, sizeof(at), "a");
		} else {
			address(at, sizeof(at), base, op->off);
		}
		if (!forms[i].store) {
			line(e, "%s%s = %saot_ld%u(%s);", in, reg[op->dst],
			     forms[i].sx ? sext[bits] : "", bits, at);
		} else if (forms[i].imm) {
			lit_u64(value, sizeof(value),
				bits == 64 ? op->k : op->k & ((1ull << bits) - 1));
			line(e, "%saot_st%u(%s, %s);", in, bits, at, value);
		} else {
			line(e, "%saot_st%u(%s, %s%s);", in, bits, at, trunc[bits], reg[op->src]);
		}
		if (checked)
			line(e, "}");
		return true;
	}
	return false;
}

static bool emit_atomic(struct emit *e, size_t pc, const struct vm_op *op)
{
	static const char *const rmw[] = {"add", "or", "and", "xor"};
	bool is32 = op->code >= VM_AADD32;
	unsigned i = op->code - (is32 ? VM_AADD32 : VM_AADD64), size = is32 ? 4 : 8;
	const char *type = is32 ? "uint32_t" : "uint64_t", *s = reg[op->src];
	const char *val = is32 ? "(uint32_t)" : "";
	char buf[32];

	if (op->code < VM_AADD64 || op->code > VM_ACMPXCHG32)
		return false;
	emit_address(e, pc, op, op->dst, size, true);
	line(e, "\tif (a & %u)", size - 1);
	line(e, "\t\treturn aot_fault(ctx, AOT_FAULT_ALIGN, %zu, a, 0, %s);", pc,
	     count_at(e, pc, buf, sizeof(buf)));
	if (i < 4) { /* add, or, and, xor */
		line(e, "\t(void)__atomic_fetch_%s((%s *)(uintptr_t)a, %s%s, __ATOMIC_SEQ_CST);",
		     rmw[i], type, val, s);
	} else if (i == 4) { /* fetch add */
		line(e, "\t%s = __atomic_fetch_add((%s *)(uintptr_t)a, %s%s, __ATOMIC_SEQ_CST);", s,
		     type, val, s);
	} else if (i < 8) { /* fetch or, and, xor */
		line(e, "\t%s = aot_fetch_%s%u(a, %s%s);", s, rmw[i - 4], size * 8, val, s);
	} else if (op->code == VM_AXCHG64 || op->code == VM_AXCHG32) {
		line(e, "\t%s = __atomic_exchange_n((%s *)(uintptr_t)a, %s%s, __ATOMIC_SEQ_CST);",
		     s, type, val, s);
	} else {
		line(e, "\t%s old = %sr0;", type, val);
		blank(e);
		line(e, "\t__atomic_compare_exchange_n((%s *)(uintptr_t)a, &old, %s%s, 0,", type,
		     val, s);
		line(e, "\t\t\t\t    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);");
		line(e, "\tr0 = old;");
	}
	line(e, "}");
	return true;
}

/* Before a helper runs: helpers have effects, so none may run past the budget. */
static void emit_helper_budget(struct emit *e, size_t pc)
{
	char buf[32];

	if (!e->opts->budgeted)
		return;
	line(e, "if (%s > budget)", count_at(e, pc, buf, sizeof(buf)));
	line(e, "\treturn aot_budget(ctx, %zu);", pc);
}

/* A helper returned 0 and is one that stops the program then. */
static void emit_stop(struct emit *e, size_t pc, const char *indent)
{
	char buf[32];

	if (!e->opts->budgeted) {
		line(e, "%sreturn 0;", indent);
		return;
	}
	line(e, "%s{", indent);
	line(e, "%s\tctx->executed = %s;", indent, count_at(e, pc, buf, sizeof(buf)));
	line(e, "%s\treturn 0;", indent);
	line(e, "%s}", indent);
}

/* A call of the helper id as it is registered, through the table of the run's context. */
static void emit_plain_call(struct emit *e, uint32_t id, const char *indent)
{
	line(e, "%sr0 = ctx->helpers[%" PRIu32 "](r1, r2, r3, r4, r5);", indent, id);
}

/* The lookup in the array map i, the key at r2 (map_lookup_elem, array_lookup). */
static void emit_array_lookup(struct emit *e, size_t i, uint32_t id)
{
	const struct aot_map_shape *s = &e->plan->maps[i];
	const char *in = s->cpu_step ? "\t\t" : "\t";

	if (s->cpu_step) {
		/*
		 * map_this_cpu, from the rseq area sched_getcpu reads; without it
		 * (negative), or past the map's CPUs, the helper
		 */
		line(e, "\tuint32_t cpu = cpu_id ? (uint32_t)*cpu_id : ~0u;");
		blank(e);
		line(e, "\tif (cpu >= %" PRIu32 "u) {", s->nr_cpus);
		emit_plain_call(e, id, "\t\t");
		line(e, "\t} else {");
	}
	line(e, "%sif (AOT_HELPER_OK(r2, 4)) {", in);
	line(e, "%s\tuint32_t k = aot_ld32(r2);", in);
	blank(e);
	if (s->cpu_step)
		line(e,
		     "%s\tr0 = k < %" PRIu32 "u ? map%zu_base + (uint64_t)k * %" PRIu32
		     " + (uint64_t)cpu * %" PRIu64 "ull : 0;",
		     in, s->max_entries, i, s->stride, s->cpu_step);
	else
		line(e, "%s\tr0 = k < %" PRIu32 "u ? map%zu_base + (uint64_t)k * %" PRIu32 " : 0;",
		     in, s->max_entries, i, s->stride);
	line(e, "%s} else {", in);
	line(e, "%s\tr0 = 0;", in);
	line(e, "%s}", in);
	if (s->cpu_step)
		line(e, "\t}");
}

/* The test that the helper's check of n bytes at reg passes. */
static const char *helper_ok(char *buf, size_t len, const char *reg, uint32_t n)
{
	if (n == 1 || n == 2 || n == 4 || n == 8)
		snprintf(buf, len, "AOT_HELPER_OK(%s, %" PRIu32 ")", reg, n);
	else
		snprintf(buf, len, "AOT_HELPER_RANGE_OK(%s, %" PRIu32 "u)", reg, n);
	return buf;
}

/*
 * The lookup in map i, not an array, called directly (the JIT's
 * emit_direct_lookup): the key checked as the helper checks it, the map's
 * own lookup called with it; a key the check refuses goes to the helper.
 */
static void emit_direct_lookup(struct emit *e, size_t i, uint32_t id)
{
	char k[96];

	line(e, "\tif (%s)", helper_ok(k, sizeof(k), "r2", e->plan->maps[i].key_size));
	line(e,
	     "\t\tr0 = (uintptr_t)((aot_lookup_fn)map%zu_lookup)((void *)map%zu_obj, "
	     "(const void *)r2);",
	     i, i);
	line(e, "\telse");
	emit_plain_call(e, id, "\t\t");
}

/*
 * bpf_map_update_elem or _delete_elem on the known map i: with key and
 * value passing the helper's checks, map_update or map_delete itself, as
 * the helper calls it; else the helper, whose checks then decide.
 */
static void emit_direct_change(struct emit *e, size_t i, uint32_t id)
{
	const struct aot_map_shape *s = &e->plan->maps[i];
	char k[96], v[96];

	helper_ok(k, sizeof(k), "r2", s->key_size);
	if (id == BPF_FUNC_map_update_elem) {
		line(e, "\tif (%s && %s)", k, helper_ok(v, sizeof(v), "r3", s->value_size));
		line(e,
		     "\t\tr0 = (uint64_t)(int64_t)((aot_update_fn)map%zu_update)("
		     "(void *)map%zu_obj, (const void *)r2, (const void *)r3, r4);",
		     i, i);
	} else {
		line(e, "\tif (%s)", k);
		line(e,
		     "\t\tr0 = (uint64_t)(int64_t)((aot_delete_fn)map%zu_delete)("
		     "(void *)map%zu_obj, (const void *)r2);",
		     i, i);
	}
	line(e, "\telse");
	emit_plain_call(e, id, "\t\t");
}

/* Whether op may change r1 (conservatively; helper calls keep r1-r5 on every engine). */
static bool may_write_r1(const struct vm_op *op)
{
	unsigned c = op->code;

	if (is_cond_jump(c) || c == VM_CALL || c == VM_CALL_STOPZ || c == VM_CALLX ||
	    (c >= VM_STB && c <= VM_STXDW) || (c >= VM_STB_FP && c <= VM_STXDW_FP))
		return false;
	return op->dst == 1 || (c >= VM_AADD64 && op->src == 1);
}

/*
 * The map r1 holds at the helper call at pc, when the straight code before
 * it (no label between) loads it with an lddw of a map and leaves it: its
 * index, else -1.
 */
static long known_map(const struct emit *e, size_t pc)
{
	if (e->mark[pc] & MARK_LABEL)
		return -1;
	for (size_t p = pc; p-- > 0;) {
		const struct vm_op *op = &e->vm->ops[p];
		struct aot_reloc r;

		if (!(e->mark[p] & MARK_INSN))
			continue;
		if (op->code == VM_LDDW && op->dst == 1)
			return aot_is_reloc(e->vm, p) && !aot_reloc(e->vm, e->plan, p, &r) &&
					       r.kind == AOT_RELOC_MAP
				       ? (long)r.index
				       : -1;
		if (may_write_r1(op) || (e->mark[p] & MARK_LABEL))
			return -1;
	}
	return -1;
}

/*
 * bpf_map_lookup_elem on an ARRAY or PERCPU_ARRAY, as the kernel's JIT
 * inlines it: the map is the one the lddw before the call loads into r1,
 * else the handle in r1 picks it at run time; the key is checked as the
 * helper checks it, and the entry is an address computed from the map's
 * shape. Other maps go to the helper.
 */
static void emit_inline_lookup(struct emit *e, size_t pc, uint32_t id)
{
	long known = known_map(e, pc);
	bool first = true;

	if (known >= 0) {
		line(e, "{");
		if (e->plan->maps[known].array)
			emit_array_lookup(e, (size_t)known, id);
		else if (e->plan->maps[known].direct)
			emit_direct_lookup(e, (size_t)known, id);
		else
			emit_plain_call(e, id, "\t");
		line(e, "}");
		return;
	}
	for (size_t i = 0; i < e->plan->nmaps; i++) {
		if (!e->plan->maps[i].array)
			continue;
		line(e, "%sif (r1 == map%zu) {", first ? "" : "} else ", i);
		emit_array_lookup(e, i, id);
		first = false;
	}
	line(e, "} else {");
	emit_plain_call(e, id, "\t");
	line(e, "}");
}

/* Update or delete: called directly on a known map that allows it, else the helper. */
static void emit_inline_change(struct emit *e, size_t pc, uint32_t id)
{
	long known = known_map(e, pc);

	line(e, "{");
	if (known >= 0 && aot_changes_direct(&e->plan->maps[known]))
		emit_direct_change(e, (size_t)known, id);
	else
		emit_plain_call(e, id, "\t");
	line(e, "}");
}

/* The open-coded helpers of the plan; each the C reading of its function in src/helpers. */
static void emit_inline_call(struct emit *e, size_t pc, uint32_t id)
{
	switch (id) {
	case BPF_FUNC_map_update_elem:
	case BPF_FUNC_map_delete_elem:
		emit_inline_change(e, pc, id);
		break;
	case BPF_FUNC_map_lookup_elem:
		emit_inline_lookup(e, pc, id);
		break;
	case BPF_FUNC_ktime_get_ns:
		line(e, "r0 = aot_clock_ns(%d);", CLOCK_MONOTONIC);
		break;
	case BPF_FUNC_ktime_get_boot_ns:
		line(e, "r0 = aot_clock_ns(%d);", CLOCK_BOOTTIME);
		break;
	case BPF_FUNC_ktime_get_coarse_ns:
		line(e, "r0 = aot_clock_ns(%d);", CLOCK_MONOTONIC_COARSE);
		break;
	case BPF_FUNC_get_prandom_u32:
		/* a state of 0 is not seeded yet: the helper seeds it */
		line(e, "if (*prandom)");
		line(e, "\tr0 = aot_prandom(prandom);");
		line(e, "else");
		emit_plain_call(e, id, "\t");
		break;
	case BPF_FUNC_get_smp_processor_id:
		line(e, "{");
		line(e, "\tint32_t cpu = cpu_id ? *cpu_id : -1;");
		blank(e);
		line(e, "\tif (cpu >= 0)");
		line(e, "\t\tr0 = (uint32_t)cpu;");
		line(e, "\telse");
		emit_plain_call(e, id, "\t\t");
		line(e, "}");
		break;
	case BPF_FUNC_csum_diff:
		line(e, "if ((r2 | r4) & 3 || r2 > %d || r4 > %d - r2)", ISA_STACK_SIZE,
		     ISA_STACK_SIZE);
		line(e, "\tr0 = (uint64_t)-%d;", EINVAL);
		line(e, "else if (!AOT_HELPER_RANGE_OK(r1, r2) || !AOT_HELPER_RANGE_OK(r3, r4))");
		line(e, "\tr0 = (uint64_t)-%d;", EFAULT);
		line(e, "else");
		line(e, "\tr0 = aot_csum_fold(aot_csum_words(aot_csum_words((uint32_t)r5, r1, r2, "
			"1), r3, r4, 0));");
		break;
	}
}

/* With callbacks, a helper may run the program's code: it starts below the current frame. */
static void emit_publish_frame(struct emit *e, const char *indent)
{
	if (e->plan->callbacks)
		line(e, "%s*ctx->frame_lo = frame_lo;", indent);
}

/* A fault in a callback the helper ran stops this run too (it is recorded in the run). */
static void emit_callback_fault(struct emit *e, const char *indent)
{
	if (!e->plan->callbacks)
		return;
	line(e, "%sif (__builtin_expect(*ctx->run_fault != 0, 0))", indent);
	line(e, "%s\treturn 0;", indent);
}

static void emit_exit(struct emit *e, size_t pc);

/* A tail call from a subprogram (vm_tail_call_frame): taken, the subprogram returns its r0. */
static void emit_tail_frame(struct emit *e, size_t pc)
{
	emit_publish_frame(e, "");
	line(e, "{");
	line(e, "\tstruct aot_tail t = ctx->tail_frame(r1, r2, r3, r4, r5);");
	blank(e);
	line(e, "\tif (__builtin_expect(*ctx->run_fault != 0, 0))");
	line(e, "\t\treturn 0;");
	line(e, "\tr0 = t.err ? t.err : t.r0;");
	line(e, "\tif (!t.err) {");
	emit_exit(e, pc);
	line(e, "\t}");
	line(e, "}");
}

/*
 * Helper calls, through the table of the run's context: nothing in the
 * shared object depends on where the host process put its helpers, so one
 * object serves every process. Simple helpers of src/helpers are
 * open-coded instead (aot_plan decides which).
 */
static void emit_call(struct emit *e, size_t pc, const struct vm_op *op)
{
	uint32_t id = (uint32_t)e->vm->insns[pc].imm;
	char buf[32];

	emit_helper_budget(e, pc);
	if (op->code == VM_CALL && aot_inlines(e->plan, id)) {
		emit_inline_call(e, pc, id);
		return;
	}
	if (op->code == VM_CALLX) {
		const char *idreg = reg[op->dst];

		line(e, "{");
		line(e, "\tunsigned flags;");
		line(e, "\taot_helper_fn fn = ctx->helper(ctx->vm, %s, &flags);", idreg);
		blank(e);
		line(e, "\tif (!fn)");
		line(e, "\t\treturn aot_fault(ctx, AOT_FAULT_HELPER, %zu, %s, 0, %s);", pc, idreg,
		     count_at(e, pc, buf, sizeof(buf)));
		emit_publish_frame(e, "\t");
		line(e, "\tr0 = fn(r1, r2, r3, r4, r5);");
		emit_callback_fault(e, "\t");
		line(e, "\tif (!r0 && (flags & AOT_HELPER_STOP_ON_ZERO))");
		emit_stop(e, pc, "\t\t");
		line(e, "}");
		return;
	}
	if (op->code == VM_CALL_TAILF) {
		emit_tail_frame(e, pc);
		return;
	}
	emit_publish_frame(e, "");
	emit_plain_call(e, id, "");
	emit_callback_fault(e, "");
	if (op->code == VM_CALL_STOPZ) {
		line(e, "if (!r0)");
		emit_stop(e, pc, "\t");
	}
}

/* An lddw of an address of this load: from the run's context (see aot_plan.c). */
static bool emit_reloc(struct emit *e, size_t pc, const struct vm_op *op)
{
	struct aot_reloc r;

	if (aot_reloc(e->vm, e->plan, pc, &r))
		return false;
	switch (r.kind) {
	case AOT_RELOC_MAP:
		line(e, "%s = map%zu;", reg[op->dst], r.index);
		break;
	case AOT_RELOC_VALUE:
		line(e, "%s = map%zu_base + %" PRIu64 ";", reg[op->dst], r.index, r.off);
		break;
	case AOT_RELOC_FUNC:
		line(e, "%s = ops + %zu;", reg[op->dst], r.index * sizeof(struct vm_op));
		break;
	}
	return true;
}

/*
 * Local calls share the one C function: a call pushes its return-site
 * number and r6-r9 on an explicit frame stack and moves r10 down a frame;
 * exit at depth > 0 pops them and dispatches on the number (aot_return). So
 * r0-r5 flow between caller and callee exactly as in the interpreter, and
 * code reachable from several functions needs no copies.
 */
static void emit_local_call(struct emit *e, size_t pc, const struct vm_op *op)
{
	if (e->opts->budgeted) {
		line(e, "if (used > budget)");
		line(e, "\treturn aot_budget(ctx, %zu);", pc);
	}
	line(e, "if (depth + 1 == %s)", e->plan->callbacks ? "max_depth" : "AOT_MAX_DEPTH");
	line(e, "\treturn aot_fault(ctx, AOT_FAULT_DEPTH, %zu, 0, 0, %s);", pc,
	     e->opts->budgeted ? "used" : "0");
	line(e, "frames[depth++] = (struct aot_frame){%" PRIu32 ", r6, r7, r8, r9};", e->ret[pc]);
	line(e, "r10 -= AOT_STACK_SIZE;");
	line(e, "frame_lo -= AOT_STACK_SIZE;");
	line(e, "goto L%zu;", target_of(e, op));
}

static void emit_exit(struct emit *e, size_t pc)
{
	if (e->nret) {
		line(e, "if (depth)");
		line(e, "\tgoto aot_return;");
	}
	if (e->opts->budgeted)
		line(e, "return aot_exit(ctx, %zu, used, r0);", pc);
	else
		line(e, "return r0;");
}

/*
 * The instruction's text for its comment. The disassembler never prints
 * the end of a comment, but a slot it cannot print still gets a plain one.
 */
static void emit_comment(struct emit *e, size_t pc)
{
	unsigned dst = e->vm->insns[pc].dst;
	char text[128];
	struct aot_reloc r;

	/* what the load resolved, not its fd: the text must be the same at every load */
	if (aot_is_reloc(e->vm, pc) && !aot_reloc(e->vm, e->plan, pc, &r)) {
		if (r.kind == AOT_RELOC_MAP)
			snprintf(text, sizeof(text), "lddw %%r%u, map %zu", dst, r.index);
		else if (r.kind == AOT_RELOC_VALUE)
			snprintf(text, sizeof(text), "lddw %%r%u, map %zu value + %" PRIu64, dst,
				 r.index, r.off);
		else
			snprintf(text, sizeof(text), "lddw %%r%u, function at %zu", dst, r.index);
	} else if (isa_disasm_insn(e->vm->insns, e->vm->ninsns, pc, text, sizeof(text)) < 0 ||
		   strstr(text, "*/")) {
		snprintf(text, sizeof(text), "opcode 0x%02x", e->vm->insns[pc].opcode);
	}
	line(e, "/* %zu: %s */", pc, text);
}

static bool emit_insn(struct emit *e, size_t pc)
{
	const struct vm_op *op = &e->vm->ops[pc];
	char cond[96];

	if (e->mark[pc] & MARK_LABEL)
		fprintf(e->f, "L%zu:\n", pc);
	emit_comment(e, pc);
	if (e->opts->budgeted && (e->mark[pc] & MARK_BLOCK))
		line(e, "used += %" PRIu32 ";", e->len[pc]);
	if (is_cond_jump(op->code)) {
		jump_cond(op, cond, sizeof(cond));
		emit_goto(e, pc, target_of(e, op), cond);
		return true;
	}
	switch (op->code) {
	case VM_JA:
		emit_goto(e, pc, target_of(e, op), NULL);
		return true;
	case VM_CALL:
	case VM_CALL_STOPZ:
	case VM_CALL_TAILF:
	case VM_CALLX:
		emit_call(e, pc, op);
		return true;
	case VM_CALL_LOCAL:
		emit_local_call(e, pc, op);
		return true;
	case VM_EXIT:
		emit_exit(e, pc);
		return true;
	}
	if (aot_is_reloc(e->vm, pc))
		return emit_reloc(e, pc, op);
	return emit_alu(e, op) || emit_mem(e, pc, op) || emit_atomic(e, pc, op);
}

/* A multi-line macro, its backslashes lined up. */
static void emit_macro(FILE *f, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned col = 0;

		fputs(lines[i], f);
		if (i + 1 == n)
			break;
		for (const char *c = lines[i]; *c; c++)
			col = *c == '\t' ? (col + 8) & ~7u : col + 1;
		fprintf(f, "%*s\\\n", col < 79 ? 79 - col : 1, "");
	}
	fputs("\n\n", f);
}

/*
 * Whether [a, a + size) lies in the memory of a map the program refers to
 * (a region of the VM): tested inline before the VM's list of regions,
 * since map values are what programs mostly reach outside their memory and
 * stack. AOT_MAPS_OK for the sizes of accesses, AOT_MAPS_IN for any size.
 * Maps the program may not write count for reads only, as their regions.
 */
static void emit_maps_macros(struct emit *e)
{
	static const char *const names[] = {"AOT_MAPS_OK", "AOT_MAPS_IN"};

	for (unsigned any = 0; any < 2; any++) {
		fprintf(e->f, "#define %s(a, size, write) (0", names[any]);
		for (size_t i = 0; i < e->plan->nmaps; i++) {
			const struct aot_map_shape *s = &e->plan->maps[i];

			if (!s->range_len)
				continue;
			fprintf(e->f, " || \\\n\t(%s", s->rdonly_prog ? "!(write) && " : "");
			if (any)
				fprintf(e->f, "aot_in(a, size, map%zu_base, %" PRIu64 "ull))", i,
					s->range_len);
			else
				fprintf(e->f,
					"%" PRIu64 "ull >= (size) && (a) - map%zu_base <= %" PRIu64
					"ull - (size))",
					s->range_len, i, s->range_len);
		}
		fputs(")\n\n", e->f);
	}
}

static void emit_head(struct emit *e)
{
	fprintf(e->f,
		"/*\n"
		" * Generated by the uebpf AOT engine (emitter version %d) from %zu eBPF\n"
		" * instruction slots%s. Each statement is preceded by the instruction it\n"
		" * implements. Do not edit.\n"
		" */\n"
		"#define AOT_STACK_SIZE %d\n#define AOT_MAX_DEPTH %d\n"
		"#define AOT_FAULT_MEM %d\n#define AOT_FAULT_ALIGN %d\n"
		"#define AOT_FAULT_HELPER %d\n#define AOT_FAULT_DEPTH %d\n"
		"#define AOT_FAULT_BUDGET %d\n#define AOT_HELPER_STOP_ON_ZERO %du\n\n",
		AOT_EMIT_VERSION, e->vm->ninsns, e->opts->budgeted ? ", counting a budget" : "",
		ISA_STACK_SIZE, ISA_MAX_CALL_DEPTH, VM_FAULT_MEM, VM_FAULT_ALIGN, VM_FAULT_HELPER,
		VM_FAULT_DEPTH, VM_FAULT_BUDGET, UEBPF_HELPER_STOP_ON_ZERO);
	fputs(prelude, e->f);
	fputc('\n', e->f);
	fputs(inline_prelude, e->f);
	fputc('\n', e->f);
	emit_maps_macros(e);
	emit_macro(e->f, check_macro, sizeof(check_macro) / sizeof(check_macro[0]));
	emit_macro(e->f, helper_mem_macro, sizeof(helper_mem_macro) / sizeof(helper_mem_macro[0]));
	emit_macro(e->f, helper_range_macro,
		   sizeof(helper_range_macro) / sizeof(helper_range_macro[0]));
	for (unsigned bits = 8; bits <= 64; bits *= 2)
		fprintf(e->f, load_store, bits);
	fputs("/* Fetching and, or, xor: GCC 12 miscompiles r0 = __atomic_fetch_xor(p, r0). */\n",
	      e->f);
	for (unsigned i = 0; i < 3; i++) {
		fprintf(e->f, fetch_op, 32, fetch_names[i], fetch_ops[i]);
		fprintf(e->f, fetch_op, 64, fetch_names[i], fetch_ops[i]);
	}
	fprintf(e->f, "_Static_assert(sizeof(struct aot_ctx) == %zu, \"aot_ctx\");\n",
		sizeof(struct aot_ctx));
#define AOT_ASSERT_OFFSET(m)                                                                       \
	fprintf(e->f, "_Static_assert(__builtin_offsetof(struct aot_ctx, %s) == %zu, %s);\n", #m, \
		offsetof(struct aot_ctx, m), "\"aot_ctx\"");
	AOT_CTX_MEMBERS(AOT_ASSERT_OFFSET)
#undef AOT_ASSERT_OFFSET
}

static int emit_identity(struct emit *e)
{
	size_t n;
	uint64_t *w = aot_identity(e->vm, e->opts, e->plan, &n);

	if (!w)
		return -ENOMEM;
	fprintf(e->f,
		"\n/* What this object was made from: checked by the loader on every use. */\n"
		"__attribute__((visibility(\"default\"))) const uint64_t " AOT_SYM_IDENTITY_WORDS
		" = %zu;\n"
		"__attribute__((visibility(\"default\"))) const uint64_t " AOT_SYM_IDENTITY
		"[%zu] = {",
		n, n);
	for (size_t i = 0; i < n; i++)
		fprintf(e->f, "%s0x%" PRIx64 "ull,", i % 4 ? " " : "\n\t", w[i]);
	fputs("\n};\n", e->f);
	free(w);
	return 0;
}

/*
 * A callback a helper runs (call_sub, ctx->entry = its pc + 1): on the
 * run's stack, its frame right below the caller's current one, with r1-r5
 * given, as the interpreter's sub loop runs it; its exit at depth 0 returns
 * to the helper. The host sends here only the callbacks' entries.
 */
static void emit_callback_entry(struct emit *e)
{
	line(e, "if (ctx->entry) {");
	line(e, "	stack_top = *ctx->stack_hi;");
	line(e, "	stack_lo = *ctx->stack_lo;");
	line(e, "	frame_lo = *ctx->frame_lo - AOT_STACK_SIZE;");
	line(e, "	max_depth = (unsigned)((frame_lo - stack_lo) / AOT_STACK_SIZE) + 1;");
	line(e, "	r10 = frame_lo + AOT_STACK_SIZE;");
	line(e, "	r3 = ctx->r3;");
	line(e, "	r4 = ctx->r4;");
	line(e, "	r5 = ctx->r5;");
	line(e, "	switch (ctx->entry) {");
	for (size_t pc = 0; pc < e->vm->ninsns; pc++) {
		if (e->mark[pc] & MARK_CALLBACK)
			line(e, "	case %zu: goto L%zu;", pc + 1, pc);
	}
	line(e, "	}");
	line(e, "	return 0;");
	line(e, "}");
}

/*
 * The locals. r10 comes from the stack array through an empty asm, so the
 * compiler does not track which frame bytes the program touches: out of
 * frame accesses and reads of bytes never written are the program's
 * business (checked or not at run time), not diagnostics at compile time.
 */
static void emit_locals(struct emit *e)
{
	const struct aot_plan *plan = e->plan;

	fprintf(e->f, "\n__attribute__((visibility(\"default\"))) uint64_t " AOT_SYM_ENTRY
		      "(struct aot_ctx *ctx)\n"
		      "{\n");
	/* callbacks run on frames below their caller's: the stack has them all */
	line(e, "uint8_t stack[AOT_STACK_SIZE * %d] __attribute__((aligned(16)));",
	     e->nret || plan->callbacks ? ISA_MAX_CALL_DEPTH : 1);
	line(e, "uint64_t stack_top = (uintptr_t)(stack + sizeof(stack));");
	line(e, "AOT_UNUSED uint64_t stack_lo;");
	line(e, "AOT_UNUSED const uint64_t mem = ctx->mem, mem_len = ctx->mem_len;");
	line(e, "AOT_UNUSED uint64_t mem_neg = 0 - mem;");
	/* the run's memory holds an access of n bytes at a when a - mem < mem_lim<n> */
	line(e, "AOT_UNUSED const uint64_t mem_lim1 = mem_len;");
	for (unsigned n = 2; n <= 8; n *= 2)
		line(e, "AOT_UNUSED const uint64_t mem_lim%u = mem_len >= %u ? mem_len - %u : 0;",
		     n, n, n - 1);
	line(e, "AOT_UNUSED uint64_t r0 = 0, r1 = ctx->r1, r2 = ctx->r2, r3 = 0, r4 = 0, r5 = 0;");
	line(e, "AOT_UNUSED uint64_t r6 = 0, r7 = 0, r8 = 0, r9 = 0, r10, frame_lo;");
	if (e->opts->budgeted) {
		line(e, "AOT_UNUSED const uint64_t budget = ctx->budget;");
		line(e, "uint64_t used = 0;");
	}
	if (e->nret) {
		line(e, "struct aot_frame frames[AOT_MAX_DEPTH];");
		line(e, "unsigned depth = 0;");
	}
	/* this load's maps (aot_plan.c) */
	for (size_t i = 0; i < plan->nmaps; i++)
		line(e, "AOT_UNUSED const uint64_t map%zu = ctx->maps[%zu], map%zu_base = "
			"ctx->maps[%zu];",
		     i, i * AOT_MAP_WORDS + AOT_MAP_HANDLE, i, i * AOT_MAP_WORDS + AOT_MAP_BASE);
	for (size_t i = 0; i < plan->nmaps; i++) {
		size_t w = i * AOT_MAP_WORDS;

		if (!plan->maps[i].direct && !aot_changes_direct(&plan->maps[i]))
			continue;
		line(e, "AOT_UNUSED const uint64_t map%zu_obj = ctx->maps[%zu], map%zu_lookup = "
			"ctx->maps[%zu];",
		     i, w + AOT_MAP_OBJ, i, w + AOT_MAP_LOOKUP);
		line(e, "AOT_UNUSED const uint64_t map%zu_update = ctx->maps[%zu], map%zu_delete = "
			"ctx->maps[%zu];",
		     i, w + AOT_MAP_UPDATE, i, w + AOT_MAP_DELETE);
	}
	if (plan->needs_cpu)
		line(e, "const volatile int32_t *const cpu_id = ctx->cpu_id;");
	if (plan->needs_prandom)
		line(e, "uint64_t *const prandom = ctx->prandom;");
	if (plan->callbacks) {
		line(e, "AOT_UNUSED const uint64_t ops = ctx->ops;");
		line(e, "AOT_UNUSED unsigned max_depth = AOT_MAX_DEPTH;");
	}
	blank(e);
	line(e, "__asm__(\"\" : \"+r\"(stack_top));");
	/*
	 * Seen through, GCC turns a + (0 - mem) back into a - mem and computes
	 * r + off - mem with a mov and two subs per access; opaque, it is one
	 * lea, the invariant parts hoisted (Fletcher-16: 1.70x native -> 1.60x).
	 */
	line(e, "__asm__(\"\" : \"+r\"(mem_neg));");
	if (plan->callbacks)
		emit_callback_entry(e);
	line(e, "stack_lo = stack_top - sizeof(stack);");
	line(e, "r10 = stack_top;");
	line(e, "frame_lo = stack_top - AOT_STACK_SIZE;");
	if (e->vm->calls_helpers) {
		/* helpers accept pointers into the stack only where the run says it is */
		line(e, "*ctx->stack_lo = stack_lo;");
		line(e, "*ctx->stack_hi = stack_top;");
	}
	blank(e);
}

/* The return dispatch shared by every exit of a local function. */
static void emit_return(struct emit *e)
{
	const struct vm_op *ops = e->vm->ops;

	fputs("aot_return:\n", e->f);
	line(e, "depth--;");
	line(e, "r6 = frames[depth].r6;");
	line(e, "r7 = frames[depth].r7;");
	line(e, "r8 = frames[depth].r8;");
	line(e, "r9 = frames[depth].r9;");
	line(e, "r10 += AOT_STACK_SIZE;");
	line(e, "frame_lo += AOT_STACK_SIZE;");
	line(e, "switch (frames[depth].ret) {");
	for (size_t pc = 0; pc < e->vm->ninsns; pc = next_insn(&ops[pc], pc)) {
		if (ops[pc].code == VM_CALL_LOCAL)
			line(e, "case %" PRIu32 ": goto L%zu;", e->ret[pc], pc + 1);
	}
	line(e, "}");
	line(e, "__builtin_unreachable();");
}

int aot_emit(const struct uebpf_vm *vm, const struct aot_opts *opts, const struct aot_plan *plan,
	     FILE *out)
{
	size_t n = vm->ninsns;
	struct emit e = {
		.f = out,
		.vm = vm,
		.opts = opts,
		.plan = plan,
		.mark = calloc(n, sizeof(*e.mark)),
		.rest = calloc(n, sizeof(*e.rest)),
		.len = calloc(n, sizeof(*e.len)),
		.ret = calloc(n, sizeof(*e.ret)),
	};
	int ret = -ENOMEM;

	if (!e.mark || !e.rest || !e.len || !e.ret)
		goto out;
	analyse(&e);
	emit_head(&e);
	ret = emit_identity(&e);
	if (ret)
		goto out;
	emit_locals(&e);
	for (size_t pc = 0; pc < n; pc = next_insn(&vm->ops[pc], pc)) {
		if (!emit_insn(&e, pc)) {
			ret = -EINVAL;
			goto out;
		}
	}
	if (e.nret)
		emit_return(&e);
	fputs("}\n", out);
	ret = ferror(out) ? -EIO : 0;
out:
	free(e.mark);
	free(e.rest);
	free(e.len);
	free(e.ret);
	return ret;
}
