// SPDX-License-Identifier: MIT
/*
 * The slow path: Syscall User Dispatch (prctl PR_SET_SYSCALL_USER_DISPATCH,
 * Linux 5.11). With it on for a thread, a system call made from outside the
 * gate while the thread's selector byte (sh_selector, in TLS) says block
 * is not run: the kernel sends SIGSYS with the registers as they were, and
 * the handler here runs the enter callbacks, makes the call from the gate,
 * runs the exit callbacks and puts the result into the signal frame.
 *
 * What needs care:
 * - Returning: the handler is installed with the raw rt_sigaction and its
 *   own sa_restorer, inside the gate, so its rt_sigreturn passes. The
 *   application's handlers return through glibc's restorer, outside: that
 *   rt_sigreturn traps, and the handler does it for them from the gate with
 *   the application's stack pointer (the frame the kernel reads is there).
 * - The clone family: a child that starts on a new stack cannot start in
 *   the handler's frame, so the handler resumes the application's context
 *   at a clone stub in the gate instead (syshook_gate.c), which makes the
 *   call with the application's registers; the exit callbacks run in the
 *   parent only, and the child turns SUD on for itself (SUD is per task and
 *   neither clone nor fork passes it on).
 * - rt_sigprocmask: made in the handler, it would change the handler's
 *   mask, which rt_sigreturn then replaces by the frame's; so the frame's
 *   mask is set to the result.
 * - SIGSYS that is not SUD's (seccomp's SECCOMP_RET_TRAP, kill): goes to
 *   the application's own disposition. An application that installs its
 *   own SIGSYS handler later does not replace ours: rt_sigaction(SIGSYS)
 *   is answered here from the disposition kept for it (sh_sud_sigaction).
 * - SIGSYS blocked when SUD traps kills the thread (the kernel's
 *   force_sig), and glibc blocks every signal around clone3 in
 *   pthread_create: so SIGSYS is kept out of every mask the application
 *   sets (sh_do_syscall) and out of the handlers' masks found at install.
 * - Threads that exist at the first install get SUD by a signal
 *   (syshook_threads.c).
 *
 * The handler runs with SA_NODEFER: a system call of a callback's signal
 * handler may trap again while the first SIGSYS is handled, and a blocked
 * synchronous SIGSYS would kill the process. Not with SA_ONSTACK: it runs
 * on the stack of the call it stands for, so that sigaltstack made there
 * sees what it would have seen (EPERM while on the alternate stack, and
 * only then).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/sigchain.h"
#include "syshook_internal.h"

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif

static struct sigchain sys_chain = {.sig = SIGSYS};

int sh_sud_enable_self(void)
{
	unsigned long a[6] = {PR_SET_SYSCALL_USER_DISPATCH,
			      PR_SYS_DISPATCH_ON,
			      sh_gate.start,
			      SH_GATE_SIZE,
			      (unsigned long)&sh_selector,
			      0};
	long ret = sh_raw(SYS_prctl, a);

	uint64_t sys = 1ull << (SIGSYS - 1);
	unsigned long m[6] = {SIG_UNBLOCK, (unsigned long)&sys, 0, sizeof(sys)};

	if (ret)
		return (int)ret;
	sh_raw(SYS_rt_sigprocmask, m);
	sh_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
	return 0;
}

/* Handlers installed before us may block SIGSYS while they run: no more (see sh_do_syscall). */
static void unblock_in_handlers(void)
{
	for (int sig = 1; sig < SIGRTMAX; sig++) {
		struct sh_ksigaction k;
		unsigned long a[6] = {sig, 0, (unsigned long)&k, sizeof(k.mask)};

		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGSYS ||
		    sh_raw(SYS_rt_sigaction, a))
			continue;
		if (!(k.mask & (1ull << (SIGSYS - 1))))
			continue;
		k.mask &= ~(1ull << (SIGSYS - 1));
		a[1] = (unsigned long)&k, a[2] = 0;
		sh_raw(SYS_rt_sigaction, a);
	}
}

/* The kept disposition to the chain's glibc form (the kernel's mask is glibc's first word). */
static void chain_set(const struct sh_ksigaction *k)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))k->handler;
	sa.sa_flags = (int)k->flags;
	memcpy(&sa.sa_mask, &k->mask, sizeof(k->mask));
	sys_chain.prev = sa;
}

