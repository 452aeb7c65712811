// SPDX-License-Identifier: MIT
/*
 * Programs that use maps through lddw map references and the map helpers,
 * on the engine named on the command line: results the program stores in
 * its memory, and the maps' contents read back from user space afterwards.
 * Also the load-time errors of map references, and bad arguments (forged
 * handles, pointers outside the program's memory) answered with errors.
 */
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <sched.h>
#include <stdint.h>
#include <sys/rseq.h>

#include "harness.h"
#include "jit/jit.h"

/* r6 = the results buffer; each line of a program stores one result. */
#define PROLOGUE "mov %r6, %r1\n"
#define EPILOGUE "mov %r0, 0\nexit\n"
/* r2 = &key (at r10-4), r3 = &value (at r10-16) */
#define KEY_VAL "mov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\n"

static void test_hash(void)
{
	struct maps_env env = {0};
	uint64_t res[8], r0 = 0, v;
	uint32_t key;
	const char *prog = PROLOGUE
		/* update(7, 100, NOEXIST) twice: 0, then -EEXIST */
		"stw [%r10-4], 7\n"
		"stdw [%r10-16], 100\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r4, 1\n"
		"call 2\n"
		"stxdw [%r6], %r0\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r4, 1\n"
		"call 2\n"
		"stxdw [%r6+8], %r0\n"
		/* lookup(7), add 1 through the pointer */
		"lddw %r1, map_fd:0\n" KEY_VAL "call 1\n"
		"jeq %r0, 0, out\n"
		"ldxdw %r1, [%r0]\n"
		"add %r1, 1\n"
		"stxdw [%r0], %r1\n"
		"stxdw [%r6+16], %r1\n"
		/* lookup(8): absent */
		"stw [%r10-4], 8\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "call 1\n"
		"stxdw [%r6+24], %r0\n"
		/* update(8, 5, EXIST): -ENOENT; update(8, 5, ANY): 0 */
		"stdw [%r10-16], 5\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r4, 2\n"
		"call 2\n"
		"stxdw [%r6+32], %r0\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r4, 0\n"
		"call 2\n"
		"stxdw [%r6+40], %r0\n"
		/* delete(8) twice: 0, -ENOENT */
		"lddw %r1, map_fd:0\n" KEY_VAL "call 3\n"
		"stxdw [%r6+48], %r0\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "call 3\n"
		"stxdw [%r6+56], %r0\n"
		"out:\n" EPILOGUE;

	env.fds[0] = make_map(BPF_MAP_TYPE_HASH, 4, 8, 16, 0);
	memset(res, 0xff, sizeof(res));
	EXPECT(run_text(&env, prog, res, sizeof(res), &r0) == 0, "hash program runs");
	EXPECT(res[0] == 0, "update NOEXIST: %lld", (long long)res[0]);
	EXPECT((int64_t)res[1] == -EEXIST, "update NOEXIST again: %lld", (long long)res[1]);
	EXPECT(res[2] == 101, "value through the pointer: %llu", (unsigned long long)res[2]);
	EXPECT(res[3] == 0, "lookup of an absent key: 0x%llx", (unsigned long long)res[3]);
	EXPECT((int64_t)res[4] == -ENOENT, "update EXIST of absent: %lld", (long long)res[4]);
	EXPECT(res[5] == 0, "update ANY: %lld", (long long)res[5]);
	EXPECT(res[6] == 0, "delete: %lld", (long long)res[6]);
	EXPECT((int64_t)res[7] == -ENOENT, "delete again: %lld", (long long)res[7]);
	key = 7;
	EXPECT(map_lookup_user(env.fds[0], &key, &v) == 0 && v == 101,
	       "user space sees the write through the pointer: %llu", (unsigned long long)v);
	key = 8;
	EXPECT(map_lookup_user(env.fds[0], &key, &v) == -ENOENT, "deleted key gone");
	close_env(&env);
}

