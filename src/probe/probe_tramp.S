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
 * Vector state (common/vecstate.c says what and why), by vecstate_mode:
 * with AVX-512, zmm0-31 and k0-7 are saved on entry and zmm0-1 on return
 * (the return value; the rest is dead across a call); with AVX, ymm0-15
 * and ymm0-1; then vzeroupper, so the C code runs with clean upper
 * halves. Without AVX, movaps of xmm0-15 and xmm0-1. Each is a 64-byte
 * aligned area below the stack pointer.
 */
#include "common/vecstate.h"
#include "probe_internal.h"

#define PT_REGS_SIZE 168
#define PT_IP 128
#define PT_FLAGS 144
#define PT_SP 152
#define USER_CS 0x33
#define USER_SS 0x2b

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
	cld /* the ABI's direction flag, which code inside a function may have set */
	movq PT_REGS_SIZE(%rbx), %rdi
	movq -PROBE_STUB_SITE_BACK(%rdi), %rdi
	movq %rbx, %rsi
	VECSTATE_CALL probe_dispatch_entry@PLT, 32, 1
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
	movq %rbx, %rdi
	VECSTATE_CALL probe_dispatch_return@PLT, 2, 0
	movq %rax, PT_REGS_SIZE(%rbx)
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
