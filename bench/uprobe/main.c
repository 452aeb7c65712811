// SPDX-License-Identifier: MIT
/*
 * uebpf-bench-uprobe: what a probe adds to a call, uebpf against the
 * kernel, in one run. Each row calls a function of this binary (victims.S)
 * in slices of about 10 ms, timed in thread CPU time (so the kernel's
 * uprobe work, done on this thread, counts and preemption does not); the
 * median slice gives ns per call, and "added" subtracts the unprobed call
 * measured in the same run. The kernel rows attach a kernel uprobe to this
 * very binary (perf_event_open on the uprobe PMU, a BPF program from
 * bpf(2): this binary does not link uebpf's bpf() interposition) and are
 * skipped, with the reason, without root or kernel BPF.
 *
 * Then scaling.c's table: 1, 2 and 4 threads calling a probed function
 * against the same threads calling it unprobed.
 *
 *   uebpf-bench-uprobe [--csv FILE] [--scaling-csv FILE] [--scaling-only] [--slices N]
 */
#define _GNU_SOURCE
#include <asm/ptrace.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "helpers/helpers.h"
#include "isa/isa.h"
#include "maps/maps.h"
#include "uebpf/uebpf.h"
#include "vm/vm.h"

#include "bench_uprobe.h"
#include "benchlib.h"
#include "common/vecstate.h"
#include "probe/probe_internal.h"

#define SLICE_NS 10000000.0
#define MAX_ROWS 24

struct row {
	char name[64];
	double ns;
	const char *skip; /* the reason it was not measured */
};

