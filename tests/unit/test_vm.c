// SPDX-License-Identifier: MIT
/*
 * Unit tests of the VM through the public API: load-time validation (each
 * rejection names the instruction and the reason), run-time faults (each
 * stops the program with its errno and message, the host unharmed), helpers,
 * local calls, the instruction budget, and runs from many threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "isa/isa.h"
#include "uebpf/uebpf.h"


#define I(op, d, s, o, i) ((struct isa_insn){.opcode = (op), .dst = (d), .src = (s), .off = (o), .imm = (i)})
#define MOV64_K(d, i) I(ISA_ALU64 | ISA_MOV | ISA_K, d, 0, 0, i)
#define MOV64_X(d, s) I(ISA_ALU64 | ISA_MOV | ISA_X, d, s, 0, 0)
#define ADD64_K(d, i) I(ISA_ALU64 | ISA_ADD | ISA_K, d, 0, 0, i)
#define ADD64_X(d, s) I(ISA_ALU64 | ISA_ADD | ISA_X, d, s, 0, 0)
#define LDXDW(d, s, o) I(ISA_LDX | ISA_MEM | ISA_DW, d, s, o, 0)
#define LDXB(d, s, o) I(ISA_LDX | ISA_MEM | ISA_B, d, s, o, 0)
#define STXDW(d, s, o) I(ISA_STX | ISA_MEM | ISA_DW, d, s, o, 0)
#define STDW(d, o, i) I(ISA_ST | ISA_MEM | ISA_DW, d, 0, o, i)
#define JA(o) I(ISA_JMP | ISA_JA, 0, 0, o, 0)
#define JNE_K(d, i, o) I(ISA_JMP | ISA_JNE | ISA_K, d, 0, o, i)
#define CALL(id) I(ISA_OP_CALL, 0, 0, 0, id)
#define CALL_LOCAL(rel) I(ISA_OP_CALL, 0, ISA_CALL_LOCAL, 0, rel)
#define EXIT() I(ISA_OP_EXIT, 0, 0, 0, 0)

#define LOAD(vm, prog, err) uebpf_vm_load(vm, prog, sizeof(prog), err, sizeof(err))

/* Loads prog into a fresh VM and expects a rejection with errno and message part. */
static void expect_reject(const char *what, const struct isa_insn *prog, size_t n, int code,
			  const char *part)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[256] = "";
	int ret = uebpf_vm_load(vm, prog, n * sizeof(*prog), err, sizeof(err));

	EXPECT(ret == -code, "%s: load returned %d, want %d (%s)", what, ret, -code, err);
	EXPECT(strstr(err, part), "%s: message \"%s\" lacks \"%s\"", what, err, part);
	uebpf_vm_destroy(vm);
}

#define REJECT(what, code, part, ...)                                                              \
	do {                                                                                       \
		const struct isa_insn p_[] = {__VA_ARGS__};                                        \
		expect_reject(what, p_, sizeof(p_) / sizeof(p_[0]), code, part);                   \
	} while (0)

