// SPDX-License-Identifier: MIT
/*
 * Hostile programs and inputs, each case its own ctest test
 * (`test_hostile CASE`): through the embedding API on every engine, and
 * through the bpf() emulation (libbpf's low-level calls, uebpf's syscall()
 * linked in), verified as a loader gets it by default and, where the
 * verifier refuses, again with UEBPF_VERIFY=0 so that the run-time checks
 * are what stands between the program and the host. Each case expects a
 * clean error (a negative errno and a message) and, after it, a plain
 * program still runs right in the same process: the host is unharmed.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "isa/asm.h"
#include "syscall/syscall.h"
#include "uebpf/uebpf.h"

/* An lddw of this immediate (plus i) is patched into a reference to map fds[i]. */
#define MAP_REF 0x4d415000
#define BUDGET 100000

static const enum uebpf_engine engines[] = {UEBPF_ENGINE_INTERP, UEBPF_ENGINE_JIT,
					    UEBPF_ENGINE_AOT};
static const char *const engine_names[] = {"interp", "jit", "aot"};

struct outcome {
	int load, run;
	uint64_t r0;
	char err[512];
};

/* Through the embedding API: load text on an engine (optionally verified), run it on mem. */
static struct outcome api(enum uebpf_engine e, const char *text, uint64_t budget, bool verify,
			  void *mem, size_t len)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	struct outcome o = {0};

	REQUIRE(vm, "uebpf_vm_create");
	o.load = uebpf_vm_set_engine(vm, e);
	if (!o.load)
		o.load = uebpf_vm_set_insn_budget(vm, budget);
	if (!o.load && verify)
		o.load = uebpf_vm_set_verify(vm, UEBPF_PROG_RAW_MEM);
	REQUIRE(!o.load, "set up a VM");
	o.load = uebpf_vm_load_asm(vm, text, o.err, sizeof(o.err));
	if (!o.load)
		o.run = uebpf_vm_run(vm, mem, len, &o.r0, o.err, sizeof(o.err));
	uebpf_vm_destroy(vm);
	EXPECT(!(o.load || o.run) || o.err[0], "an error (%d, %d) without a message", o.load,
	       o.run);
	return o;
}

/* Through bpf(): assemble, patch map references, BPF_PROG_LOAD. The fd or -errno. */
static int emu_load(enum bpf_prog_type type, const char *text, const int *fds, char *log,
		    size_t log_len, bool verify)
{
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = (uint32_t)log_len,
		    .log_level = 1);
	struct isa_insn *insns = NULL;
	char err[256];
	size_t n;
	int fd;

	log[0] = '\0';
	if (isa_assemble(text, &insns, &n, err, sizeof(err))) {
		EXPECT(0, "assemble: %s", err);
		return -EINVAL;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		uint32_t imm = (uint32_t)insns[i].imm;

		if (insns[i].opcode != (ISA_LD | ISA_IMM | ISA_DW))
			continue;
		if (fds && (imm & ~0xffu) == MAP_REF) {
			insns[i].src = BPF_PSEUDO_MAP_FD;
			insns[i].imm = fds[imm & 0xff];
		} else if (fds && (imm & ~0xffu) == MAP_REF + 0x100) {
			insns[i].src = BPF_PSEUDO_MAP_VALUE;
			insns[i].imm = fds[imm & 0xff];
		}
		i++;
	}
	if (!verify)
		setenv("UEBPF_VERIFY", "0", 1);
	fd = bpf_prog_load(type, "hostile", "GPL", (const struct bpf_insn *)insns, n, &o);
	unsetenv("UEBPF_VERIFY");
	if (fd < 0 && !log[0])
		snprintf(log, log_len, "%s", syscall_last_error());
	free(insns);
	return fd < 0 ? -errno : fd;
}

/* BPF_PROG_TEST_RUN on a 64-byte packet: 0 with the program's r0 in *ret, or -errno. */
static int emu_run(int fd, uint32_t *ret)
{
	uint8_t pkt[64] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));
	int err = bpf_prog_test_run_opts(fd, &t);

	*ret = t.retval;
	return err < 0 ? -errno : 0;
}