static void test_array_and_idx(void)
{
	struct maps_env env = {0};
	uint64_t res[4] = {0}, r0 = 0, v;
	uint32_t key;
	/* the same array through an fd and through the fd_array */
	const char *prog = PROLOGUE "stw [%r10-4], 3\n"
				    "lddw %r1, map_fd:1\n" KEY_VAL "call 1\n"
				    "jeq %r0, 0, out\n"
				    "stdw [%r0], 42\n"
				    "lddw %r1, map_idx:2\n" KEY_VAL "call 1\n"
				    "jeq %r0, 0, out\n"
				    "ldxdw %r1, [%r0]\n"
				    "stxdw [%r6], %r1\n"
				    /* out of range: NULL, and update -E2BIG */
				    "stw [%r10-4], 4\n"
				    "lddw %r1, map_idx:2\n" KEY_VAL "call 1\n"
				    "stxdw [%r6+8], %r0\n"
				    "lddw %r1, map_idx:2\n" KEY_VAL "mov %r4, 0\n"
				    "call 2\n"
				    "stxdw [%r6+16], %r0\n"
				    /* delete from an array: -EINVAL */
				    "stw [%r10-4], 0\n"
				    "lddw %r1, map_fd:1\n" KEY_VAL "call 3\n"
				    "stxdw [%r6+24], %r0\n"
				    "mov %r0, 1\n"
				    "exit\n"
				    "out:\n" EPILOGUE;

	env.fds[1] = env.fd_array[2] = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	EXPECT(run_text(&env, prog, res, sizeof(res), &r0) == 0 && r0 == 1, "array program: %llu",
	       (unsigned long long)r0);
	EXPECT(res[0] == 42, "write by fd, read by index: %llu", (unsigned long long)res[0]);
	EXPECT(res[1] == 0, "lookup past the end is NULL");
	EXPECT((int64_t)res[2] == -E2BIG, "update past the end: %lld", (long long)res[2]);
	EXPECT((int64_t)res[3] == -EINVAL, "delete from an array: %lld", (long long)res[3]);
	key = 3;
	EXPECT(map_lookup_user(env.fds[1], &key, &v) == 0 && v == 42, "array value %llu",
	       (unsigned long long)v);
	env.fd_array[2] = NULL;
	close_env(&env);
}

/* Every CPU's copy summed: the program ran on one CPU, whichever it was. */
static void test_percpu(void)
{
	struct maps_env env = {0};
	uint64_t res[1] = {0}, r0 = 0, sum = 0;
	uint32_t key = 0, ncpu;
	uint64_t *vals;
	const char *prog = PROLOGUE "stw [%r10-4], 0\n"
				    "lddw %r1, map_fd:0\n" KEY_VAL "call 1\n"
				    "jeq %r0, 0, out\n"
				    "ldxdw %r1, [%r0]\n"
				    "add %r1, 9\n"
				    "stxdw [%r0], %r1\n"
				    "stxdw [%r6], %r1\n"
				    "stw [%r10-4], 5\n"
				    "stdw [%r10-16], 3\n"
				    "lddw %r1, map_fd:1\n" KEY_VAL "mov %r4, 0\n"
				    "call 2\n"
				    "out:\n" EPILOGUE;

	env.fds[0] = make_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 2, 0);
	env.fds[1] = make_map(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 2, 0);
	EXPECT(run_text(&env, prog, res, sizeof(res), &r0) == 0, "percpu program");
	ncpu = map_info(env.fds[0])->nr_cpus;
	vals = calloc(ncpu, 8);
	EXPECT(map_lookup_user(env.fds[0], &key, vals) == 0, "percpu array lookup");
	for (uint32_t c = 0; c < ncpu; c++)
		sum += vals[c];
	EXPECT(res[0] == 9 && sum == 9, "percpu array: %llu, sum %llu", (unsigned long long)res[0],
	       (unsigned long long)sum);
	key = 5;
	sum = 0;
	EXPECT(map_lookup_user(env.fds[1], &key, vals) == 0, "percpu hash has key 5");
	for (uint32_t c = 0; c < ncpu; c++)
		sum += vals[c];
	EXPECT(sum == 3, "percpu hash: one CPU holds 3, sum %llu", (unsigned long long)sum);
	free(vals);
	close_env(&env);
}

