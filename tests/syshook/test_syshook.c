// SPDX-License-Identifier: MIT
/*
 * syshook: the callbacks see exactly the system calls that known code
 * makes, with their arguments and results, through libc's wrappers,
 * syscall(2) and inline syscall instructions (one rewritable, one not),
 * from threads made before and after the install, across fork, exec,
 * signals and removal; the application sees no difference (results,
 * errno, signal masks, its own SIGSYS handler).
 *
 * Run once per mode (UEBPF_SYSHOOK unset, "sud", "rewrite"): the counts
 * must be the same, but for calls only one path can see (noted below).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "syshook/syshook.h"

#define NR_MAX 512

static _Atomic long n_enter[NR_MAX], n_exit[NR_MAX];
static _Atomic long last_ret[NR_MAX];
static unsigned long last_args[NR_MAX][6];
/* Only calls made by this thread count (0: every thread's). */
static _Atomic pid_t only_tid;
static bool sud_only, rewrite_only;

static pid_t gettid_raw(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static __thread pid_t my_tid;

static bool counted(void)
{
	pid_t want = atomic_load(&only_tid);

	if (!want)
		return true;
	if (!my_tid)
		my_tid = gettid_raw(); /* a call from a callback: runs no callback */
	return my_tid == want;
}

static void on_enter(void *ctx, long nr, const unsigned long args[6], long ret)
{
	(void)ctx, (void)ret;
	if (nr < 0 || nr >= NR_MAX || !counted())
		return;
	n_enter[nr]++;
	memcpy(last_args[nr], args, sizeof(last_args[nr]));
	/* errno of the application must survive what callbacks do */
	errno = 4321;
}

static void on_exit_(void *ctx, long nr, const unsigned long args[6], long ret)
{
	(void)ctx, (void)args;
	if (nr < 0 || nr >= NR_MAX || !counted())
		return;
	n_exit[nr]++;
	last_ret[nr] = ret;
	errno = 8765;
}

static void reset(void)
{
	for (int i = 0; i < NR_MAX; i++)
		n_enter[i] = n_exit[i] = 0;
}

/* getpid by an inline syscall after a 5-byte mov: a rewritable site in this binary */
static __attribute__((noinline)) long asm_getpid_long(void)
{
	long ret;

	__asm__ volatile("movl $39, %%eax\n\tsyscall" : "=a"(ret) : : "rcx", "r11", "memory");
	return ret;
}

/*
 * nr by a syscall after a 3-byte mov at a function's entry (after padding):
 * too short to rewrite, so only SUD sees it.
 */
long asm_syscall_short(long nr);
__asm__(".pushsection .text\n"
	".p2align 4\n"
	".globl asm_syscall_short\n"
	".type asm_syscall_short, @function\n"
	"asm_syscall_short:\n"
	"	mov %rdi, %rax\n"
	"	syscall\n"
	"	ret\n"
	".size asm_syscall_short, .-asm_syscall_short\n"
	".popsection\n");

static void expect_counts(const char *what, long nr, long want_enter, long want_exit)
{
	EXPECT(n_enter[nr] == want_enter && n_exit[nr] == want_exit,
	       "%s: nr %ld entered %ld exited %ld times, want %ld and %ld", what, nr,
	       (long)n_enter[nr], (long)n_exit[nr], want_enter, want_exit);
}

/* A thread that exists before the install and makes its calls after it. */
static pthread_barrier_t early_go;
static _Atomic long early_pid;

static void *early_thread(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&early_go);
	for (int i = 0; i < 100; i++)
		asm_syscall_short(SYS_getpid);
	early_pid = getpid();
	return NULL;
}

/* Threads that make calls while the install patches the code they run. */
static _Atomic int spin_stop;
static _Atomic long spin_bad, spin_calls;

static void *spinner(void *arg)
{
	long pid = (long)arg;

	while (!spin_stop) {
		if (getpid() != pid || asm_getpid_long() != pid)
			spin_bad++;
		spin_calls++;
	}
	return NULL;
}