/*
 * Load through bpf() as a loader would (verified). Where strict, the
 * verifier must refuse it, and the program is loaded again unverified, for
 * the run-time checks to face; otherwise a verifier that lets it through
 * is noted, and its load is what runs. The fd, or -errno.
 */
static int emu_hostile(const char *what, const char *text, const int *fds, bool strict)
{
	char log[4096];
	int fd = emu_load(BPF_PROG_TYPE_XDP, text, fds, log, sizeof(log), true);

	if (fd >= 0 && !strict) {
		printf("note: %s: the verifier accepts it; the run-time checks must hold\n", what);
		return fd;
	}
	EXPECT(fd < 0 && log[0], "%s: the verifier refuses it (%d: %s)", what, fd, log);
	if (fd >= 0)
		close(fd);
	fd = emu_load(BPF_PROG_TYPE_XDP, text, fds, log, sizeof(log), false);
	EXPECT(fd >= 0, "%s: unverified, it loads: %s", what, log);
	return fd;
}

/* ---- the cases ---- */

static const char loop_text[] = "mov %r0, 0\n"
				"top:\n"
				"add %r0, 1\n"
				"ja top\n"
				"exit\n";

/*
 * An infinite loop: the budget stops it on every engine (the JIT and AOT
 * code count per basic block); the verifier refuses it. Without a budget
 * nothing stops a run of an unverified loop on any engine: the embedder
 * sets a budget or verifies.
 */
static void case_loop(void)
{
	char log[4096];
	int fd;

	for (size_t i = 0; i < 3; i++) {
		struct outcome o = api(engines[i], loop_text, BUDGET, false, NULL, 0);

		EXPECT(!o.load && o.run == -E2BIG && strstr(o.err, "budget"),
		       "%s: budget stops the loop: %d %d %s", engine_names[i], o.load, o.run,
		       o.err);
		o = api(engines[i], loop_text, 0, true, NULL, 0);
		EXPECT(o.load < 0, "%s: the verifier refuses the loop", engine_names[i]);
	}
	fd = emu_load(BPF_PROG_TYPE_XDP, loop_text, NULL, log, sizeof(log), true);
	EXPECT(fd < 0 && log[0], "bpf(): the verifier refuses the loop (%d)", fd);
	if (fd >= 0)
		close(fd);
}

/*
 * Loaded unverified through bpf(), the loop runs with the instruction
 * budget PROG_LOAD gives unverified programs (UEBPF_INSN_BUDGET): the test
 * run fails with E2BIG and a message instead of hanging the caller.
 */
static void case_unverified_loop(void)
{
	char log[4096];
	uint32_t ret;
	int fd, run;

	setenv("UEBPF_INSN_BUDGET", "100000", 1);
	fd = emu_load(BPF_PROG_TYPE_XDP, loop_text, NULL, log, sizeof(log), false);
	unsetenv("UEBPF_INSN_BUDGET");
	REQUIRE(fd >= 0, "unverified, the loop loads: %s", log);
	run = emu_run(fd, &ret);
	EXPECT(run == -E2BIG && strstr(syscall_last_error(), "budget"),
	       "the budget stops the test run: %d (%s)", run, syscall_last_error());
	close(fd);
	setenv("UEBPF_INSN_BUDGET", "lots", 1);
	fd = emu_load(BPF_PROG_TYPE_XDP, loop_text, NULL, log, sizeof(log), false);
	unsetenv("UEBPF_INSN_BUDGET");
	EXPECT(fd == -EINVAL && strstr(log, "UEBPF_INSN_BUDGET=lots"),
	       "a budget that is not a number is refused: %d (%s)", fd, log);
	if (fd >= 0)
		close(fd);
	fd = emu_load(BPF_PROG_TYPE_XDP, "mov %r0, 7\nexit\n", NULL, log, sizeof(log), false);
	REQUIRE(fd >= 0, "unverified, a short program loads: %s", log);
	EXPECT(!emu_run(fd, &ret) && ret == 7, "within the budget it runs: %u", ret);
	close(fd);
}

static const char recurse_text[] = "mov %r0, 0\n"
				   "call local f\n"
				   "exit\n"
				   "f:\n"
				   "add %r0, 1\n"
				   "call local f\n"
				   "exit\n";

