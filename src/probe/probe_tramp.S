/* SPDX-License-Identifier: MIT */
/*
 * The two routines every probe goes through. Both build a struct pt_regs
 * (the kernel's x86-64 layout) on the stack from the registers of the
 * probed code, call the C dispatcher, and restore every register from it.
 *
 * probe_entry_common is called by a site's stub (probe_internal.h) after it
 * stepped 128 bytes below the red zone: its return address points into the
 * stub, PROBE_STUB_SITE_BACK bytes after the slot holding the site. The
 * stub resumes with the displaced instructions when it returns.
 *
 * probe_return_tramp is where a function with a return probe returns to:
 * the dispatcher swapped it in for the return address at entry, and
 * probe_dispatch_return gives the original back, which this routine then
 * jumps to (r11 is the one register it does not restore).
 *
 * Vector state (probe_xstate.c says what and why), by probe_xstate_mode:
 * with AVX-512, zmm0-31 and k0-7 are saved on entry and zmm0-1 on return
 * (the return value; the rest is dead across a call); with AVX, ymm0-15
 * and ymm0-1; then vzeroupper, so the C code runs with clean upper
 * halves. Without AVX, movaps of xmm0-15 and xmm0-1. Each is a 64-byte
 * aligned area below the stack pointer.
 */
#include "probe_internal.h"

#define PT_REGS_SIZE 168
#define PT_IP 128
#define PT_FLAGS 144
#define PT_SP 152
#define USER_CS 0x33
#define USER_SS 0x2b
#define ZMM_AREA (32 * 64 + 8 * 8) /* zmm0-31, k0-7 */
#define YMM_AREA (16 * 32)

	.hidden probe_xstate_mode

/* Pushes the registers in the order of struct pt_regs, from ss down to r15. */
.macro save_regs
	pushq $USER_SS
	pushq $0 /* sp */
	pushfq
	pushq $USER_CS
	pushq $0 /* ip */
	pushq $-1 /* orig_ax: not a system call */
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rax
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

/*
 * The flags saved at PT_FLAGS(%rbx), back into the CPU without popfq (which
 * is microcoded: 15-20 ns here). sahf restores SF ZF AF PF CF from ah;
 * adding 0x7f to al = OF sets OF exactly when al is 1; DF gets its own
 * std. TF, AC and the system flags are not restored (user code does not
 * change them under a call). Clobbers rax and rcx, which are restored later.
 */
.macro restore_flags
	movq PT_FLAGS(%rbx), %rax
	btq $10, %rax
	jnc 1f
	std
1:	movl %eax, %ecx
	shrl $11, %ecx
	andl $1, %ecx
	movb %al, %ah
	movb %cl, %al
	addb $0x7f, %al
	sahf
.endm

/* With rsp 64-byte aligned: reserve the area and save zmm0-(\n-1) (and k0-7 if \k). */
.macro save_zmm n, k
	subq $ZMM_AREA, %rsp
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

.macro restore_zmm n, k
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

/* The same for ymm0-(\n-1). */
.macro save_ymm n
	subq $YMM_AREA, %rsp
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.if \r < \n
	vmovdqu %ymm\r, \r * 32(%rsp)
	.endif
	.endr
	vzeroupper
.endm

.macro restore_ymm n
	.irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.if \r < \n
	vmovdqu \r * 32(%rsp), %ymm\r
	.endif
	.endr
.endm

/* Pops what save_regs pushed; the flags stay as they are (restore_flags sets them). */
.macro restore_regs
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rax
	popq %rcx
	popq %rdx
	popq %rsi
	popq %rdi
	leaq 48(%rsp), %rsp /* orig_ax ip cs flags sp ss: lea keeps the flags */
.endm

	.text
	.globl probe_entry_common
	.hidden probe_entry_common
	.type probe_entry_common, @function
	.p2align 4
