// SPDX-License-Identifier: MIT
/*
 * Unit tests of the JIT: the encoder against Capstone (every register in
 * every role, so each REX, SIB and displacement rule is exercised), jump
 * sizes at the rel8/rel32 boundary in both directions, programs of a million
 * instructions, faults, W^X of the code mapping, concurrent runs, and the
 * disassembly printer.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "isa/isa.h"
#include "jit/jit.h"
#include "jit/jit_emit.h"
#include "uebpf/uebpf.h"

#define I(op, d, s, o, i) ((struct isa_insn){.opcode = (op), .dst = (d), .src = (s), .off = (o), .imm = (i)})
#define MOV64_K(d, i) I(ISA_ALU64 | ISA_MOV | ISA_K, d, 0, 0, i)
#define MOV64_X(d, s) I(ISA_ALU64 | ISA_MOV | ISA_X, d, s, 0, 0)
#define ADD64_K(d, i) I(ISA_ALU64 | ISA_ADD | ISA_K, d, 0, 0, i)
#define SUB64_K(d, i) I(ISA_ALU64 | ISA_SUB | ISA_K, d, 0, 0, i)
#define JA(o) I(ISA_JMP | ISA_JA, 0, 0, o, 0)
#define JNE_K(d, i, o) I(ISA_JMP | ISA_JNE | ISA_K, d, 0, o, i)
#define JEQ_K(d, i, o) I(ISA_JMP | ISA_JEQ | ISA_K, d, 0, o, i)
#define EXIT() I(ISA_OP_EXIT, 0, 0, 0, 0)

static const char *const n64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
				     "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
static const char *const n32[16] = {"eax", "ecx", "edx",  "ebx",  "esp",  "ebp",  "esi",  "edi",
				     "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
static const char *const n16[16] = {"ax",  "cx",  "dx",   "bx",   "sp",   "bp",   "si",   "di",
				     "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
static const char *const n8[16] = {"al",  "cl",  "dl",   "bl",   "spl",  "bpl",  "sil",  "dil",
				    "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};

static csh cs;
static uint8_t code[64];

static struct jit_buf fresh(void)
{
	return (struct jit_buf){.p = code, .cap = sizeof(code)};
}

/*
 * The one instruction in b as Capstone reads it, normalized: mnemonic, then
 * operands as register names, immediates (hex, truncated to the operand
 * size) and memory operands "m<bytes>[base+index+disp]".
 */
static void decoded(const struct jit_buf *b, char *out, size_t len)
{
	cs_insn *insn;
	size_t n = cs_disasm(cs, b->p, b->len, 0, 0, &insn);
	int k;

	if (n != 1 || insn->size != b->len) {
		snprintf(out, len, "<%zu instructions, %u of %zu bytes>", n, n ? insn->size : 0,
			 b->len);
		if (n)
			cs_free(insn, n);
		return;
	}
	k = snprintf(out, len, "%s", insn->mnemonic);
	for (int i = 0; i < insn->detail->x86.op_count; i++) {
		const cs_x86_op *op = &insn->detail->x86.operands[i];
		uint64_t mask = op->size >= 8 ? UINT64_MAX : (1ull << (8 * op->size)) - 1;

		k += snprintf(out + k, len - k, i ? ", " : " ");
		if (op->type == X86_OP_REG) {
			k += snprintf(out + k, len - k, "%s", cs_reg_name(cs, op->reg));
		} else if (op->type == X86_OP_IMM) {
			k += snprintf(out + k, len - k, "0x%" PRIx64, (uint64_t)op->imm & mask);
		} else {
			k += snprintf(out + k, len - k, "m%u[%s", op->size,
				      op->mem.base ? cs_reg_name(cs, op->mem.base) : "");
			if (op->mem.index)
				k += snprintf(out + k, len - k, "+%s", cs_reg_name(cs, op->mem.index));
			k += snprintf(out + k, len - k, "%+" PRId64 "]", op->mem.disp);
		}
	}
	cs_free(insn, 1);
}