/* Unbounded recursion: the ninth frame stops the run with -E2BIG; the verifier refuses it. */
static void case_recursion(void)
{
	for (size_t i = 0; i < 3; i++) {
		struct outcome o = api(engines[i], recurse_text, 0, false, NULL, 0);

		EXPECT(!o.load && o.run == -E2BIG, "%s: too deep: %d %d %s", engine_names[i],
		       o.load, o.run, o.err);
		o = api(engines[i], recurse_text, 0, true, NULL, 0);
		EXPECT(o.load < 0, "%s: the verifier refuses recursion", engine_names[i]);
	}
	int fd = emu_hostile("recursion", recurse_text, NULL, true);
	uint32_t ret;

	if (fd >= 0) {
		EXPECT(emu_run(fd, &ret) < 0, "bpf(): the run stops: %s", syscall_last_error());
		close(fd);
	}
}

/* Below the 512-byte frame, and above the stack's top: -EFAULT, or refused at load. */
static void case_stack(void)
{
	static const char *const texts[] = {
		"mov %r1, 7\nstxdw [%r10-520], %r1\nmov %r0, 0\nexit\n",
		"mov %r2, %r10\nadd %r2, -4104\nstdw [%r2+0], 1\nmov %r0, 0\nexit\n",
		"stdw [%r10+0], 1\nmov %r0, 0\nexit\n",
		"ldxdw %r0, [%r10+8]\nexit\n",
	};

	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		for (size_t i = 0; i < 3; i++) {
			struct outcome o = api(engines[i], texts[t], 0, false, NULL, 0);

			EXPECT(o.load < 0 || o.run == -EFAULT, "%s, text %zu: %d %d %s",
			       engine_names[i], t, o.load, o.run, o.err);
			o = api(engines[i], texts[t], 0, true, NULL, 0);
			EXPECT(o.load < 0, "%s, text %zu: the verifier refuses it", engine_names[i],
			       t);
		}
		int fd = emu_hostile("stack", texts[t], NULL, true);
		uint32_t ret;

		if (fd >= 0) {
			EXPECT(emu_run(fd, &ret) < 0, "bpf(): text %zu faults", t);
			close(fd);
		}
	}
}

/* A read-only region (API) and a BPF_F_RDONLY_PROG map value (bpf()): writes fault. */
static void case_rodata(void)
{
	static uint64_t ro[2] = {0x1122334455667788ull, 0};
	char text[256];
	int map, fd;
	uint32_t key = 0, ret;
	uint64_t v = 42;

	snprintf(text, sizeof(text),
		 "lddw %%r2, %#" PRIx64 "\nldxdw %%r0, [%%r2+0]\n"
		 "stdw [%%r2+0], 1\nexit\n",
		 (uint64_t)(uintptr_t)ro);
	for (size_t i = 0; i < 3; i++) {
		struct uebpf_vm *vm = uebpf_vm_create();
		char err[256] = "";
		uint64_t r0;
		int ret_load, ret_run = 0;

		REQUIRE(vm, "a VM");
		ret_load = uebpf_vm_set_engine(vm, engines[i]);
		if (!ret_load)
			ret_load = uebpf_vm_add_region(vm, ro, sizeof(ro), 0);
		REQUIRE(!ret_load, "set up a VM");
		ret_load = uebpf_vm_load_asm(vm, text, err, sizeof(err));
		if (!ret_load)
			ret_run = uebpf_vm_run(vm, NULL, 0, &r0, err, sizeof(err));
		EXPECT(!ret_load && ret_run == -EFAULT && err[0],
		       "%s: write to read-only: %d %d %s", engine_names[i], ret_load, ret_run, err);
		EXPECT(ro[0] == 0x1122334455667788ull, "%s: the region is unchanged",
		       engine_names[i]);
		uebpf_vm_destroy(vm);
	}
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ro", 4, 8, 1,
			     &(struct bpf_map_create_opts){.sz = sizeof(struct bpf_map_create_opts),
							   .map_flags = BPF_F_RDONLY_PROG});
	REQUIRE(map >= 0, "create a BPF_F_RDONLY_PROG array: %s", syscall_last_error());
	EXPECT(!bpf_map_update_elem(map, &key, &v, BPF_ANY), "user space writes it");
	/* MAP_REF + 0x100: the map's value (BPF_PSEUDO_MAP_VALUE) */
	fd = emu_hostile("rodata",
			 "lddw %r1, 0x4d415100\nstdw [%r1+0], 7\n"
			 "mov %r0, 0\nexit\n",
			 &map, true);
	if (fd >= 0) {
		EXPECT(emu_run(fd, &ret) < 0, "bpf(): the write faults");
		close(fd);
	}
	v = 0;
	EXPECT(!bpf_map_lookup_elem(map, &key, &v) && v == 42, "the value is unchanged: %" PRIu64,
	       v);
	close(map);
}

