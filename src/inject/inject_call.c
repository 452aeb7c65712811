// SPDX-License-Identifier: MIT
/*
 * One function call in the target, on a thread stopped by inject_stop_all.
 *
 * The thread's registers and extended (FPU/SSE/AVX) state are saved. Below
 * its stack pointer and the 128-byte red zone that the ABI lets leaf code
 * use, we write the string argument and a return address of 0, aligned so
 * that the function starts with rsp + 8 a multiple of 16; rip becomes the
 * function and orig_rax -1. That last point matters when the thread was
 * stopped inside a system call: the kernel would otherwise apply its
 * syscall-restart fixup (rip -= 2, rax = orig_rax) to our registers on
 * resuming. The thread runs alone (every other one stays stopped) until
 * the function returns to address 0 and faults: a SIGSEGV with rip 0 and
 * the return slot popped is our end, caught as a signal-delivery-stop and
 * never delivered. Then the saved registers, state and stack bytes are put
 * back; if the thread had been in a system call, orig_rax and rax are again
 * the syscall number and -ERESTART*, so when the thread is let go the
 * kernel restarts the call exactly as after any stop.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "inject/inject.h"
#include "inject/internal.h"

#define INJECT_CALL_TIMEOUT_MS 20000
#define RED_ZONE 128
#define XSTATE_MAX 16384
#define EFLAGS_DF 0x400

static int call_timeout_ms = INJECT_CALL_TIMEOUT_MS;

void inject_set_call_timeout(unsigned int ms)
{
	call_timeout_ms = ms && ms <= INT_MAX ? (int)ms : INJECT_CALL_TIMEOUT_MS;
}

struct saved_thread {
	struct user_regs_struct regs;
	uint8_t *xstate; /* NT_X86_XSTATE, else NULL and fpregs */
	size_t xstate_len;
	struct user_fpregs_struct fpregs;
	uint64_t stack_at;
	uint8_t stack[RED_ZONE + 4096 + 32];
	size_t stack_len;
};

static int mem_read(struct inject_session *s, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = pread(s->mem_fd, buf, len, (off_t)addr);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

static int mem_write(struct inject_session *s, uint64_t addr, const void *buf, size_t len)
{
	ssize_t n = pwrite(s->mem_fd, buf, len, (off_t)addr);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

int inject_read_string(struct inject_session *s, uint64_t addr, char *buf, size_t len)
{
	size_t got = 0;

	/* Page by page: the string may end just before an unmapped page. */
	while (got + 1 < len) {
		size_t page_left = 4096 - ((addr + got) & 4095);
		size_t want = len - 1 - got < page_left ? len - 1 - got : page_left;
		ssize_t n = pread(s->mem_fd, buf + got, want, (off_t)(addr + got));

		if (n <= 0)
			break;
		if (memchr(buf + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return got ? 0 : -EFAULT;
}

static int save_thread(struct inject_session *s, pid_t tid, struct saved_thread *sv,
		       uint64_t stack_at)
{
	struct iovec iov;

	if (ptrace(PTRACE_GETREGS, tid, NULL, &sv->regs))
		return -errno;
	sv->xstate = malloc(XSTATE_MAX);
	if (!sv->xstate)
		return -ENOMEM;
	iov = (struct iovec){sv->xstate, XSTATE_MAX};
	if (!ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov)) {
		sv->xstate_len = iov.iov_len;
	} else {
		free(sv->xstate);
		sv->xstate = NULL;
		if (ptrace(PTRACE_GETFPREGS, tid, NULL, &sv->fpregs))
			return -errno;
	}
	sv->stack_at = stack_at;
	sv->stack_len = sv->regs.rsp - RED_ZONE - stack_at;
	return mem_read(s, stack_at, sv->stack, sv->stack_len);
}

/* Registers and state first: they matter even if the stack cannot be written. */
static int restore_thread(struct inject_session *s, pid_t tid, struct saved_thread *sv)
{
	struct iovec iov = {sv->xstate, sv->xstate_len};
	int ret = 0;

	if (ptrace(PTRACE_SETREGS, tid, NULL, &sv->regs))
		ret = -errno;
	if (sv->xstate) {
		if (ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) && !ret)
			ret = -errno;
	} else if (ptrace(PTRACE_SETFPREGS, tid, NULL, &sv->fpregs) && !ret) {
		ret = -errno;
	}
	if (mem_write(s, sv->stack_at, sv->stack, sv->stack_len) && !ret)
		ret = -EIO;
	return ret;
}

/* Signals whose default action ends the process with a core dump: a fault of the call. */
static bool is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
	       sig == SIGTRAP || sig == SIGABRT || sig == SIGSYS;
}

/* Whether the target has a handler for sig (SigCgt in its status). */
static bool is_caught(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "SigCgt: %llx", &mask) == 1)
			break;
	}
	fclose(f);
	return mask >> (sig - 1) & 1;
}