static void expect_code(const char *what, const struct jit_buf *b, const char *fmt, ...)
{
	char want[128], got[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	decoded(b, got, sizeof(got));
	EXPECT(!strcmp(want, got), "%s: want \"%s\", got \"%s\"", what, want, got);
}

static const int32_t disps[] = {0, 1, -1, 127, 128, -128, -129, 0x12345678, INT32_MIN};

static void test_encoder_rr(void)
{
	for (unsigned d = 0; d < 16; d++) {
		for (unsigned s = 0; s < 16; s++) {
			struct jit_buf b = fresh();

			jit_mov_rr(&b, true, d, s);
			expect_code("mov64", &b, "mov %s, %s", n64[d], n64[s]);
			b = fresh();
			jit_mov_rr(&b, false, d, s);
			expect_code("mov32", &b, "mov %s, %s", n32[d], n32[s]);
			b = fresh();
			jit_rr(&b, JIT_W, OP_SUB, s, d);
			expect_code("sub", &b, "sub %s, %s", n64[d], n64[s]);
			b = fresh();
			jit_rr(&b, 0, OP_XOR, s, d);
			expect_code("xor32", &b, "xor %s, %s", n32[d], n32[s]);
			b = fresh();
			jit_rr(&b, JIT_W, 0x0faf, d, s);
			expect_code("imul", &b, "imul %s, %s", n64[d], n64[s]);
			b = fresh();
			jit_rr(&b, JIT_W | JIT_RM8, 0x0fbe, d, s);
			expect_code("movsx8", &b, "movsx %s, %s", n64[d], n8[s]);
			b = fresh();
			jit_rr(&b, JIT_RM8, 0x0fbe, d, s);
			expect_code("movsx8_32", &b, "movsx %s, %s", n32[d], n8[s]);
			b = fresh();
			jit_rr(&b, 0, 0x0fbf, d, s);
			expect_code("movsx16_32", &b, "movsx %s, %s", n32[d], n16[s]);
			b = fresh();
			jit_rr(&b, JIT_W, 0x63, d, s);
			expect_code("movsxd", &b, "movsxd %s, %s", n64[d], n32[s]);
		}
	}
}

static void test_encoder_mem(void)
{
	for (unsigned r = 0; r < 16; r++) {
		for (unsigned base = 0; base < 16; base++) {
			for (size_t i = 0; i < sizeof(disps) / sizeof(disps[0]); i++) {
				int32_t d = disps[i];
				struct jit_buf b = fresh();

				jit_rm(&b, JIT_W, OP_MOV_LOAD, r, base, X_NOINDEX, d);
				expect_code("load64", &b, "mov %s, m8[%s%+d]", n64[r], n64[base], d);
				b = fresh();
				jit_rm(&b, JIT_REG8, 0x88, r, base, X_NOINDEX, d);
				expect_code("store8", &b, "mov m1[%s%+d], %s", n64[base], d, n8[r]);
				b = fresh();
				jit_rm(&b, JIT_OP16, OP_MOV, r, base, X_NOINDEX, d);
				expect_code("store16", &b, "mov m2[%s%+d], %s", n64[base], d, n16[r]);
				b = fresh();
				jit_rm(&b, 0, 0x0fb6, r, base, X_NOINDEX, d);
				expect_code("movzx8", &b, "movzx %s, m1[%s%+d]", n32[r], n64[base],
					    d);
				b = fresh();
				jit_rm(&b, JIT_W | JIT_LOCK, 0x0fc1, r, base, X_NOINDEX, d);
				expect_code("xadd", &b, "lock xadd m8[%s%+d], %s", n64[base], d, n64[r]);
				if (r == X_RSP)
					continue; /* no index */
				b = fresh();
				jit_rm(&b, JIT_W, OP_LEA, X_R11, base, r, d);
				expect_code("lea", &b, "lea r11, m8[%s+%s%+d]", n64[base], n64[r], d);
			}
		}
	}
}

static void test_encoder_imm(void)
{
	static const uint64_t ks[] = {0,
				      1,
				      0x7f,
				      0xffffffff,
				      0x80000000,
				      0xffffffff80000000ull,
				      0xfffffffffffffffful,
				      0x100000000ull,
				      0x8000000000000000ull};
	static const int32_t imms[] = {0, 1, -1, 127, 128, -128, -129, INT32_MAX, INT32_MIN};

	for (unsigned r = 0; r < 16; r++) {
		for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
			struct jit_buf b = fresh();
			uint64_t k = ks[i];

			jit_mov_ri(&b, r, k);
			if (k == 0)
				expect_code("mov_ri", &b, "xor %s, %s", n32[r], n32[r]);
			else if (k <= UINT32_MAX)
				expect_code("mov_ri", &b, "mov %s, 0x%" PRIx64, n32[r], k);
			else if ((int64_t)k == (int32_t)k)
				expect_code("mov_ri", &b, "mov %s, 0x%" PRIx64, n64[r], k);
			else
				expect_code("mov_ri", &b, "movabs %s, 0x%" PRIx64, n64[r], k);
		}
		for (size_t i = 0; i < sizeof(imms) / sizeof(imms[0]); i++) {
			struct jit_buf b = fresh();

			jit_alu_ri(&b, true, EXT_CMP, r, imms[i]);
			expect_code("cmp_ri", &b, "cmp %s, 0x%" PRIx64, n64[r],
				    (uint64_t)(int64_t)imms[i]);
			b = fresh();
			jit_alu_ri(&b, false, EXT_AND, r, imms[i]);
			expect_code("and_ri", &b, "and %s, 0x%" PRIx32, n32[r], (uint32_t)imms[i]);
		}
		struct jit_buf b = fresh();

		jit_shift_ri(&b, true, EXT_SAR, r, 63);
		expect_code("sar", &b, "sar %s, 0x3f", n64[r]);
		b = fresh();
		jit_shift_cl(&b, false, EXT_SHL, r);
		expect_code("shl", &b, "shl %s, cl", n32[r]);
		b = fresh();
		jit_bswap(&b, true, r);
		expect_code("bswap64", &b, "bswap %s", n64[r]);
		b = fresh();
		jit_bswap(&b, false, r);
		expect_code("bswap32", &b, "bswap %s", n32[r]);
		b = fresh();
		jit_push(&b, r);
		expect_code("push", &b, "push %s", n64[r]);
		b = fresh();
		jit_pop(&b, r);
		expect_code("pop", &b, "pop %s", n64[r]);
		b = fresh();
		jit_rr(&b, JIT_RM8, 0xf6, 0, r);
		jit_emit8(&b, 7);
		expect_code("test8", &b, "test %s, 0x7", n8[r]);
	}
}

