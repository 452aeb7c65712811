// SPDX-License-Identifier: MIT
/*
 * uebpf-bench-syscall: what tracing a system call adds to it, uebpf's
 * userspace syscall hooks (src/syshook) against the kernel's syscall
 * tracepoints, in one run.
 *
 * Each row makes getpid() or read(/dev/zero, 1 byte) in blocks of 1000
 * calls timed with the TSC (calibrated against CLOCK_MONOTONIC), blocks
 * with tracing and without alternating: ns per call is the median traced
 * block, "added" the median difference between a traced block and the
 * untraced one before it, so that the load of a shared machine drifts into
 * both alike (the kernel's tracepoint work is done on the calling thread:
 * it counts). Where tracing cannot be turned off (SUD traps with or without
 * a callback, and stays installed), "added" is against the untraced call
 * measured before the install.
 *
 * Order matters, as syshook's interception stays once installed: first the
 * untraced rows and the kernel rows (a BPF_PROG_TYPE_TRACEPOINT program
 * from bpf(2) on syscalls/sys_enter_NAME and on raw_syscalls/sys_enter,
 * through perf_event_open and tracefs; skipped with the reason without
 * root, tracefs or kernel BPF), then uebpf's rows: the rewritten site with
 * no callback on this number, with an empty callback, with a callback
 * running a small eBPF program (uebpf_vm_run, JIT) on the tracepoint's
 * context, and the SUD path (a call site that cannot be rewritten, in
 * this binary: every call a SIGSYS) with an empty callback.
 *
 *   uebpf-bench-syscall [--csv FILE] [--slices N]
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"
#include "syshook/syshook.h"
#include "uebpf/uebpf.h"

#define SLICE_NS 10000000.0
#define MAX_ROWS 32

/* The two calls measured, each through libc and through a site SUD must take. */
enum call { GETPID, READ, N_CALLS };
static const char *const call_name[N_CALLS] = {"getpid", "read 1 B"};
static const long call_nr[N_CALLS] = {SYS_getpid, SYS_read};

static int slices = 21;
static int zero_fd;
static char byte;

/* A system call right after a jmp: nothing before it can be displaced, so SUD takes it. */
long bench_sud_syscall3(long nr, long a, long b, long c);
__asm__(".pushsection .text\n"
	".p2align 4\n"
	".globl bench_sud_syscall3\n"
	".type bench_sud_syscall3, @function\n"
	"bench_sud_syscall3:\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsi\n"
	"	mov %rcx, %rdx\n"
	"	jmp 1f\n"
	"1:	syscall\n"
	"	ret\n"
	".size bench_sud_syscall3, .-bench_sud_syscall3\n"
	".popsection\n");

static bool via_sud;

static void call(enum call c)
{
	if (via_sud)
		bench_sud_syscall3(call_nr[c], c == READ ? zero_fd : 0, (long)&byte, 1);
	else if (c == GETPID)
		getpid();
	else if (read(zero_fd, &byte, 1) != 1)
		abort();
}

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

static double ns_per_tick;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void calibrate(void)
{
	double t0 = now_ns(), t1;
	uint64_t c0 = tsc(), c1;

	do
		t1 = now_ns();
	while (t1 - t0 < 50e6);
	c1 = tsc();
	ns_per_tick = (t1 - t0) / (double)(c1 - c0);
}

