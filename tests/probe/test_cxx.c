// SPDX-License-Identifier: MIT
/*
 * C++ exceptions through frames with return probes (cxx_victim.cpp, built
 * by g++): an exception thrown in cxx_inner unwinds through cxx_inner and
 * cxx_middle, both with a pending return probe, runs cxx_middle's
 * destructor and is caught in cxx_outer. cxx_middle..cxx_top call from
 * within their first bytes, so the probes' relocated calls are on the
 * unwinder's way too. The program must go on (without
 * the unwinder hooks it ends in std::terminate), the return probes of the
 * frames that stayed (cxx_outer, cxx_top) must run with their values, those
 * of the unwound frames must not, and every probe must work as before
 * afterwards, also after many more throws than the shadow stack is deep.
 *
 * usage: test_cxx
 */
#define _GNU_SOURCE
#include <asm/ptrace.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "probe/probe.h"
#include "probe/probe_internal.h"

long cxx_inner(long x);
long cxx_middle(long x);
long cxx_outer(long x);
long cxx_top(long x);
long cxx_guards(void);

struct rec {
	unsigned long hits;
	long last;
};

static void on_ret(void *ctx, struct pt_regs *r)
{
	struct rec *c = ctx;

	c->hits++;
	c->last = (long)r->rax;
}

static void on_entry(void *ctx, struct pt_regs *r)
{
	struct rec *c = ctx;

	c->hits++;
	c->last = (long)r->rdi;
}

#define NFUNCS 4

static long (*const funcs[NFUNCS])(long) = {cxx_inner, cxx_middle, cxx_outer, cxx_top};
static const char *const names[NFUNCS] = {"cxx_inner", "cxx_middle", "cxx_outer", "cxx_top"};
static struct rec rets[NFUNCS], entries[NFUNCS];

/* Calls cxx_top(x); want[i]: cxx_top's result chain, or 0 where no return probe may run. */
static void call(long x, const long want[NFUNCS], const char *what)
{
	unsigned long before[NFUNCS], ebefore[NFUNCS];
	long (*volatile top)(long) = cxx_top;
	long got;

	for (int i = 0; i < NFUNCS; i++) {
		before[i] = rets[i].hits;
		ebefore[i] = entries[i].hits;
	}
	got = top(x);
	EXPECT(got == want[3], "%s: cxx_top(%ld) = %ld, want %ld", what, x, got, want[3]);
	for (int i = 0; i < NFUNCS; i++) {
		unsigned long n = rets[i].hits - before[i];

		EXPECT(entries[i].hits - ebefore[i] == 1, "%s: %s entered %lu times", what,
		       names[i], entries[i].hits - ebefore[i]);
		if (want[i]) {
			EXPECT(n == 1 && rets[i].last == want[i],
			       "%s: %s's return probe ran %lu times, last %ld, want once with %ld",
			       what, names[i], n, rets[i].last, want[i]);
		} else {
			EXPECT(n == 0, "%s: %s was unwound but its return probe ran %lu times",
			       what, names[i], n);
		}
	}
}

int main(void)
{
	static const long normal[NFUNCS] = {6, 12, 13, 1013};
	static const long thrown[NFUNCS] = {0, 0, -1, 999};
	struct probe *pr[NFUNCS], *pe[NFUNCS];
	long guards;
	char err[256];

	for (int i = 0; i < NFUNCS; i++) {
		REQUIRE(!probe_attach((void *)funcs[i], PROBE_RETURN, on_ret, &rets[i], &pr[i], err,
				      sizeof(err)),
			"%s: %s", names[i], err);
		REQUIRE(!probe_attach((void *)funcs[i], PROBE_ENTRY, on_entry, &entries[i], &pe[i],
				      err, sizeof(err)),
			"%s: %s", names[i], err);
	}
	call(5, normal, "before any throw");
	guards = cxx_guards();
	call(-1, thrown, "a throw through two probed frames");
	EXPECT(cxx_guards() == guards + 1, "the destructor ran %ld times, want once",
	       cxx_guards() - guards);
	call(5, normal, "after the throw");
	for (int i = 0; i < 3 * PROBE_SHADOW_DEPTH; i++)
		call(-1 - i, thrown, "many throws");
	call(5, normal, "after many throws");
	for (int i = 0; i < NFUNCS; i++) {
		unsigned long missed = (unsigned long)probe_missed(pr[i]);

		EXPECT(missed == 0, "%s: %lu misses", names[i], missed);
		EXPECT(!probe_detach(pr[i], err, sizeof(err)), "%s", err);
		EXPECT(!probe_detach(pe[i], err, sizeof(err)), "%s", err);
	}
	printf("%lu throws caught through probed frames\n", rets[2].hits - 3);
	return check_summary();
}
