/* SPDX-License-Identifier: MIT */
/*
 * The assembly of syshook: the gate template (copied into the gate, the
 * only code whose system calls SUD lets through), the common entry of the
 * rewritten sites and the hook of the clone stubs.
 *
 * Vector state: every vector register is saved around C code, as the
 * probes do (common/vecstate.h): a site inside a function may have any of
 * them live, since the system call ABI preserves them, and callbacks run
 * glibc's AVX string functions, which end with vzeroupper.
 */
#include "common/vecstate.h"
#include "syshook_internal.h"

	.text

/*
 * The gate template: position-independent, copied to the gate's first page
 * and only run there.
 */
	.globl syshook_gate_template, syshook_gate_template_end
	.globl syshook_gate_syscall6, syshook_gate_direct_code
	.globl syshook_gate_restorer, syshook_gate_sigreturn
	.hidden syshook_gate_template, syshook_gate_template_end
	.hidden syshook_gate_syscall6, syshook_gate_direct_code
	.hidden syshook_gate_restorer, syshook_gate_sigreturn
	.balign 64
syshook_gate_template:
/* long syscall6(long nr, a0, a1, a2, a3, a4, a5): the C calling convention */
syshook_gate_syscall6:
	movq %rdi, %rax
	movq %rsi, %rdi
	movq %rdx, %rsi
	movq %rcx, %rdx
	movq %r8, %r10
	movq %r9, %r8
	movq 8(%rsp), %r9
	syscall
	ret
	.balign 16
/* the system call ABI as it stands (syshook_fast_entry's tail jump) */
syshook_gate_direct_code:
	syscall
	ret
	.balign 16
/* the sa_restorer of the SIGSYS handler */
syshook_gate_restorer:
	movl $15, %eax /* rt_sigreturn */
	syscall
	ud2
	.balign 16
/* an application's rt_sigreturn, done for it: rdi is its stack pointer at the call */
syshook_gate_sigreturn:
	movq %rdi, %rsp
	movl $15, %eax
	syscall
	ud2
	.balign 16
syshook_gate_template_end:

/*
 * syshook_fast_entry: called by a site's trampoline (syshook_rewrite.c)
 * after the displaced instructions ran and the stack stepped below the red
 * zone, with the system call's registers as the site set them (nr in rax,
 * arguments in rdi rsi rdx r10 r8 r9). It returns to the trampoline with
 * the result in rax and every register but rax, rcx and r11 unchanged; or,
 * for SH_FLAG_SPECIAL numbers (rt_sigreturn and the clone family, which
 * need the application's own stack pointer), to the trampoline's second
 * exit, SH_TRAMP_ORIG_DELTA bytes further, which jumps back to the site's
 * original syscall instruction (where SUD takes it).
 *
 * A number no callback wants costs two loads and a tail jump to the gate.
 */
	.globl syshook_fast_entry
	.hidden syshook_fast_entry
	.type syshook_fast_entry, @function
syshook_fast_entry:
	cmpq $SH_NR, %rax
	jae 2f
	leaq syshook_nr_flags(%rip), %r11
	movzbl (%r11,%rax), %r11d
	testb $SH_FLAG_SPECIAL, %r11b
	jnz 3f
	orb syshook_any(%rip), %r11b
	jnz 2f
	jmp *syshook_gate_direct(%rip)
3:	addq $SH_TRAMP_ORIG_DELTA, (%rsp)
	ret
2:	pushq %rbp
	movq %rsp, %rbp
	/* args[0..5] in memory order at -48(%rbp) */
	pushq %r9
	pushq %r8
	pushq %r10
	pushq %rdx
	pushq %rsi
	pushq %rdi
	movq %rsp, %rsi
	movq %rax, %rdi
	VECSTATE_CALL syshook_fast_dispatch, 32, 1
	movq %rdx, %r11
	leaq -48(%rbp), %rsp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %r10
	popq %r8
	popq %r9
	popq %rbp
	cmpq $SH_FAST_ORIG, %r11
	je 3b
	ja 4f
	ret
4:	jmp *syshook_gate_direct(%rip) /* SH_FAST_DIRECT: rax holds nr again */
	.size syshook_fast_entry, .-syshook_fast_entry

/*
 * syshook_clone_hook: called by a clone stub (syshook_gate.c) right after
 * its syscall instruction, in the parent and in the child, on whatever
 * stack each has (the child's may be new), 128 bytes below the red zone.
 * Every register and the flags come back unchanged.
 */
	.globl syshook_clone_hook
	.hidden syshook_clone_hook
	.type syshook_clone_hook, @function
syshook_clone_hook:
	pushq %rbp
	movq %rsp, %rbp
	pushq %r9
	pushq %r8
	pushq %r10
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rax
	pushq %rcx
	pushq %r11
	pushfq
	movq 8(%rbp), %rdi
	subq $SH_STUB_CALL_RET, %rdi
	movq %rax, %rsi
	leaq -48(%rbp), %rdx
	cld
	VECSTATE_CALL syshook_after_clone, 32, 1
	leaq -80(%rbp), %rsp
	popfq
	popq %r11
	popq %rcx
	popq %rax
	popq %rdi
	popq %rsi
	popq %rdx
	popq %r10
	popq %r8
	popq %r9
	popq %rbp
	ret
	.size syshook_clone_hook, .-syshook_clone_hook

	.section .note.GNU-stack, "", @progbits