static void test_queue_stack(void)
{
	struct maps_env env = {0};
	uint64_t res[6], r0 = 0, v;
	const char *prog = PROLOGUE
		/* push 1, 2, 3 on both */
		"mov %r7, 1\n"
		"push:\n"
		"stxdw [%r10-16], %r7\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r2, %r3\nmov %r3, 0\n"
		"call 87\n"
		"lddw %r1, map_fd:1\n" KEY_VAL "mov %r2, %r3\nmov %r3, 0\n"
		"call 87\n"
		"add %r7, 1\n"
		"jle %r7, 3, push\n"
		/* queue: pop gives 1, peek 2; stack: pop 3, peek 2 */
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r2, %r3\n"
		"call 88\n"
		"ldxdw %r1, [%r10-16]\n"
		"stxdw [%r6], %r1\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r2, %r3\n"
		"call 89\n"
		"ldxdw %r1, [%r10-16]\n"
		"stxdw [%r6+8], %r1\n"
		"lddw %r1, map_fd:1\n" KEY_VAL "mov %r2, %r3\n"
		"call 88\n"
		"ldxdw %r1, [%r10-16]\n"
		"stxdw [%r6+16], %r1\n"
		"lddw %r1, map_fd:1\n" KEY_VAL "mov %r2, %r3\n"
		"call 89\n"
		"ldxdw %r1, [%r10-16]\n"
		"stxdw [%r6+24], %r1\n"
		/* a fourth push into a full queue: -E2BIG */
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r2, %r3\nmov %r3, 0\n"
		"call 87\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r2, %r3\nmov %r3, 0\n"
		"call 87\n"
		"stxdw [%r6+32], %r0\n"
		/* pop of an empty stack after three pops: -ENOENT */
		"lddw %r1, map_fd:1\n" KEY_VAL "mov %r2, %r3\n"
		"call 88\n"
		"lddw %r1, map_fd:1\n" KEY_VAL "mov %r2, %r3\n"
		"call 88\n"
		"lddw %r1, map_fd:1\n" KEY_VAL "mov %r2, %r3\n"
		"call 88\n"
		"stxdw [%r6+40], %r0\n" EPILOGUE;

	env.fds[0] = make_map(BPF_MAP_TYPE_QUEUE, 0, 8, 3, 0);
	env.fds[1] = make_map(BPF_MAP_TYPE_STACK, 0, 8, 3, 0);
	memset(res, 0xff, sizeof(res));
	EXPECT(run_text(&env, prog, res, sizeof(res), &r0) == 0, "queue/stack program");
	EXPECT(res[0] == 1 && res[1] == 2, "queue pop %llu peek %llu", (unsigned long long)res[0],
	       (unsigned long long)res[1]);
	EXPECT(res[2] == 3 && res[3] == 2, "stack pop %llu peek %llu", (unsigned long long)res[2],
	       (unsigned long long)res[3]);
	EXPECT((int64_t)res[4] == -E2BIG, "push into a full queue: %lld", (long long)res[4]);
	EXPECT((int64_t)res[5] == -ENOENT, "pop of an empty stack: %lld", (long long)res[5]);
	EXPECT(map_peek(env.fds[0], &v) == 0 && v == 2, "queue head for user space: %llu",
	       (unsigned long long)v);
	close_env(&env);
}

struct records {
	int n;
	uint64_t first[4];
	size_t size[4];
};