probe_entry_common:
	save_regs
	/* the probed code's rsp: above pt_regs, our return address and the red zone */
	leaq PT_REGS_SIZE + 8 + 128(%rsp), %rax
	movq %rax, PT_SP(%rsp)
	movq %rsp, %rbx /* callee-saved: holds pt_regs across the call */
	andq $-64, %rsp
	cld /* the ABI's direction flag, which code inside a function may have set */
	movq PT_REGS_SIZE(%rbx), %rdi
	movq -PROBE_STUB_SITE_BACK(%rdi), %rdi
	movq %rbx, %rsi
	cmpl $PROBE_XSTATE_AVX, probe_xstate_mode(%rip)
	jb .Lentry_sse
	je .Lentry_avx
	save_zmm 32, 1
	call probe_dispatch_entry@PLT
	restore_zmm 32, 1
	jmp .Lentry_out
.Lentry_avx:
	save_ymm 16
	call probe_dispatch_entry@PLT
	restore_ymm 16
	jmp .Lentry_out
.Lentry_sse:
	subq $256, %rsp
	movaps %xmm0, 0(%rsp)
	movaps %xmm1, 16(%rsp)
	movaps %xmm2, 32(%rsp)
	movaps %xmm3, 48(%rsp)
	movaps %xmm4, 64(%rsp)
	movaps %xmm5, 80(%rsp)
	movaps %xmm6, 96(%rsp)
	movaps %xmm7, 112(%rsp)
	movaps %xmm8, 128(%rsp)
	movaps %xmm9, 144(%rsp)
	movaps %xmm10, 160(%rsp)
	movaps %xmm11, 176(%rsp)
	movaps %xmm12, 192(%rsp)
	movaps %xmm13, 208(%rsp)
	movaps %xmm14, 224(%rsp)
	movaps %xmm15, 240(%rsp)
	call probe_dispatch_entry@PLT
	movaps 0(%rsp), %xmm0
	movaps 16(%rsp), %xmm1
	movaps 32(%rsp), %xmm2
	movaps 48(%rsp), %xmm3
	movaps 64(%rsp), %xmm4
	movaps 80(%rsp), %xmm5
	movaps 96(%rsp), %xmm6
	movaps 112(%rsp), %xmm7
	movaps 128(%rsp), %xmm8
	movaps 144(%rsp), %xmm9
	movaps 160(%rsp), %xmm10
	movaps 176(%rsp), %xmm11
	movaps 192(%rsp), %xmm12
	movaps 208(%rsp), %xmm13
	movaps 224(%rsp), %xmm14
	movaps 240(%rsp), %xmm15
.Lentry_out:
	restore_flags
	movq %rbx, %rsp
	restore_regs
	ret
	.size probe_entry_common, . - probe_entry_common

	.globl probe_return_tramp
	.hidden probe_return_tramp
	.type probe_return_tramp, @function
	.p2align 4
probe_return_tramp:
	pushq $0 /* becomes the original return address */
	save_regs
	leaq PT_REGS_SIZE + 8(%rsp), %rax
	movq %rax, PT_SP(%rsp)
	movq %rsp, %rbx
	andq $-64, %rsp
	movq %rbx, %rdi
	cmpl $PROBE_XSTATE_AVX, probe_xstate_mode(%rip)
	jb .Lreturn_sse
	je .Lreturn_avx
	save_zmm 2, 0
	call probe_dispatch_return@PLT
	movq %rax, PT_REGS_SIZE(%rbx)
	restore_zmm 2, 0
	jmp .Lreturn_out
.Lreturn_avx:
	save_ymm 2
	call probe_dispatch_return@PLT
	movq %rax, PT_REGS_SIZE(%rbx)
	restore_ymm 2
	jmp .Lreturn_out
.Lreturn_sse:
	subq $32, %rsp
	movaps %xmm0, 0(%rsp)
	movaps %xmm1, 16(%rsp)
	call probe_dispatch_return@PLT
	movq %rax, PT_REGS_SIZE(%rbx)
	movaps 0(%rsp), %xmm0
	movaps 16(%rsp), %xmm1
.Lreturn_out:
	/* no restore_flags: flags carry nothing out of a function (System V ABI) */
	movq %rbx, %rsp
	restore_regs
	/*
	 * A jmp, not a ret: the function's ret already consumed the caller's
	 * return-stack-buffer entry, so a ret here would mispredict, and so
	 * would every return above it. r11 is free: no function returns
	 * anything in it and its callers expect it clobbered (System V ABI).
	 */
	popq %r11
	jmp *%r11
	.size probe_return_tramp, . - probe_return_tramp

	.section .note.GNU-stack, "", @progbits
