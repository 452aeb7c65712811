// SPDX-License-Identifier: MIT
/*
 * probe: hooks on the functions of victims.S (one per kind of prologue) and
 * of a dlopened library: arguments and return values seen, exact counts
 * from several threads, recursion, longjmp, the recursion guard, bytes
 * restored by detach, attach and detach while threads call, a patch that
 * waits for a thread stopped inside the bytes it replaces, the trap path,
 * SIGTRAP chaining, and target resolution with its errors.
 *
 * Usage: test_probe LIBVICTIM_PATH
 */
#define _GNU_SOURCE
#include <asm/ptrace.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"
#include "probe/probe.h"
#include "probe/probe_internal.h"

long victim_push(long a, long b, long c);
long victim_endbr(long a);
long victim_rip(long a);
long victim_jcc(long a);
long victim_short(long a);
long victim_loop(long n);
unsigned long victim_fact(unsigned long n);
long victim_call(long (*fn)(long), long a);
double victim_fp(double x, long a);
long victim_flags(unsigned long a, unsigned long b);
extern char victim_flags_probe[];
void victim_spin(volatile char *flag);
extern char victim_spin_out[];
extern long victim_data;

/* Called through a volatile pointer, so the compiler cannot fold the calls. */
#define CALL(f, ...) ((typeof(&f) volatile)(f))(__VA_ARGS__)

struct rec {
	atomic_ulong hits;
	unsigned long di, si, dx, ax, ip, sp;
	unsigned long seq[16]; /* di at each entry, or ax at each return */
};

static void on_hit(void *ctx, struct pt_regs *r)
{
	struct rec *c = ctx;
	unsigned long n = atomic_fetch_add(&c->hits, 1);

	c->di = r->rdi, c->si = r->rsi, c->dx = r->rdx, c->ax = r->rax;
	c->ip = r->rip, c->sp = r->rsp;
	if (n < 16)
		c->seq[n] = r->rdi;
}

static void on_ret(void *ctx, struct pt_regs *r)
{
	struct rec *c = ctx;
	unsigned long n = atomic_fetch_add(&c->hits, 1);

	c->ax = r->rax, c->ip = r->rip;
	if (n < 16)
		c->seq[n] = r->rax;
}

/* Clobbers every caller-saved vector register the compiler will use. */
static void on_hit_fp(void *ctx, struct pt_regs *r)
{
	volatile double x = (double)r->rdi;

	*(volatile double *)ctx = x * 3.5 + 1.25;
	on_hit((char *)ctx + sizeof(double) * 2, r);
}

static struct probe *attach(void *fn, enum probe_kind kind, probe_fn f, void *ctx)
{
	struct probe *p = NULL;
	char err[256] = "";

	EXPECT_RET(probe_attach(fn, kind, f, ctx, &p, err, sizeof(err)), 0);
	if (err[0])
		printf("  attach: %s\n", err);
	return p;
}

static void detach(struct probe *p)
{
	char err[256] = "";

	if (p)
		EXPECT_RET(probe_detach(p, err, sizeof(err)), 0);
	if (err[0])
		printf("  detach: %s\n", err);
}

/* An application's SIGTRAP handler, installed before any probe: non-probe traps reach it. */
static volatile sig_atomic_t app_traps;

static void app_trap(int sig)
{
	(void)sig;
	app_traps++;
}

static void test_trap_chain_setup(void)
{
	signal(SIGTRAP, app_trap);
}

static void test_trap_chain(void)
{
	int before = app_traps;

	__asm__ volatile("int3");
	EXPECT(app_traps == before + 1, "application SIGTRAP handler ran %d times, want 1",
	       app_traps - before);
}

