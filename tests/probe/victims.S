/* SPDX-License-Identifier: MIT */
/*
 * Functions to probe, in assembly so that each prologue is exactly the case
 * it stands for. .size gives the symbol sizes probe_attach reads.
 */
	.text

/* long victim_push(long a, long b, long c): a + b + c; push %rbp first. */
	.globl victim_push
	.type victim_push, @function
	.p2align 4
victim_push:
	push %rbp
	mov %rsp, %rbp
	lea (%rdi,%rsi), %rax
	add %rdx, %rax
	pop %rbp
	ret
	.size victim_push, . - victim_push

/* long victim_endbr(long a): a + 1; endbr64, then push %rbp. */
	.globl victim_endbr
	.type victim_endbr, @function
	.p2align 4
victim_endbr:
	endbr64
	push %rbp
	mov %rsp, %rbp
	lea 1(%rdi), %rax
	pop %rbp
	ret
	.size victim_endbr, . - victim_endbr

/* long victim_rip(long a): victim_data + a; the first instruction is RIP-relative. */
	.globl victim_rip
	.type victim_rip, @function
	.p2align 4
victim_rip:
	mov victim_data(%rip), %rax
	add %rdi, %rax
	ret
	.size victim_rip, . - victim_rip

/* long victim_jcc(long a): a < 0 ? -1 : a + 2; a short jcc inside the first 5 bytes. */
	.globl victim_jcc
	.type victim_jcc, @function
	.p2align 4
victim_jcc:
	test %rdi, %rdi
	js 1f
	lea 2(%rdi), %rax
	ret
1:	mov $-1, %rax
	ret
	.size victim_jcc, . - victim_jcc

/* long victim_short(long a): a; 4 bytes long, too short for a jmp: the trap path. */
	.globl victim_short
	.type victim_short, @function
	.p2align 4
victim_short:
	mov %rdi, %rax
	ret
	.size victim_short, . - victim_short

/* long victim_loop(long n): n + (n-1) + ... + 1 (n >= 1); its loop jumps back to +2. */
	.globl victim_loop
	.type victim_loop, @function
	.p2align 4
victim_loop:
	xor %eax, %eax
1:	add %rdi, %rax
	dec %rdi
	jnz 1b
	ret
	.size victim_loop, . - victim_loop

/* unsigned long victim_fact(unsigned long n): n!, recursively. */
	.globl victim_fact
	.type victim_fact, @function
	.p2align 4
victim_fact:
	push %rbx
	mov %rdi, %rbx
	cmp $1, %rdi
	jbe 1f
	lea -1(%rdi), %rdi
	call victim_fact
	imul %rbx, %rax
	pop %rbx
	ret
1:	mov $1, %eax
	pop %rbx
	ret
	.size victim_fact, . - victim_fact

/* long victim_call(long (*fn)(long), long a): fn(a), from a frame of its own. */
	.globl victim_call
	.type victim_call, @function
	.p2align 4
victim_call:
	push %rbp
	mov %rsp, %rbp
	mov %rdi, %rax
	mov %rsi, %rdi
	call *%rax
	pop %rbp
	ret
	.size victim_call, . - victim_call

/* double victim_fp(double x, long a): x * 2 + a; the return value in xmm0. */
	.globl victim_fp
	.type victim_fp, @function
	.p2align 4
victim_fp:
	push %rbp
	mov %rsp, %rbp
	addsd %xmm0, %xmm0
	cvtsi2sd %rdi, %xmm1
	addsd %xmm1, %xmm0
	pop %rbp
	ret
	.size victim_fp, . - victim_fp

/*
 * long victim_flags(unsigned long a, unsigned long b): (a < b) + 2 * a, with
 * the flags of the cmp and a red-zone slot live across victim_flags_probe.
 */
	.globl victim_flags, victim_flags_probe
	.type victim_flags, @function
	.p2align 4
victim_flags:
	mov %rdi, -8(%rsp)
	cmp %rsi, %rdi
victim_flags_probe:
	setb %al
	movzbl %al, %eax
	mov -8(%rsp), %rdx
	lea (%rax,%rdx,2), %rax
	ret
	.size victim_flags, . - victim_flags

/*
 * void victim_spin(char *flag): sets *flag, then spins on a jmp at +3, a
 * boundary inside the 5 bytes a jmp patch replaces, until a signal handler
 * moves it to victim_spin_out.
 */
	.globl victim_spin, victim_spin_out
	.type victim_spin, @function
	.p2align 4
victim_spin:
	movb $1, (%rdi)
1:	jmp 1b
victim_spin_out:
	ret
	.size victim_spin, . - victim_spin

	.data
	.globl victim_data
	.p2align 3
victim_data:
	.quad 1000

	.section .note.GNU-stack, "", @progbits