static int collect(void *ctx, void *data, size_t size)
{
	struct records *r = ctx;

	if (r->n < 4) {
		memcpy(&r->first[r->n], data, 8);
		r->size[r->n] = size;
	}
	r->n++;
	return 0;
}

static void test_ringbuf(void)
{
	struct maps_env env = {0};
	struct records recs = {0};
	uint64_t res[3], r0 = 0;
	const char *prog = PROLOGUE
		/* reserve 16, fill, submit */
		"lddw %r1, map_fd:0\nmov %r2, 16\nmov %r3, 0\n"
		"call 131\n"
		"jeq %r0, 0, out\n"
		"stdw [%r0], 11\n"
		"stdw [%r0+8], 12\n"
		"mov %r1, %r0\nmov %r2, 0\n"
		"call 132\n"
		/* reserve and discard */
		"lddw %r1, map_fd:0\nmov %r2, 8\nmov %r3, 0\n"
		"call 131\n"
		"jeq %r0, 0, out\n"
		"mov %r1, %r0\nmov %r2, 0\n"
		"call 133\n"
		/* output 8 bytes from the stack */
		"stdw [%r10-16], 33\n"
		"lddw %r1, map_fd:0\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 8\nmov %r4, 0\n"
		"call 130\n"
		"stxdw [%r6], %r0\n"
		/* query: available data, ring size */
		"lddw %r1, map_fd:0\nmov %r2, 0\n"
		"call 134\n"
		"stxdw [%r6+8], %r0\n"
		"lddw %r1, map_fd:0\nmov %r2, 1\n"
		"call 134\n"
		"stxdw [%r6+16], %r0\n"
		"out:\n" EPILOGUE;

	env.fds[0] = make_map(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);
	memset(res, 0xff, sizeof(res));
	EXPECT(run_text(&env, prog, res, sizeof(res), &r0) == 0, "ringbuf program");
	EXPECT(res[0] == 0, "output: %lld", (long long)res[0]);
	/* three records of an 8-byte header and 16, 8, 8 bytes: the discarded one too */
	EXPECT(res[1] == 56, "avail data %llu", (unsigned long long)res[1]);
	EXPECT(res[2] == 4096, "ring size %llu", (unsigned long long)res[2]);
	EXPECT(map_ringbuf_consume(env.fds[0], collect, &recs) == 2, "two records, one discarded");
	EXPECT(recs.n == 2 && recs.first[0] == 11 && recs.size[0] == 16 && recs.first[1] == 33 &&
		       recs.size[1] == 8,
	       "records %d: %llu/%zu %llu/%zu", recs.n, (unsigned long long)recs.first[0],
	       recs.size[0], (unsigned long long)recs.first[1], recs.size[1]);
	close_env(&env);
}

/* A program that overwrites its record's header cannot make the consumer read past the ring. */
static void test_ringbuf_corrupt(void)
{
	struct maps_env env = {0};
	struct records recs = {0};
	uint64_t r0 = 0;
	const char *prog = "lddw %r1, map_fd:0\nmov %r2, 8\nmov %r3, 0\n"
			   "call 131\n"
			   "jeq %r0, 0, +1\n"
			   "stw [%r0-8], 0x10000\n"
			   "mov %r0, 0\n"
			   "exit\n";

	env.fds[0] = make_map(BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0);
	EXPECT(run_text(&env, prog, NULL, 0, &r0) == 0, "corrupting program runs");
	EXPECT(map_ringbuf_consume(env.fds[0], collect, &recs) == -EBADMSG && recs.n == 0,
	       "consumer refuses the record: %d records", recs.n);
	close_env(&env);
}

