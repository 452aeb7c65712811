// SPDX-License-Identifier: MIT
/*
 * Vector registers across a probe: vec_victims.S keeps a pattern in every
 * ymm register (AVX2), or every zmm and mask register (AVX-512), across a
 * probe at symbol+offset and across a return probe, while the probe runs
 * C code that changes them all: glibc's memcpy and memset (AVX/EVEX
 * versions, picked by the CPU) and explicit writes of every register. The
 * registers must come back bit for bit. The same run with the trampolines
 * put back to saving xmm only must see them changed, which shows the check
 * can fail. AVX-512 needs BW too (64-bit mask registers), as the
 * trampolines do. Skipped without AVX2.
 *
 * usage: test_xstate
 */
#define _GNU_SOURCE
#include <asm/ptrace.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "probe/probe.h"
#include "common/vecstate.h"
#include "probe/probe_internal.h"

#define SLOTS 32
#define KOFF 2048
#define BUF (KOFF + 64)

void vec_keep(const void *in, void *out, long avx512);
extern char vec_keep_site[];
void vec_ret(const void *in, void *out, long avx512);
void vec_ret_call(const void *in, void *out, long avx512);

static int avx512;
static unsigned long hits;
static volatile size_t copy_len = 4096;

__attribute__((target("avx2"))) static void clobber_avx2(void)
{
	__asm__ volatile("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
			 "vmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\t"
			 "vmovdqa %%ymm0, %%ymm3\n\tvmovdqa %%ymm0, %%ymm4\n\t"
			 "vmovdqa %%ymm0, %%ymm5\n\tvmovdqa %%ymm0, %%ymm6\n\t"
			 "vmovdqa %%ymm0, %%ymm7\n\tvmovdqa %%ymm0, %%ymm8\n\t"
			 "vmovdqa %%ymm0, %%ymm9\n\tvmovdqa %%ymm0, %%ymm10\n\t"
			 "vmovdqa %%ymm0, %%ymm11\n\tvmovdqa %%ymm0, %%ymm12\n\t"
			 "vmovdqa %%ymm0, %%ymm13\n\tvmovdqa %%ymm0, %%ymm14\n\t"
			 "vmovdqa %%ymm0, %%ymm15\n\t"
			 :
			 :
			 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
			   "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

__attribute__((target("avx512f"))) static void clobber_avx512(void)
{
	__asm__ volatile(
		"vpternlogd $0xff, %%zmm0, %%zmm0, %%zmm0\n\t"
		"vmovdqa64 %%zmm0, %%zmm1\n\tvmovdqa64 %%zmm0, %%zmm2\n\tvmovdqa64 %%zmm0, "
		"%%zmm3\n\t"
		"vmovdqa64 %%zmm0, %%zmm4\n\tvmovdqa64 %%zmm0, %%zmm5\n\tvmovdqa64 %%zmm0, "
		"%%zmm6\n\t"
		"vmovdqa64 %%zmm0, %%zmm7\n\tvmovdqa64 %%zmm0, %%zmm8\n\tvmovdqa64 %%zmm0, "
		"%%zmm9\n\t"
		"vmovdqa64 %%zmm0, %%zmm10\n\tvmovdqa64 %%zmm0, %%zmm11\n\t"
		"vmovdqa64 %%zmm0, %%zmm12\n\tvmovdqa64 %%zmm0, %%zmm13\n\t"
		"vmovdqa64 %%zmm0, %%zmm14\n\tvmovdqa64 %%zmm0, %%zmm15\n\t"
		"vmovdqa64 %%zmm0, %%zmm16\n\tvmovdqa64 %%zmm0, %%zmm17\n\t"
		"vmovdqa64 %%zmm0, %%zmm18\n\tvmovdqa64 %%zmm0, %%zmm19\n\t"
		"vmovdqa64 %%zmm0, %%zmm20\n\tvmovdqa64 %%zmm0, %%zmm21\n\t"
		"vmovdqa64 %%zmm0, %%zmm22\n\tvmovdqa64 %%zmm0, %%zmm23\n\t"
		"vmovdqa64 %%zmm0, %%zmm24\n\tvmovdqa64 %%zmm0, %%zmm25\n\t"
		"vmovdqa64 %%zmm0, %%zmm26\n\tvmovdqa64 %%zmm0, %%zmm27\n\t"
		"vmovdqa64 %%zmm0, %%zmm28\n\tvmovdqa64 %%zmm0, %%zmm29\n\t"
		"vmovdqa64 %%zmm0, %%zmm30\n\tvmovdqa64 %%zmm0, %%zmm31\n\t"
		"kxnorw %%k0, %%k0, %%k1\n\tkxnorw %%k0, %%k0, %%k2\n\tkxnorw %%k0, %%k0, %%k3\n\t"
		"kxnorw %%k0, %%k0, %%k4\n\tkxnorw %%k0, %%k0, %%k5\n\tkxnorw %%k0, %%k0, %%k6\n\t"
		"kxnorw %%k0, %%k0, %%k7\n\t"
		:
		:
		: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
		  "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18",
		  "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27",
		  "xmm28", "xmm29", "xmm30", "xmm31", "k1", "k2", "k3", "k4", "k5", "k6", "k7");
}

/* What a helper does: glibc's memset and memcpy, then every register written. */
static void on_hit(void *ctx, struct pt_regs *r)
{
	static char src[8192], dst[8192];

	(void)ctx;
	(void)r;
	hits++;
	memset(src, (int)hits, copy_len);
	memcpy(dst, src, copy_len);
	if (avx512)
		clobber_avx512();
	clobber_avx2();
}

static void fill(uint8_t *in)
{
	for (int i = 0; i < BUF; i++)
		in[i] = (uint8_t)(i * 7 + 3);
}

/* Bytes of out that differ from in, over the registers mode uses. */
static int differ(const uint8_t *in, const uint8_t *out, int regs)
{
	int bad = 0;

	for (int r = 0; r < regs; r++)
		bad += memcmp(in + r * 64, out + r * 64, avx512 ? 64 : 32) != 0;
	for (int k = 1; avx512 && regs == SLOTS && k < 8; k++)
		bad += memcmp(in + KOFF + k * 8, out + KOFF + k * 8, 2) != 0;
	return bad;
}

/* Runs victim under a probe; the registers that came back changed. */
static int run(void (*victim)(const void *, void *, long), void *addr, enum probe_kind kind,
	       int regs)
{
	static uint8_t in[BUF] __attribute__((aligned(64))), out[BUF] __attribute__((aligned(64)));
	unsigned long before = hits;
	struct probe *p;
	char err[256];
	int bad;

	fill(in);
	memset(out, 0, sizeof(out));
	REQUIRE(!probe_attach(addr, kind, on_hit, NULL, &p, err, sizeof(err)), "attach: %s", err);
	victim(in, out, avx512);
	EXPECT(!probe_detach(p, err, sizeof(err)), "detach: %s", err);
	EXPECT(hits == before + 1, "the probe ran %lu times, want once", hits - before);
	bad = differ(in, out, regs);
	/* unprobed, the victim gives back what it took */
	memset(out, 0, sizeof(out));
	victim(in, out, avx512);
	EXPECT(!differ(in, out, regs), "the victim itself changes its registers");
	return bad;
}

static void test_mode(const char *what, bool expect_kept)
{
	int regs = avx512 ? SLOTS : 16;
	int site = run(vec_keep, vec_keep_site, PROBE_ENTRY, regs);
	int ret = run(vec_ret_call, (void *)vec_ret, PROBE_RETURN, 2);

	if (expect_kept) {
		EXPECT(!site, "%s: %d registers changed across a probe at vec_keep+offset", what,
		       site);
		EXPECT(!ret, "%s: %d of zmm0/zmm1 changed across a return probe", what, ret);
	} else {
		EXPECT(site && ret, "%s: registers kept (%d, %d changed) without saving them", what,
		       site, ret);
	}
	printf("%s: %d registers changed at +offset, %d at return\n", what, site, ret);
}

int main(void)
{
	uint32_t mode;

	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2")) {
		printf("SKIP: no AVX2 on this CPU\n");
		return 77;
	}
	avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
	test_mode("saved state", true);
	printf("%s; trampoline mode %u\n", avx512 ? "AVX-512: zmm0-31, k1-7" : "AVX2: ymm0-15",
	       vecstate_mode);
	mode = vecstate_mode;
	REQUIRE(mode != VECSTATE_SSE, "the trampolines do not save AVX state");
	vecstate_mode = VECSTATE_SSE;
	test_mode("xmm only (the check must see the damage)", false);
	vecstate_mode = mode;
	test_mode("saved state again", true);
	return check_summary();
}
