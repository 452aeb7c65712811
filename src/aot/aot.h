/* SPDX-License-Identifier: MIT */
/*
 * aot: the ahead-of-time engine. A loaded program is translated into C,
 * compiled by the system C compiler into a shared object (cached on disk,
 * keyed by the translation, bounded by $UEBPF_AOT_CACHE_MAX bytes with
 * least-recently-used eviction) and run through dlopen. Simple helpers of
 * src/helpers (array lookups, the clocks, the CPU, prandom, csum_diff)
 * are open-coded; callbacks (bpf_loop, for_each_map_elem) are entries of
 * the code that call_sub runs.
 *
 * Maps: the shared object holds no address of the process that loads it.
 * It is specialised for the shapes of the maps the program refers to (type,
 * key and value size, max_entries, flags, CPUs, layout: part of its
 * identity), and gets the maps themselves at each run, as a table of two
 * words per map in the order the program first refers to them: the map's
 * handle (what an lddw of the map loads) and the address of its memory
 * (array values, global data). So an object built ahead of time from an
 * ELF object (uebpf aot OBJ), or by another process into the cache, serves
 * every later load of that program, whatever fds and addresses its maps
 * get there.
 *
 * Besides the engine itself, the uebpf CLI uses the two steps apart: print
 * the C translation, or build the shared object at a path of its choosing.
 * Both take a VM with a program loaded by any engine (for an ELF object,
 * the VM the bpf() emulation loaded, with its maps bound).
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