static void test_validation(void)
{
	char err[256];
	struct uebpf_vm *vm = uebpf_vm_create();

	EXPECT(uebpf_vm_load(vm, NULL, 0, err, sizeof(err)) == -EINVAL &&
		       strstr(err, "no instructions"),
	       "empty program: %s", err);
	EXPECT(uebpf_vm_load(vm, "\x95\0\0\0", 4, err, sizeof(err)) == -EINVAL &&
		       strstr(err, "multiple of 8"),
	       "ragged length: %s", err);
	uebpf_vm_destroy(vm);

	REJECT("unknown opcode", EINVAL, "insn 0: unknown opcode 0x8e", I(0x8e, 0, 0, 0, 0),
	       EXIT());
	REJECT("opcode zero", EINVAL, "insn 1: unknown opcode 0x00", MOV64_K(0, 0),
	       I(0, 0, 0, 0, 0), EXIT());
	REJECT("bad dst", EINVAL, "insn 0: invalid register r11", MOV64_K(11, 0), EXIT());
	REJECT("bad src", EINVAL, "insn 0: invalid register r12", MOV64_X(0, 12), EXIT());
	REJECT("write r10", EINVAL, "insn 0: frame pointer r10 is read only", MOV64_K(10, 0),
	       EXIT());
	REJECT("reserved src", EINVAL, "insn 0: reserved field src", I(0x07, 0, 1, 0, 1),
	       EXIT());
	REJECT("reserved off", EINVAL, "insn 0: invalid off 1", I(0x07, 0, 0, 1, 1), EXIT());
	REJECT("reserved imm of X", EINVAL, "insn 0: reserved field imm", I(0x0f, 0, 1, 0, 1),
	       EXIT());
	REJECT("exit with dst", EINVAL, "insn 0: reserved field dst", I(0x95, 1, 0, 0, 0));
	REJECT("bad swap width", EINVAL, "insn 0: byte swap width", I(0xdc, 0, 0, 0, 8),
	       EXIT());
	REJECT("jump out of range", EINVAL, "insn 0: jump out of range to 5", JA(4), EXIT());
	REJECT("jump backwards out", EINVAL, "insn 0: jump out of range to -1", JA(-2), EXIT());
	REJECT("jump into lddw", EINVAL, "insn 0: jump into the middle of lddw at 2", JA(1),
	       I(ISA_OP_LDDW, 0, 0, 0, 1), I(0, 0, 0, 0, 0), EXIT());
	REJECT("lddw at end", EINVAL, "insn 1: incomplete lddw", MOV64_K(0, 0),
	       I(ISA_OP_LDDW, 0, 0, 0, 1));
	REJECT("lddw second slot", EINVAL, "insn 0: incomplete lddw", I(ISA_OP_LDDW, 0, 0, 0, 1),
	       I(0x07, 0, 0, 0, 0), EXIT());
	REJECT("lddw map fd", EBADF, "insn 0: lddw refers to map fd 3, which nothing resolves",
	       I(ISA_OP_LDDW, 1, ISA_PSEUDO_MAP_FD, 0, 3), I(0, 0, 0, 0, 0), EXIT());
	REJECT("falls off", EINVAL, "insn 0: control falls off the end", MOV64_K(0, 0));
	REJECT("cond at end", EINVAL, "insn 1: control falls off the end", MOV64_K(0, 0),
	       JNE_K(0, 1, -2));
	REJECT("unknown helper", EINVAL, "insn 0: call to unknown helper 99", CALL(99), EXIT());
	REJECT("kfunc", EOPNOTSUPP, "insn 0: kfunc calls", I(ISA_OP_CALL, 0, 2, 0, 1), EXIT());
	REJECT("local call out", EINVAL, "insn 0: jump out of range", CALL_LOCAL(7), EXIT());
	REJECT("legacy ld_abs", EOPNOTSUPP, "insn 0: legacy packet access",
	       I(ISA_LD | ISA_ABS | ISA_W, 0, 0, 0, 0), EXIT());
	REJECT("ldxsx dw", EINVAL, "insn 0: unknown opcode 0x99", I(0x99, 0, 1, 0, 0), EXIT());
	REJECT("atomic byte", EINVAL, "insn 0: atomic operations are 32 or 64 bit only",
	       I(ISA_STX | ISA_ATOMIC | ISA_B, 10, 1, -8, 0), EXIT());
	REJECT("atomic op", EINVAL, "insn 0: unknown atomic operation 0x10",
	       I(ISA_STX | ISA_ATOMIC | ISA_DW, 10, 1, -8, 0x10), EXIT());
	REJECT("neg with X", EINVAL, "insn 0: unknown opcode 0x8f", I(0x8f, 0, 0, 0, 0), EXIT());
	REJECT("bswap with X", EINVAL, "insn 0: unknown opcode 0xdf", I(0xdf, 0, 0, 0, 16),
	       EXIT());
	REJECT("movsx32 in alu32", EINVAL, "insn 0: invalid off 32", I(0xbc, 0, 1, 32, 0),
	       EXIT());
}

/* Runs prog over mem and returns the errno of the run, the message in err. */
static int run_prog(const struct isa_insn *prog, size_t n, void *mem, size_t len, uint64_t *r0,
		    char *err, size_t err_len)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	int ret = uebpf_vm_load(vm, prog, n * sizeof(*prog), err, err_len);

	if (!ret)
		ret = uebpf_vm_run(vm, mem, len, r0, err, err_len);
	uebpf_vm_destroy(vm);
	return ret;
}

