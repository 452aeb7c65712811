/* SPDX-License-Identifier: MIT */
/*
 * vecstate: the vector registers that code calling C from an arbitrary
 * point of a program (probe and syscall trampolines) must save around the
 * call, and the assembly that saves them. vecstate.c says what is saved
 * and why (found once from CPUID and XCR0 by vecstate_setup, before the
 * first trampoline runs).
 *
 * From assembly: VECSTATE_CALL fn, n, nk calls fn with zmm/ymm/xmm0-(n-1)
 * (and k0-7 when nk) saved in a 64-byte aligned area below rsp; it moves
 * rsp, which the caller restores from a frame register. rax and rdx come
 * back as fn left them.
 */
#ifndef UEBPF_VECSTATE_H
#define UEBPF_VECSTATE_H

#define VECSTATE_SSE 0	  /* xmm: no AVX */
#define VECSTATE_AVX 1	  /* ymm */
#define VECSTATE_AVX512 2 /* zmm and k0-7 */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The tests and the benchmark set it back to VECSTATE_SSE to see what saving changes. */
extern uint32_t vecstate_mode __attribute__((visibility("hidden")));
void vecstate_setup(void) __attribute__((visibility("hidden")));

#else

#define VECSTATE_ZMM_AREA (32 * 64 + 8 * 8) /* zmm0-31, k0-7 */
#define VECSTATE_YMM_AREA (16 * 32)
#define VECSTATE_XMM_AREA (16 * 16)

	.hidden vecstate_mode

.macro vecstate_save_zmm n, k
	subq $VECSTATE_ZMM_AREA, %rsp
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.if \r < \n
	vmovdqu64 %zmm\r, \r * 64(%rsp)
	.endif
	.endr
	.if \k
	.irp r, 0,1,2,3,4,5,6,7
	kmovq %k\r, 32 * 64 + \r * 8(%rsp)
	.endr
	.endif
	vzeroupper
.endm

.macro vecstate_restore_zmm n, k
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.if \r < \n
	vmovdqu64 \r * 64(%rsp), %zmm\r
	.endif
	.endr
	.if \k
	.irp r, 0,1,2,3,4,5,6,7
	kmovq 32 * 64 + \r * 8(%rsp), %k\r
	.endr
	.endif
.endm

.macro vecstate_save_ymm n
	subq $VECSTATE_YMM_AREA, %rsp
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.if \r < \n
	vmovdqu %ymm\r, \r * 32(%rsp)
	.endif
	.endr
	vzeroupper
.endm

.macro vecstate_restore_ymm n
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.if \r < \n
	vmovdqu \r * 32(%rsp), %ymm\r
	.endif
	.endr
.endm

.macro vecstate_save_xmm n
	subq $VECSTATE_XMM_AREA, %rsp
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.if \r < \n
	movaps %xmm\r, \r * 16(%rsp)
	.endif
	.endr
.endm

.macro vecstate_restore_xmm n
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.if \r < \n
	movaps \r * 16(%rsp), %xmm\r
	.endif
	.endr
.endm

/* Registers 0 to n-1 of the widest kind the CPU has (at most 16 ymm or xmm), k0-7 when k. */
.macro VECSTATE_CALL fn, n, k
	andq $-64, %rsp
	cmpl $VECSTATE_AVX, vecstate_mode(%rip)
	jb 801f
	je 802f
	vecstate_save_zmm \n, \k
	call \fn
	vecstate_restore_zmm \n, \k
	jmp 803f
802:	vecstate_save_ymm \n
	call \fn
	vecstate_restore_ymm \n
	jmp 803f
801:	vecstate_save_xmm \n
	call \fn
	vecstate_restore_xmm \n
803:
.endm

#endif
#endif
