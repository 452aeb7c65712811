// SPDX-License-Identifier: MIT
/*
 * Exceptions through frames with a pending return probe (see
 * probe_dispatch.c). The unwinder's entry points get entry probes of our
 * own: _Unwind_RaiseException (a C++ throw), _Unwind_Resume (after a
 * cleanup), _Unwind_Resume_or_Rethrow (a rethrow) and _Unwind_ForcedUnwind
 * (thread cancellation and exit) disarm the calling thread's pending
 * return probes before the stack is walked; __cxa_begin_catch, which a
 * catching frame calls first, arms the live ones again.
 *
 * They are found by name among the objects loaded when a return probe is
 * attached (libgcc_s and libstdc++ come with any C++ program), and looked
 * for again at the next return probe while some are missing, since a
 * library loaded later may bring them. Once hooked they stay hooked: they
 * cost a few ns per exception, and detaching them while another thread
 * unwinds would leave its entries armed. An unwinder reached otherwise (a
 * static libgcc_eh whose symbols are not exported, or another unwinder
 * library) is not seen.
 */
#define _GNU_SOURCE
#include <asm/ptrace.h>
#include <dlfcn.h>
#include <pthread.h>

#include "probe_internal.h"

static void on_unwind(void *ctx, struct pt_regs *regs)
{
	(void)ctx;
	probe_shadow_disarm(regs->rsp);
}

static void on_catch(void *ctx, struct pt_regs *regs)
{
	(void)ctx;
	probe_shadow_rearm(regs->rsp);
}

static struct {
	const char *name;
	probe_fn fn;
	struct probe *probe;
} hooks[] = {
	{"_Unwind_RaiseException", on_unwind},	  {"_Unwind_Resume", on_unwind},
	{"_Unwind_Resume_or_Rethrow", on_unwind}, {"_Unwind_ForcedUnwind", on_unwind},
	{"__cxa_begin_catch", on_catch},
};

#define NHOOKS (sizeof(hooks) / sizeof(hooks[0]))

void probe_unwind_setup(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static unsigned hooked;
	char err[256];

	if (__atomic_load_n(&hooked, __ATOMIC_ACQUIRE) == NHOOKS)
		return;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < NHOOKS; i++) {
		void *addr;

		if (hooks[i].probe || !(addr = dlsym(RTLD_DEFAULT, hooks[i].name)))
			continue;
		if (!probe_attach(addr, PROBE_ENTRY, hooks[i].fn, NULL, &hooks[i].probe, err,
				  sizeof(err)))
			__atomic_add_fetch(&hooked, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lock);
}