/* ns per call over a block of n calls. */
static double block(enum call c, size_t n)
{
	uint64_t t = tsc();

	for (size_t i = 0; i < n; i++)
		call(c);
	return (double)(tsc() - t) * ns_per_tick / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

struct toggle {
	void (*on)(void *arg);
	void (*off)(void *arg);
	void *arg;
	const char *skip; /* set by on() when it cannot */
};

/*
 * The time per call of c with the tracing off and on, in blocks of BLOCK
 * calls that alternate (off, on) slices times, so that the load of a
 * shared machine drifts into both alike: the medians of the blocks, and
 * the median of the (on - off) differences of neighbouring blocks.
 */
#define BLOCK 1000
static void measure(enum call c, struct toggle *t, double *on_ns, double *added_ns)
{
	double off[64], on[64], diff[64];
	int n = 0;

	block(c, BLOCK); /* warm up */
	for (; n < slices && !t->skip; n++) {
		off[n] = block(c, BLOCK);
		t->on(t->arg);
		if (t->skip)
			break;
		on[n] = block(c, BLOCK);
		t->off(t->arg);
		diff[n] = on[n] - off[n];
	}
	if (t->skip || !n)
		return;
	*on_ns = median(on, (size_t)n);
	*added_ns = median(diff, (size_t)n);
}

struct row {
	char name[80];
	enum call call;
	double ns, added;
	const char *skip;
};

static struct row rows[MAX_ROWS];
static int nrows;

static void row(const char *what, enum call c, struct toggle *t)
{
	struct row *r = &rows[nrows++];

	snprintf(r->name, sizeof(r->name), "%s, %s", call_name[c], what);
	r->call = c;
	measure(c, t, &r->ns, &r->added);
	r->skip = t->skip;
}

static void nothing(void *arg)
{
	(void)arg;
}

/* A row of its own, without tracing: the call's cost, for reference. */
static void plain_row(const char *what, enum call c)
{
	struct toggle t = {nothing, nothing, NULL, NULL};

	row(what, c, &t);
	rows[nrows - 1].added = 0;
}

/*
 * ---- the program both sides run: reads the syscall number ----
 * (no argument: the kernel refuses a program that reads beyond the event's
 * format, and sys_enter_getpid has none)
 */

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
static const struct bpf_insn prog[] = {
	INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, 8, 0), /* r2 = ctx->nr */
	INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, 1),
	INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
	INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
};

/* The context of syscalls/sys_enter_NAME, as the kernel's format lays it out. */
struct tp_ctx {
	uint64_t common; /* common_type, common_flags, common_preempt_count, common_pid */
	int64_t nr;
	uint64_t args[6];
};

/* ---- kernel tracepoints ---- */

static char kernel_skip[320];

static const char *tracefs(void)
{
	static const char *const dirs[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	char p[128];
	struct stat st;

	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/events", dirs[i]);
		if (!stat(p, &st))
			return dirs[i];
	}
	/* as root, mount it where it belongs */
	if (!mount("nodev", dirs[0], "tracefs", 0, NULL))
		return dirs[0];
	return NULL;
}

static int kernel_prog(void)
{
	static char log[4096];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACEPOINT, "bench", "GPL", (const void *)prog,
			       sizeof(prog) / sizeof(prog[0]), &opts);

	if (fd < 0)
		snprintf(kernel_skip, sizeof(kernel_skip), "kernel refused the program: %s",
			 strerror(errno));
	return fd;
}