static void test_basic(void)
{
	char buf[64];
	int zero = open("/dev/zero", O_RDONLY), null, fd;
	long before;

	REQUIRE(zero >= 0, "open /dev/zero");
	null = open("/dev/null", O_WRONLY);
	REQUIRE(null >= 0, "open /dev/null");
	only_tid = gettid_raw();
	reset();
	for (int i = 0; i < 100; i++)
		getpid();
	expect_counts("libc getpid", SYS_getpid, 100, 100);
	EXPECT(last_ret[SYS_getpid] == getpid(), "getpid result %ld", (long)last_ret[SYS_getpid]);

	reset();
	for (int i = 0; i < 50; i++)
		EXPECT(read(zero, buf, 7) == 7, "read");
	expect_counts("read", SYS_read, 50, 50);
	EXPECT(last_args[SYS_read][0] == (unsigned long)zero &&
		       last_args[SYS_read][1] == (unsigned long)buf && last_args[SYS_read][2] == 7,
	       "read args %lu %lx %lu", last_args[SYS_read][0], last_args[SYS_read][1],
	       last_args[SYS_read][2]);
	EXPECT(last_ret[SYS_read] == 7, "read ret %ld", (long)last_ret[SYS_read]);

	reset();
	for (int i = 0; i < 30; i++)
		EXPECT(write(null, buf, 5) == 5, "write");
	expect_counts("write", SYS_write, 30, 30);

	reset();
	for (int i = 0; i < 20; i++) {
		fd = open("/dev/null", O_RDONLY);
		EXPECT(fd >= 0, "open");
		close(fd);
	}
	expect_counts("openat", SYS_openat, 20, 20);
	expect_counts("close", SYS_close, 20, 20);

	/* a failing call: -errno to the callback, -1 and errno to the caller */
	reset();
	errno = 0;
	fd = open("/nonexistent/uebpf-syshook", O_RDONLY);
	EXPECT(fd == -1 && errno == ENOENT, "open of a missing file: %d, errno %d", fd, errno);
	expect_counts("failed openat", SYS_openat, 1, 1);
	EXPECT(last_ret[SYS_openat] == -ENOENT, "failed openat ret %ld",
	       (long)last_ret[SYS_openat]);
	EXPECT(!strcmp((const char *)last_args[SYS_openat][1], "/nonexistent/uebpf-syshook"),
	       "openat path argument");

	/* errno is the caller's: callbacks set it, a successful call leaves it */
	errno = 1234;
	getpid();
	EXPECT(errno == 1234, "errno after getpid: %d", errno);

	/* syscall(2), and inline syscall instructions in this binary */
	reset();
	for (int i = 0; i < 10; i++)
		EXPECT(syscall(SYS_getpid) == getpid(), "syscall(SYS_getpid)");
	expect_counts("syscall(2) and getpid", SYS_getpid, 20, 20);
	reset();
	for (int i = 0; i < 10; i++)
		EXPECT(asm_getpid_long() == (long)getpid(), "inline getpid");
	expect_counts("inline syscall, rewritable", SYS_getpid, 20, 20);
	reset();
	for (int i = 0; i < 10; i++)
		EXPECT(asm_syscall_short(SYS_getpid) == (long)getpid(), "inline getpid, short");
	/* a site too short to rewrite: only SUD sees it */
	expect_counts("inline syscall, not rewritable", SYS_getpid, rewrite_only ? 10 : 20,
		      rewrite_only ? 10 : 20);
	before = n_enter[SYS_getpid];
	EXPECT(asm_syscall_short(-1) == -ENOSYS, "unknown system call");
	EXPECT(n_enter[SYS_getpid] == before, "nr -1 counted as getpid");
	close(zero);
	close(null);
	only_tid = 0;
}

