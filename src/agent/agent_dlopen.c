// SPDX-License-Identifier: MIT
/*
 * dlopen, interposed: an attachment in a shared library the target loads
 * later is installed as soon as dlopen returns, before the caller can call
 * into the library, and syshook rewrites the system calls of its code
 * (when syscall tracepoints are attached). Everything else is libc's dlopen.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

#include "agent/agent.h"
#include "agent/internal.h"

typedef void *(*dlopen_fn)(const char *file, int mode);

UEBPF_AGENT_EXPORT void *dlopen(const char *file, int mode)
{
	static dlopen_fn next;
	void *h;

	if (!__atomic_load_n(&next, __ATOMIC_ACQUIRE))
		__atomic_store_n(&next, (dlopen_fn)dlsym(RTLD_NEXT, "dlopen"), __ATOMIC_RELEASE);
	if (!next)
		return NULL;
	h = next(file, mode);
	if (h)
		agent_systp_rescan();
	if (h && agent_has_pending())
		agent_sync();
	return h;
}