#define RUN(mem, len, r0, err, ...)                                                                \
	({                                                                                         \
		const struct isa_insn p_[] = {__VA_ARGS__};                                        \
		run_prog(p_, sizeof(p_) / sizeof(p_[0]), mem, len, r0, err, sizeof(err));          \
	})

static void test_memory_faults(void)
{
	uint8_t buf[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	uint64_t r0 = 0;
	char err[256] = "";
	int ret;

	ret = RUN(buf, sizeof(buf), &r0, err, LDXDW(0, 1, 8), EXIT());
	EXPECT(ret == 0 && r0 == 0x100f0e0d0c0b0a09ull, "last 8 bytes: %d %llx", ret,
	       (unsigned long long)r0);
	ret = RUN(buf, sizeof(buf), &r0, err, LDXDW(0, 1, 9), EXIT());
	EXPECT(ret == -EFAULT && strstr(err, "insn 0: invalid memory access of 8 bytes"),
	       "one byte past the end: %d %s", ret, err);
	ret = RUN(buf, sizeof(buf), &r0, err, LDXB(0, 1, -1), EXIT());
	EXPECT(ret == -EFAULT, "one byte before: %d %s", ret, err);
	ret = RUN(NULL, 0, &r0, err, MOV64_K(0, 1), LDXB(0, 1, 0), EXIT());
	EXPECT(ret == -EFAULT && strstr(err, "insn 1:"), "null memory: %d %s", ret, err);
	/* r1 = r10 - 8 is stack memory reached through another register */
	ret = RUN(NULL, 0, &r0, err, STDW(10, -8, 42), MOV64_X(1, 10), ADD64_K(1, -8),
		  LDXDW(0, 1, 0), EXIT());
	EXPECT(ret == 0 && r0 == 42, "stack through r1: %d %s", ret, err);
	ret = RUN(NULL, 0, &r0, err, MOV64_X(1, 10), LDXDW(0, 1, 0), EXIT());
	EXPECT(ret == -EFAULT, "above the stack top: %d %s", ret, err);
	ret = RUN(NULL, 0, &r0, err, LDXDW(0, 10, 8), EXIT());
	EXPECT(ret == -EFAULT, "r10 + 8 with a constant offset: %d %s", ret, err);
	ret = RUN(NULL, 0, &r0, err, LDXDW(0, 10, -520), EXIT());
	EXPECT(ret == -EFAULT, "below the frame: %d %s", ret, err);
	ret = RUN(buf, sizeof(buf), &r0, err, MOV64_X(2, 1), ADD64_K(2, 3),
		  I(ISA_STX | ISA_ATOMIC | ISA_DW, 2, 3, 0, ISA_ADD), MOV64_K(0, 0), EXIT());
	EXPECT(ret == -EINVAL && strstr(err, "insn 2: misaligned atomic"), "misaligned: %d %s",
	       ret, err);
}

static void test_regions(void)
{
	static uint64_t ro = 7, rw;
	const struct isa_insn prog[] = {
		I(ISA_OP_LDDW, 1, 0, 0, (int32_t)(uintptr_t)&ro),
		I(0, 0, 0, 0, (int32_t)((uintptr_t)&ro >> 32)),
		LDXDW(0, 1, 0),
		I(ISA_OP_LDDW, 2, 0, 0, (int32_t)(uintptr_t)&rw),
		I(0, 0, 0, 0, (int32_t)((uintptr_t)&rw >> 32)),
		STXDW(2, 0, 0),
		STXDW(1, 0, 0), /* read only: faults */
		EXIT(),
	};
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[256] = "";
	uint64_t r0;
	int ret;

	EXPECT(uebpf_vm_add_region(vm, &ro, sizeof(ro), 0) == 0, "add ro");
	EXPECT(uebpf_vm_add_region(vm, &rw, sizeof(rw), 1) == 0, "add rw");
	EXPECT(uebpf_vm_add_region(vm, NULL, 8, 1) == -EINVAL, "null region");
	EXPECT(LOAD(vm, prog, err) == 0, "load: %s", err);
	ret = uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err));
	EXPECT(ret == -EFAULT && strstr(err, "insn 6:") && rw == 7 && ro == 7,
	       "store to read-only region: %d %s rw=%llu", ret, err, (unsigned long long)rw);
	EXPECT(uebpf_vm_add_region(vm, &rw, 8, 1) == -EBUSY, "region after load");
	uebpf_vm_destroy(vm);
}

