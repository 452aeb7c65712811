/* SPDX-License-Identifier: MIT */
/*
 * Copies that may touch bad addresses. Every instruction between
 * helper_copy_begin and helper_copy_end may fault; the SIGSEGV/SIGBUS
 * handler in probe_helpers.c resumes a fault there at helper_copy_fixup,
 * which returns -EFAULT from whichever routine faulted (none of them has
 * pushed anything, so its return address is at the top of the stack). The
 * kernel's exception tables do the same for copy_from_user.
 *
 * int helper_copy_user(void *dst, const void *src, size_t n)
 *	0, or -EFAULT with dst partly written.
 * long helper_copy_user_str(char *dst, const char *src, size_t n)
 *	copies up to and including the first NUL, at most n bytes: returns
 *	the bytes copied, or -EFAULT.
 */
#define EFAULT 14

	.text
	.globl helper_copy_begin, helper_copy_end, helper_copy_fixup
	.hidden helper_copy_begin, helper_copy_end, helper_copy_fixup
	.globl helper_copy_user, helper_copy_user_str
	.hidden helper_copy_user, helper_copy_user_str

	.p2align 4
helper_copy_begin:
	.type helper_copy_user, @function
helper_copy_user:
	cmpq $8, %rdx
	jne 1f
	movq (%rsi), %rax
	movq %rax, (%rdi)
	xorl %eax, %eax
	ret
1:	cmpq $4, %rdx
	jne 2f
	movl (%rsi), %eax
	movl %eax, (%rdi)
	xorl %eax, %eax
	ret
2:	movq %rdx, %rcx
	rep movsb
	xorl %eax, %eax
	ret
	.size helper_copy_user, . - helper_copy_user

	.type helper_copy_user_str, @function
helper_copy_user_str:
	xorl %eax, %eax
	testq %rdx, %rdx
	je 2f
1:	movzbl (%rsi,%rax), %ecx
	movb %cl, (%rdi,%rax)
	incq %rax
	testb %cl, %cl
	je 2f
	cmpq %rdx, %rax
	jb 1b
2:	ret
	.size helper_copy_user_str, . - helper_copy_user_str
helper_copy_end:

	.type helper_copy_fixup, @function
helper_copy_fixup:
	movq $-EFAULT, %rax
	ret
	.size helper_copy_fixup, . - helper_copy_fixup

	.section .note.GNU-stack, "", @progbits