/*
 * Run the thread until the call returns to address 0 (end_sp is where rsp
 * is then). 0 with *rax, or -errno with a message; -ESRCH when it is gone.
 */
static int run_call(struct inject_session *s, struct inject_thread *t, uint64_t fn, uint64_t end_sp,
		    uint64_t *rax, char *err, size_t err_len)
{
	pid_t tid = t->tid;
	int status, sig = 0, ret;

	for (;;) {
		struct user_regs_struct regs;

		if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig)) {
			errbuf_set(err, err_len, "process %d exited during the call", (int)s->pid);
			return -ESRCH;
		}
		ret = inject_wait(s, t, &status, call_timeout_ms);
		if (ret == -ETIMEDOUT) {
			errbuf_set(
				err, err_len,
				"the call of 0x%" PRIx64 " in process %d did not "
				"return within %d ms (a stopped thread may hold a lock it needs); "
				"the thread was put back where it was, but what the call did so "
				"far stays",
				fn, (int)s->pid, call_timeout_ms);
			ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
			if (inject_wait(s, t, &status, INJECT_CALL_TIMEOUT_MS) || t->gone)
				return -ESRCH;
			return -ETIMEDOUT;
		}
		if (ret || t->gone) {
			errbuf_set(err, err_len, "process %d exited during the call", (int)s->pid);
			return -ESRCH;
		}
		sig = WSTOPSIG(status);
		if (status >> 16) {
			/* our interrupt left pending, or a group stop: go on */
			sig = 0;
			continue;
		}
		if (ptrace(PTRACE_GETREGS, tid, NULL, &regs))
			return -ESRCH;
		if (sig == SIGSEGV && regs.rip == 0 && regs.rsp == end_sp + 8) {
			*rax = regs.rax;
			return 0;
		}
		/*
		 * Any other signal is delivered as it would be without us, to
		 * the target's handler if it has one; only a fault that would
		 * kill it ends the call instead.
		 */
		if (!is_fault(sig) || is_caught(s->pid, sig))
			continue;
		errbuf_set(err, err_len,
			   "the call of 0x%" PRIx64 " in process %d stopped on "
			   "signal %d (%s) at rip 0x%llx; the thread was put back where it was",
			   fn, (int)s->pid, sig, strsignal(sig), regs.rip);
		return -EFAULT;
	}
}

int inject_remote_call(struct inject_session *s, struct inject_thread *t, uint64_t fn,
		       const char *str, uint64_t arg2, uint64_t *ret, char *err, size_t err_len)
{
	static const uint64_t return_addr;
	struct saved_thread sv = {0};
	struct user_regs_struct regs;
	size_t str_len = str ? strlen(str) + 1 : 0;
	uint64_t str_at, sp;
	int r;

	if (str_len > 4096) {
		errbuf_set(err, err_len, "the argument is longer than 4095 bytes");
		return -E2BIG;
	}
	if (ptrace(PTRACE_GETREGS, t->tid, NULL, &regs)) {
		errbuf_set(err, err_len, "process %d exited", (int)s->pid);
		return -ESRCH;
	}
	str_at = (regs.rsp - RED_ZONE - str_len) & ~(uint64_t)15;
	sp = str_at - 8;
	r = save_thread(s, t->tid, &sv, sp);
	if (r) {
		free(sv.xstate);
		errbuf_set(err, err_len, "cannot save the state of thread %d of process %d: %s",
			   (int)t->tid, (int)s->pid, strerror(-r));
		return r == -ESRCH ? r : -EIO;
	}
	r = mem_write(s, sp, &return_addr, sizeof(return_addr));
	if (!r && str_len)
		r = mem_write(s, str_at, str, str_len);
	regs.rip = fn;
	regs.rsp = sp;
	regs.rdi = str ? str_at : 0;
	regs.rsi = arg2;
	regs.rax = 0;
	regs.orig_rax = (uint64_t)-1;
	regs.eflags &= ~(uint64_t)EFLAGS_DF;
	if (!r && ptrace(PTRACE_SETREGS, t->tid, NULL, &regs))
		r = -errno;
	if (r)
		errbuf_set(err, err_len, "cannot set up the call in thread %d of process %d: %s",
			   (int)t->tid, (int)s->pid, strerror(-r));
	else
		r = run_call(s, t, fn, sp, ret, err, err_len);
	if (r != -ESRCH && restore_thread(s, t->tid, &sv) && !r) {
		errbuf_set(err, err_len, "cannot restore thread %d of process %d", (int)t->tid,
			   (int)s->pid);
		r = -EIO;
	}
	free(sv.xstate);
	return r;
}
