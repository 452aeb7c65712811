/* SPDX-License-Identifier: MIT */
/*
 * probe: hooks on function entry (uprobe) and return (uretprobe) in the
 * current process, without a trap per call.
 *
 * probe_attach patches the function at addr so that every call first runs
 * fn(ctx, regs) with the caller's registers in a struct pt_regs of the
 * kernel's x86-64 layout (what libbpf's PT_REGS_* macros read); for
 * PROBE_RETURN, fn runs when the function returns, with the return value in
 * regs->ax. Several probes may share a function. Calls from any number of
 * threads take no lock; patching and detaching are safe while other threads
 * run the function, and detaching the last probe of a function restores its
 * original bytes.
 *
 * Targets are named as libbpf names them: probe_resolve takes
 * "binary:symbol", "binary:symbol+off" or "binary:0xaddr" (binary a path or
 * the file name of an object mapped in this process; "" or "self" for the
 * main executable), probe_resolve_file_off the (path, file offset) pair that
 * libbpf's attach_uprobe gives perf_event_open.
 *
 * Every function returns 0 or a negative errno with a message in err.
 */
#ifndef UEBPF_PROBE_H
#define UEBPF_PROBE_H

#include <stddef.h>
#include <stdint.h>

struct pt_regs;
struct probe;

enum probe_kind {
	PROBE_ENTRY = 0,
	PROBE_RETURN = 1,
};

typedef void (*probe_fn)(void *ctx, struct pt_regs *regs);

int probe_attach(void *addr, enum probe_kind kind, probe_fn fn, void *ctx, struct probe **out,
		 char *err, size_t err_len);
int probe_detach(struct probe *p, char *err, size_t err_len);

int probe_resolve(const char *target, void **addr, char *err, size_t err_len);
int probe_resolve_file_off(const char *path, uint64_t off, void **addr, char *err,
			   size_t err_len);

#endif
