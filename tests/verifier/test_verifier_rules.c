// SPDX-License-Identifier: MIT
/*
 * The rule corpus (rules.c, rules_maps.c) through uebpf's verifier and the
 * kernel's (with the corpus maps created there): each program must get its
 * expected verdict from both, and a rejection from uebpf must give the
 * expected reason; each case prints its own "ok" or "FAIL" line. Also random programs from proggen
 * (all accepted by the kernel) must be accepted, and the time each verifier
 * takes on them is printed.
 *
 *   test_verifier_rules [--count N]
 *
 * Without root or kernel BPF, uebpf's half runs alone and the test reports
 * itself skipped (77) after printing why, unless that half failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/asm.h"
#include "proggen.h"
#include "rules.h"
#include "verifier/verifier.h"
#include "vtest.h"

#define LOG_LEN (64 * 1024)
#define PROGGEN_COUNT 1000
#define BODY_MIN 40
#define BODY_MAX 160

static char ulog[LOG_LEN], klog[LOG_LEN];

struct tally {
	unsigned checked, agree, known, failed;
};

static int rule_map_of(void *ctx, const struct isa_insn *in, struct verifier_map *out)
{
	(void)ctx;
	if (in->imm < 0 || in->imm >= RULE_NMAPS)
		return -EBADF;
	*out = (struct verifier_map){
		.type = rule_maps[in->imm].type,
		.key_size = rule_maps[in->imm].key_size,
		.value_size = rule_maps[in->imm].value_size,
		.max_entries = rule_maps[in->imm].max_entries,
		.flags = rule_maps[in->imm].flags,
		.handle = &rule_maps[in->imm],
	};
	return 0;
}

static int uebpf_verdict(enum uebpf_prog_type type, const struct isa_insn *insns, size_t n,
			 struct verifier_stats *stats)
{
	struct verifier_opts opts = {.type = type, .log_level = 1, .map_of = rule_map_of};

	return verifier_check(insns, n, &opts, NULL, stats, ulog, sizeof(ulog));
}

/*
 * Placeholders (rules.h) into real references: map fds when fds is given
 * (the kernel's), else corpus map indexes (uebpf's).
 */
static void patch_refs(struct isa_insn *insns, size_t n, const int *fds)
{
	for (size_t pc = 0; pc + 1 < n; pc++) {
		struct isa_insn *in = &insns[pc];
		uint32_t hi = (uint32_t)in[1].imm;
		unsigned idx = hi & 0xff;

		if (in->opcode != ISA_OP_LDDW || (hi & 0xffff0000u) != 0x4d410000u) {
			pc += in->opcode == ISA_OP_LDDW;
			continue;
		}
		in->src = (uint8_t)(hi >> 8 & 0xff);
		in[1].imm = in->src == ISA_PSEUDO_MAP_VALUE ? in->imm : 0;
		if (in->src == ISA_PSEUDO_MAP_FD || in->src == ISA_PSEUDO_MAP_VALUE)
			in->imm = idx == RULE_NO_MAP ? (fds ? 100000 : 99)
						     : (fds ? fds[idx] : (int32_t)idx);
		else if (in->src == ISA_PSEUDO_BTF_ID)
			in->imm = 1;
		pc++;
	}
}

static void rule_case(const struct rule_case *c, const int *fds, struct tally *t)
{
	struct isa_insn *insns, *kinsns;
	size_t n;
	int ret, kret;
	bool ok = true;

	if (isa_assemble(c->text, &insns, &n, ulog, sizeof(ulog))) {
		printf("FAIL %s: does not assemble: %s\n", c->name, ulog);
		t->failed++;
		return;
	}
	kinsns = malloc(n * sizeof(*kinsns));
	if (!kinsns) {
		t->failed++;
		free(insns);
		return;
	}
	memcpy(kinsns, insns, n * sizeof(*kinsns));
	patch_refs(insns, n, NULL);
	ret = uebpf_verdict(c->type, insns, n, NULL);
	if ((ret == 0) != (c->accept != 0)) {
		printf("FAIL %s: uebpf %s it, expected %s\n%s\n", c->name,
		       ret ? "rejects" : "accepts", c->accept ? "accept" : "reject",
		       ret ? ulog : "");
		ok = false;
	} else if (ret && c->why && !strstr(ulog, c->why)) {
		printf("FAIL %s: uebpf rejects it for another reason: %s (want \"%s\")\n", c->name,
		       ulog, c->why);
		ok = false;
	}
	if (fds) {
		patch_refs(kinsns, n, fds);
		kret = vt_kernel_verdict(c->type, kinsns, n, klog, sizeof(klog), NULL);
		t->checked++;
		if (c->accept == RULE_NEEDS_BTF) {
			if (!kret || !strstr(klog, "btf")) {
				printf("FAIL %s: the kernel %s it without BTF\n%s\n", c->name,
				       kret ? "rejects" : "accepts", klog);
				ok = false;
			}
			t->known++;
		} else if ((kret == 0) != c->accept) {
			printf("FAIL %s: the kernel %s it, the corpus expects %s\n%s\n", c->name,
			       kret ? "rejects" : "accepts", c->accept ? "accept" : "reject", klog);
			ok = false;
		} else if ((kret == 0) == (ret == 0)) {
			t->agree++;
		}
	}
	if (ok)
		printf("ok %s: %s%s%s\n", c->name,
		       c->accept ? "accepted" : "rejected: ", c->accept ? "" : c->why,
		       !fds			     ? " (kernel not checked)"
		       : c->accept == RULE_NEEDS_BTF ? ", kernel needs BTF (known difference)"
						     : ", kernel agrees");
	else
		t->failed++;
	free(insns);
	free(kinsns);
}

