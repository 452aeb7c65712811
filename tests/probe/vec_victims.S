/* SPDX-License-Identifier: MIT */
/*
 * Victims that keep values in vector registers across a probe (test_xstate.c).
 * Buffers: 32 slots of 64 bytes (zmm0-31; ymm0-15 use the low 32 bytes of
 * slots 0-15), then k0-7 at 2048 + 8 * i (16 bits each).
 *
 * void vec_keep(const void *in, void *out, long avx512): loads the
 * registers from in, runs vec_keep_site (probed at symbol+offset: 6 bytes
 * of plain moves), stores them to out.
 * void vec_ret_call(const void *in, void *out, long avx512): calls vec_ret
 * (probed at its return), which returns with zmm0/zmm1 (ymm0/ymm1) loaded
 * from in, and stores those two to out.
 */
#define KOFF 2048
	.text
	.globl vec_keep, vec_keep_site
	.type vec_keep, @function
	.p2align 4
vec_keep:
	push %rbp
	mov %rsp, %rbp
	test %rdx, %rdx
	jz 1f
	vmovdqu64 0(%rdi), %zmm0
	vmovdqu64 64(%rdi), %zmm1
	vmovdqu64 128(%rdi), %zmm2
	vmovdqu64 192(%rdi), %zmm3
	vmovdqu64 256(%rdi), %zmm4
	vmovdqu64 320(%rdi), %zmm5
	vmovdqu64 384(%rdi), %zmm6
	vmovdqu64 448(%rdi), %zmm7
	vmovdqu64 512(%rdi), %zmm8
	vmovdqu64 576(%rdi), %zmm9
	vmovdqu64 640(%rdi), %zmm10
	vmovdqu64 704(%rdi), %zmm11
	vmovdqu64 768(%rdi), %zmm12
	vmovdqu64 832(%rdi), %zmm13
	vmovdqu64 896(%rdi), %zmm14
	vmovdqu64 960(%rdi), %zmm15
	vmovdqu64 1024(%rdi), %zmm16
	vmovdqu64 1088(%rdi), %zmm17
	vmovdqu64 1152(%rdi), %zmm18
	vmovdqu64 1216(%rdi), %zmm19
	vmovdqu64 1280(%rdi), %zmm20
	vmovdqu64 1344(%rdi), %zmm21
	vmovdqu64 1408(%rdi), %zmm22
	vmovdqu64 1472(%rdi), %zmm23
	vmovdqu64 1536(%rdi), %zmm24
	vmovdqu64 1600(%rdi), %zmm25
	vmovdqu64 1664(%rdi), %zmm26
	vmovdqu64 1728(%rdi), %zmm27
	vmovdqu64 1792(%rdi), %zmm28
	vmovdqu64 1856(%rdi), %zmm29
	vmovdqu64 1920(%rdi), %zmm30
	vmovdqu64 1984(%rdi), %zmm31
	kmovw KOFF + 8(%rdi), %k1
	kmovw KOFF + 16(%rdi), %k2
	kmovw KOFF + 24(%rdi), %k3
	kmovw KOFF + 32(%rdi), %k4
	kmovw KOFF + 40(%rdi), %k5
	kmovw KOFF + 48(%rdi), %k6
	kmovw KOFF + 56(%rdi), %k7
	jmp vec_keep_site
1:
	vmovdqu 0(%rdi), %ymm0
	vmovdqu 64(%rdi), %ymm1
	vmovdqu 128(%rdi), %ymm2
	vmovdqu 192(%rdi), %ymm3
	vmovdqu 256(%rdi), %ymm4
	vmovdqu 320(%rdi), %ymm5
	vmovdqu 384(%rdi), %ymm6
	vmovdqu 448(%rdi), %ymm7
	vmovdqu 512(%rdi), %ymm8
	vmovdqu 576(%rdi), %ymm9
	vmovdqu 640(%rdi), %ymm10
	vmovdqu 704(%rdi), %ymm11
	vmovdqu 768(%rdi), %ymm12
	vmovdqu 832(%rdi), %ymm13
	vmovdqu 896(%rdi), %ymm14
	vmovdqu 960(%rdi), %ymm15