static struct row rows[MAX_ROWS];
static int nrows;
static int slices = 9;
static long target_word = 42; /* what the victims' argument points to */

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double slice(victim_fn volatile fn, uint64_t n)
{
	uint64_t t = cpu_ns();

	for (uint64_t i = 0; i < n; i++)
		fn((long)&target_word);
	return (double)(cpu_ns() - t) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median ns per call over the slices, each sized to about SLICE_NS. */
static double measure(victim_fn fn)
{
	double s[64], ns;
	uint64_t n = 16;

	while ((ns = slice(fn, n)) * (double)n < SLICE_NS / 4)
		n *= 2;
	n = (uint64_t)(SLICE_NS / (ns > 0 ? ns : 1)) + 1;
	for (int i = 0; i < slices; i++)
		s[i] = slice(fn, n);
	qsort(s, (size_t)slices, sizeof(s[0]), cmp_double);
	return s[slices / 2];
}

static struct row *add_row(const char *name)
{
	struct row *r = &rows[nrows++];

	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

/* Measures fn as name, or records why not. */
static void row(const char *name, victim_fn fn, const char *skip)
{
	struct row *r = add_row(name);

	r->skip = skip;
	if (!skip)
		r->ns = measure(fn);
}

/* ---- programs ---- */

/* The 4-instruction program of the plain rows: no memory access. */
static const struct bpf_insn prog_base[] = {
	MOV_IMM(0, 0),
	ADD_IMM(0, 1),
	MUL_IMM(0, 3),
	EXIT(),
};
/* Reads the context: a run that needs its frame (the helper rows' baseline). */
static const struct bpf_insn prog_ctx[] = {
	LDX_DW(0, 1, PT_DI),
	MOV_IMM(0, 0),
	EXIT(),
};
/* bpf_probe_read_user of the 8 bytes the first argument points to. */
static const struct bpf_insn prog_read[] = {
	LDX_DW(3, 1, PT_DI), MOV_REG(1, 10), ADD_IMM(1, -8), MOV_IMM(2, 8),
	CALL(112),	     MOV_IMM(0, 0),  EXIT(),
};
/* bpf_probe_write_user of 8 bytes there. */
static const struct bpf_insn prog_write[] = {
	LDX_DW(1, 1, PT_DI), ST_DW(10, -8, 42), MOV_REG(2, 10), ADD_IMM(2, -8),
	MOV_IMM(3, 8),	     CALL(36),		MOV_IMM(0, 0),	EXIT(),
};
/* Look up key 0 of an array and increment its value. */
static const struct bpf_insn prog_lookup[] = {
	ST_W(10, -4, 0), LD_MAP(1, 0),	MOV_REG(2, 10),	 ADD_IMM(2, -4), CALL(1), JEQ_IMM(0, 0, 3),
	LDX_DW(1, 0, 0), ADD_IMM(1, 1), STX_DW(0, 1, 0), MOV_IMM(0, 0),	 EXIT(),
};
/* Update key 0 of an array. */
static const struct bpf_insn prog_update[] = {
	ST_W(10, -4, 0), ST_DW(10, -16, 1), LD_MAP(1, 0),    MOV_REG(2, 10),
	ADD_IMM(2, -4),	 MOV_REG(3, 10),    ADD_IMM(3, -16), MOV_IMM(4, 0),
	CALL(2),	 MOV_IMM(0, 0),	    EXIT(),
};

struct bench_resolver {
	struct map *const *maps;
	size_t n;
};

static struct map *resolve_map(void *ctx, unsigned kind, int32_t imm)
{
	const struct bench_resolver *r = ctx;

	(void)kind;
	return imm >= 0 && (size_t)imm < r->n ? r->maps[imm] : NULL;
}

struct uebpf_vm *bench_prog(const struct bpf_insn *insns, size_t n, struct map *const *maps,
			    size_t nmaps)
{
	struct bench_resolver r = {.maps = maps, .n = nmaps};
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[256];

	if (!vm || uebpf_vm_set_engine(vm, UEBPF_ENGINE_JIT) || helpers_register_all(vm) ||
	    vm_set_map_resolver(vm, resolve_map, &r) ||
	    uebpf_vm_load(vm, insns, n * sizeof(*insns), err, sizeof(err))) {
		fprintf(stderr, "uebpf-bench-uprobe: load: %s\n", vm ? err : "out of memory");
		exit(1);
	}
	return vm;
}

static struct map *bench_map;

static struct uebpf_vm *uebpf_prog(const struct bpf_insn *insns, size_t n)
{
	return bench_prog(insns, n, &bench_map, 1);
}

/* Measures fn with vm attached at entry (ret 0), return (1) or both (2). */
static void uebpf_row(const char *name, victim_fn fn, struct uebpf_vm *vm, int kind)
{
	struct uebpf_probe *p[2] = {NULL, NULL};
	char err[256];
	int n = 0;

	for (int k = 0; k < 2; k++) {
		if (kind != 2 && kind != k)
			continue;
		if (uebpf_uprobe_attach_addr(vm, (void *)fn, k, &p[n++], err, sizeof(err))) {
			fprintf(stderr, "uebpf-bench-uprobe: %s: %s\n", name, err);
			exit(1);
		}
	}
	row(name, fn, NULL);
	for (int i = 0; i < n; i++)
		uebpf_probe_detach(p[i], err, sizeof(err));
}

/*
 * The same probes with the trampolines saving xmm0-15 only, as they did
 * before saving ymm/zmm/k state: what XSAVE costs, in the same run.
 */
static void xmm_only_rows(struct uebpf_vm *vm)
{
	uint32_t mode = vecstate_mode;

	if (mode == VECSTATE_SSE)
		return;
	vecstate_mode = VECSTATE_SSE;
	uebpf_row("uebpf uprobe (push), xmm only", bench_push, vm, 0);
	uebpf_row("uebpf uretprobe (push), xmm only", bench_push, vm, 1);
	vecstate_mode = mode;
}

static const struct row *find(const char *name);

static void xstate_cost(void)
{
	static const char *const saved[] = {"xmm0-15", "ymm0-15", "zmm0-31, k0-7"};
	const struct row *e = find("uebpf uprobe (push)"),
			 *ex = find("uebpf uprobe (push), xmm only");
	const struct row *r = find("uebpf uretprobe (push)"),
			 *rx = find("uebpf uretprobe (push), xmm only");

	if (!e || !ex || !r || !rx || vecstate_mode > VECSTATE_AVX512)
		return;
	printf("  saving %s instead of xmm0-15: +%.1f ns at entry, +%.1f ns at return\n",
	       saved[vecstate_mode], e->ns - ex->ns, r->ns - rx->ns);
}

/* The embedded call: the program run through the API with a pt_regs, as a probe would. */
static struct uebpf_vm *embedded_vm;
static struct pt_regs embedded_regs;

static long embedded_call(long a)
{
	uint64_t r0;

	embedded_regs.rdi = (unsigned long)a;
	uebpf_vm_run(embedded_vm, &embedded_regs, sizeof(embedded_regs), &r0, NULL, 0);
	return (long)r0;
}

/* ---- the kernel's uprobes ---- */

static char kernel_skip[256];

static int kernel_prog(const struct bpf_insn *insns, size_t n)
{
	static char log[4096];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1);
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "bench", "GPL", (const void *)insns, n, &opts);

	if (fd < 0)
		snprintf(kernel_skip, sizeof(kernel_skip), "kernel refused the program: %s",
			 strerror(errno));
	return fd;
}