/* A jump into the second slot of lddw is refused at load. */
static void case_lddw_middle(void)
{
	const struct isa_insn p[] = {
		{.opcode = ISA_JMP | ISA_JA, .off = 1},
		{.opcode = ISA_LD | ISA_IMM | ISA_DW, .dst = 0, .imm = 1},
		{.imm = 2},
		{.opcode = ISA_JMP | ISA_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o);
	char err[256];

	for (size_t i = 0; i < 3; i++) {
		struct uebpf_vm *vm = uebpf_vm_create();
		int ret;

		REQUIRE(vm, "a VM");
		ret = uebpf_vm_set_engine(vm, engines[i]);
		REQUIRE(!ret, "set up a VM");
		err[0] = '\0';
		ret = uebpf_vm_load(vm, p, sizeof(p), err, sizeof(err));
		EXPECT(ret < 0 && strstr(err, "insn 0"), "%s: refused: %d %s", engine_names[i], ret,
		       err);
		uebpf_vm_destroy(vm);
	}
	for (int verify = 0; verify < 2; verify++) {
		int fd;

		if (!verify)
			setenv("UEBPF_VERIFY", "0", 1);
		fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "hostile", "GPL", (const struct bpf_insn *)p,
				   4, &o);
		unsetenv("UEBPF_VERIFY");
		EXPECT(fd < 0 && syscall_last_error()[0], "bpf(): refused (verify %d): %s", verify,
		       syscall_last_error());
		if (fd >= 0)
			close(fd);
	}
}

/* Memory outside everything the program may touch, directly and through helpers. */
static void case_helper_ptr(void)
{
	static const char *const direct[] = {
		"lddw %r1, 0x10\nldxdw %r0, [%r1+0]\nexit\n",
		"mov %r0, %r1\nadd %r0, 1048576\nldxb %r0, [%r0+0]\nexit\n",
		"lddw %r1, 0x7fffffffffff\nstdw [%r1+0], 1\nmov %r0, 0\nexit\n",
	};
	/* r0 of each: what probe_read_user returned (-EFAULT) */
	static const char *const helpers[] = {
		/* dst outside the program's memory */
		"mov %r1, 4096\nmov %r2, 8\nmov %r3, %r10\nadd %r3, -8\nstdw [%r10-8], 0\n"
		"call 112\nexit\n",
		/* src unmapped, dst the stack */
		"mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 16\ncall 112\nexit\n",
		/* dst larger than the stack */
		"mov %r1, %r10\nadd %r1, -8\nmov %r2, 4096\nmov %r3, %r10\nadd %r3, -8\n"
		"call 112\nexit\n",
		/* a map key outside */
		"lddw %r1, 0x4d415000\nmov %r2, 4096\nmov %r3, %r10\nadd %r3, -8\n"
		"stdw [%r10-8], 0\nmov %r4, 0\ncall 2\nexit\n",
	};
	static uint8_t mem[64];
	int map, fd;
	uint32_t ret;

	for (size_t t = 0; t < sizeof(direct) / sizeof(direct[0]); t++) {
		for (size_t i = 0; i < 3; i++) {
			struct outcome o = api(engines[i], direct[t], 0, false, mem, sizeof(mem));

			EXPECT(!o.load && o.run == -EFAULT && strstr(o.err, "insn"),
			       "%s, direct %zu: %d %d %s", engine_names[i], t, o.load, o.run,
			       o.err);
		}
		fd = emu_hostile("direct access", direct[t], NULL, true);
		if (fd >= 0) {
			EXPECT(emu_run(fd, &ret) < 0, "bpf(): direct %zu faults", t);
			close(fd);
		}
	}
	map = bpf_map_create(BPF_MAP_TYPE_HASH, "h", 8, 8, 4, NULL);
	REQUIRE(map >= 0, "create a hash map");
	for (size_t t = 0; t < sizeof(helpers) / sizeof(helpers[0]); t++) {
		int err;

		char what[64];

		snprintf(what, sizeof(what), "helper case %zu", t);
		fd = emu_hostile(what, helpers[t], &map, false);
		if (fd < 0)
			continue;
		/* the helper returns -EFAULT, or the run stops: never a write outside */
		err = emu_run(fd, &ret);
		EXPECT(err < 0 || (int32_t)ret == -EFAULT, "helper case %zu: %d, r0 %d", t, err,
		       (int32_t)ret);
		close(fd);
	}
	close(map);
}