/* An emitter past its capacity counts what it would have written. */
static void test_encoder_overflow(void)
{
	uint8_t small[3];
	struct jit_buf b = {.p = small, .cap = sizeof(small)};

	jit_mov_ri(&b, X_RAX, 0x8000000000000000ull);
	EXPECT(b.len == 10, "movabs counted %zu bytes", b.len);
	jit_patch32(&b, 6, 1);
	EXPECT(small[0] == 0x48 && small[1] == 0xb8, "prefix of movabs kept");
}

static struct uebpf_vm *load(enum uebpf_engine e, const struct isa_insn *prog, size_t n,
			     uint64_t budget, char *err, size_t err_len)
{
	struct uebpf_vm *vm = uebpf_vm_create();

	if (!vm)
		return NULL;
	uebpf_vm_set_engine(vm, e);
	if (budget)
		uebpf_vm_set_insn_budget(vm, budget);
	if (uebpf_vm_load(vm, prog, n * sizeof(*prog), err, err_len)) {
		uebpf_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

/* Runs prog on the JIT; returns r0, or ~0 with the error printed. */
static uint64_t run_jit(const char *what, const struct isa_insn *prog, size_t n)
{
	char err[256] = "";
	struct uebpf_vm *vm = load(UEBPF_ENGINE_JIT, prog, n, 0, err, sizeof(err));
	uint64_t r0 = ~0ull;
	int ret;

	EXPECT(vm, "%s: load: %s", what, err);
	if (!vm)
		return r0;
	ret = uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err));
	EXPECT(!ret, "%s: run: %s", what, err);
	uebpf_vm_destroy(vm);
	return r0;
}