/* A kernel uprobe (ret: uretprobe) on fn running prog; -1 with kernel_skip set if not. */
static int kernel_attach(victim_fn fn, int prog, int ret)
{
	struct perf_event_attr attr;
	char buf[64], exe[PATH_MAX];
	uint64_t off = (uintptr_t)fn;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int type, bit = 0, fd;

	if (n <= 0 || benchlib_read_file("/sys/bus/event_source/devices/uprobe/type", buf, sizeof(buf))) {
		snprintf(kernel_skip, sizeof(kernel_skip), "no uprobe PMU in this kernel");
		return -1;
	}
	exe[n] = '\0';
	type = atoi(buf);
	if (!benchlib_read_file("/sys/bus/event_source/devices/uprobe/format/retprobe", buf, sizeof(buf)))
		sscanf(buf, "config:%d", &bit);
	benchlib_exe_file_offset((const void *)fn, &off);
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (unsigned)type;
	attr.config = ret ? 1ull << bit : 0;
	attr.config1 = (uintptr_t)exe;
	attr.config2 = off;
	fd = (int)syscall(__NR_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0 || ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog) ||
	    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) {
		snprintf(kernel_skip, sizeof(kernel_skip), "kernel uprobe: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void kernel_row(const char *name, victim_fn fn, int prog, int ret)
{
	int fd = prog >= 0 ? kernel_attach(fn, prog, ret) : -1;

	row(name, fn, fd < 0 ? kernel_skip : NULL);
	if (fd >= 0)
		close(fd);
}

/* ---- report ---- */

static const struct row *find(const char *name)
{
	for (int i = 0; i < nrows; i++) {
		if (!strcmp(rows[i].name, name))
			return rows[i].skip ? NULL : &rows[i];
	}
	return NULL;
}

static void ratio(const char *kernel, const char *uebpf, double base)
{
	const struct row *k = find(kernel), *u = find(uebpf);

	if (k && u && u->ns - base > 0)
		printf("  %-28s / %-28s %8.1fx\n", kernel, uebpf, (k->ns - base) / (u->ns - base));
}

/* A helper's own cost: its row less the framed run that reads the context. */
static void helper_cost(const char *what, const char *name)
{
	const struct row *h = find(name), *c = find("uebpf uprobe + ctx read (framed run)");

	if (h && c)
		printf("  %-28s inside a uebpf probe: %6.1f ns\n", what, h->ns - c->ns);
}

static void report(const char *csv, double base)
{
	struct utsname u;
	FILE *f = csv ? fopen(csv, "w") : NULL;

	uname(&u);
	printf("uprobe cost per call (median of %d slices, thread CPU time; kernel %s)\n", slices,
	       u.release);
	printf("%-40s %12s %12s\n", "case", "ns/call", "added ns");
	if (csv && !f)
		fprintf(stderr, "uebpf-bench-uprobe: %s: %s\n", csv, strerror(errno));
	if (f)
		fprintf(f, "case,ns_per_call,added_ns,skipped\n");
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		if (r->skip) {
			printf("%-40s %12s   skipped: %s\n", r->name, "-", r->skip);
			if (f)
				fprintf(f, "\"%s\",,,\"%s\"\n", r->name, r->skip);
			continue;
		}
		printf("%-40s %12.1f %12.1f\n", r->name, r->ns, r->ns - base);
		if (f)
			fprintf(f, "\"%s\",%.2f,%.2f,\n", r->name, r->ns, r->ns - base);
	}
	printf("kernel / uebpf, on the added cost, and helpers alone:\n");
	ratio("kernel uprobe (push)", "uebpf uprobe (push)", base);
	ratio("kernel uretprobe (push)", "uebpf uretprobe (push)", base);
	ratio("kernel uprobe (rip, single-step)", "uebpf uprobe (rip)", base);
	ratio("kernel uprobe + probe_read_user 8 B", "uebpf uprobe + probe_read_user 8 B", base);
	helper_cost("probe_read_user 8 B", "uebpf uprobe + probe_read_user 8 B");
	helper_cost("probe_write_user 8 B", "uebpf uprobe + probe_write_user 8 B");
	helper_cost("map lookup + increment", "uebpf uprobe + map lookup, increment");
	helper_cost("map update", "uebpf uprobe + map update");
	xstate_cost();
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	const char *csv = NULL, *scaling_csv = NULL;
	bool scaling_only = false;
	struct map_attr attr = {
		.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1};
	struct uebpf_vm *base_vm, *ctx_vm, *read_vm, *write_vm, *lookup_vm, *update_vm;
	int kbase, kread;
	double base;
	char err[256];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
			csv = argv[++i];
		} else if (!strcmp(argv[i], "--scaling-csv") && i + 1 < argc) {
			scaling_csv = argv[++i];
		} else if (!strcmp(argv[i], "--scaling-only")) {
			scaling_only = true;
		} else if (!strcmp(argv[i], "--slices") && i + 1 < argc) {
			slices = atoi(argv[++i]);
			if (slices < 1 || slices > 64)
				slices = 9;
		} else {
			fprintf(stderr,
				"usage: uebpf-bench-uprobe [--csv FILE] [--scaling-csv FILE] "
				"[--scaling-only] [--slices N]\n");
			return 2;
		}
	}
	if (scaling_only) {
		scaling_run(slices, scaling_csv);
		return 0;
	}
	if (map_create(&attr, &bench_map, err, sizeof(err))) {
		fprintf(stderr, "uebpf-bench-uprobe: map: %s\n", err);
		return 1;
	}
	base_vm = uebpf_prog(prog_base, N(prog_base));
	ctx_vm = uebpf_prog(prog_ctx, N(prog_ctx));
	read_vm = uebpf_prog(prog_read, N(prog_read));
	write_vm = uebpf_prog(prog_write, N(prog_write));
	lookup_vm = uebpf_prog(prog_lookup, N(prog_lookup));
	update_vm = uebpf_prog(prog_update, N(prog_update));
	embedded_vm = base_vm;

	row("no probe", bench_push, NULL);
	kbase = kernel_prog(prog_base, N(prog_base));
	kread = kbase >= 0 ? kernel_prog(prog_read, N(prog_read)) : -1;
	kernel_row("kernel uprobe (push)", bench_push, kbase, 0);
	kernel_row("kernel uretprobe (push)", bench_push, kbase, 1);
	kernel_row("kernel uprobe (rip, single-step)", bench_rip, kbase, 0);
	kernel_row("kernel uprobe + probe_read_user 8 B", bench_push, kread, 0);
	uebpf_row("uebpf uprobe (push)", bench_push, base_vm, 0);
	uebpf_row("uebpf uretprobe (push)", bench_push, base_vm, 1);
	uebpf_row("uebpf uprobe + uretprobe (push)", bench_push, base_vm, 2);
	xmm_only_rows(base_vm);
	uebpf_row("uebpf uprobe (rip)", bench_rip, base_vm, 0);
	row("embedded call (uebpf_vm_run, 4 insns)", embedded_call, NULL);
	uebpf_row("uebpf uprobe + ctx read (framed run)", bench_push, ctx_vm, 0);
	uebpf_row("uebpf uprobe + probe_read_user 8 B", bench_push, read_vm, 0);
	uebpf_row("uebpf uprobe + probe_write_user 8 B", bench_push, write_vm, 0);
	uebpf_row("uebpf uprobe + map lookup, increment", bench_push, lookup_vm, 0);
	uebpf_row("uebpf uprobe + map update", bench_push, update_vm, 0);
	row("no probe (again)", bench_push, NULL);

	base = find("no probe")->ns;
	if (find("no probe (again)")->ns < base)
		base = find("no probe (again)")->ns;
	report(csv, base);
	scaling_run(slices, scaling_csv);
	uebpf_vm_destroy(base_vm);
	uebpf_vm_destroy(ctx_vm);
	uebpf_vm_destroy(read_vm);
	uebpf_vm_destroy(write_vm);
	uebpf_vm_destroy(lookup_vm);
	uebpf_vm_destroy(update_vm);
	map_close(bench_map);
	return 0;
}
