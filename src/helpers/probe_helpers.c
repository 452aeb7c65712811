// SPDX-License-Identifier: MIT
/*
 * bpf_probe_read_user / _str, probe_read_kernel / _str, probe_write_user,
 * and the legacy probe_read / probe_read_str (the user forms: uebpf has
 * only user memory). Arbitrary addresses are read and written by the
 * routines of probe_copy.S, whose faults a SIGSEGV/SIGBUS handler turns
 * into -EFAULT (an exception table, as the kernel's copy_from_user has): a
 * bad address is an error, not a crash, and a good one costs a plain copy.
 * Faults anywhere else go to the handler installed before ours, or take
 * the default action. The handler is installed at the first use; a program
 * that replaces it afterwards (sigaction(SIGSEGV) of its own, not chaining)
 * turns a bad address into a crash. As in the kernel, a failed read zeroes
 * the destination. Kernel memory is out of reach: the kernel forms fail
 * with -EFAULT, but for the run's own memory (probe_read_kernel).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <ucontext.h>

#include "common/sigchain.h"
#include "helpers/internal.h"

/* probe_copy.S */
extern const char helper_copy_begin[], helper_copy_end[], helper_copy_fixup[];
int helper_copy_user(void *dst, const void *src, size_t n);
long helper_copy_user_str(char *dst, const char *src, size_t n);

static struct sigchain segv_chain = {.sig = SIGSEGV}, bus_chain = {.sig = SIGBUS};
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;
static atomic_bool fault_ready;

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];

	if (ip >= (uintptr_t)helper_copy_begin && ip < (uintptr_t)helper_copy_end) {
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)helper_copy_fixup;
		return;
	}
	sigchain_forward(sig == SIGBUS ? &bus_chain : &segv_chain, sig, si, ucv);
}

static void fault_init(void)
{
	if (!sigchain_install(&segv_chain, fault_handler) &&
	    !sigchain_install(&bus_chain, fault_handler))
		atomic_store(&fault_ready, true);
}

/* Without the handler (sigaction failed: it cannot for these signals), nothing is copied. */
static inline bool fault_handler_ready(void)
{
	if (__builtin_expect(atomic_load_explicit(&fault_ready, memory_order_acquire), 1))
		return true;
	pthread_once(&fault_once, fault_init);
	return atomic_load(&fault_ready);
}

int helper_read_unsafe(void *dst, uintptr_t src, size_t size)
{
	if (!size)
		return 0;
	if (fault_handler_ready() && !helper_copy_user(dst, (const void *)src, size))
		return 0;
	memset(dst, 0, size);
	return -EFAULT;
}

int helper_read_unsafe_str(char *dst, uintptr_t src, size_t size)
{
	long n = -EFAULT;

	if (!size)
		return 0;
	if (fault_handler_ready())
		n = helper_copy_user_str(dst, (const char *)src, size - 1);
	if (n < 0) {
		memset(dst, 0, size);
		return -EFAULT;
	}
	if (n && !dst[n - 1])
		return (int)n;
	dst[n] = '\0';
	return (int)n + 1;
}

HELPER(probe_read_user)
{
	(void)r4, (void)r5;
	if (!helper_mem_ok(r1, r2, true))
		return helper_err(EFAULT);
	return (uint64_t)(int64_t)helper_read_unsafe((void *)(uintptr_t)r1, r3, r2);
}

HELPER(probe_read_user_str)
{
	(void)r4, (void)r5;
	if (!helper_mem_ok(r1, r2, true))
		return helper_err(EFAULT);
	if (r2 > INT32_MAX)
		return helper_err(EINVAL);
	return (uint64_t)(int64_t)helper_read_unsafe_str((char *)(uintptr_t)r1, r3, r2);
}

static uint64_t kernel_fault(uint64_t dst, uint64_t size)
{
	if (!helper_mem_ok(dst, size, true))
		return helper_err(EFAULT);
	memset((void *)(uintptr_t)dst, 0, size);
	return helper_err(EFAULT);
}

/*
 * What uebpf hands a program as kernel memory is the run's own (a raw
 * tracepoint's struct pt_regs lies in its context): that much is readable.
 */
HELPER(probe_read_kernel)
{
	(void)r4, (void)r5;
	if (!r2 || !helper_mem_ok(r1, r2, true) || !helper_mem_ok(r3, r2, false))
		return kernel_fault(r1, r2);
	memmove((void *)(uintptr_t)r1, (const void *)(uintptr_t)r3, r2);
	return 0;
}

HELPER(probe_read_kernel_str)
{
	(void)r3, (void)r4, (void)r5;
	return kernel_fault(r1, r2);
}

HELPER(probe_write_user)
{
	(void)r4, (void)r5;
	if (!helper_mem_ok(r2, r3, false))
		return helper_err(EFAULT);
	if (!r3)
		return 0;
	if (!fault_handler_ready() ||
	    helper_copy_user((void *)(uintptr_t)r1, (const void *)(uintptr_t)r2, r3))
		return helper_err(EFAULT);
	return 0;
}