/*
 * Maps whose size overflows 32 bits or exceeds any memory: a clean error,
 * or (memory is only allocated when touched) a map whose last element is
 * where it should be: no size wrapped around.
 */
static void case_huge_map(void)
{
	static const struct {
		enum bpf_map_type type;
		uint32_t key, value, entries;
	} maps[] = {
		{BPF_MAP_TYPE_ARRAY, 4, 65536, 65537},	       /* 2^32 + 2^16 bytes */
		{BPF_MAP_TYPE_ARRAY, 4, 1u << 20, UINT32_MAX}, /* 2^52 bytes */
		{BPF_MAP_TYPE_ARRAY, 4, UINT32_MAX, 2},
		{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32768, 1u << 24},
		{BPF_MAP_TYPE_HASH, 8, 8, UINT32_MAX},
		{BPF_MAP_TYPE_HASH, UINT32_MAX, 8, 4},
		{BPF_MAP_TYPE_HASH, 8, 1u << 21, 1u << 20},
		{BPF_MAP_TYPE_LRU_HASH, 8, 8, UINT32_MAX},
		{BPF_MAP_TYPE_PERCPU_HASH, 8, 32768, 1u << 24},
		{BPF_MAP_TYPE_LPM_TRIE, UINT32_MAX, 8, 4},
		{BPF_MAP_TYPE_QUEUE, 0, UINT32_MAX, UINT32_MAX},
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 12345}, /* not a power of 2 */
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 0},
	};

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		LIBBPF_OPTS(bpf_map_create_opts, o,
			    .map_flags =
				    maps[i].type == BPF_MAP_TYPE_LPM_TRIE ? BPF_F_NO_PREALLOC : 0);
		int fd = bpf_map_create(maps[i].type, "huge", maps[i].key, maps[i].value,
					maps[i].entries, &o);
		int err = errno;

		if (fd >= 0 && maps[i].type == BPF_MAP_TYPE_ARRAY) {
			uint32_t last = maps[i].entries - 1;
			uint8_t *v = calloc(2, maps[i].value);

			REQUIRE(v, "memory");
			memset(v, 0xa5, maps[i].value);
			EXPECT(!bpf_map_update_elem(fd, &last, v, BPF_ANY) &&
				       !bpf_map_lookup_elem(fd, &last, v + maps[i].value) &&
				       !memcmp(v, v + maps[i].value, maps[i].value),
			       "map %zu: its last element holds a value", i);
			printf("note: map %zu (%u x %u bytes) was made\n", i, maps[i].entries,
			       maps[i].value);
			free(v);
		} else {
			EXPECT(fd < 0 && (err == E2BIG || err == ENOMEM || err == EINVAL) &&
				       syscall_last_error()[0],
			       "map %zu (type %d, %u x %u): %d, %s (%s)", i, maps[i].type,
			       maps[i].entries, maps[i].value, fd, strerror(err),
			       syscall_last_error());
		}
		if (fd >= 0)
			close(fd);
	}
}