/* .data and .rodata as libbpf makes them: one-entry arrays referred to by value. */
static void test_global_data(void)
{
	struct maps_env env = {0};
	uint64_t r0 = 0, data[2] = {5, 6}, ro[2] = {70, 80}, v[2];
	uint32_t key = 0;
	const char *prog = "lddw %r1, map_value:0+8\n"
			   "ldxdw %r2, [%r1]\n"
			   "add %r2, 1\n"
			   "stxdw [%r1], %r2\n"
			   "lddw %r3, map_idx_value:1+8\n"
			   "ldxdw %r0, [%r3]\n"
			   "add %r0, %r2\n"
			   "exit\n";
	const char *write_ro = "lddw %r1, map_value:2+0\n"
			       "stdw [%r1], 1\n"
			       "mov %r0, 0\n"
			       "exit\n";
	const char *lookup_ro = "stw [%r10-4], 0\n" KEY_VAL "lddw %r1, map_fd:2\n"
				"call 1\n"
				"jeq %r0, 0, +2\n"
				"ldxdw %r0, [%r0+8]\n"
				"exit\n"
				"mov %r0, 0\n"
				"exit\n";
	const char *update_ro = KEY_VAL "stw [%r10-4], 0\nstdw [%r10-16], 0\n"
					"lddw %r1, map_fd:2\nmov %r4, 0\n"
					"call 2\n"
					"exit\n";

	env.fds[0] = make_map(BPF_MAP_TYPE_ARRAY, 4, 16, 1, BPF_F_MMAPABLE);
	env.fds[2] = env.fd_array[1] =
		make_map(BPF_MAP_TYPE_ARRAY, 4, 16, 1, BPF_F_RDONLY_PROG | BPF_F_MMAPABLE);
	map_update_user(env.fds[0], &key, data, 0);
	map_update_user(env.fds[2], &key, ro, 0);
	EXPECT(run_text(&env, prog, NULL, 0, &r0) == 0 && r0 == 87, "global data: %llu",
	       (unsigned long long)r0);
	EXPECT(map_lookup_user(env.fds[0], &key, v) == 0 && v[0] == 5 && v[1] == 7,
	       ".data after the run: %llu %llu", (unsigned long long)v[0],
	       (unsigned long long)v[1]);
	printf("  (a fault is expected next)\n");
	EXPECT(run_text(&env, write_ro, NULL, 0, &r0) == -EFAULT, "a write to .rodata faults");
	EXPECT(run_text(&env, lookup_ro, NULL, 0, &r0) == 0 && r0 == 80,
	       "lookup in a read-only map: %llu", (unsigned long long)r0);
	EXPECT(run_text(&env, update_ro, NULL, 0, &r0) == 0 && (int64_t)r0 == -EPERM,
	       "update of a read-only map: %lld", (long long)r0);
	EXPECT(map_lookup_user(env.fds[2], &key, v) == 0 && v[0] == 70 && v[1] == 80,
	       ".rodata unchanged");
	env.fd_array[1] = NULL;
	close_env(&env);
}

static void expect_load_error(struct maps_env *env, const char *what, const char *text, int code,
			      const char *part)
{
	char err[256] = "";
	int ret;
	struct uebpf_vm *vm = load_text(env, text, err, sizeof(err), &ret);

	EXPECT(!vm && ret == -code && strstr(err, part), "%s: %d \"%s\", want %d \"%s\"", what, ret,
	       err, -code, part);
	uebpf_vm_destroy(vm);
}

