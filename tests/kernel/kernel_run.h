/* SPDX-License-Identifier: MIT */
/*
 * kernel_run: run raw eBPF instructions in the running kernel, as a socket
 * filter through BPF_PROG_TEST_RUN, to compare other engines against it.
 * Needs the bpf() syscall and the privilege to load programs (root).
 */
#ifndef UEBPF_KERNEL_RUN_H
#define UEBPF_KERNEL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"

/*
 * Whether programs can be loaded and run here; if not, why holds the reason
 * (e.g. "bpf(BPF_PROG_LOAD): Operation not permitted").
 */
bool kernel_bpf_available(char *why, size_t len);

/*
 * Load n slots as a socket filter. Returns the program's fd, or a negative
 * errno; when the verifier rejected the program, log holds its log (the
 * tail, if the log is longer than log_len).
 */
int kernel_prog_load(const struct isa_insn *insns, size_t n, char *log, size_t log_len);

/*
 * Run a loaded program once on a zeroed packet. Returns 0 with the program's
 * return value in *retval (only its low 32 bits reach user space), or a
 * negative errno.
 */
int kernel_prog_run(int fd, uint32_t *retval);

#endif
