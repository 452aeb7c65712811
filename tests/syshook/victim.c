// SPDX-License-Identifier: MIT
/* A library dlopened after the install: its own system call site, which syshook_rescan rewrites. */
long victim_getpid(void);

long victim_getpid(void)
{
	long ret;

	__asm__ volatile("movl $39, %%eax\n\tsyscall" : "=a"(ret) : : "rcx", "r11", "memory");
	return ret;
}
