// SPDX-License-Identifier: MIT
/*
 * Load-time denial of service: loops that make no progress (the state at
 * their head comes back unchanged, or changes without ever ending) must be
 * refused by the verifier quickly, the way the kernel refuses them
 * ("infinite loop detected" when a state at a loop head equals one still
 * being explored), not after a million instructions of exploration. Each
 * shape must be refused by uebpf with the message given; as root the
 * kernel's verifier must refuse it too. The time each verifier took is
 * printed, not checked (the machine may be loaded). Without root, uebpf's
 * half runs alone and the test reports itself skipped once it passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "isa/asm.h"
#include "verifier/verifier.h"
#include "vtest.h"

struct shape {
	const char *name;
	const char *why; /* part of uebpf's message */
	const char *text;
};

/* r2 unknown (a context word), r0 set: every loop below starts from there. */
#define PROLOGUE "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, 0\n"

static const struct shape shapes[] = {
	/* the report's program: a register compared with itself, the jump going back */
	{"self-compare-back", "infinite loop detected",
	 PROLOGUE "l:\nmov %r4, 1\njgt32 %r2, %r2, l\nexit\n"},
	{"self-compare-to-itself", "infinite loop detected",
	 PROLOGUE "l:\njslt %r2, %r2, l\nexit\n"},
	{"unconditional", "infinite loop detected", PROLOGUE "l:\nja l\n"},
	{"unknown-not-zero", "infinite loop detected", PROLOGUE "l:\njne %r2, 0, l\nexit\n"},
	{"two-unknowns", "infinite loop detected",
	 PROLOGUE "l:\nmov %r4, %r3\njlt %r2, %r4, l\nexit\n"},
	{"flip-flop", "infinite loop detected",
	 PROLOGUE "mov %r5, 0\nl:\nxor %r5, 1\njne %r2, 7, l\nexit\n"},
	{"stack-rewritten", "infinite loop detected",
	 PROLOGUE "l:\nstdw [%r10-8], 5\nldxdw %r4, [%r10-8]\njsge %r2, %r4, l\nexit\n"},
	{"nested", "infinite loop detected",
	 PROLOGUE "o:\nmov %r4, 0\ni:\nadd %r4, 1\njlt %r4, 4, i\njne %r2, 0, o\nexit\n"},
	{"in-subprogram", "infinite loop detected",
	 PROLOGUE "call local f\nexit\nf:\nmov %r0, 0\nl:\njeq %r1, %r1, l\nexit\n"},
	{"wrapping-counter", "infinite loop detected",
	 PROLOGUE "mov %r4, 0\nl:\nadd32 %r4, 1\njne %r2, 0, l\nexit\n"},
};

static int check_shape(const struct shape *s, bool kernel)
{
	static char log[16384], klog[16384];
	struct verifier_opts opts = {.type = UEBPF_PROG_SOCKET_FILTER};
	struct verifier_stats st;
	struct isa_insn *insns;
	uint64_t kns = 0;
	size_t n;
	int ret;

	ret = isa_assemble(s->text, &insns, &n, log, sizeof(log));
	REQUIRE(!ret, "%s: assembles: %s", s->name, log);
	ret = verifier_check(insns, n, &opts, NULL, &st, log, sizeof(log));
	EXPECT(ret < 0 && strstr(log, s->why), "%s: refused with \"%s\": %d %s", s->name, s->why,
	       ret, log);
	printf("%-24s uebpf %8.1f us, %7llu insns processed", s->name, st.time_ns / 1e3,
	       (unsigned long long)st.insns_processed);
	if (kernel) {
		ret = vt_kernel_verdict(UEBPF_PROG_SOCKET_FILTER, insns, n, klog, sizeof(klog),
					&kns);
		EXPECT(ret < 0, "%s: the kernel refuses it too", s->name);
		printf(" | kernel load %8.1f us: %s", kns / 1e3,
		       strstr(klog, "infinite loop") ? "infinite loop"
		       : strstr(klog, "too large")   ? "too large"
						     : "other");
	}
	printf("\n");
	free(insns);
	return 0;
}

int main(void)
{
	char why[256];
	bool kernel = vt_kernel_available(why, sizeof(why));

	if (!kernel)
		printf("kernel half skipped: %s\n", why);
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		check_shape(&shapes[i], kernel);
	if (check_summary())
		return 1;
	return kernel ? 0 : VT_SKIP;
}