static uint64_t helper_sum(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return a + b + c + d + e;
}

static uint64_t helper_ident(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)b, (void)c, (void)d, (void)e;
	return a;
}

static void test_helpers(void)
{
	const struct isa_insn sum[] = {
		MOV64_K(1, 1), MOV64_K(2, 2), MOV64_K(3, 3), MOV64_K(4, 4), MOV64_K(5, 5),
		CALL(7),       EXIT(),
	};
	const struct isa_insn stop[] = {
		MOV64_K(1, 0), CALL(5), MOV64_K(0, 9), EXIT(),
	};
	const struct isa_insn callx[] = {
		MOV64_K(1, 33), MOV64_K(2, 7), I(ISA_OP_CALLX, 2, 0, 0, 0), MOV64_K(2, 1000),
		I(ISA_OP_CALLX, 2, 0, 0, 0), EXIT(),
	};
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[256] = "";
	uint64_t r0 = 0;
	int ret;

	EXPECT(uebpf_vm_register_helper(vm, 7, "sum", helper_sum) == 0, "register");
	EXPECT(uebpf_vm_register_helper(vm, 7, "sum", NULL) == -EINVAL, "null helper");
	EXPECT(uebpf_vm_register_helper(vm, 1u << 20, "big", helper_sum) == -EINVAL, "huge id");
	EXPECT(LOAD(vm, sum, err) == 0, "load: %s", err);
	ret = uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err));
	EXPECT(ret == 0 && r0 == 15, "sum helper: %d %llu", ret, (unsigned long long)r0);
	EXPECT(uebpf_vm_register_helper(vm, 8, "late", helper_sum) == -EBUSY, "after load");
	uebpf_vm_destroy(vm);

	vm = uebpf_vm_create();
	uebpf_vm_register_helper_ex(vm, 5, "unwind", helper_ident, UEBPF_HELPER_STOP_ON_ZERO);
	EXPECT(LOAD(vm, stop, err) == 0, "load: %s", err);
	ret = uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err));
	EXPECT(ret == 0 && r0 == 0, "stop on zero: %d %llu", ret, (unsigned long long)r0);
	uebpf_vm_destroy(vm);

	vm = uebpf_vm_create();
	uebpf_vm_register_helper(vm, 7, "ident", helper_ident);
	EXPECT(LOAD(vm, callx, err) == 0, "load: %s", err);
	ret = uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err));
	EXPECT(ret == -ENOENT && strstr(err, "insn 4: callx to unknown helper 1000"),
	       "callx unknown: %d %s", ret, err);
	uebpf_vm_destroy(vm);
}

static void test_local_calls(void)
{
	uint64_t r0 = 0;
	char err[256] = "";
	int ret;

	/* caller's [r10-8] and r6 survive a callee that writes its own [r10-8] and r6 */
	ret = RUN(NULL, 0, &r0, err, STDW(10, -8, 100), MOV64_K(6, 6), CALL_LOCAL(4),
		  LDXDW(1, 10, -8), ADD64_X(0, 1), ADD64_X(0, 6), EXIT(), STDW(10, -8, 55),
		  MOV64_K(6, 66), MOV64_K(0, 1000), EXIT());
	EXPECT(ret == 0 && r0 == 1106, "local call frames: %d %s r0=%llu", ret, err,
	       (unsigned long long)r0);
	/* callee reads the caller's frame through a pointer passed in r1 */
	ret = RUN(NULL, 0, &r0, err, STDW(10, -8, 77), MOV64_X(1, 10), ADD64_K(1, -8),
		  CALL_LOCAL(1), EXIT(), LDXDW(0, 1, 0), EXIT());
	EXPECT(ret == 0 && r0 == 77, "pointer into caller frame: %d %s %llu", ret, err,
	       (unsigned long long)r0);
	/* unbounded recursion stops at eight frames */
	ret = RUN(NULL, 0, &r0, err, CALL_LOCAL(-1), EXIT());
	EXPECT(ret == -E2BIG && strstr(err, "deeper than 8 frames"), "recursion: %d %s", ret, err);
}