/* Ring buffer records of absurd sizes, and samples that are no samples. */
static void case_ringbuf(void)
{
	/* r0 = sum of what each attempt got right: 1 each */
	static const char text[] =
		"mov %r9, 0\n"
		/* reserve 4 GiB - 1: NULL */
		"lddw %r1, 0x4d415000\nmov32 %r2, -1\nmov %r3, 0\ncall 131\n"
		"jne %r0, 0, +1\nadd %r9, 1\n"
		/* reserve the whole ring (no room for the header): NULL */
		"lddw %r1, 0x4d415000\nmov %r2, 4096\nmov %r3, 0\ncall 131\n"
		"jne %r0, 0, +1\nadd %r9, 1\n"
		/* output 2^40 bytes from the stack: an error */
		"stdw [%r10-8], 0\nlddw %r1, 0x4d415000\nmov %r2, %r10\nadd %r2, -8\n"
		"lddw %r3, 0x10000000000\nmov %r4, 0\ncall 130\n"
		"jsge %r0, 0, +1\nadd %r9, 1\n"
		/* submit a stack address as if it were a sample: ignored */
		"mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\n"
		"add %r9, 1\n"
		"mov %r0, %r9\nexit\n";
	int map = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "rb", 0, 0, 4096, NULL);
	int fd;
	uint32_t ret = 0;

	REQUIRE(map >= 0, "create a ring buffer: %s", syscall_last_error());
	fd = emu_hostile("ringbuf", text, &map, false);
	if (fd >= 0) {
		int err = emu_run(fd, &ret);

		EXPECT(err < 0 || ret == 4, "absurd records refused: %d, r0 %u", err, ret);
		close(fd);
	}
	close(map);
}

/* A program that tail-calls itself: 33 tail calls, then the call fails and it goes on. */
static void case_tail_loop(void)
{
	static const char text[] = "mov %r6, %r1\n"
				   "stw [%r10-4], 0\n"
				   "lddw %r1, 0x4d415001\n"
				   "mov %r2, %r10\nadd %r2, -4\ncall 1\n"
				   "jeq %r0, 0, +2\nmov %r1, 1\nlock add [%r0+0], %r1\n"
				   "mov %r1, %r6\nlddw %r2, 0x4d415000\nmov %r3, 0\ncall 12\n"
				   "mov %r0, 2\nexit\n";
	int fds[2], fd;
	uint32_t key = 0, ret = 0;
	uint64_t count = 0;
	char log[4096];

	fds[0] = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "jmp", 4, 4, 1, NULL);
	fds[1] = bpf_map_create(BPF_MAP_TYPE_ARRAY, "count", 4, 8, 1, NULL);
	REQUIRE(fds[0] >= 0 && fds[1] >= 0, "create the maps");
	fd = emu_load(BPF_PROG_TYPE_XDP, text, fds, log, sizeof(log), true);
	if (fd < 0) /* a verifier that does not model these helpers yet */
		fd = emu_load(BPF_PROG_TYPE_XDP, text, fds, log, sizeof(log), false);
	REQUIRE(fd >= 0, "load: %s", log);
	EXPECT(!bpf_map_update_elem(fds[0], &key, &fd, BPF_ANY), "slot 0 = the program itself");
	EXPECT(!emu_run(fd, &ret) && ret == 2, "the run ends: r0 %u", ret);
	EXPECT(!bpf_map_lookup_elem(fds[1], &key, &count) && count == 34,
	       "1 run + 33 tail calls, as the kernel: %" PRIu64, count);
	close(fd);
	close(fds[0]);
	close(fds[1]);
}