/* The program on the tracepoint event (category/name) of this process; -1 with kernel_skip. */
static int kernel_attach(const char *event, int prog_fd)
{
	const char *dir = tracefs();
	struct perf_event_attr attr;
	char path[256], buf[32];
	int fd;

	if (!dir) {
		snprintf(kernel_skip, sizeof(kernel_skip),
			 "no tracefs (mount -t tracefs nodev "
			 "/sys/kernel/tracing)");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/events/%s/id", dir, event);
	if (benchlib_read_file(path, buf, sizeof(buf))) {
		snprintf(kernel_skip, sizeof(kernel_skip), "no %s", path);
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = strtoull(buf, NULL, 10);
	attr.sample_period = 1;
	attr.wakeup_events = 1;
	fd = (int)syscall(__NR_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0 || ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog_fd) ||
	    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0)) {
		snprintf(kernel_skip, sizeof(kernel_skip), "%s: %s", event, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct kernel_tp {
	const char *event;
	int prog, fd;
};

/* The toggle first, so that on() can set its skip. */
struct kernel_toggle {
	struct toggle t;
	struct kernel_tp *k;
};

static void kernel_on(void *arg)
{
	struct kernel_toggle *t = arg;

	t->k->fd = kernel_attach(t->k->event, t->k->prog);
	if (t->k->fd < 0)
		t->t.skip = kernel_skip;
}

/* Detached, not disabled: a disabled event keeps the syscall tracepoint's entry path on. */
static void kernel_off(void *arg)
{
	struct kernel_toggle *t = arg;

	close(t->k->fd);
}

static void kernel_rows(void)
{
	int prog_fd = kernel_prog();

	for (int c = 0; c < N_CALLS; c++) {
		char event[64];
		struct kernel_tp k = {event, prog_fd, -1};
		struct kernel_tp raw = {"raw_syscalls/sys_enter", prog_fd, -1};
		struct kernel_toggle t = {{kernel_on, kernel_off, &t, NULL}, &k};
		struct kernel_toggle tr = {{kernel_on, kernel_off, &tr, NULL}, &raw};

		snprintf(event, sizeof(event), "syscalls/sys_enter_%s",
			 c == GETPID ? "getpid" : "read");
		if (prog_fd < 0)
			t.t.skip = tr.t.skip = kernel_skip;
		row("kernel syscalls/sys_enter_NAME", (enum call)c, &t.t);
		row("kernel raw_syscalls/sys_enter", (enum call)c, &tr.t);
	}
	if (prog_fd >= 0)
		close(prog_fd);
}

/* ---- uebpf ---- */

static void empty_cb(void *ctx, long nr, const unsigned long args[6], long ret)
{
	(void)ctx, (void)nr, (void)args, (void)ret;
}

static void prog_cb(void *ctx, long nr, const unsigned long args[6], long ret)
{
	struct tp_ctx c;
	uint64_t r0;

	(void)ret;
	c.common = 0;
	c.nr = nr;
	memcpy(c.args, args, sizeof(c.args));
	uebpf_vm_run(ctx, &c, sizeof(c), &r0, NULL, 0);
}

struct uebpf_hook {
	long nr;
	syshook_fn fn;
	void *ctx;
	struct syshook *h;
};

static void uebpf_on(void *arg)
{
	struct uebpf_hook *u = arg;
	char err[256];

	if (syshook_add(u->nr, SYSHOOK_ENTER, u->fn, u->ctx, &u->h, err, sizeof(err))) {
		fprintf(stderr, "uebpf-bench-syscall: %s\n", err);
		exit(1);
	}
}

static void uebpf_off(void *arg)
{
	struct uebpf_hook *u = arg;
	char err[256];

	syshook_remove(u->h, err, sizeof(err));
}

static const struct row *find(const char *what, enum call c);

/*
 * Rewritten sites are measured against themselves without the callback;
 * SUD traps with or without one, so the SUD row and the one with no
 * callback are measured against the untraced call before the install.
 */
static void uebpf_row(const char *what, enum call c, syshook_fn fn, void *ctx, bool sud)
{
	struct uebpf_hook u = {call_nr[c], fn, ctx, NULL};
	struct toggle t = {uebpf_on, uebpf_off, &u, NULL};
	const struct row *base = find("no tracing, site SUD would take", c);

	via_sud = sud;
	row(what, c, &t);
	via_sud = false;
	if (sud)
		rows[nrows - 1].added = base ? rows[nrows - 1].ns - base->ns : 0;
}

static void uebpf_rows(void)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	struct syshook *other;
	char err[256];

	if (!vm || uebpf_vm_set_engine(vm, UEBPF_ENGINE_JIT) ||
	    uebpf_vm_load(vm, prog, sizeof(prog), err, sizeof(err))) {
		fprintf(stderr, "uebpf-bench-syscall: load: %s\n", vm ? err : "out of memory");
		exit(1);
	}
	/* installs the interception, with a callback on a number neither call uses */
	if (syshook_add(SYS_sched_yield, SYSHOOK_ENTER, empty_cb, NULL, &other, err, sizeof(err))) {
		fprintf(stderr, "uebpf-bench-syscall: %s\n", err);
		exit(1);
	}
	for (int c = 0; c < N_CALLS; c++) {
		const struct row *base = find("no tracing", (enum call)c);

		plain_row("uebpf installed, no callback on it", (enum call)c);
		rows[nrows - 1].added = base ? rows[nrows - 1].ns - base->ns : 0;
		uebpf_row("uebpf rewritten site, empty callback", (enum call)c, empty_cb, NULL,
			  false);
		uebpf_row("uebpf rewritten site, eBPF program", (enum call)c, prog_cb, vm, false);
		uebpf_row("uebpf SUD path, empty callback", (enum call)c, empty_cb, NULL, true);
	}
	syshook_remove(other, err, sizeof(err));
	uebpf_vm_destroy(vm);
}

/* ---- report ---- */

static const struct row *find(const char *what, enum call c)
{
	char name[80];

	snprintf(name, sizeof(name), "%s, %s", call_name[c], what);
	for (int i = 0; i < nrows; i++) {
		if (!strcmp(rows[i].name, name))
			return rows[i].skip ? NULL : &rows[i];
	}
	return NULL;
}

static void report(const char *csv)
{
	struct utsname u;
	FILE *f = csv ? fopen(csv, "w") : NULL;
	static const char *const kernel[] = {"kernel syscalls/sys_enter_NAME",
					     "kernel raw_syscalls/sys_enter"};
	static const char *const ours[] = {"uebpf rewritten site, empty callback",
					   "uebpf rewritten site, eBPF program"};

	uname(&u);
	printf("syscall tracing cost per call (medians of %d blocks of %d calls, traced and not "
	       "alternating; kernel %s)\n",
	       slices, BLOCK, u.release);
	printf("%-58s %10s %10s\n", "case", "ns/call", "added ns");
	if (csv && !f)
		fprintf(stderr, "uebpf-bench-syscall: %s: %s\n", csv, strerror(errno));
	if (f)
		fprintf(f, "case,ns_per_call,added_ns,skipped\n");
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];

		if (r->skip) {
			printf("%-58s %10s   skipped: %s\n", r->name, "-", r->skip);
			if (f)
				fprintf(f, "\"%s\",,,\"%s\"\n", r->name, r->skip);
			continue;
		}
		printf("%-58s %10.1f %10.1f\n", r->name, r->ns, r->added);
		if (f)
			fprintf(f, "\"%s\",%.2f,%.2f,\n", r->name, r->ns, r->added);
	}
	printf("kernel / uebpf, on the added cost:\n");
	for (int c = 0; c < N_CALLS; c++) {
		for (int k = 0; k < 2; k++) {
			for (int o = 0; o < 2; o++) {
				const struct row *kr = find(kernel[k], (enum call)c);
				const struct row *ur = find(ours[o], (enum call)c);

				if (!kr || !ur || ur->added <= 0)
					continue;
				printf("  %-8s %-32s / %-38s %7.1fx\n", call_name[c], kernel[k],
				       ours[o], kr->added / ur->added);
			}
		}
	}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	const char *csv = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
			csv = argv[++i];
		} else if (!strcmp(argv[i], "--slices") && i + 1 < argc) {
			slices = atoi(argv[++i]);
			if (slices < 1 || slices > 64)
				slices = 21;
		} else {
			fprintf(stderr, "usage: uebpf-bench-syscall [--csv FILE] [--slices N]\n");
			return 2;
		}
	}
	zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (zero_fd < 0) {
		perror("uebpf-bench-syscall: /dev/zero");
		return 1;
	}
	calibrate();
	for (int c = 0; c < N_CALLS; c++) {
		plain_row("no tracing", (enum call)c);
		via_sud = true;
		plain_row("no tracing, site SUD would take", (enum call)c);
		via_sud = false;
	}
	kernel_rows();
	uebpf_rows();
	report(csv);
	return 0;
}
