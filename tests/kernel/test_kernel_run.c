// SPDX-License-Identifier: MIT
/*
 * The kernel runner checked on programs with known answers, so that a broken
 * runner (wrong return value, loads that silently fail) cannot make the
 * differential test pass without comparing anything.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel_run.h"

#define KRUN_SKIP 77

static int krun_expect(const char *name, const struct isa_insn *insns, size_t n, uint32_t want)
{
	char log[4096];
	uint32_t got;
	int fd, ret;

	fd = kernel_prog_load(insns, n, log, sizeof(log));
	if (fd < 0) {
		printf("FAIL %s: load: %s\n%s\n", name, strerror(-fd), log);
		return 1;
	}
	ret = kernel_prog_run(fd, &got);
	close(fd);
	if (ret) {
		printf("FAIL %s: run: %s\n", name, strerror(-ret));
		return 1;
	}
	if (got != want) {
		printf("FAIL %s: returned 0x%08x, want 0x%08x\n", name, got, want);
		return 1;
	}
	printf("ok %s\n", name);
	return 0;
}

/* A program the verifier must refuse comes back as an error with its log. */
static int krun_expect_reject(void)
{
	/* exit without r0 ever written */
	static const struct isa_insn bad[] = {{.opcode = ISA_OP_EXIT}};
	char log[4096];
	int fd;

	fd = kernel_prog_load(bad, 1, log, sizeof(log));
	if (fd >= 0) {
		close(fd);
		printf("FAIL reject: the kernel loaded a program that reads r0 unset\n");
		return 1;
	}
	if (!log[0]) {
		printf("FAIL reject: load failed (%s) but the verifier log is empty\n",
		       strerror(-fd));
		return 1;
	}
	printf("ok reject (%s)\n", strerror(-fd));
	return 0;
}

int main(void)
{
	static const struct isa_insn add[] = {
		{.opcode = ISA_ALU64 | ISA_MOV | ISA_K, .imm = 0x1234567},
		{.opcode = ISA_ALU64 | ISA_ADD | ISA_K, .imm = 0x11},
		{.opcode = ISA_OP_EXIT},
	};
	/* lddw r0, 0xdeadbeefcafef00d: only the low half comes back */
	static const struct isa_insn wide[] = {
		{.opcode = ISA_OP_LDDW, .imm = (int32_t)0xcafef00d},
		{.imm = (int32_t)0xdeadbeef},
		{.opcode = ISA_OP_EXIT},
	};
	char why[256];
	int failed = 0;

	if (!kernel_bpf_available(why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return KRUN_SKIP;
	}
	failed += krun_expect("add", add, 3, 0x1234578);
	failed += krun_expect("lddw", wide, 3, 0xcafef00d);
	failed += krun_expect_reject();
	printf("%d failed\n", failed);
	return failed ? 1 : 0;
}