/* The size of the native code of slot pc. */
static size_t code_size(const struct isa_insn *prog, size_t n, size_t pc)
{
	char err[256];
	struct uebpf_vm *vm = load(UEBPF_ENGINE_JIT, prog, n, 0, err, sizeof(err));
	const void *start;
	size_t len = 0;

	if (vm && jit_insn_range(vm, pc, &start, &len))
		len = 0;
	uebpf_vm_destroy(vm);
	return len;
}

/*
 * Fillers of known size: add r0, 1 is add rax, imm8 (4 bytes); mov r2, r3
 * is mov rsi, rdx (3 bytes) and leaves r0 alone. A jump over them has
 * exactly their size as displacement, so it can be put on either side of
 * the rel8 limit.
 */
static size_t fill(struct isa_insn *p, unsigned fours, unsigned threes)
{
	size_t n = 0;

	while (fours--)
		p[n++] = ADD64_K(0, 1);
	while (threes--)
		p[n++] = MOV64_X(2, 3);
	return n;
}

static void test_jump_boundary(void)
{
	struct isa_insn p[64];
	size_t n, len;

	/* forward: 31 * 4 + 3 = 127 fits rel8, 32 * 4 = 128 does not */
	for (unsigned wide = 0; wide < 2; wide++) {
		n = 0;
		p[n++] = MOV64_K(0, 7);
		p[n++] = JA(32);
		n += fill(p + n, wide ? 32 : 31, wide ? 0 : 1);
		p[n++] = EXIT();
		len = code_size(p, n, 1);
		EXPECT(len == (wide ? 5u : 2u), "forward ja over %u bytes: %zu bytes",
		       wide ? 128 : 127, len);
		EXPECT(run_jit("forward ja", p, n) == 7, "forward ja skips its fillers");

		/* the same with a conditional jump: cmp rax, 7 (4 bytes) and jcc */
		p[1] = JEQ_K(0, 7, 32);
		len = code_size(p, n, 1);
		EXPECT(len == (wide ? 10u : 6u), "forward jeq over %u bytes: %zu bytes",
		       wide ? 128 : 127, len);
		EXPECT(run_jit("forward jeq", p, n) == 7, "forward jeq skips its fillers");
	}

	/*
	 * backward: a loop of fillers, sub r1, 1 (4 bytes) and jne r1, 0, which
	 * takes its flags from the sub and is only the jump. rel8 reaches back
	 * 128 bytes from the end of its 2 bytes: 122 bytes of fillers fit, 123
	 * do not.
	 */
	for (unsigned wide = 0; wide < 2; wide++) {
		unsigned fours = wide ? 30 : 29, threes = wide ? 1 : 2, body;

		n = 0;
		p[n++] = MOV64_K(0, 0);
		p[n++] = MOV64_K(1, 3);
		body = (unsigned)fill(p + n, fours, threes);
		n += body;
		p[n++] = SUB64_K(1, 1);
		p[n] = JNE_K(1, 0, -(int)(body + 2));
		n++;
		p[n++] = EXIT();
		len = code_size(p, n, n - 2);
		EXPECT(len == (wide ? 6u : 2u), "backward jne over %u bytes: %zu bytes",
		       4 * fours + 3 * threes + 6, len);
		EXPECT(run_jit("backward loop", p, n) == 3 * fours, "backward loop runs 3 times");
	}
}

/*
 * A chain of forward jumps each of which fits rel8 only if the next one
 * does: they shrink one per pass, from the last, more of them than passes
 * are allowed. Whatever pass the compiler stops at, the code is right.
 */
