/* SPDX-License-Identifier: MIT */
/*
 * The functions the uprobe benchmark calls and probes. bench_push opens
 * with push %rbp, which the kernel's uprobes emulate (the fair case);
 * bench_rip opens with a RIP-relative load, which the kernel must
 * single-step out of line.
 */
	.text
	.globl bench_push
	.type bench_push, @function
	.p2align 4
bench_push:
	push %rbp
	mov %rsp, %rbp
	lea 1(%rdi), %rax
	pop %rbp
	ret
	.size bench_push, . - bench_push

	.globl bench_rip
	.type bench_rip, @function
	.p2align 4
bench_rip:
	mov bench_data(%rip), %rax
	add %rdi, %rax
	ret
	.size bench_rip, . - bench_rip

	.data
	.p2align 3
bench_data:
	.quad 1

	.section .note.GNU-stack, "", @progbits