static void *thread_calls(void *arg)
{
	long m = (long)arg;

	for (long i = 0; i < m; i++)
		getpid();
	return NULL;
}

/* A callback that clears every ymm register, as AVX code may (glibc's end with vzeroupper). */
static void on_enter_clobber(void *ctx, long nr, const unsigned long args[6], long ret)
{
	(void)ctx, (void)nr, (void)args, (void)ret;
	__asm__ volatile("vzeroall" : : : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/*
 * The whole of ymm0-15 survives a hooked system call (the system call ABI
 * keeps every vector register), at a rewritten site of this binary.
 */
static void test_vectors(void)
{
	uint8_t in[16][32], out[16][32];
	struct syshook *h;
	char err[256];
	long ret;

	if (!__builtin_cpu_supports("avx")) {
		printf("no AVX here: the ymm test does not apply\n");
		return;
	}
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 32; j++)
			in[i][j] = (uint8_t)(i * 32 + j + 1);
	memset(out, 0, sizeof(out));
	REQUIRE(!syshook_add(SYS_getpid, SYSHOOK_ENTER, on_enter_clobber, NULL, &h, err,
			     sizeof(err)),
		"syshook_add: %s", err);
	__asm__ volatile(
			 "vmovdqu 0(%[in]), %%ymm0\n\t"
			 "vmovdqu 32(%[in]), %%ymm1\n\t"
			 "vmovdqu 64(%[in]), %%ymm2\n\t"
			 "vmovdqu 96(%[in]), %%ymm3\n\t"
			 "vmovdqu 128(%[in]), %%ymm4\n\t"
			 "vmovdqu 160(%[in]), %%ymm5\n\t"
			 "vmovdqu 192(%[in]), %%ymm6\n\t"
			 "vmovdqu 224(%[in]), %%ymm7\n\t"
			 "vmovdqu 256(%[in]), %%ymm8\n\t"
			 "vmovdqu 288(%[in]), %%ymm9\n\t"
			 "vmovdqu 320(%[in]), %%ymm10\n\t"
			 "vmovdqu 352(%[in]), %%ymm11\n\t"
			 "vmovdqu 384(%[in]), %%ymm12\n\t"
			 "vmovdqu 416(%[in]), %%ymm13\n\t"
			 "vmovdqu 448(%[in]), %%ymm14\n\t"
			 "vmovdqu 480(%[in]), %%ymm15\n\t"
			 "movl $39, %%eax\n\t"
			 "syscall\n\t"
			 "testq %%rax, %%rax\n\t" /* flags dead after the call: a rewritable site */
			 "vmovdqu %%ymm0, 0(%[out])\n\t"
			 "vmovdqu %%ymm1, 32(%[out])\n\t"
			 "vmovdqu %%ymm2, 64(%[out])\n\t"
			 "vmovdqu %%ymm3, 96(%[out])\n\t"
			 "vmovdqu %%ymm4, 128(%[out])\n\t"
			 "vmovdqu %%ymm5, 160(%[out])\n\t"
			 "vmovdqu %%ymm6, 192(%[out])\n\t"
			 "vmovdqu %%ymm7, 224(%[out])\n\t"
			 "vmovdqu %%ymm8, 256(%[out])\n\t"
			 "vmovdqu %%ymm9, 288(%[out])\n\t"
			 "vmovdqu %%ymm10, 320(%[out])\n\t"
			 "vmovdqu %%ymm11, 352(%[out])\n\t"
			 "vmovdqu %%ymm12, 384(%[out])\n\t"
			 "vmovdqu %%ymm13, 416(%[out])\n\t"
			 "vmovdqu %%ymm14, 448(%[out])\n\t"
			 "vmovdqu %%ymm15, 480(%[out])\n\t"
			 : "=&a"(ret)
			 : [in] "r"(in), [out] "r"(out)
			 : "rcx", "r11", "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
	EXPECT(ret == getpid(), "getpid with vectors: %ld", ret);
	EXPECT(!memcmp(in, out, sizeof(in)), "ymm0-15 changed across a hooked system call");
	REQUIRE(!syshook_remove(h, err, sizeof(err)), "syshook_remove: %s", err);
}

static void test_threads(void)
{
	enum { N = 4, M = 2000 };
	pthread_t t[N];

	only_tid = 0;
	reset();
	for (int i = 0; i < N; i++)
		REQUIRE(!pthread_create(&t[i], NULL, thread_calls, (void *)(long)M), "thread");
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	expect_counts("threads", SYS_getpid, N * M, N * M);
}

static void test_fork_exec(const char *self)
{
	int pipefd[2], status;
	long counts[2];
	pid_t child;

	REQUIRE(!pipe(pipefd), "pipe");
	only_tid = gettid_raw();
	reset();
	child = fork();
	if (!child) {
		/* the child: its own copy of the counters, and its calls still hooked */
		long e0, e1;

		only_tid = gettid_raw();
		my_tid = 0;
		e0 = n_exit[SYS_clone];
		for (int i = 0; i < 25; i++)
			getpid();
		e1 = n_exit[SYS_clone];
		counts[0] = n_enter[SYS_getpid];
		counts[1] = e1 - e0;
		_exit(write(pipefd[1], counts, sizeof(counts)) == sizeof(counts) ? 0 : 1);
	}
	REQUIRE(child > 0, "fork");
	EXPECT(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
	       "fork child status %x", status);
	EXPECT(read(pipefd[0], counts, sizeof(counts)) == sizeof(counts), "child counts");
	EXPECT(counts[0] == 25, "the child counted %ld getpid, want 25", counts[0]);
	/* fork is clone here; rewrite-only mode runs it unseen (no SUD for the clone family) */
	EXPECT(n_exit[SYS_clone] == (rewrite_only ? 0 : 1) && counts[1] == 0,
	       "clone exit seen %ld times in the parent, %ld in the child", (long)n_exit[SYS_clone],
	       counts[1]);
	EXPECT(rewrite_only || last_ret[SYS_clone] == child, "clone result %ld, child %d",
	       (long)last_ret[SYS_clone], (int)child);
	close(pipefd[0]);
	close(pipefd[1]);

	/* exec: the new image runs unhooked */
	child = fork();
	if (!child) {
		execl(self, self, "--exec-child", (char *)NULL);
		_exit(127);
	}
	EXPECT(waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		       WEXITSTATUS(status) == 42,
	       "exec child status %x", status);
	/* posix_spawn (clone3 with CLONE_VM | CLONE_VFORK on a new stack), then exec */
	reset();
	status = system("exit 3");
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 3, "system() status %x", status);
	{
		long e = n_enter[SYS_clone3] + n_enter[SYS_clone] + n_enter[SYS_vfork];
		long x = n_exit[SYS_clone3] + n_exit[SYS_clone] + n_exit[SYS_vfork];
		long want = rewrite_only ? 0 : 1;

		EXPECT(e == want && x == want, "posix_spawn's clone seen %ld/%ld times, want %ld",
		       e, x, want);
	}
	only_tid = 0;
}

static _Atomic int handled;

static void on_usr1(int sig)
{
	(void)sig;
	getpid();
	handled++;
}

struct poke {
	pthread_t target;
	int fd;
};

static void *poker(void *arg)
{
	struct poke *p = arg;
	struct timespec ts = {0, 50 * 1000 * 1000};

	nanosleep(&ts, NULL);
	pthread_kill(p->target, SIGUSR1);
	nanosleep(&ts, NULL);
	if (p->fd >= 0 && write(p->fd, "x", 1) != 1)
		abort();
	return NULL;
}

static void test_signals(void)
{
	struct sigaction sa;
	struct poke p;
	pthread_t t;
	int fds[2];
	char c;
	ssize_t r;

	REQUIRE(!pipe(fds), "pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	only_tid = gettid_raw();
	my_tid = 0;
	handled = 0;
	p.target = pthread_self();
	p.fd = fds[1];
	pthread_create(&t, NULL, poker, &p);
	/* after pthread_create, whose sanitizer interceptors read files of their own */
	reset();
	r = read(fds[0], &c, 1);
	pthread_join(t, NULL);
	EXPECT(r == 1 && c == 'x' && handled == 1, "restarted read: %zd, handled %d", r,
	       (int)handled);
	expect_counts("restarted read", SYS_read, 1, 1);
	EXPECT(last_ret[SYS_read] == 1, "restarted read ret %ld", (long)last_ret[SYS_read]);
	/* the handler's own call is the application's: counted */
	expect_counts("getpid in a handler", SYS_getpid, 1, 1);

	/* without SA_RESTART: EINTR */
	sa.sa_flags = 0;
	sigaction(SIGUSR1, &sa, NULL);
	p.fd = -1;
	pthread_create(&t, NULL, poker, &p);
	reset();
	errno = 0;
	r = read(fds[0], &c, 1);
	EXPECT(r == -1 && errno == EINTR, "interrupted read: %zd, errno %d", r, errno);
	pthread_join(t, NULL);
	expect_counts("interrupted read", SYS_read, 1, 1);
	EXPECT(last_ret[SYS_read] == -EINTR, "interrupted read ret %ld", (long)last_ret[SYS_read]);
	signal(SIGUSR1, SIG_DFL);
	close(fds[0]);
	close(fds[1]);
	only_tid = 0;
}

/* Blocking every signal (SIGSYS too, as pthread_create does) must not kill a SUD trap. */
static void test_masks(void)
{
	sigset_t all, old, now;

	only_tid = gettid_raw();
	reset();
	sigfillset(&all);
	EXPECT(!sigprocmask(SIG_SETMASK, &all, &old), "block all");
	EXPECT(asm_syscall_short(SYS_getpid) == getpid(), "getpid with all blocked");
	sigprocmask(SIG_SETMASK, NULL, &now);
	EXPECT(sigismember(&now, SIGUSR1), "SIGUSR1 blocked");
	sigprocmask(SIG_SETMASK, &old, NULL);
	expect_counts("getpid with signals blocked", SYS_getpid, rewrite_only ? 1 : 2,
		      rewrite_only ? 1 : 2);
	only_tid = 0;
}

static _Atomic int app_sigsys;

static void app_sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGSYS && si->si_code == SI_TKILL)
		app_sigsys++;
}

