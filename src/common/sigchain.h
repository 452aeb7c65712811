/* SPDX-License-Identifier: MIT */
/*
 * sigchain: a handler for a synchronous signal (SIGTRAP, SIGSEGV) that
 * takes only the faults it owns and hands every other one to whoever
 * handled the signal before it, or to the default action.
 */
#ifndef UEBPF_SIGCHAIN_H
#define UEBPF_SIGCHAIN_H

#include <signal.h>

struct sigchain {
	int sig;
	struct sigaction prev;
};

/*
 * Installs fn for c->sig (SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART:
 * NODEFER because a synchronous fault inside the handler must reach it
 * again rather than kill the process), keeping the previous action in c.
 * Returns 0 or a negative errno.
 */
int sigchain_install(struct sigchain *c, void (*fn)(int, siginfo_t *, void *));
/*
 * The same for a signal sent on purpose (a fence, a request to every
 * thread), without SA_NODEFER: one that comes while the thread still runs
 * the handler waits for its return.
 */
int sigchain_install_async(struct sigchain *c, void (*fn)(int, siginfo_t *, void *));

/*
 * For a signal that is not ours: the previous handler runs; with no handler,
 * the default action is taken as if we had never been there (the process
 * stops with the signal's core dump or termination); an ignored one is
 * dropped.
 */
void sigchain_forward(const struct sigchain *c, int sig, siginfo_t *si, void *uc);

#endif
