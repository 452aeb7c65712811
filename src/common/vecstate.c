// SPDX-License-Identifier: MIT
/*
 * Which vector state the trampolines (src/probe/probe_tramp.S,
 * src/syshook/syshook_asm.S) save around the C code they call, found once
 * from CPUID and XCR0.
 *
 * The C code a probe runs (the dispatcher, programs, helpers) may change
 * any caller-saved register, and glibc's string functions, which helpers
 * call, use ymm and zmm registers (the AVX2 ones end with vzeroupper, which
 * zeroes the upper halves of ymm0-15; the EVEX ones use ymm16-31 and the
 * mask registers). At a function's entry the argument registers may hold
 * __m256 or __m512 values, and at symbol+offset any register may be live;
 * at a return, xmm0-1, ymm0 or zmm0 may hold the return value. So with
 * AVX-512 (and BW, for 64-bit mask registers) the trampolines save zmm0-31
 * and k0-7 at entry and zmm0-1 at return; with AVX, ymm0-15 and ymm0-1;
 * otherwise xmm0-15 and xmm0-1, which is then all the vector state.
 *
 * By plain moves, not XSAVEC/XRSTOR: on this project's machines (a VM on
 * AMD EPYC) an XSAVEC/XRSTOR pair costs about 175 ns of CPU time, ten times
 * the probe, against 6-11 ns for the moves (bench/uprobe measures the
 * difference). What the moves lose: a register whose upper half was in its
 * initial state comes back with the same (zero) value but marked in use,
 * which on Intel CPUs slows legacy SSE code a little until the next
 * vzeroupper (compilers put one at the end of every AVX function). x87
 * registers are not saved: the C code does not use them.
 */
#include <cpuid.h>
#include <pthread.h>
#include <stdint.h>

#include "vecstate.h"

#define XCR0_SSE (1u << 1)
#define XCR0_AVX (1u << 2)
#define XCR0_AVX512 (7u << 5) /* opmask, zmm upper halves, zmm16-31 */
#define CPUID7_AVX512F (1u << 16)
#define CPUID7_AVX512BW (1u << 30)

uint32_t vecstate_mode;

static void xstate_init(void)
{
	unsigned eax, ebx, ecx, edx;
	uint32_t lo, hi, want = XCR0_SSE | XCR0_AVX;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE) || !(ecx & bit_AVX))
		return;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & want) != want)
		return;
	if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ebx & CPUID7_AVX512F) &&
	    (ebx & CPUID7_AVX512BW) && (lo & XCR0_AVX512) == XCR0_AVX512) {
		__atomic_store_n(&vecstate_mode, VECSTATE_AVX512, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&vecstate_mode, VECSTATE_AVX, __ATOMIC_RELEASE);
}

void vecstate_setup(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, xstate_init);
}