static void chain_get(struct sh_ksigaction *k)
{
	k->handler = (void *)sys_chain.prev.sa_sigaction;
	k->flags = (unsigned long)(unsigned)sys_chain.prev.sa_flags;
	k->restorer = (void *)sys_chain.prev.sa_restorer;
	memcpy(&k->mask, &sys_chain.prev.sa_mask, sizeof(k->mask));
}

long sh_sud_sigaction(const unsigned long args[6])
{
	const struct sh_ksigaction *act = (const void *)args[1];
	struct sh_ksigaction *old = (void *)args[2];
	struct sh_ksigaction prev;

	if (args[3] != sizeof(uint64_t))
		return -EINVAL;
	chain_get(&prev);
	if (act)
		chain_set(act);
	if (old)
		*old = prev;
	return 0;
}

static void forward(int sig, siginfo_t *si, void *uc)
{
	char sel = sh_selector;
	int busy = sh_busy;

	sh_busy = 1;
	sh_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	sigchain_forward(&sys_chain, sig, si, uc);
	sh_selector = sel;
	sh_busy = busy;
}

static void sud_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	unsigned long args[6];
	int saved_errno;
	long nr, ret;

	if (si->si_code != SYS_USER_DISPATCH) {
		forward(sig, si, ucv);
		return;
	}
	saved_errno = errno;
	nr = g[REG_RAX];
	args[0] = g[REG_RDI], args[1] = g[REG_RSI], args[2] = g[REG_RDX];
	args[3] = g[REG_R10], args[4] = g[REG_R8], args[5] = g[REG_R9];
	if (sh_wanted(SYSHOOK_ENTER, nr))
		sh_run(SYSHOOK_ENTER, nr, args, 0);
	switch (nr) {
	case SYS_rt_sigreturn:
		sh_gate.sigreturn((unsigned long)g[REG_RSP]);
	case SYS_clone:
	case SYS_clone3:
	case SYS_fork:
	case SYS_vfork: {
		uintptr_t stub = sh_gate_clone_stub((uintptr_t)si->si_call_addr - 2, nr);

		if (stub) {
			sh_clone_note(nr, args);
			g[REG_RIP] = (greg_t)stub;
			errno = saved_errno;
			return;
		}
		ret = -EAGAIN;
		break;
	}
	case SYS_rt_sigprocmask: {
		unsigned long q[6] = {SIG_BLOCK, 0, 0, sizeof(uint64_t)};
		uint64_t cur;

		ret = sh_do_syscall(nr, args);
		q[2] = (unsigned long)&cur;
		if (!ret && !sh_raw(SYS_rt_sigprocmask, q))
			memcpy(&uc->uc_sigmask, &cur, sizeof(cur));
		break;
	}
	default:
		ret = sh_do_syscall(nr, args);
		break;
	}
	if (sh_wanted(SYSHOOK_EXIT, nr))
		sh_run(SYSHOOK_EXIT, nr, args, ret);
	g[REG_RAX] = ret;
	g[REG_RCX] = g[REG_RIP];
	g[REG_R11] = g[REG_EFL];
	errno = saved_errno;
}

int sh_sud_install(char *err, size_t err_len)
{
	struct sh_ksigaction ka = {
		.handler = (void *)sud_handler,
		.flags = SA_SIGINFO | SA_NODEFER | SA_RESTART | SA_RESTORER,
		.restorer = (void *)sh_gate.restorer,
	};
	unsigned long a[6] = {SIGSYS, (unsigned long)&ka, 0, sizeof(uint64_t)};
	long ret;

	if (sigaction(SIGSYS, NULL, &sys_chain.prev)) {
		errbuf_set(err, err_len, "cannot read the SIGSYS disposition: %s", strerror(errno));
		return -errno;
	}
	ret = sh_raw(SYS_rt_sigaction, a);
	if (ret) {
		errbuf_set(err, err_len, "cannot install the SIGSYS handler: %s",
			   strerror((int)-ret));
		return (int)ret;
	}
	unblock_in_handlers();
	ret = sh_sud_enable_self();
	if (ret) {
		errbuf_set(err, err_len, "Syscall User Dispatch is not available: %s",
			   strerror((int)-ret));
		return (int)ret;
	}
	sh_signal_others(SH_TAG_ENABLE);
	return 0;
}