/* One victim, both probes: what they see, then the bytes and behaviour after detach. */
static void check_victim(const char *name, void *fn, bool want_trap, long arg, long want)
{
	struct rec in = {0}, out = {0};
	unsigned char before[16], after[16];
	struct probe *pe, *pr;
	const char *why = "";
	long got;

	memcpy(before, fn, sizeof(before));
	pe = attach(fn, PROBE_ENTRY, on_hit, &in);
	pr = attach(fn, PROBE_RETURN, on_ret, &out);
	if (!pe || !pr)
		return;
	EXPECT(probe_is_trap(pe, &why) == want_trap, "%s: trap path %d, want %d (%s)", name,
	       probe_is_trap(pe, NULL), want_trap, why);
	got = ((long (*volatile)(long, long, long))fn)(arg, 20, 300);
	EXPECT(got == want, "%s(%ld) = %ld with probes, want %ld", name, arg, got, want);
	EXPECT(in.hits == 1 && out.hits == 1, "%s: %lu entry and %lu return hits, want 1 and 1",
	       name, (unsigned long)in.hits, (unsigned long)out.hits);
	EXPECT(in.di == (unsigned long)arg && in.si == 20 && in.dx == 300,
	       "%s: entry saw di %lu si %lu dx %lu", name, in.di, in.si, in.dx);
	EXPECT(in.ip == (uintptr_t)fn, "%s: entry ip 0x%lx, want %p", name, in.ip, fn);
	EXPECT(out.ax == (unsigned long)want, "%s: return saw ax %ld, want %ld", name, (long)out.ax,
	       want);
	detach(pe);
	detach(pr);
	memcpy(after, fn, sizeof(after));
	EXPECT(!memcmp(before, after, sizeof(before)), "%s: bytes differ after detach", name);
	got = ((long (*volatile)(long, long, long))fn)(arg, 20, 300);
	EXPECT(got == want && in.hits == 1 && out.hits == 1,
	       "%s after detach: %ld (want %ld), hits %lu %lu", name, got, want,
	       (unsigned long)in.hits, (unsigned long)out.hits);
}

static void test_prologues(void)
{
	check_victim("victim_push", victim_push, false, 1, 321);
	check_victim("victim_endbr", victim_endbr, false, 41, 42);
	check_victim("victim_rip", victim_rip, false, 5, 1005);
	check_victim("victim_jcc", victim_jcc, false, 7, 9);
	check_victim("victim_jcc", victim_jcc, false, -5, -1);
	check_victim("victim_short", victim_short, true, 77, 77);
	check_victim("victim_loop", victim_loop, true, 4, 10);
	check_victim("victim_call", victim_call, false, (long)labs, 20);
}

#define NTHREADS 4
#define NCALLS 200000

static atomic_int wrong;

static void *call_push(void *arg)
{
	long n = (long)arg;

	for (long i = 0; i < n; i++) {
		if (CALL(victim_push, i, 1, 2) != i + 3)
			atomic_fetch_add(&wrong, 1);
	}
	return NULL;
}

static void *call_short(void *arg)
{
	long n = (long)arg;

	for (long i = 0; i < n; i++) {
		if (CALL(victim_short, i) != i)
			atomic_fetch_add(&wrong, 1);
	}
	return NULL;
}

