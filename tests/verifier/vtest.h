/* SPDX-License-Identifier: MIT */
/*
 * Shared by the verifier tests: reading files, loading programs into the
 * kernel as a given program type, and timing.
 */
#ifndef UEBPF_VTEST_H
#define UEBPF_VTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"
#include "uebpf/uebpf.h"

#define VT_SKIP 77

/* The whole file, NUL-terminated and malloc'd, or NULL (message on stderr). */
char *vt_read_file(const char *path);

/*
 * Load into the kernel as type and close it again. Returns 0 when the
 * kernel's verifier accepted it, a negative errno otherwise (its log, the
 * tail if longer, in log). *ns gets the time bpf_prog_load took, loading
 * without a log (the kernel's verifier, then its JIT).
 */
int vt_kernel_verdict(enum uebpf_prog_type type, const struct isa_insn *insns, size_t n, char *log,
		      size_t log_len, uint64_t *ns);

/*
 * Load with the kernel's statistics log (log_level 4): its own verification
 * time and instructions processed. Returns 0 or a negative errno.
 */
int vt_kernel_stats(enum uebpf_prog_type type, const struct isa_insn *insns, size_t n,
		    unsigned *verify_us, unsigned *processed);

struct rule_map;

/*
 * The corpus maps in the kernel, their fds in fds: the read-only one (flag
 * BPF_F_RDONLY_PROG) holds the string "hi" at offset 0 and is frozen.
 * Returns 0 or a negative errno.
 */
int vt_kernel_maps(const struct rule_map *maps, unsigned n, int *fds);

/* Whether the kernel can load programs here; if not, why says so. */
bool vt_kernel_available(char *why, size_t len);

uint64_t vt_now_ns(void);

#endif
