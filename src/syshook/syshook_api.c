// SPDX-License-Identifier: MIT
/*
 * syshook's public functions: the callback table they publish, and the
 * installation of the interception at the first syshook_add.
 *
 * The mode comes from the environment variable UEBPF_SYSHOOK: "sud" for
 * Syscall User Dispatch only (no code is rewritten: every call costs a
 * signal), "rewrite" for the rewritten sites only (no SUD: calls from code
 * that was not rewritten are not seen), anything else or unset for both.
 * Once installed, the interception stays for the life of the process;
 * with no callback left, a rewritten site costs two loads more than a bare
 * syscall and a SUD-covered one still a signal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "common/errbuf.h"
#include "common/vecstate.h"
#include "syshook_internal.h"

bool sh_use_sud, sh_use_rewrite;

static pthread_mutex_t sh_lock = PTHREAD_MUTEX_INITIALIZER;
static struct syshook *sh_hooks;
static bool installed;
static int install_ret;
static char install_err[256];

static void free_table(struct sh_table *t)
{
	if (!t)
		return;
	for (int w = 0; w < 2; w++) {
		for (int i = 0; i <= SH_NR; i++)
			free(t->lists[w][i]);
	}
	free(t);
}

static int list_push(struct sh_list **l, struct syshook *h)
{
	unsigned n = *l ? (*l)->n : 0;
	struct sh_list *nl = realloc(*l, sizeof(*nl) + (n + 1) * sizeof(nl->h[0]));

	if (!nl)
		return -ENOMEM;
	nl->n = n + 1;
	nl->h[n] = h;
	*l = nl;
	return 0;
}

/* Builds the table of sh_hooks (oldest first), publishes it, and frees the one it replaces. */
static int publish(void)
{
	struct sh_table *t = calloc(1, sizeof(*t)), *old;
	struct syshook *order[64], **all = order;
	size_t n = 0, cap = 64;
	int ret = 0;

	if (!t)
		return -ENOMEM;
	for (struct syshook *h = sh_hooks; h; h = h->next) {
		if (n == cap) {
			struct syshook **na = malloc(2 * cap * sizeof(*na));

			if (!na) {
				ret = -ENOMEM;
				goto out;
			}
			memcpy(na, all, n * sizeof(*na));
			if (all != order)
				free(all);
			all = na;
			cap *= 2;
		}
		all[n++] = h;
	}
	for (size_t i = n; i-- > 0 && !ret;) {
		struct syshook *h = all[i];

		ret = list_push(&t->lists[h->when][h->nr == SYSHOOK_ANY ? SH_NR : h->nr], h);
	}
	if (ret)
		goto out;
	for (int i = 0; i < SH_NR; i++) {
		uint8_t f = syshook_nr_flags[i] & (SH_FLAG_SPECIAL | SH_FLAG_MASKED);

		if (t->lists[SYSHOOK_ENTER][i])
			f |= SH_FLAG_ENTER;
		if (t->lists[SYSHOOK_EXIT][i])
			f |= SH_FLAG_EXIT;
		__atomic_store_n(&syshook_nr_flags[i], f, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&syshook_any,
			 (t->lists[SYSHOOK_ENTER][SH_NR] ? SH_FLAG_ENTER : 0) |
				 (t->lists[SYSHOOK_EXIT][SH_NR] ? SH_FLAG_EXIT : 0),
			 __ATOMIC_RELAXED);
	old = atomic_exchange_explicit(&sh_table, t, memory_order_acq_rel);
	t = NULL;
	sh_sync_threads();
	free_table(old);
out:
	if (all != order)
		free(all);
	free_table(t);
	return ret;
}

/* The calls sh_do_syscall changes for SUD: the fast path takes them to C. */
static void set_masked(bool on)
{
	static const int nrs[] = {SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigsuspend,
				  SYS_ppoll,	    SYS_pselect6,	SYS_epoll_pwait,
				  SYS_epoll_pwait2};

	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		if (on)
			syshook_nr_flags[nrs[i]] |= SH_FLAG_MASKED;
		else
			syshook_nr_flags[nrs[i]] &= (uint8_t)~SH_FLAG_MASKED;
	}
}

