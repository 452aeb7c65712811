/* SPDX-License-Identifier: MIT */
/*
 * jit: the x86-64 JIT engine. vm_jit_engine compiles a loaded program's
 * decoded ops to native code (uebpf_vm_set_engine(vm, UEBPF_ENGINE_JIT));
 * jit_insn_range and jit_print_disasm show that code per eBPF instruction
 * (the latter lives in the uebpf_jit_disasm library, which needs Capstone).
 */
#ifndef UEBPF_JIT_H
#define UEBPF_JIT_H

#include <stddef.h>
#include <stdio.h>

#include "vm/vm.h"

extern const struct vm_engine vm_jit_engine;

/*
 * The native code of instruction slot pc of a VM loaded with the JIT engine:
 * *start and *len (0 for the second slot of lddw). Returns 0, or -EINVAL
 * when vm runs on another engine, has no program or pc is out of range.
 */
int jit_insn_range(const struct uebpf_vm *vm, size_t pc, const void **start, size_t *len);

/*
 * Print the program of a VM loaded with the JIT engine to out: each eBPF
 * instruction followed by its x86-64 code, then the prologue, stubs and
 * routines. Returns 0, or a negative errno.
 */
int jit_print_disasm(const struct uebpf_vm *vm, FILE *out);

/*
 * Executable memory, also for other modules' code (probe's trampolines):
 * jit_mem_reserve maps len bytes read-write, if it can within 1 GiB below
 * near (NULL: anywhere), or returns NULL with errno set; jit_mem_seal copies
 * the code in and makes the mapping read and execute only, returning 0 or a
 * negative errno.
 */
void *jit_mem_reserve(size_t len, const void *near, size_t *map_len);
int jit_mem_seal(void *p, const void *code, size_t len, size_t map_len);
void jit_mem_unmap(void *code, size_t map_len);

#endif
