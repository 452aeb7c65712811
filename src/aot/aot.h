/* SPDX-License-Identifier: MIT */
/*
 * aot: the ahead-of-time engine. A loaded program is translated into C,
 * compiled by the system C compiler into a shared object (cached on disk,
 * keyed by the translation) and run through dlopen.
 *
 * Besides the engine itself, the uebpf CLI uses the two steps apart: print
 * the C translation, or build the shared object at a path of its choosing.
 * Both take a VM with a program loaded by any engine.
 */
#ifndef UEBPF_AOT_H
#define UEBPF_AOT_H

#include <stddef.h>
#include <stdio.h>

#include "vm/vm.h"

extern const struct vm_engine vm_aot_engine;

/* Write the C translation of the program loaded in vm to out. Returns 0 or a negative errno. */
int aot_emit_c(const struct uebpf_vm *vm, FILE *out, char *err, size_t err_len);

/*
 * Compile the program loaded in vm into a shared object at path (replaced
 * atomically), with the compiler cc: NULL means the configured one (see
 * uebpf_aot_set_compiler). cc is
 * run directly, without a shell, so it names one program. Returns 0 or a
 * negative errno with the compiler's own messages in err.
 */
int aot_compile_so(const struct uebpf_vm *vm, const char *cc, const char *path, char *err,
		   size_t err_len);

#endif