static void test_budget(void)
{
	const struct isa_insn loop[] = {MOV64_K(0, 0), ADD64_K(0, 1), JA(-2), EXIT()};
	const struct isa_insn ten[] = {
		MOV64_K(0, 0), ADD64_K(0, 1), JNE_K(0, 3, -2), EXIT(),
	};
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[256] = "";
	uint64_t r0, n = 0;
	int ret;

	uebpf_vm_set_insn_budget(vm, 1000);
	EXPECT(LOAD(vm, loop, err) == 0, "load: %s", err);
	ret = uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err));
	EXPECT(ret == -E2BIG && strstr(err, "budget of 1000"), "infinite loop: %d %s", ret, err);
	uebpf_vm_destroy(vm);

	vm = uebpf_vm_create();
	EXPECT(LOAD(vm, ten, err) == 0, "load: %s", err);
	ret = uebpf_vm_run_counted(vm, NULL, 0, &r0, &n, err, sizeof(err));
	/* mov; 3 x (add, jne); exit */
	EXPECT(ret == 0 && r0 == 3 && n == 8, "counted: %d r0=%llu n=%llu", ret,
	       (unsigned long long)r0, (unsigned long long)n);
	uebpf_vm_destroy(vm);

	vm = uebpf_vm_create();
	uebpf_vm_set_insn_budget(vm, 8);
	LOAD(vm, ten, err);
	EXPECT(uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err)) == 0, "budget exactly enough");
	uebpf_vm_destroy(vm);
	vm = uebpf_vm_create();
	uebpf_vm_set_insn_budget(vm, 7);
	LOAD(vm, ten, err);
	EXPECT(uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err)) == -E2BIG, "budget one short");
	uebpf_vm_destroy(vm);
}

static void test_api_misuse(void)
{
	const struct isa_insn prog[] = {MOV64_K(0, 1), EXIT()};
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[256] = "";
	uint64_t r0;

	EXPECT(uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err)) == -EINVAL &&
		       strstr(err, "no program loaded"),
	       "run before load: %s", err);
	EXPECT(uebpf_vm_set_engine(vm, (enum uebpf_engine)42) == -EOPNOTSUPP, "bad engine");
	EXPECT(LOAD(vm, prog, err) == 0, "load");
	EXPECT(LOAD(vm, prog, err) == -EBUSY, "second load");
	EXPECT(uebpf_vm_run(vm, NULL, 8, &r0, err, sizeof(err)) == -EINVAL, "null mem, len 8");
	EXPECT(uebpf_vm_run(vm, NULL, 0, NULL, err, sizeof(err)) == -EINVAL, "null r0");
	EXPECT(uebpf_vm_set_insn_budget(vm, 5) == -EBUSY, "budget after load");
	uebpf_vm_destroy(vm);
	uebpf_vm_destroy(NULL);
}

/* sum of the 8-byte words of mem, 4 per run */
static const struct isa_insn sum_words[] = {
	LDXDW(0, 1, 0), LDXDW(3, 1, 8), ADD64_X(0, 3), LDXDW(3, 1, 16),
	ADD64_X(0, 3),	LDXDW(3, 1, 24), ADD64_X(0, 3), EXIT(),
};

struct thread_arg {
	const struct uebpf_vm *vm;
	uint64_t base;
	int bad;
};

static void *thread_main(void *p)
{
	struct thread_arg *t = p;
	uint64_t words[4], r0;

	for (uint64_t i = 0; i < 200000; i++) {
		for (int w = 0; w < 4; w++)
			words[w] = t->base + i + (uint64_t)w;
		if (uebpf_vm_run(t->vm, words, sizeof(words), &r0, NULL, 0) ||
		    r0 != 4 * (t->base + i) + 6)
			t->bad++;
	}
	return NULL;
}

static void test_threads(void)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	struct thread_arg args[4];
	pthread_t th[4];
	char err[256];

	EXPECT(LOAD(vm, sum_words, err) == 0, "load: %s", err);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){vm, (uint64_t)i << 40, 0};
		pthread_create(&th[i], NULL, thread_main, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		EXPECT(args[i].bad == 0, "thread %d: %d wrong results", i, args[i].bad);
	}
	uebpf_vm_destroy(vm);
}

int main(void)
{
	test_validation();
	test_memory_faults();
	test_regions();
	test_helpers();
	test_local_calls();
	test_budget();
	test_api_misuse();
	test_threads();
	return check_summary();
}