static void run_threads(void *(*fn)(void *), long calls)
{
	pthread_t t[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		pthread_create(&t[i], NULL, fn, (void *)calls);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
}

static void test_threads(void)
{
	struct rec in = {0}, out = {0};
	struct probe *pe = attach(victim_push, PROBE_ENTRY, on_hit, &in);
	struct probe *pr = attach(victim_push, PROBE_RETURN, on_ret, &out);

	atomic_store(&wrong, 0);
	run_threads(call_push, NCALLS);
	EXPECT(in.hits == NTHREADS * NCALLS && out.hits == NTHREADS * NCALLS,
	       "%lu entry and %lu return hits, want %d", (unsigned long)in.hits,
	       (unsigned long)out.hits, NTHREADS * NCALLS);
	EXPECT(wrong == 0, "%d wrong results", wrong);
	EXPECT(probe_missed(pe) == 0, "%lu misses", (unsigned long)probe_missed(pe));
	detach(pe);
	detach(pr);
}

static void test_trap_threads(void)
{
	struct rec in = {0}, out = {0};
	struct probe *pe = attach(victim_short, PROBE_ENTRY, on_hit, &in);
	struct probe *pr = attach(victim_short, PROBE_RETURN, on_ret, &out);

	atomic_store(&wrong, 0);
	run_threads(call_short, NCALLS / 20);
	EXPECT(in.hits == NTHREADS * NCALLS / 20 && out.hits == NTHREADS * NCALLS / 20,
	       "trap: %lu entry and %lu return hits, want %d", (unsigned long)in.hits,
	       (unsigned long)out.hits, NTHREADS * NCALLS / 20);
	EXPECT(wrong == 0, "trap: %d wrong results", wrong);
	detach(pe);
	detach(pr);
}

static void test_recursion(void)
{
	static const unsigned long fact[] = {1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800};
	struct rec in = {0}, out = {0};
	struct probe *pe = attach(victim_fact, PROBE_ENTRY, on_hit, &in);
	struct probe *pr = attach(victim_fact, PROBE_RETURN, on_ret, &out);
	unsigned long got = CALL(victim_fact, 10);

	EXPECT(got == 3628800, "victim_fact(10) = %lu", got);
	EXPECT(in.hits == 10 && out.hits == 10, "%lu entries, %lu returns, want 10",
	       (unsigned long)in.hits, (unsigned long)out.hits);
	for (int i = 0; i < 10; i++) {
		EXPECT(in.seq[i] == (unsigned long)(10 - i), "entry %d: n = %lu", i, in.seq[i]);
		EXPECT(out.seq[i] == fact[i], "return %d: %lu, want %lu", i, out.seq[i], fact[i]);
	}
	detach(pe);
	detach(pr);
}

static jmp_buf jump_env;

static long jump_out(long a)
{
	longjmp(jump_env, (int)a);
}

static long plus_one(long a)
{
	return a + 1;
}

/* Frames left by longjmp leave stale shadow entries: later returns must still be right. */
static void test_longjmp(void)
{
	struct rec out = {0};
	struct probe *pr = attach(victim_call, PROBE_RETURN, on_ret, &out);
	long got;

	for (int i = 0; i < 100; i++) {
		if (!setjmp(jump_env))
			CALL(victim_call, jump_out, 1);
	}
	EXPECT(out.hits == 0, "%lu returns of frames left by longjmp", (unsigned long)out.hits);
	got = CALL(victim_call, plus_one, 41);
	EXPECT(got == 42 && out.hits == 1 && out.ax == 42,
	       "after longjmp: %ld, %lu returns, ax %lu", got, (unsigned long)out.hits, out.ax);
	EXPECT(probe_missed(pr) == 0, "%lu misses", (unsigned long)probe_missed(pr));
	detach(pr);
}

/* A probe that calls its own function: the inner call runs no probe and counts a miss. */
static void on_hit_reenter(void *ctx, struct pt_regs *r)
{
	(void)r;
	on_hit(ctx, r);
	CALL(victim_endbr, 1);
}

static void test_guard(void)
{
	struct rec in = {0};
	struct probe *pe = attach(victim_endbr, PROBE_ENTRY, on_hit_reenter, &in);
	long got = CALL(victim_endbr, 5);

	EXPECT(got == 6 && in.hits == 1, "victim_endbr = %ld, hits %lu", got,
	       (unsigned long)in.hits);
	EXPECT(probe_missed(pe) == 1, "%lu misses, want 1", (unsigned long)probe_missed(pe));
	detach(pe);
}

static void test_fp(void)
{
	struct {
		double scratch, pad;
		struct rec r;
	} in = {0};
	struct rec out = {0};
	struct probe *pe = attach(victim_fp, PROBE_ENTRY, on_hit_fp, &in);
	struct probe *pr = attach(victim_fp, PROBE_RETURN, on_ret, &out);
	double got = CALL(victim_fp, 1.5, 4);

	EXPECT(got == 7.0, "victim_fp(1.5, 4) = %g with probes, want 7", got);
	EXPECT(in.r.hits == 1 && out.hits == 1, "victim_fp hits %lu %lu", (unsigned long)in.r.hits,
	       (unsigned long)out.hits);
	detach(pe);
	detach(pr);
}

/* A probe inside a function: its flags and red zone must survive. */
static void test_mid_function(void)
{
	struct rec in = {0};
	struct probe *pe = attach(victim_flags_probe, PROBE_ENTRY, on_hit, &in);
	long lt = CALL(victim_flags, 1, 2), ge = CALL(victim_flags, 7, 3);

	EXPECT(!probe_is_trap(pe, NULL), "victim_flags+8 took the trap path");
	EXPECT(lt == 3 && ge == 14, "victim_flags: %ld (want 3), %ld (want 14)", lt, ge);
	EXPECT(in.hits == 2 && in.ip == (uintptr_t)victim_flags_probe && in.di == 7,
	       "mid-function: hits %lu ip %lx di %lu", (unsigned long)in.hits, in.ip, in.di);
	detach(pe);
}

struct storm {
	atomic_bool stop;
	atomic_long calls;
};

static void *call_until(void *arg)
{
	struct storm *s = arg;

	for (long i = 0; !atomic_load(&s->stop); i++) {
		if (CALL(victim_endbr, i) != i + 1 || CALL(victim_rip, i) != i + 1000)
			atomic_fetch_add(&wrong, 1);
		atomic_fetch_add(&s->calls, 1);
	}
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Attach and detach over and over while two threads call the functions. */
static void test_storm(void)
{
	struct storm s = {0};
	struct rec a = {0}, b = {0};
	unsigned char endbr[16], rip[16];
	pthread_t t[2];
	uint64_t end = now_ns() + 1500000000ull;
	unsigned rounds = 0;

	memcpy(endbr, victim_endbr, 16);
	memcpy(rip, victim_rip, 16);
	atomic_store(&wrong, 0);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, call_until, &s);
	while (now_ns() < end) {
		struct probe *p1 = attach(victim_endbr, PROBE_ENTRY, on_hit, &a);
		struct probe *p2 = attach(victim_rip, PROBE_RETURN, on_ret, &b);
		struct probe *p3 = attach(victim_endbr, PROBE_RETURN, on_ret, &b);

		detach(p1);
		detach(p2);
		detach(p3);
		rounds++;
	}
	atomic_store(&s.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT(wrong == 0, "%d wrong results in %u rounds, %ld calls", wrong, rounds,
	       (long)s.calls);
	EXPECT(!memcmp(endbr, victim_endbr, 16) && !memcmp(rip, victim_rip, 16),
	       "bytes differ after the storm");
	printf("storm: %u attach/detach rounds during %ld calls, %lu + %lu hits\n", rounds,
	       (long)s.calls, (unsigned long)a.hits, (unsigned long)b.hits);
}

static volatile char spin_flag;
static atomic_bool spin_done;

static void *spin(void *arg)
{
	(void)arg;
	victim_spin(&spin_flag);
	atomic_store(&spin_done, true);
	return NULL;
}

/* Moves the spinning thread out, if the signal came to it there (not to another handler). */
static void spin_leave(int sig, siginfo_t *si, void *ucv)
{
	greg_t *ip = &((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];

	(void)sig, (void)si;
	if (*ip >= (greg_t)victim_spin && *ip < (greg_t)victim_spin_out)
		*ip = (greg_t)victim_spin_out;
}

/*
 * A thread stopped between two instructions inside the bytes a jmp patch
 * replaces (here for good: it spins on a jmp at +3) must not find the
 * middle of the new jmp there: the patch waits, gives up with -EBUSY and
 * leaves the bytes as they were; once the thread is out, it goes through.
 */
static void test_fence(void)
{
	static const uint8_t jmp_out[PROBE_JMP_LEN] = {0xe9, 0, 0, 0, 0}; /* to +5: the ret */
	struct sigaction sa = {.sa_sigaction = spin_leave, .sa_flags = SA_SIGINFO}, old;
	uint8_t before[PROBE_JMP_LEN];
	volatile char flag = 0;
	char err[256] = "";
	pthread_t t;

	memcpy(before, victim_spin, sizeof(before));
	REQUIRE(!sigaction(SIGUSR1, &sa, &old), "sigaction");
	spin_flag = 0;
	atomic_store(&spin_done, false);
	REQUIRE(!pthread_create(&t, NULL, spin, NULL), "pthread_create");
	while (!spin_flag)
		sched_yield();
	EXPECT_RET(probe_patch_write((uintptr_t)victim_spin, jmp_out, sizeof(jmp_out), true, err,
				     sizeof(err)),
		   -EBUSY);
	EXPECT(strstr(err, "stays inside"), "fence: '%s'", err);
	EXPECT(!memcmp(before, victim_spin, sizeof(before)), "fence: bytes changed under a thread");
	while (!atomic_load(&spin_done)) {
		pthread_kill(t, SIGUSR1);
		usleep(1000);
	}
	pthread_join(t, NULL);
	sigaction(SIGUSR1, &old, NULL);
	EXPECT_RET(probe_patch_write((uintptr_t)victim_spin, jmp_out, sizeof(jmp_out), true, err,
				     sizeof(err)),
		   0);
	victim_spin(&flag);
	EXPECT(!flag, "fence: the patch did not land");
	EXPECT_RET(probe_patch_write((uintptr_t)victim_spin, before, sizeof(before), false, err,
				     sizeof(err)),
		   0);
	EXPECT(!memcmp(before, victim_spin, sizeof(before)), "fence: bytes not restored");
}

static void test_library(const char *path)
{
	void *h = dlopen(path, RTLD_NOW);
	long (*sum)(const long *, long);
	long v[] = {1, 2, 3, 4};
	struct rec in = {0}, out = {0};
	struct probe *pe, *pr;
	char err[256] = "";
	void *addr = NULL;

	REQUIRE(h, "dlopen %s: %s", path, dlerror());
	sum = (long (*)(const long *, long))dlsym(h, "lib_sum");
	REQUIRE(sum, "no lib_sum");
	EXPECT_RET(probe_resolve("libvictim.so:lib_sum", &addr, err, sizeof(err)), 0);
	EXPECT(addr == (void *)sum, "libvictim.so:lib_sum at %p, dlsym says %p (%s)", addr,
	       (void *)sum, err);
	EXPECT_RET(probe_resolve(path, &addr, err, sizeof(err)), -EINVAL);
	pe = attach((void *)sum, PROBE_ENTRY, on_hit, &in);
	pr = attach((void *)sum, PROBE_RETURN, on_ret, &out);
	EXPECT(sum(v, 4) == 10, "lib_sum with probes");
	EXPECT(in.hits == 1 && in.di == (uintptr_t)v && in.si == 4 && out.ax == 10,
	       "lib_sum: hits %lu di %lx si %lu ax %lu", (unsigned long)in.hits, in.di, in.si,
	       out.ax);
	detach(pe);
	detach(pr);
}

static int text_offset(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t *a = arg;

	(void)size;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && *a >= lo && *a < lo + ph->p_filesz) {
			*a = *a - lo + ph->p_offset;
			return 1;
		}
	}
	return 0;
}

static void expect_resolve(const char *target, void *want)
{
	char err[256] = "";
	void *addr = NULL;
	int ret = probe_resolve(target, &addr, err, sizeof(err));

	EXPECT(!ret && addr == want, "%s: %d, %p, want %p (%s)", target, ret, addr, want, err);
}

static void expect_resolve_err(const char *target, int want, const char *msg)
{
	char err[256] = "";
	void *addr = NULL;
	int ret = probe_resolve(target, &addr, err, sizeof(err));

	EXPECT(ret == want && strstr(err, msg), "%s: %d (want %d), '%s' (want '%s')", target, ret,
	       want, err, msg);
}

static void test_resolve(void)
{
	uintptr_t off = (uintptr_t)victim_jcc;
	char exe[PATH_MAX], target[PATH_MAX + 64], err[256];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	void *addr, *libc;

	REQUIRE(n > 0, "readlink /proc/self/exe");
	exe[n] = '\0';
	expect_resolve("self:victim_push", victim_push);
	expect_resolve(":victim_endbr", victim_endbr);
	expect_resolve("self:victim_jcc+5", (char *)victim_jcc + 5);
	expect_resolve("self:victim_jcc+0x3", (char *)victim_jcc + 3);
	snprintf(target, sizeof(target), "%s:victim_rip", exe);
	expect_resolve(target, victim_rip);
	snprintf(target, sizeof(target), "%s:victim_rip", strrchr(exe, '/') + 1);
	expect_resolve(target, victim_rip);
	dl_iterate_phdr(text_offset, &off);
	snprintf(target, sizeof(target), "self:0x%lx", (unsigned long)off);
	expect_resolve(target, victim_jcc);
	EXPECT_RET(probe_resolve_file_off(exe, off, &addr, err, sizeof(err)), 0);
	EXPECT(addr == (void *)victim_jcc, "file offset 0x%lx: %p", (unsigned long)off, addr);
	libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	REQUIRE(libc, "libc.so.6 not loaded");
	expect_resolve("libc.so.6:malloc", dlsym(libc, "malloc"));
	dlclose(libc);

	expect_resolve_err("victim_push", -EINVAL, "binary:symbol");
	expect_resolve_err("self:", -EINVAL, "binary:symbol");
	expect_resolve_err("libnosuch.so:f", -ENOENT, "no object of that name");
	expect_resolve_err("self:no_such_function", -ENOENT, "no function 'no_such_function'");
	expect_resolve_err("self:victim_push+100", -EINVAL, "beyond the end of victim_push");
	expect_resolve_err("self:victim_push+x", -EINVAL, "bad offset");
	expect_resolve_err("self:0xzz", -EINVAL, "bad offset");
	expect_resolve_err("self:0x7fffffffffff", -ENOENT, "not in its executable code");
	EXPECT_RET(probe_resolve_file_off("/nonexistent", 0, &addr, err, sizeof(err)), -ENOENT);
	EXPECT_RET(probe_resolve_file_off("/etc/hostname", 0, &addr, err, sizeof(err)), -ENOENT);
	EXPECT(strstr(err, "not mapped"), "unmapped file: '%s'", err);
}

static void test_bad_args(void)
{
	struct probe *p;
	char err[128];

	EXPECT_RET(probe_attach(NULL, PROBE_ENTRY, on_hit, NULL, &p, err, sizeof(err)), -EINVAL);
	EXPECT_RET(probe_attach(victim_push, 7, on_hit, NULL, &p, err, sizeof(err)), -EINVAL);
	EXPECT_RET(probe_detach(NULL, err, sizeof(err)), -EINVAL);
	EXPECT_RET(probe_attach(&victim_data, PROBE_ENTRY, on_hit, NULL, &p, err, sizeof(err)),
		   -EFAULT);
	EXPECT(strstr(err, "not in code"), "data address: '%s'", err);
	EXPECT_RET(probe_attach((void *)8, PROBE_ENTRY, on_hit, NULL, &p, err, sizeof(err)),
		   -EFAULT);
}

int main(int argc, char **argv)
{
	REQUIRE(argc == 2, "usage: test_probe LIBVICTIM_PATH");
	test_trap_chain_setup();
	test_prologues();
	test_trap_chain();
	test_recursion();
	test_longjmp();
	test_guard();
	test_fp();
	test_mid_function();
	test_threads();
	test_trap_threads();
	test_storm();
	test_fence();
	test_library(argv[1]);
	test_resolve();
	test_bad_args();
	return check_summary();
}