static void test_load_errors(void)
{
	struct maps_env env = {0};
	struct uebpf_vm *vm = uebpf_vm_create();
	struct isa_insn *insns;
	char err[256] = "";
	size_t n;

	env.fds[0] = make_map(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	env.fds[1] = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0);
	env.fds[2] = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0);
	expect_load_error(&env, "unknown fd", "mov %r0, 0\nlddw %r1, map_fd:5\nexit\n", EBADF,
			  "insn 1: lddw refers to map fd 5, which is not a map");
	expect_load_error(&env, "unknown index", "lddw %r1, map_idx:6\nmov %r0, 0\nexit\n", EBADF,
			  "insn 0: lddw refers to map index 6");
	expect_load_error(&env, "value of a hash", "lddw %r1, map_value:0+0\nmov %r0, 0\nexit\n",
			  EOPNOTSUPP,
			  "insn 0: direct value access needs an array map of one entry");
	expect_load_error(&env, "value of a long array",
			  "lddw %r1, map_value:1+0\nmov %r0, 0\nexit\n", EOPNOTSUPP,
			  "array map of one entry");
	expect_load_error(&env, "offset past the value",
			  "lddw %r1, map_value:2+8\nmov %r0, 0\nexit\n", EINVAL,
			  "insn 0: offset 8 is past the map's value of 8 bytes");

	/* pseudo sources without support, and a reserved field */
	EXPECT(isa_assemble("lddw %r1, 1\nmov %r0, 0\nexit\n", &insns, &n, err, sizeof(err)) == 0,
	       "assemble");
	insns[0].src = ISA_PSEUDO_BTF_ID;
	EXPECT(uebpf_vm_load(vm, insns, n * 8, err, sizeof(err)) == -EOPNOTSUPP &&
		       strstr(err, "insn 0: lddw of a kernel symbol"),
	       "BTF_ID: %s", err);
	insns[0].src = ISA_PSEUDO_FUNC;
	insns[0].imm = 5;
	EXPECT(uebpf_vm_load(vm, insns, n * 8, err, sizeof(err)) == -EINVAL &&
		       strstr(err, "insn 0: jump out of range to 6"),
	       "PSEUDO_FUNC out of the program: %s", err);
	insns[0].imm = 0;
	insns[0].src = 7;
	EXPECT(uebpf_vm_load(vm, insns, n * 8, err, sizeof(err)) == -EINVAL &&
		       strstr(err, "insn 0: invalid lddw pseudo source 7"),
	       "pseudo 7: %s", err);
	insns[0].src = ISA_PSEUDO_MAP_FD;
	insns[1].imm = 4;
	EXPECT(uebpf_vm_load(vm, insns, n * 8, err, sizeof(err)) == -EINVAL &&
		       strstr(err, "insn 0: reserved field imm of the second slot"),
	       "map fd with a second imm: %s", err);
	free(insns);
	uebpf_vm_destroy(vm);
	close_env(&env);
}