/* The application's own SIGSYS handler gets the SIGSYS that are not SUD's. */
static void test_app_sigsys(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = app_sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	EXPECT(!sigaction(SIGSYS, &sa, NULL), "sigaction SIGSYS");
	EXPECT(!sigaction(SIGSYS, NULL, &old) && old.sa_sigaction == app_sigsys_handler,
	       "the application reads back its SIGSYS handler");
	raise(SIGSYS);
	EXPECT(app_sigsys == 1, "application SIGSYS handler ran %d times", (int)app_sigsys);
	/* SUD still works */
	EXPECT(asm_syscall_short(SYS_getpid) == getpid(), "getpid after sigaction(SIGSYS)");
	signal(SIGSYS, SIG_DFL);
}

static _Atomic long inner_calls;

static void recursive(void *ctx, long nr, const unsigned long args[6], long ret)
{
	char c = 0;

	(void)ctx, (void)nr, (void)args, (void)ret;
	inner_calls++;
	/* calls from a callback run no callback */
	getpid();
	asm_syscall_short(SYS_getpid);
	if (write(-1, &c, 1) != -1)
		abort();
}

static void test_recursion(void)
{
	struct syshook *h;
	char err[256];

	EXPECT_RET(syshook_add(SYS_getpid, SYSHOOK_ENTER, recursive, NULL, &h, err, sizeof(err)),
		   0);
	only_tid = gettid_raw();
	reset();
	inner_calls = 0;
	for (int i = 0; i < 10; i++)
		getpid();
	EXPECT(inner_calls == 10, "recursive callback ran %ld times, want 10", (long)inner_calls);
	expect_counts("getpid around a recursive callback", SYS_getpid, 10, 10);
	expect_counts("write from a callback", SYS_write, 0, 0);
	EXPECT_RET(syshook_remove(h, err, sizeof(err)), 0);
	only_tid = 0;
}

