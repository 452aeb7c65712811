/* SPDX-License-Identifier: MIT */
/*
 * suite_victim: what the suite's uprobe tests probe. A real function with a
 * frame (push %rbp), the prologue most compiled functions have, so a uebpf
 * probe patches it with a jump and a kernel uprobe emulates its first
 * instruction rather than single-stepping it. Returns its argument plus 1.
 */
	.text
	.globl	suite_victim
	.type	suite_victim, @function
suite_victim:
	push	%rbp
	mov	%rsp, %rbp
	lea	1(%rdi), %rax
	pop	%rbp
	ret
	.size	suite_victim, .-suite_victim
	.section .note.GNU-stack,"",@progbits