static void test_jump_chain(void)
{
	enum { CHAIN = 40, GAP = 31 };
	static struct isa_insn p[CHAIN * (GAP + 1) + 8];
	size_t n = 0;
	uint64_t r0;

	p[n++] = MOV64_K(0, 0);
	for (unsigned i = 0; i < CHAIN; i++) {
		/* over its gap and the next jump, into the next gap; the last one to the end */
		p[n++] = JA(i + 1 < CHAIN ? GAP + 1 : GAP);
		n += fill(p + n, GAP, 0);
	}
	p[n++] = ADD64_K(0, 1000);
	p[n++] = EXIT();
	r0 = run_jit("chain", p, n);
	EXPECT(r0 == 1000 + GAP * (CHAIN / 2), "chain of jumps: r0 %" PRIu64 ", want %u", r0,
	       1000 + GAP * (CHAIN / 2));
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The limit of the validator: 1 << 20 slots. */
#define BIG (1u << 20)

static void test_big_programs(void)
{
	struct isa_insn *p = calloc(BIG, sizeof(*p));
	size_t n;
	double t0;
	uint64_t r0;

	if (!p) {
		EXPECT(0, "out of memory");
		return;
	}
	/* straight line */
	n = 0;
	p[n++] = MOV64_K(0, 0);
	while (n < BIG - 1)
		p[n++] = ADD64_K(0, 3);
	p[n++] = EXIT();
	t0 = now_ms();
	r0 = run_jit("straight line", p, n);
	printf("1M straight-line instructions: compiled and run in %.0f ms\n", now_ms() - t0);
	EXPECT(r0 == 3ull * (BIG - 2), "straight line: r0 %" PRIu64, r0);

	/* a forward jump over all of it (gotol: ja's offset has 16 bits) */
	p[1] = I(ISA_JMP32 | ISA_JA, 0, 0, 0, (int32_t)(BIG - 4));
	p[BIG - 2] = MOV64_K(0, 42);
	r0 = run_jit("gotol over 1M", p, n);
	EXPECT(r0 == 42, "gotol over 1M instructions: r0 %" PRIu64, r0);

	/* a loop whose back edge spans it: rel32 backward */
	n = 0;
	p[n++] = MOV64_K(0, 0);
	p[n++] = MOV64_K(1, 3);
	while (n < 32000)
		p[n++] = ADD64_K(0, 1);
	p[n++] = SUB64_K(1, 1);
	p[n] = JNE_K(1, 0, -(int)(n - 1));
	n++;
	p[n++] = EXIT();
	r0 = run_jit("long loop", p, n);
	EXPECT(r0 == 3ull * (32000 - 2), "long loop: r0 %" PRIu64, r0);
	free(p);
}

/* Both engines fail a faulting program with the same error (the message may differ in a stack address). */
static void expect_fault(const char *what, const struct isa_insn *prog, size_t n, uint64_t budget,
			 int code, const char *part)
{
	char err_i[256] = "", err_j[256] = "";
	uint8_t mem[16] __attribute__((aligned(16))) = {0};
	struct uebpf_vm *vi = load(UEBPF_ENGINE_INTERP, prog, n, budget, err_i, sizeof(err_i));
	struct uebpf_vm *vj = load(UEBPF_ENGINE_JIT, prog, n, budget, err_j, sizeof(err_j));
	uint64_t r0;
	int ri = -1, rj = -1;

	if (vi && vj) {
		ri = uebpf_vm_run(vi, mem, sizeof(mem), &r0, err_i, sizeof(err_i));
		rj = uebpf_vm_run(vj, mem, sizeof(mem), &r0, err_j, sizeof(err_j));
	}
	EXPECT(rj == -code && strstr(err_j, part), "%s: jit returned %d (%s), want %d with \"%s\"",
	       what, rj, err_j, -code, part);
	EXPECT(ri == rj && strstr(err_i, part), "%s: interp said %d (%s), jit %d (%s)", what, ri,
	       err_i, rj, err_j);
	uebpf_vm_destroy(vi);
	uebpf_vm_destroy(vj);
}

#define FAULT(what, budget, code, part, ...)                                                       \
	do {                                                                                       \
		const struct isa_insn p_[] = {__VA_ARGS__};                                        \
		expect_fault(what, p_, sizeof(p_) / sizeof(p_[0]), budget, code, part);            \
	} while (0)

static void test_faults(void)
{
	FAULT("load past mem", 0, EFAULT, "insn 1: invalid memory access of 4 bytes", MOV64_K(0, 0),
	      I(ISA_LDX | ISA_MEM | ISA_W, 0, 1, 13, 0), EXIT());
	FAULT("store above the stack", 0, EFAULT, "insn 2: invalid memory access of 8 bytes",
	      MOV64_K(0, 0), MOV64_X(2, 10), I(ISA_STX | ISA_MEM | ISA_DW, 2, 0, 0, 0), EXIT());
	FAULT("misaligned atomic", 0, EINVAL, "insn 1: misaligned atomic", MOV64_K(0, 0),
	      I(ISA_STX | ISA_ATOMIC | ISA_DW, 1, 0, 4, ISA_ADD), EXIT());
	FAULT("callx unknown", 0, ENOENT, "insn 1: callx to unknown helper 77", MOV64_K(3, 77),
	      I(ISA_OP_CALLX, 3, 0, 0, 0), EXIT());
	FAULT("recursion", 0, E2BIG, "insn 0: local call deeper than 8 frames",
	      I(ISA_OP_CALL, 0, ISA_CALL_LOCAL, 0, -1), EXIT());
	FAULT("runaway loop", 100, E2BIG, "instruction budget of 100 used up", MOV64_K(0, 0),
	      ADD64_K(0, 1), JA(-2), EXIT());
}

/* The code mapping is read and execute, never writable and executable. */
static void test_wx(void)
{
	static const struct isa_insn p[] = {MOV64_K(0, 1), EXIT()};
	char err[256], line[512];
	struct uebpf_vm *vm = load(UEBPF_ENGINE_JIT, p, 2, 0, err, sizeof(err));
	const void *start;
	size_t len;
	FILE *maps = fopen("/proc/self/maps", "r");
	bool found = false, wx = false;

	if (!vm || !maps || jit_insn_range(vm, 0, &start, &len)) {
		EXPECT(0, "setup: %s", err);
		goto out;
	}
	while (fgets(line, sizeof(line), maps)) {
		uintptr_t lo, hi;
		char perms[5];

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s", &lo, &hi, perms) != 3)
			continue;
		if (perms[1] == 'w' && perms[2] == 'x')
			wx = true;
		if ((uintptr_t)start >= lo && (uintptr_t)start < hi) {
			found = true;
			EXPECT(!strcmp(perms, "r-xp"), "code mapping is %s", perms);
		}
	}
	EXPECT(found, "code mapping not in /proc/self/maps");
	EXPECT(!wx, "a mapping is writable and executable");
out:
	if (maps)
		fclose(maps);
	uebpf_vm_destroy(vm);
}

static struct uebpf_vm *shared_vm;

/* Sums mem through a loop with checked loads and stack traffic. */
static void *thread_run(void *arg)
{
	uint8_t mem[64];
	uintptr_t bad = 0;

	for (unsigned i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i + (uintptr_t)arg);
	for (unsigned round = 0; round < 20000; round++) {
		uint64_t r0, want = 0;

		mem[round % 64] = (uint8_t)round;
		for (unsigned i = 0; i < sizeof(mem); i++)
			want += mem[i];
		if (uebpf_vm_run(shared_vm, mem, sizeof(mem), &r0, NULL, 0) || r0 != want)
			bad++;
	}
	return (void *)bad;
}

static void test_threads(void)
{
	static const struct isa_insn p[] = {
		MOV64_K(0, 0),
		I(ISA_STX | ISA_MEM | ISA_DW, 10, 1, -8, 0),
		MOV64_K(3, 0),
		/* loop: r0 += mem[r3], through a pointer reloaded from the stack */
		I(ISA_LDX | ISA_MEM | ISA_DW, 4, 10, 0 - 8, 0),
		I(ISA_ALU64 | ISA_ADD | ISA_X, 4, 3, 0, 0),
		I(ISA_LDX | ISA_MEM | ISA_B, 5, 4, 0, 0),
		I(ISA_ALU64 | ISA_ADD | ISA_X, 0, 5, 0, 0),
		ADD64_K(3, 1),
		I(ISA_JMP | ISA_JNE | ISA_X, 3, 2, -6, 0),
		EXIT(),
	};
	pthread_t t[4];
	char err[256];
	uintptr_t bad = 0;

	shared_vm = load(UEBPF_ENGINE_JIT, p, sizeof(p) / sizeof(p[0]), 0, err, sizeof(err));
	EXPECT(shared_vm, "load: %s", err);
	if (!shared_vm)
		return;
	for (uintptr_t i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread_run, (void *)i);
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(t[i], &r);
		bad += (uintptr_t)r;
	}
	EXPECT(bad == 0, "%zu of 80000 concurrent runs went wrong", (size_t)bad);
	uebpf_vm_destroy(shared_vm);
}