vec_keep_site:
	mov %rdi, %rax
	mov %rsi, %rcx
	test %rdx, %rdx
	jz 3f
	vmovdqu64 %zmm0, 0(%rcx)
	vmovdqu64 %zmm1, 64(%rcx)
	vmovdqu64 %zmm2, 128(%rcx)
	vmovdqu64 %zmm3, 192(%rcx)
	vmovdqu64 %zmm4, 256(%rcx)
	vmovdqu64 %zmm5, 320(%rcx)
	vmovdqu64 %zmm6, 384(%rcx)
	vmovdqu64 %zmm7, 448(%rcx)
	vmovdqu64 %zmm8, 512(%rcx)
	vmovdqu64 %zmm9, 576(%rcx)
	vmovdqu64 %zmm10, 640(%rcx)
	vmovdqu64 %zmm11, 704(%rcx)
	vmovdqu64 %zmm12, 768(%rcx)
	vmovdqu64 %zmm13, 832(%rcx)
	vmovdqu64 %zmm14, 896(%rcx)
	vmovdqu64 %zmm15, 960(%rcx)
	vmovdqu64 %zmm16, 1024(%rcx)
	vmovdqu64 %zmm17, 1088(%rcx)
	vmovdqu64 %zmm18, 1152(%rcx)
	vmovdqu64 %zmm19, 1216(%rcx)
	vmovdqu64 %zmm20, 1280(%rcx)
	vmovdqu64 %zmm21, 1344(%rcx)
	vmovdqu64 %zmm22, 1408(%rcx)
	vmovdqu64 %zmm23, 1472(%rcx)
	vmovdqu64 %zmm24, 1536(%rcx)
	vmovdqu64 %zmm25, 1600(%rcx)
	vmovdqu64 %zmm26, 1664(%rcx)
	vmovdqu64 %zmm27, 1728(%rcx)
	vmovdqu64 %zmm28, 1792(%rcx)
	vmovdqu64 %zmm29, 1856(%rcx)
	vmovdqu64 %zmm30, 1920(%rcx)
	vmovdqu64 %zmm31, 1984(%rcx)
	kmovw %k1, KOFF + 8(%rcx)
	kmovw %k2, KOFF + 16(%rcx)
	kmovw %k3, KOFF + 24(%rcx)
	kmovw %k4, KOFF + 32(%rcx)
	kmovw %k5, KOFF + 40(%rcx)
	kmovw %k6, KOFF + 48(%rcx)
	kmovw %k7, KOFF + 56(%rcx)
	jmp 4f
3:
	vmovdqu %ymm0, 0(%rcx)
	vmovdqu %ymm1, 64(%rcx)
	vmovdqu %ymm2, 128(%rcx)
	vmovdqu %ymm3, 192(%rcx)
	vmovdqu %ymm4, 256(%rcx)
	vmovdqu %ymm5, 320(%rcx)
	vmovdqu %ymm6, 384(%rcx)
	vmovdqu %ymm7, 448(%rcx)
	vmovdqu %ymm8, 512(%rcx)
	vmovdqu %ymm9, 576(%rcx)
	vmovdqu %ymm10, 640(%rcx)
	vmovdqu %ymm11, 704(%rcx)
	vmovdqu %ymm12, 768(%rcx)
	vmovdqu %ymm13, 832(%rcx)
	vmovdqu %ymm14, 896(%rcx)
	vmovdqu %ymm15, 960(%rcx)
4:	vzeroupper
	pop %rbp
	ret
	.size vec_keep, . - vec_keep

	.globl vec_ret
	.type vec_ret, @function
	.p2align 4
vec_ret:
	push %rbp
	mov %rsp, %rbp
	test %rdx, %rdx
	jz 1f
	vmovdqu64 0(%rdi), %zmm0
	vmovdqu64 64(%rdi), %zmm1
	jmp 2f
1:	vmovdqu 0(%rdi), %ymm0
	vmovdqu 64(%rdi), %ymm1
2:	pop %rbp
	ret
	.size vec_ret, . - vec_ret

	.globl vec_ret_call
	.type vec_ret_call, @function
	.p2align 4
vec_ret_call:
	push %rbx
	push %r12
	push %r13
	mov %rsi, %r12
	mov %rdx, %r13
	call vec_ret
	test %r13, %r13
	jz 1f
	vmovdqu64 %zmm0, 0(%r12)
	vmovdqu64 %zmm1, 64(%r12)
	jmp 2f
1:	vmovdqu %ymm0, 0(%r12)
	vmovdqu %ymm1, 64(%r12)
2:	vzeroupper
	pop %r13
	pop %r12
	pop %rbx
	ret
	.size vec_ret_call, . - vec_ret_call

	.section .note.GNU-stack, "", @progbits