/* Handles and pointers that are not the program's: errors, not crashes. */
static void test_bad_arguments(void)
{
	struct maps_env env = {0};
	uint64_t res[5], r0 = 0;
	const char *prog = PROLOGUE
		/* a forged handle: the map's handle plus 8 */
		"lddw %r1, map_fd:0\nadd %r1, 8\n" KEY_VAL "mov %r4, 0\n"
		"call 2\n"
		"stxdw [%r6], %r0\n"
		/* a key pointer into host memory the program was not given */
		"lddw %r1, map_fd:0\nlddw %r2, 0x1000\n"
		"call 1\n"
		"stxdw [%r6+8], %r0\n"
		"lddw %r1, map_fd:0\nlddw %r2, 0x1000\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\n"
		"call 2\n"
		"stxdw [%r6+16], %r0\n"
		/* a value pointer that runs past the end of the stack */
		"lddw %r1, map_fd:0\n" KEY_VAL "mov %r3, %r10\nadd %r3, -4\nmov %r4, 0\n"
		"call 2\n"
		"stxdw [%r6+24], %r0\n"
		/* a value buffer for pop in the results memory's last 4 bytes */
		"lddw %r1, map_fd:1\nmov %r2, %r6\nadd %r2, 36\n"
		"call 88\n"
		"stxdw [%r6+32], %r0\n" EPILOGUE;

	env.fds[0] = make_map(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	env.fds[1] = make_map(BPF_MAP_TYPE_QUEUE, 0, 8, 4, 0);
	memset(res, 0xff, sizeof(res));
	EXPECT(run_text(&env, prog, res, sizeof(res), &r0) == 0, "bad arguments program");
	EXPECT((int64_t)res[0] == -EINVAL, "forged handle: %lld", (long long)res[0]);
	EXPECT(res[1] == 0, "lookup with a host key pointer: 0x%llx", (unsigned long long)res[1]);
	EXPECT((int64_t)res[2] == -EFAULT, "update with a host key pointer: %lld",
	       (long long)res[2]);
	EXPECT((int64_t)res[3] == -EFAULT, "value past the stack top: %lld", (long long)res[3]);
	EXPECT((int64_t)res[4] == -EFAULT, "pop into 4 bytes of 8: %lld", (long long)res[4]);
	close_env(&env);
}

/*
 * Lookups where the map in r1 is known, which the JIT and AOT engines do
 * themselves (arrays computed in place, other maps' lookups called
 * directly): every answer must be map_lookup's (the entry's address, this
 * CPU's copy, NULL past the end), with the key on the frame (the engine's
 * path), in the program's memory or past the frame (the helper's path). On
 * the JIT, the code must hold the arrays' values' addresses: the lookups
 * were inlined.
 */
static void test_array_inline(void)
{
	struct maps_env env = {0};
	uint64_t res[12], r0 = 0, val = 9;
	uint32_t key;
	struct map_array_inline arr, parr;
	struct uebpf_vm *vm;
	char err[256] = "";
	cpu_set_t set, old;
	int ret, cpu;
	const char *prog = PROLOGUE
		/* key 2, 3 (last), 4 (past the end), on the stack */
		"stw [%r10-4], 2\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "call 1\n"
		"stxdw [%r6], %r0\n"
		"stw [%r10-4], 3\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "call 1\n"
		"stxdw [%r6+8], %r0\n"
		"stw [%r10-4], 4\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "call 1\n"
		"stxdw [%r6+16], %r0\n"
		/* key 1 at the bottom of the frame, key 0xffffffff */
		"stw [%r10-512], 1\n"
		"lddw %r1, map_fd:0\n"
		"mov %r2, %r10\n"
		"add %r2, -512\n"
		"call 1\n"
		"stxdw [%r6+24], %r0\n"
		"stw [%r10-4], -1\n"
		"lddw %r1, map_fd:0\n" KEY_VAL "call 1\n"
		"stxdw [%r6+32], %r0\n"
		/* key 1 in the program's memory (res[9]): the helper's path */
		"stw [%r6+72], 1\n"
		"lddw %r1, map_fd:0\n"
		"mov %r2, %r6\n"
		"add %r2, 72\n"
		"call 1\n"
		"stxdw [%r6+40], %r0\n"
		/* a key overlapping the frame's top: not the frame's, the helper refuses it */
		"lddw %r1, map_fd:0\n"
		"mov %r2, %r10\n"
		"add %r2, -2\n"
		"call 1\n"
		"stxdw [%r6+48], %r0\n"
		/* per-CPU: key 1 and key 2 (past the end) */
		"stw [%r10-4], 1\n"
		"lddw %r1, map_fd:1\n" KEY_VAL "call 1\n"
		"stxdw [%r6+56], %r0\n"
		"stw [%r10-4], 2\n"
		"lddw %r1, map_fd:1\n" KEY_VAL "call 1\n"
		"stxdw [%r6+64], %r0\n"
		/* a hash map: key 5 on the frame, key 5 past the frame's top */
		"stw [%r10-8], 5\n"
		"lddw %r1, map_fd:2\n"
		"mov %r2, %r10\n"
		"add %r2, -8\n"
		"call 1\n"
		"stxdw [%r6+80], %r0\n"
		"stw [%r10-4], 5\n"
		"lddw %r1, map_fd:2\n"
		"mov %r2, %r10\n"
		"add %r2, -3\n"
		"call 1\n"
		"stxdw [%r6+88], %r0\n" EPILOGUE;

	env.fds[0] = make_map(BPF_MAP_TYPE_ARRAY, 4, 12, 4, 0);
	env.fds[2] = make_map(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	key = 5;
	REQUIRE(map_update_user(env.fds[2], &key, &val, BPF_ANY) == 0, "hash key 5");
	env.fds[1] = make_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 2, 0);
	REQUIRE(map_array_inline_info(env.fds[0], &arr) == 0 &&
			map_array_inline_info(env.fds[1], &parr) == 0,
		"array inline info");
	/* on one CPU, so that the copy the program gets is known */
	sched_getaffinity(0, sizeof(old), &old);
	cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	vm = load_text(&env, prog, err, sizeof(err), &ret);
	REQUIRE(vm, "inline lookup program loads: %d %s", ret, err);
	memset(res, 0xa5, sizeof(res));
	ret = uebpf_vm_run(vm, res, sizeof(res), &r0, err, sizeof(err));
	cpu = sched_getcpu();
	sched_setaffinity(0, sizeof(old), &old);
	EXPECT(ret == 0, "inline lookup program runs: %s", err);
	EXPECT(res[0] == (uintptr_t)(arr.values + 2 * arr.stride), "key 2: %llx",
	       (unsigned long long)res[0]);
	EXPECT(res[1] == (uintptr_t)(arr.values + 3 * arr.stride), "key 3 (last): %llx",
	       (unsigned long long)res[1]);
	EXPECT(res[2] == 0, "key 4, past the end: NULL, got %llx", (unsigned long long)res[2]);
	EXPECT(res[3] == (uintptr_t)(arr.values + arr.stride), "key at the frame's bottom: %llx",
	       (unsigned long long)res[3]);
	EXPECT(res[4] == 0, "key 0xffffffff: NULL, got %llx", (unsigned long long)res[4]);
	EXPECT(res[5] == (uintptr_t)(arr.values + arr.stride), "key in memory: %llx",
	       (unsigned long long)res[5]);
	EXPECT(res[6] == 0, "key past the frame's top: NULL, got %llx", (unsigned long long)res[6]);
	EXPECT(res[7] == (uintptr_t)(parr.values + parr.stride + (uint64_t)cpu * parr.cpu_step),
	       "per-CPU key 1 on CPU %d: %llx", cpu, (unsigned long long)res[7]);
	EXPECT(res[8] == 0, "per-CPU key 2, past the end: NULL, got %llx",
	       (unsigned long long)res[8]);
	key = 5;
	EXPECT(res[10] == (uintptr_t)map_lookup(env.fds[2], &key), "hash key 5: %llx",
	       (unsigned long long)res[10]);
	EXPECT(res[11] == 0, "hash key past the frame's top: NULL, got %llx",
	       (unsigned long long)res[11]);
	if (engine == UEBPF_ENGINE_JIT) {
		uint64_t values[2] = {(uintptr_t)arr.values, (uintptr_t)parr.values};
		bool found[2] = {false, false};
		const void *code;
		size_t len;

		for (size_t pc = 0; !jit_insn_range(vm, pc, &code, &len); pc++)
			for (size_t i = 0; i + 8 <= len; i++)
				for (int m = 0; m < 2; m++)
					found[m] |=
						!memcmp((const uint8_t *)code + i, &values[m], 8);
		/* per-CPU arrays only where glibc registered rseq, for the CPU */
		EXPECT(found[0] && found[1] == (__rseq_size != 0),
		       "the JIT inlined the array and per-CPU lookups: %d %d", found[0], found[1]);
	}
	uebpf_vm_destroy(vm);
	close_env(&env);
}

int main(int argc, char **argv)
{
	parse_engine(argc, argv);
	test_hash();
	test_array_and_idx();
	test_percpu();
	test_array_inline();
	test_queue_stack();
	test_ringbuf();
	test_ringbuf_corrupt();
	test_global_data();
	test_load_errors();
	test_bad_arguments();
	return check_summary();
}