static void test_disasm(void)
{
	static const struct isa_insn p[] = {
		I(ISA_LD | ISA_IMM | ISA_DW, 0, 0, 0, 5), I(0, 0, 0, 0, 1),
		I(ISA_LDX | ISA_MEM | ISA_B, 2, 1, 3, 0), EXIT(),
	};
	char err[256], *text = NULL;
	size_t len = 0;
	struct uebpf_vm *vm = load(UEBPF_ENGINE_JIT, p, 4, 0, err, sizeof(err));
	FILE *out = open_memstream(&text, &len);
	const void *start;
	size_t n;
	int ret = vm && out ? jit_print_disasm(vm, out) : -1;

	if (out)
		fclose(out);
	EXPECT(ret == 0, "jit_print_disasm returned %d", ret);
	EXPECT(text && strstr(text, "0: lddw %r0, 0x100000005") && strstr(text, "movabs  rax") &&
		       strstr(text, "2: ldxb %r2, [%r1+3]") && strstr(text, "movzx   esi, byte ptr [rdi + 3]") &&
		       strstr(text, "3: exit") && strstr(text, "ret") && strstr(text, "out of line"),
	       "disassembly:\n%s", text ? text : "(none)");
	EXPECT(vm && !jit_insn_range(vm, 1, &start, &n) && n == 0, "lddw's second slot has no code");
	EXPECT(vm && jit_insn_range(vm, 4, &start, &n) == -EINVAL, "pc past the end");
	free(text);
	uebpf_vm_destroy(vm);
	vm = load(UEBPF_ENGINE_INTERP, p, 4, 0, err, sizeof(err));
	EXPECT(vm && jit_insn_range(vm, 0, &start, &n) == -EINVAL, "interpreter VM has no code");
	uebpf_vm_destroy(vm);
}