struct live {
	_Atomic int dead;
	_Atomic long late;
	_Atomic long calls;
};

static void live_cb(void *ctx, long nr, const unsigned long args[6], long ret)
{
	struct live *l = ctx;

	(void)nr, (void)args, (void)ret;
	if (l->dead)
		l->late++;
	l->calls++;
}

static _Atomic int stop_callers;

static void *caller(void *arg)
{
	(void)arg;
	while (!stop_callers)
		getpid();
	return NULL;
}

/* syshook_remove returns once no thread runs the callback. */
static void test_remove_concurrent(void)
{
	enum { N = 3, ROUNDS = 200 };
	struct live lives[ROUNDS];
	pthread_t t[N];
	long late = 0, calls = 0;
	char err[256];

	memset(lives, 0, sizeof(lives));
	stop_callers = 0;
	for (int i = 0; i < N; i++)
		pthread_create(&t[i], NULL, caller, NULL);
	for (int r = 0; r < ROUNDS; r++) {
		struct syshook *h;
		struct timespec ts = {0, 200 * 1000};

		EXPECT_RET(syshook_add(SYS_getpid, r % 2 ? SYSHOOK_EXIT : SYSHOOK_ENTER, live_cb,
				       &lives[r], &h, err, sizeof(err)),
			   0);
		nanosleep(&ts, NULL);
		EXPECT_RET(syshook_remove(h, err, sizeof(err)), 0);
		lives[r].dead = 1;
	}
	stop_callers = 1;
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (int r = 0; r < ROUNDS; r++)
		late += lives[r].late, calls += lives[r].calls;
	EXPECT(late == 0, "%ld callbacks ran after their remove returned", late);
	EXPECT(calls > 0, "no callback ran while hooks were added");
}