static void read_mode(void)
{
	const char *m = getenv("UEBPF_SYSHOOK");

	sh_use_sud = !m || strcmp(m, "rewrite");
	sh_use_rewrite = !m || strcmp(m, "sud");
}

/* Under sh_lock. The rewrite comes first: SUD would make each of its own system calls trap. */
static int install(void)
{
	char err[256] = "";
	int ret;

	read_mode();
	vecstate_setup();
	set_masked(sh_use_sud);
	ret = sh_gate_init(err, sizeof(err));
	if (!ret && sh_use_rewrite)
		ret = sh_rewrite_scan(err, sizeof(err));
	if (!ret && sh_use_sud) {
		ret = sh_sud_install(err, sizeof(err));
		/* without SUD the rewritten sites still work */
		if (ret && sh_use_rewrite) {
			sh_use_sud = false;
			set_masked(false);
			ret = 0;
		}
	}
	if (ret)
		snprintf(install_err, sizeof(install_err), "%s", err);
	return ret;
}

int syshook_add(long nr, enum syshook_when when, syshook_fn fn, void *ctx, struct syshook **out,
		char *err, size_t err_len)
{
	struct syshook *h;
	int ret;

	if ((nr != SYSHOOK_ANY && (nr < 0 || nr >= SH_NR)) ||
	    (when != SYSHOOK_ENTER && when != SYSHOOK_EXIT) || !fn || !out) {
		errbuf_set(err, err_len, "syshook_add: bad argument (nr %ld, when %d)", nr,
			   (int)when);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	h->nr = nr, h->when = when, h->fn = fn, h->ctx = ctx;
	pthread_mutex_lock(&sh_lock);
	if (!installed) {
		install_ret = install();
		installed = true;
	}
	ret = install_ret;
	if (ret) {
		errbuf_set(err, err_len, "cannot intercept system calls: %s", install_err);
		goto fail;
	}
	h->next = sh_hooks;
	sh_hooks = h;
	ret = publish();
	if (ret) {
		sh_hooks = h->next;
		errbuf_set(err, err_len, "out of memory");
		goto fail;
	}
	pthread_mutex_unlock(&sh_lock);
	*out = h;
	return 0;
fail:
	pthread_mutex_unlock(&sh_lock);
	free(h);
	return ret;
}

int syshook_remove(struct syshook *h, char *err, size_t err_len)
{
	struct syshook **pp;
	int ret;

	pthread_mutex_lock(&sh_lock);
	for (pp = &sh_hooks; *pp && *pp != h; pp = &(*pp)->next)
		;
	if (!*pp) {
		pthread_mutex_unlock(&sh_lock);
		errbuf_set(err, err_len, "syshook_remove: not a registered hook");
		return -ENOENT;
	}
	*pp = h->next;
	ret = publish();
	if (ret) {
		h->next = *pp;
		*pp = h;
		pthread_mutex_unlock(&sh_lock);
		errbuf_set(err, err_len, "out of memory");
		return ret;
	}
	pthread_mutex_unlock(&sh_lock);
	free(h);
	return 0;
}

int syshook_rescan(char *err, size_t err_len)
{
	int ret = 0;

	pthread_mutex_lock(&sh_lock);
	if (installed && !install_ret && sh_use_rewrite)
		ret = sh_rewrite_scan(err, err_len);
	pthread_mutex_unlock(&sh_lock);
	return ret;
}

void syshook_stats(struct syshook_stats *out)
{
	pthread_mutex_lock(&sh_lock);
	memset(out, 0, sizeof(*out));
	if (installed && !install_ret) {
		sh_rewrite_stats(&out->syscall_insns, &out->rewritten);
		out->sud = sh_use_sud;
	}
	pthread_mutex_unlock(&sh_lock);
}