static void proggen_cases(unsigned long count, bool kernel, struct tally *t)
{
	struct proggen_opts gopts = {.avoid_kernel_bugs = true};
	size_t cap = proggen_max_len(BODY_MAX, &gopts);
	struct isa_insn *prog = malloc(cap * sizeof(*prog));
	uint64_t uebpf_ns = 0, kernel_ns = 0, processed = 0, ns;
	uint64_t kernel_verify_us = 0, kernel_processed = 0, kernel_stats = 0;
	unsigned kus, kproc;
	struct verifier_stats stats;
	unsigned long accepted = 0;

	if (!prog) {
		t->failed++;
		return;
	}
	for (unsigned long i = 0; i < count; i++) {
		size_t body = BODY_MIN + i % (BODY_MAX - BODY_MIN + 1);
		long n = proggen_generate(0x5eed0000 + i, body, &gopts, prog, cap);
		int ret;

		if (n < 0) {
			t->failed++;
			break;
		}
		ret = uebpf_verdict(UEBPF_PROG_SOCKET_FILTER, prog, (size_t)n, &stats);
		uebpf_ns += stats.time_ns;
		processed += stats.insns_processed;
		if (ret) {
			if (t->failed++ < 10)
				printf("FAIL proggen seed %#lx: uebpf rejects a kernel-accepted "
				       "program: %s\n",
				       0x5eed0000 + i, ulog);
			continue;
		}
		accepted++;
		if (kernel) {
			ret = vt_kernel_verdict(UEBPF_PROG_SOCKET_FILTER, prog, (size_t)n, klog,
						sizeof(klog), &ns);
			kernel_ns += ns;
			t->checked++;
			if (!ret && !vt_kernel_stats(UEBPF_PROG_SOCKET_FILTER, prog, (size_t)n,
						     &kus, &kproc)) {
				kernel_verify_us += kus;
				kernel_processed += kproc;
				kernel_stats++;
			}
			if (!ret)
				t->agree++;
			else
				printf("note: proggen seed %#lx rejected by the kernel: %.200s\n",
				       0x5eed0000 + i, klog);
		}
	}
	printf("proggen: %lu programs, %lu accepted by uebpf; uebpf verifier %.1f us/program "
	       "(%.0f insns processed on average)",
	       count, accepted, count ? uebpf_ns / 1e3 / count : 0.0,
	       count ? (double)processed / count : 0.0);
	if (kernel)
		printf(", kernel load (verify + JIT) %.1f us/program",
		       count ? kernel_ns / 1e3 / count : 0.0);
	if (kernel_stats)
		printf(", kernel verifier alone %.1f us/program (%.0f insns processed on average)",
		       (double)kernel_verify_us / kernel_stats,
		       (double)kernel_processed / kernel_stats);
	printf("\n");
	free(prog);
}

int main(int argc, char **argv)
{
	unsigned long count = PROGGEN_COUNT;
	struct tally rules = {0}, gen = {0};
	int fds[RULE_NMAPS];
	char why[256];
	bool kernel;

	if (argc == 3 && !strcmp(argv[1], "--count"))
		count = strtoul(argv[2], NULL, 0);
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [--count N]\n", argv[0]);
		return 2;
	}
	kernel = vt_kernel_available(why, sizeof(why));
	if (kernel && vt_kernel_maps(rule_maps, RULE_NMAPS, fds)) {
		printf("FAIL cannot create the corpus maps in the kernel\n");
		return 1;
	}
	for (unsigned i = 0; i < rule_ncases; i++)
		rule_case(&rule_cases[i], kernel ? fds : NULL, &rules);
	for (unsigned i = 0; i < rule_map_ncases; i++)
		rule_case(&rule_map_cases[i], kernel ? fds : NULL, &rules);
	printf("rule corpus: %u programs, %u failures", rule_ncases + rule_map_ncases,
	       rules.failed);
	if (kernel)
		printf("; kernel verdicts: %u, the same as uebpf's: %u, known differences: %u",
		       rules.checked, rules.agree, rules.known);
	printf("\n");
	proggen_cases(count, kernel, &gen);
	if (kernel)
		printf("proggen: kernel verdicts %u, accepted by both %u\n", gen.checked,
		       gen.agree);
	if (rules.failed || gen.failed)
		return 1;
	if (!kernel) {
		printf("SKIP kernel half: %s\n", why);
		return VT_SKIP;
	}
	return 0;
}