/* Code mapped after the install: SUD sees it at once, the rewrite after syshook_rescan. */
static void test_rescan(const char *lib)
{
	struct syshook_stats before, after;
	long (*victim)(void);
	char err[256];
	void *h;

	h = dlopen(lib, RTLD_NOW);
	REQUIRE(h, "dlopen %s: %s", lib, dlerror());
	victim = (long (*)(void))dlsym(h, "victim_getpid");
	REQUIRE(victim, "victim_getpid");
	only_tid = gettid_raw();
	reset();
	EXPECT(victim() == getpid(), "victim_getpid");
	expect_counts("a dlopened library before the rescan", SYS_getpid, rewrite_only ? 1 : 2,
		      rewrite_only ? 1 : 2);
	syshook_stats(&before);
	EXPECT_RET(syshook_rescan(err, sizeof(err)), 0);
	syshook_stats(&after);
	EXPECT(sud_only ? after.rewritten == 0 : after.rewritten > before.rewritten,
	       "rewritten sites %zu before the rescan, %zu after", before.rewritten,
	       after.rewritten);
	reset();
	EXPECT(victim() == getpid(), "victim_getpid");
	expect_counts("a dlopened library after the rescan", SYS_getpid, 2, 2);
	only_tid = 0;
}

static void test_bad_input(void)
{
	struct syshook *h;
	char err[256];

	EXPECT_RET(syshook_add(100000, SYSHOOK_ENTER, on_enter, NULL, &h, err, sizeof(err)),
		   -EINVAL);
	EXPECT_RET(
		syshook_add(SYS_getpid, (enum syshook_when)7, on_enter, NULL, &h, err, sizeof(err)),
		-EINVAL);
	EXPECT_RET(syshook_add(SYS_getpid, SYSHOOK_ENTER, NULL, NULL, &h, err, sizeof(err)),
		   -EINVAL);
	EXPECT_RET(syshook_remove((struct syshook *)&h, err, sizeof(err)), -ENOENT);
	EXPECT_RET(syshook_rescan(err, sizeof(err)), 0);
}

