// SPDX-License-Identifier: MIT
/*
 * A clang-built uprobe object (count.bpf.c, BPF_KPROBE and PT_REGS_PARM*
 * from bpf_tracing.h): libbpf loads it through the bpf() emulation, its
 * programs (map fds embedded) go into VMs of the engine asked for, which
 * uebpf_uprobe_attach hooks on victim_push; the map then holds exactly what
 * the calls imply. Also: bpf_probe_read_user on a bad address is -EFAULT
 * while an application's own SIGSEGV handler still gets its faults.
 *
 *   test_probe_bpf OBJ interp|jit|aot
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "check.h"
#include "helpers/helpers.h"
#include "isa/isa.h"
#include "maps/maps.h"
#include "uebpf/uebpf.h"
#include "vm/vm.h"

long victim_push(long a, long b, long c);

enum { CALLS, ARG_SUM, READ_SUM, READ_FAULTS, LAST_RET, RETURNS, NCOUNTS };

/* The maps the programs' fds name, opened once each. */
static struct map *maps[8];
static int map_fds[8], nmaps;

static struct map *resolve_map(void *ctx, unsigned kind, int32_t imm)
{
	struct map *m;
	char err[256] = "";

	(void)ctx;
	for (int i = 0; i < nmaps; i++) {
		if (map_fds[i] == imm)
			return maps[i];
	}
	if (kind != ISA_PSEUDO_MAP_FD || nmaps == 8 || map_open_fd(imm, &m, err, sizeof(err))) {
		printf("  map fd %d: %s\n", imm, err);
		return NULL;
	}
	map_fds[nmaps] = imm;
	maps[nmaps++] = m;
	return m;
}

static struct uebpf_vm *vm_of(struct bpf_object *obj, const char *name, enum uebpf_engine engine)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[256] = "";

	REQUIRE(prog && vm, "no program %s", name);
	EXPECT_RET(uebpf_vm_set_engine(vm, engine), 0);
	EXPECT_RET(helpers_register_all(vm), 0);
	EXPECT_RET(vm_set_map_resolver(vm, resolve_map, NULL), 0);
	EXPECT_RET(uebpf_vm_load(vm, bpf_program__insns(prog),
				 bpf_program__insn_cnt(prog) * sizeof(struct bpf_insn), err,
				 sizeof(err)),
		   0);
	if (err[0])
		printf("  %s: %s\n", name, err);
	return vm;
}

static long *volatile bad_ptr = (long *)8;
static sigjmp_buf segv_env;
static volatile sig_atomic_t app_segvs;

static void app_segv(int sig)
{
	(void)sig;
	app_segvs++;
	siglongjmp(segv_env, 1);
}

int main(int argc, char **argv)
{
	enum uebpf_engine engine = UEBPF_ENGINE_INTERP;
	struct uebpf_probe *pe = NULL, *pr = NULL;
	struct uebpf_vm *ve, *vr;
	struct bpf_object *obj;
	uint64_t counts[NCOUNTS] = {0};
	long val = 5, sum = 0;
	char err[256] = "";
	int fd, ret;

	REQUIRE(argc == 3, "usage: test_probe_bpf OBJ interp|jit|aot");
	if (!strcmp(argv[2], "jit"))
		engine = UEBPF_ENGINE_JIT;
	else if (!strcmp(argv[2], "aot"))
		engine = UEBPF_ENGINE_AOT;
	signal(SIGSEGV, app_segv);
	obj = bpf_object__open_file(argv[1], NULL);
	REQUIRE(obj, "open %s: %s", argv[1], strerror(errno));
	ret = bpf_object__load(obj);
	REQUIRE(!ret, "load %s: %s", argv[1], strerror(-ret));
	fd = bpf_object__find_map_fd_by_name(obj, "counts");
	REQUIRE(fd >= 0, "no map counts");
	ve = vm_of(obj, "on_entry", engine);
	vr = vm_of(obj, "on_return", engine);

	EXPECT_RET(uebpf_uprobe_attach(ve, "self:victim_push", 0, &pe, err, sizeof(err)), 0);
	EXPECT_RET(uebpf_uprobe_attach(vr, ":victim_push", 1, &pr, err, sizeof(err)), 0);
	REQUIRE(pe && pr, "attach: %s", err);
	for (long i = 1; i <= 1000; i++) {
		long b = i % 10 ? (long)&val : 8; /* every tenth read faults */

		EXPECT(victim_push(i, b, 0) == i + b, "victim_push(%ld)", i);
		sum += i;
	}
	EXPECT(uebpf_probe_missed(pe) == 0 && uebpf_probe_missed(pr) == 0, "misses");
	EXPECT_RET(uebpf_probe_detach(pe, err, sizeof(err)), 0);
	EXPECT_RET(uebpf_probe_detach(pr, err, sizeof(err)), 0);
	victim_push(1, (long)&val, 0);
	for (uint32_t k = 0; k < NCOUNTS; k++)
		EXPECT_RET(bpf_map_lookup_elem(fd, &k, &counts[k]), 0);
	EXPECT(counts[CALLS] == 1000 && counts[RETURNS] == 1000, "calls %lu returns %lu",
	       (unsigned long)counts[CALLS], (unsigned long)counts[RETURNS]);
	EXPECT(counts[ARG_SUM] == (uint64_t)sum, "argument sum %lu, want %ld",
	       (unsigned long)counts[ARG_SUM], sum);
	EXPECT(counts[READ_SUM] == 900 * 5 && counts[READ_FAULTS] == 100,
	       "read sum %lu (want 4500), faults %lu (want 100)", (unsigned long)counts[READ_SUM],
	       (unsigned long)counts[READ_FAULTS]);
	EXPECT(counts[LAST_RET] == 1000 + 8, "last return %lu, want 1008",
	       (unsigned long)counts[LAST_RET]);

	/* the helper's SIGSEGV handler passes faults that are not its own on */
	if (!sigsetjmp(segv_env, 1))
		*bad_ptr = 1;
	EXPECT(app_segvs == 1, "application SIGSEGV handler ran %d times", app_segvs);

	EXPECT_RET(uebpf_uprobe_attach(ve, "self:nope", 0, &pe, err, sizeof(err)), -ENOENT);
	EXPECT_RET(uebpf_uprobe_attach(NULL, "self:victim_push", 0, &pe, err, sizeof(err)),
		   -EINVAL);
	uebpf_vm_destroy(ve);
	uebpf_vm_destroy(vr);
	for (int i = 0; i < nmaps; i++)
		map_close(maps[i]);
	bpf_object__close(obj);
	return check_summary();
}