/* r0 of prog on engine e, or ~0 with the error printed. */
static uint64_t run_on(enum uebpf_engine e, const char *what, const struct isa_insn *prog,
		       size_t n)
{
	char err[256] = "";
	struct uebpf_vm *vm = load(e, prog, n, 0, err, sizeof(err));
	uint64_t r0 = ~0ull;

	EXPECT(vm && !uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err)), "%s: %s", what, err);
	uebpf_vm_destroy(vm);
	return r0;
}

/*
 * Unsigned division and modulo by constants, which the JIT turns into
 * shifts, masks and multiplications: against the interpreter, for divisors
 * at the edges of each method and dividends at the edges of each divisor,
 * in registers that mul and div use (r0 is rax, r3 rdx) and others.
 */
static void test_const_division(void)
{
	static const int32_t divisors[] = {1, 2, 3, 5, 7, 10, 64, 255, 641, 1 << 30, 0x7fffffff,
					   -1, -2, -3, -7, INT32_MIN, INT32_MIN + 1, 0x55555555};
	static const uint64_t dividends[] = {0, 1, 2, 254, 255, 256, 0x7fffffff, 0x80000000,
					     0xffffffff, 0x100000000, 0x8000000000000000,
					     0xfffffffffffffffe, 0xffffffffffffffff,
					     0x123456789abcdef0};
	static const uint8_t ops[] = {ISA_DIV, ISA_MOD};
	static const uint8_t dsts[] = {0, 3, 4, 6};
	unsigned bad = 0, total = 0;

	for (size_t di = 0; di < sizeof(divisors) / sizeof(divisors[0]); di++) {
		for (size_t ni = 0; ni < sizeof(dividends) / sizeof(dividends[0]); ni++) {
			for (unsigned v = 0; v < 4; v++) {
				for (size_t ri = 0; ri < sizeof(dsts); ri++) {
					uint8_t dst = dsts[ri], cls = v & 1 ? ISA_ALU : ISA_ALU64;
					uint64_t n = dividends[ni];
					struct isa_insn p[] = {
						MOV64_K(0, 1000),
						MOV64_K(3, 333),
						I(ISA_LD | ISA_IMM | ISA_DW, dst, 0, 0, (int32_t)n),
						I(0, 0, 0, 0, (int32_t)(n >> 32)),
						I(cls | ops[v >> 1] | ISA_K, dst, 0, 0, divisors[di]),
						/* r0 = r0 * 31 + r3 * 17 + dst: every register it touched */
						I(ISA_ALU64 | ISA_MUL | ISA_K, 0, 0, 0, 31),
						I(ISA_ALU64 | ISA_MUL | ISA_K, 3, 0, 0, 17),
						I(ISA_ALU64 | ISA_ADD | ISA_X, 0, 3, 0, 0),
						I(ISA_ALU64 | ISA_ADD | ISA_X, 0, dst, 0, 0),
						EXIT(),
					};
					size_t len = sizeof(p) / sizeof(p[0]);
					uint64_t want = run_on(UEBPF_ENGINE_INTERP, "interp", p, len);
					uint64_t got = run_on(UEBPF_ENGINE_JIT, "jit", p, len);

					total++;
					if (got != want && bad++ < 10)
						EXPECT(0,
						       "%s%s r%u (= %#" PRIx64 "), %d: jit %#" PRIx64
						       ", interp %#" PRIx64,
						       v >> 1 ? "mod" : "div", v & 1 ? "32" : "64",
						       dst, n, divisors[di], got, want);
				}
			}
		}
	}
	EXPECT(!bad, "constant division: %u of %u cases differ", bad, total);
}

