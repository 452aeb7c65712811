// SPDX-License-Identifier: MIT
/*
 * Callbacks: bpf_loop and bpf_for_each_map_elem calling functions of the
 * program (lddw of BPF_PSEUDO_FUNC), with a context in the caller's frame;
 * early stops, bad flags and counts, a nested loop, a fault and runaway
 * recursion inside a callback stopping the whole run. Engines without
 * callbacks must refuse such programs at load, naming the instruction.
 */
#include <linux/bpf.h>
#include <stdint.h>

#include "harness.h"

/* loop(n, add_index, &ctx at r10-8, flags): ctx sums the indexes; the callback stops at stop */
#define LOOP_PROG(n, flags, stop)      \
	"mov %r6, %r1\n"               \
	"stdw [%r10-8], 0\n"           \
	"mov %r1, " #n "\n"            \
	"lddw %r2, func:add_index\n"   \
	"mov %r3, %r10\nadd %r3, -8\n" \
	"mov %r4, " #flags "\n"        \
	"call 181\n"                   \
	"ldxdw %r1, [%r10-8]\n"        \
	"stxdw [%r6], %r1\n"           \
	"exit\n"                       \
	"add_index:\n"                 \
	"ldxdw %r3, [%r2]\n"           \
	"add %r3, %r1\n"               \
	"stxdw [%r2], %r3\n"           \
	"mov %r0, 0\n"                 \
	"jne %r1, " #stop ", +1\n"     \
	"mov %r0, 1\n"                 \
	"exit\n"

static void test_loop(void)
{
	struct maps_env env = {0};
	uint64_t sum = 0, r0 = 0;

	EXPECT(run_text(&env, LOOP_PROG(10, 0, -1), &sum, 8, &r0) == 0 && r0 == 10 && sum == 45,
	       "loop of 10: %llu, sum %llu", (unsigned long long)r0, (unsigned long long)sum);
	EXPECT(run_text(&env, LOOP_PROG(10, 0, 3), &sum, 8, &r0) == 0 && r0 == 4 && sum == 6,
	       "stopped at 3: %llu, sum %llu", (unsigned long long)r0, (unsigned long long)sum);
	EXPECT(run_text(&env, LOOP_PROG(0, 0, -1), &sum, 8, &r0) == 0 && r0 == 0 && sum == 0,
	       "loop of 0: %llu", (unsigned long long)r0);
	EXPECT(run_text(&env, LOOP_PROG(10, 1, -1), &sum, 8, &r0) == 0 && (int64_t)r0 == -EINVAL,
	       "flags: %lld", (long long)r0);
	EXPECT(run_text(&env, LOOP_PROG(0x800001, 0, -1), &sum, 8, &r0) == 0 &&
		       (int64_t)r0 == -E2BIG,
	       "too many loops: %lld", (long long)r0);
}

/* An outer loop of 3 whose callback runs an inner loop of 4: 12 inner calls. */
static void test_nested_and_faults(void)
{
	struct maps_env env = {0};
	uint64_t r0 = 0;
	const char *nested = "stdw [%r10-8], 0\n"
			     "mov %r1, 3\nlddw %r2, func:outer\nmov %r3, %r10\nadd %r3, -8\n"
			     "mov %r4, 0\ncall 181\n"
			     "ldxdw %r0, [%r10-8]\nexit\n"
			     "outer:\n"
			     "mov %r3, %r2\nmov %r1, 4\nlddw %r2, func:inner\nmov %r4, 0\n"
			     "call 181\nmov %r0, 0\nexit\n"
			     "inner:\n"
			     "ldxdw %r3, [%r2]\nadd %r3, 1\nstxdw [%r2], %r3\nmov %r0, 0\nexit\n";
	const char *fault = "mov %r1, 2\nlddw %r2, func:bad\nmov %r3, 0\nmov %r4, 0\n"
			    "call 181\nmov %r0, 7\nexit\n"
			    "bad:\n"
			    "ldxdw %r0, [%r2+16]\nexit\n";
	const char *recurse = "mov %r1, 1\nlddw %r2, func:again\nmov %r3, 0\nmov %r4, 0\n"
			      "call 181\nmov %r0, 7\nexit\n"
			      "again:\n"
			      "mov %r1, 1\nlddw %r2, func:again\nmov %r3, 0\nmov %r4, 0\n"
			      "call 181\nexit\n";
	char err[256];
	int ret;
	struct uebpf_vm *vm;

	EXPECT(run_text(&env, nested, NULL, 0, &r0) == 0 && r0 == 12, "nested loops: %llu",
	       (unsigned long long)r0);
	vm = load_text(&env, fault, err, sizeof(err), &ret);
	ret = vm ? uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err)) : ret;
	/* insn 9: the harness's ja after the lddw counts */
	EXPECT(ret == -EFAULT && strstr(err, "insn 9: invalid memory access of 8 bytes at 0x10"),
	       "fault in a callback stops the run: %d %s", ret, err);
	uebpf_vm_destroy(vm);
	vm = load_text(&env, recurse, err, sizeof(err), &ret);
	ret = vm ? uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err)) : ret;
	EXPECT(ret == -E2BIG && strstr(err, "deeper than 8 frames"),
	       "recursion through callbacks stops at the depth limit: %d %s", ret, err);
	uebpf_vm_destroy(vm);
}

