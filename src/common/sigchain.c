// SPDX-License-Identifier: MIT
/* sigchain: see sigchain.h. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "sigchain.h"

static int install(struct sigchain *c, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART | flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(c->sig, &sa, &c->prev) ? -errno : 0;
}

int sigchain_install(struct sigchain *c, void (*fn)(int, siginfo_t *, void *))
{
	return install(c, fn, SA_NODEFER);
}

int sigchain_install_async(struct sigchain *c, void (*fn)(int, siginfo_t *, void *))
{
	return install(c, fn, 0);
}

void sigchain_forward(const struct sigchain *c, int sig, siginfo_t *si, void *uc)
{
	if (c->prev.sa_flags & SA_SIGINFO) {
		c->prev.sa_sigaction(sig, si, uc);
		return;
	}
	if (c->prev.sa_handler == SIG_IGN)
		return;
	if (c->prev.sa_handler != SIG_DFL) {
		c->prev.sa_handler(sig);
		return;
	}
	/* the default action: reinstate it and raise again, from the same place */
	signal(sig, SIG_DFL);
	raise(sig);
}