uint64_t jit_test_far_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e);

static uint64_t near_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)b, (void)c, (void)d, (void)e;
	return a * 2;
}

/*
 * Helpers are called directly (call rel32) when the code can reach them,
 * through a register otherwise: a helper from a shared library mapped far
 * away sends the whole program down that path. Both give the right answer.
 */
static void test_helper_calls(void)
{
	static const struct isa_insn p[] = {
		MOV64_K(1, 5), I(ISA_JMP | ISA_CALL, 0, 0, 0, 1), MOV64_X(6, 0),
		MOV64_K(1, 7), I(ISA_JMP | ISA_CALL, 0, 0, 0, 2), I(ISA_ALU64 | ISA_ADD | ISA_X, 0, 6, 0, 0),
		EXIT(),
	};
	static const struct {
		uebpf_helper_fn fn;
		uint8_t byte; /* the call's first byte: e8, or ff of call rax */
		uint64_t r0;
	} cases[] = {
		{near_helper, 0xe8, 10 + 14},
		{jit_test_far_helper, 0xff, 10 + 21},
	};

	for (size_t i = 0; i < 2; i++) {
		struct uebpf_vm *vm = uebpf_vm_create();
		char err[256] = "";
		const uint8_t *start;
		uint64_t r0 = 0;
		size_t len;

		uebpf_vm_set_engine(vm, UEBPF_ENGINE_JIT);
		uebpf_vm_register_helper(vm, 1, "near", near_helper);
		uebpf_vm_register_helper(vm, 2, "other", cases[i].fn);
		EXPECT(!uebpf_vm_load(vm, p, sizeof(p), err, sizeof(err)), "load: %s", err);
		EXPECT(!uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err)) && r0 == cases[i].r0,
		       "helper case %zu: r0 %" PRIu64 " (%s), want %" PRIu64, i, r0, err,
		       cases[i].r0);
		EXPECT(!jit_insn_range(vm, 1, (const void **)&start, &len) && len &&
			       (start[0] == cases[i].byte || start[len - 2] == cases[i].byte),
		       "helper case %zu: call encoded as %02x..., want %02x", i, len ? start[0] : 0,
		       cases[i].byte);
		uebpf_vm_destroy(vm);
	}
}

int main(void)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		printf("cannot open Capstone\n");
		return 1;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	test_encoder_rr();
	test_encoder_mem();
	test_encoder_imm();
	test_encoder_overflow();
	test_jump_boundary();
	test_jump_chain();
	test_big_programs();
	test_faults();
	test_wx();
	test_threads();
	test_disasm();
	test_helper_calls();
	test_const_division();
	cs_close(&cs);
	return check_summary();
}