/* File descriptors that are not maps, or maps of the wrong type. */
static void case_wrong_fd(void)
{
	static const char lookup[] = "stw [%r10-4], 0\nlddw %r1, 0x4d415000\nmov %r2, %r10\n"
				     "add %r2, -4\ncall 1\nmov %r0, 0\nexit\n";
	static const char tail[] = "lddw %r2, 0x4d415000\nmov %r3, 0\ncall 12\n"
				   "mov %r0, 3\nexit\n";
	static const char reserve[] = "lddw %r1, 0x4d415000\nmov %r2, 8\nmov %r3, 0\ncall 131\n"
				      "jeq %r0, 0, +3\nmov %r1, %r0\nmov %r2, 0\ncall 132\n"
				      "mov %r0, 5\nexit\n";
	int prog, null = open("/dev/null", O_RDONLY), array, fd, bad[4];
	uint32_t key = 0, ret;
	uint64_t v;
	char log[4096];

	array = bpf_map_create(BPF_MAP_TYPE_ARRAY, "arr", 4, 8, 1, NULL);
	REQUIRE(array >= 0 && null >= 0, "an array and /dev/null");
	prog = emu_load(BPF_PROG_TYPE_XDP, "mov %r0, 1\nexit\n", NULL, log, sizeof(log), true);
	REQUIRE(prog >= 0, "a program: %s", log);
	bad[0] = prog, bad[1] = null, bad[2] = -1, bad[3] = 4000;
	for (size_t i = 0; i < 4; i++) {
		for (int verify = 0; verify < 2; verify++) {
			fd = emu_load(BPF_PROG_TYPE_XDP, lookup, &bad[i], log, sizeof(log), verify);
			EXPECT(fd == -EBADF || fd == -EINVAL, "map fd %d (verify %d): %d %s",
			       bad[i], verify, fd, log);
			if (fd >= 0)
				close(fd);
		}
		errno = 0;
		EXPECT(bpf_map_lookup_elem(bad[i], &key, &v) < 0 &&
			       (errno == EBADF || errno == EINVAL),
		       "lookup on fd %d: %s", bad[i], strerror(errno));
		EXPECT(bpf_map_update_elem(bad[i], &key, &v, 0) < 0, "update on fd %d", bad[i]);
	}
	/* an ARRAY for a PROG_ARRAY and for a RINGBUF: the helper fails, the program goes on */
	fd = emu_hostile("tail call through an array", tail, &array, false);
	if (fd >= 0) {
		EXPECT(!emu_run(fd, &ret) && ret == 3, "the tail call fails: r0 %u", ret);
		close(fd);
	}
	fd = emu_hostile("ringbuf_reserve on an array", reserve, &array, false);
	if (fd >= 0) {
		EXPECT(!emu_run(fd, &ret) && ret == 5, "reserve gives NULL: r0 %u", ret);
		close(fd);
	}
	close(prog);
	close(null);
	close(array);
}

/* After each case: plain programs still run right, on both paths. */
static void unharmed(void)
{
	uint8_t mem[8] = {3, 0, 0, 0, 4};
	char log[4096];
	uint32_t ret = 0;
	int fd;

	for (size_t i = 0; i < 3; i++) {
		struct outcome o = api(engines[i],
				       "ldxb %r0, [%r1+0]\nldxb %r2, [%r1+4]\n"
				       "mul %r0, %r2\nexit\n",
				       0, false, mem, sizeof(mem));

		EXPECT(!o.load && !o.run && o.r0 == 12, "%s: unharmed: %s", engine_names[i], o.err);
	}
	fd = emu_load(BPF_PROG_TYPE_XDP, "mov %r0, 2\nexit\n", NULL, log, sizeof(log), true);
	EXPECT(fd >= 0 && !emu_run(fd, &ret) && ret == 2, "bpf(): unharmed: %s", log);
	if (fd >= 0)
		close(fd);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{"loop", case_loop},
	{"unverified-loop", case_unverified_loop},
	{"recursion", case_recursion},
	{"stack", case_stack},
	{"rodata", case_rodata},
	{"lddw-middle", case_lddw_middle},
	{"helper-ptr", case_helper_ptr},
	{"huge-map", case_huge_map},
	{"ringbuf", case_ringbuf},
	{"tail-loop", case_tail_loop},
	{"wrong-fd", case_wrong_fd},
};

int main(int argc, char **argv)
{
	char dir[] = "/tmp/uebpf-hostile-XXXXXX";
	bool made = mkdtemp(dir) && !uebpf_aot_set_cache_dir(dir);

	/* the AOT engine compiles into a cache of its own; the loads must not fall back */
	REQUIRE(made, "an AOT cache directory");
	setenv("UEBPF_AOT_FALLBACK", "0", 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name))
			continue;
		printf("case %s\n", cases[i].name);
		cases[i].fn();
		unharmed();
	}
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return check_summary();
}