int main(int argc, char **argv)
{
	const char *mode = getenv("UEBPF_SYSHOOK");
	struct syshook *enter, *exit_;
	struct syshook_stats st;
	pthread_t early, spin[2];
	char err[256];

	if (argc > 1 && !strcmp(argv[1], "--exec-child"))
		return getpid() > 0 ? 42 : 1;
	sud_only = mode && !strcmp(mode, "sud");
	rewrite_only = mode && !strcmp(mode, "rewrite");
	setvbuf(stdout, NULL, _IONBF, 0);
	pthread_barrier_init(&early_go, NULL, 2);
	REQUIRE(!pthread_create(&early, NULL, early_thread, NULL), "early thread");

	syshook_stats(&st);
	EXPECT(!st.rewritten && !st.sud, "stats before the install");
	for (int i = 0; i < 2; i++)
		REQUIRE(!pthread_create(&spin[i], NULL, spinner, (void *)(long)getpid()),
			"spinner");
	if (syshook_add(SYSHOOK_ANY, SYSHOOK_ENTER, on_enter, NULL, &enter, err, sizeof(err))) {
		/* SUD-only mode on a kernel without Syscall User Dispatch (before 5.11) */
		if (sud_only) {
			printf("SKIP: %s\n", err);
			return 77;
		}
		REQUIRE(0, "syshook_add: %s", err);
	}
	REQUIRE(!syshook_add(SYSHOOK_ANY, SYSHOOK_EXIT, on_exit_, NULL, &exit_, err, sizeof(err)),
		"syshook_add: %s", err);
	syshook_stats(&st);
	printf("mode %s: %zu syscall instructions, %zu rewritten, SUD %s\n", mode ? mode : "both",
	       st.syscall_insns, st.rewritten, st.sud ? "on" : "off");
	/* without SUD in the kernel, both modes is the rewrite alone */
	if (!st.sud && !sud_only) {
		if (!rewrite_only)
			printf("no Syscall User Dispatch here: checking the rewritten sites "
			       "only\n");
		rewrite_only = true;
	}
	EXPECT(sud_only ? !st.rewritten : st.rewritten > 100, "rewritten sites: %zu", st.rewritten);
	EXPECT(sud_only ? st.sud : !(rewrite_only && st.sud), "SUD %d", st.sud);
	spin_stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(spin[i], NULL);
	EXPECT(!spin_bad && spin_calls > 0, "%ld of %ld calls made during the install went wrong",
	       (long)spin_bad, (long)spin_calls);

	/* the thread made before the install: SUD reached it (its calls are not rewritable) */
	reset();
	only_tid = 0;
	pthread_barrier_wait(&early_go);
	pthread_join(early, NULL);
	expect_counts("thread made before the install", SYS_getpid, rewrite_only ? 1 : 101,
		      rewrite_only ? 1 : 101);
	EXPECT(early_pid == getpid(), "early thread");

	test_basic();
	test_vectors();
	test_threads();
	test_fork_exec(argv[0]);
	test_signals();
	test_masks();
	test_app_sigsys();
	test_recursion();
	test_remove_concurrent();
	if (argc > 1)
		test_rescan(argv[1]);
	test_bad_input();

	EXPECT_RET(syshook_remove(enter, err, sizeof(err)), 0);
	EXPECT_RET(syshook_remove(exit_, err, sizeof(err)), 0);
	reset();
	getpid();
	expect_counts("after remove", SYS_getpid, 0, 0);
	return check_summary();
}