static void test_for_each(void)
{
	struct maps_env env = {0};
	uint64_t res[2] = {0}, r0 = 0, v;
	uint32_t key;
	/* ctx (r10-8) += key * 100 + value; returns the callback count */
	const char *sum = "mov %r6, %r1\n"
			  "stdw [%r10-8], 0\n"
			  "lddw %r1, map_fd:0\nlddw %r2, func:add\nmov %r3, %r10\nadd %r3, -8\n"
			  "mov %r4, 0\ncall 164\n"
			  "stxdw [%r6], %r0\n"
			  "ldxdw %r1, [%r10-8]\nstxdw [%r6+8], %r1\n"
			  "mov %r0, 0\nexit\n"
			  "add:\n"
			  "ldxw %r2, [%r2]\nmul %r2, 100\nldxdw %r3, [%r3]\nadd %r2, %r3\n"
			  "ldxdw %r3, [%r4]\nadd %r3, %r2\nstxdw [%r4], %r3\n"
			  "mov %r0, 0\nexit\n";
	/* deletes every element it is given */
	const char *drain = "lddw %r1, map_fd:0\nlddw %r2, func:del\nmov %r3, 0\nmov %r4, 0\n"
			    "call 164\nexit\n"
			    "del:\n"
			    "call 3\nmov %r0, 0\nexit\n";

	env.fds[0] = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	for (key = 0; key < 4; key++) {
		v = key + 1;
		map_update_user(env.fds[0], &key, &v, 0);
	}
	EXPECT(run_text(&env, sum, res, sizeof(res), &r0) == 0 && res[0] == 4 && res[1] == 610,
	       "array walk: %llu calls, sum %llu", (unsigned long long)res[0],
	       (unsigned long long)res[1]);
	map_close(env.fds[0]);

	env.fds[0] = make_map(BPF_MAP_TYPE_HASH, 4, 8, 8, 0);
	for (key = 10; key < 13; key++) {
		v = key;
		map_update_user(env.fds[0], &key, &v, 0);
	}
	EXPECT(run_text(&env, sum, res, sizeof(res), &r0) == 0 && res[0] == 3 &&
		       res[1] == 3300 + 33,
	       "hash walk: %llu calls, sum %llu", (unsigned long long)res[0],
	       (unsigned long long)res[1]);
	EXPECT(run_text(&env, drain, NULL, 0, &r0) == 0 && r0 == 3, "drain: %llu calls",
	       (unsigned long long)r0);
	EXPECT(map_get_next_key(env.fds[0], NULL, &key) == -ENOENT, "hash empty after the drain");
	close_env(&env);
}

int main(int argc, char **argv)
{
	struct maps_env env = {0};
	char err[256] = "";
	struct uebpf_vm *vm;
	int ret;

	parse_engine(argc, argv);
	vm = load_text(&env, LOOP_PROG(1, 0, -1), err, sizeof(err), &ret);
	if (!vm) {
		EXPECT(ret == -EOPNOTSUPP && strstr(err, "insn 3: lddw of a callback function") &&
			       strstr(err, "cannot call back into a program"),
		       "load refused: %d %s", ret, err);
		printf("this engine has no callbacks: only the refusal is tested\n");
		return check_summary();
	}
	uebpf_vm_destroy(vm);
	test_loop();
	test_nested_and_faults();
	test_for_each();
	return check_summary();
}
