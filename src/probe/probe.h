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
 * Vector state: the trampolines save every vector register the CPU has
 * (zmm0-31 and k0-7 with AVX-512, ymm0-15 with AVX, else xmm0-15; at a
 * return the two that may hold the return value), so a probe at any
 * offset, and a return probe, keep them all (common/vecstate.c). C++
 * exceptions may unwind through functions with a return probe: the
 * unwinder's entry points are hooked to put the original return addresses
 * back first (probe_unwind.c), and a call among the displaced instructions
 * returns into the function itself (probe_reloc.c), so the unwinder never
 * meets the trampolines' code.
 *
 * Limits. A probed function called from inside a probe (a helper calling
 * malloc, say) runs no probe and counts a miss. Return probes keep at
 * most 64 pending returns per thread (deeper ones count a miss); a
 * function left by longjmp is handled (its stale entry is dropped), and so
 * is a C++ exception, through libgcc's unwinder as a dynamic library (a
 * statically linked libgcc_eh, or another unwinder library, still meets the
 * return trampoline's address and terminates); the return probes of the
 * frames above the one that catches run only where the catch goes through
 * __cxa_begin_catch (C++); elsewhere they are lost. The vector state costs
 * a 64-byte aligned area on the probed thread's stack (2112 bytes with
 * AVX-512); x87 registers are not saved (the C code does not use them);
 * with AVX-512 but not AVX-512BW (Xeon Phi) only ymm0-15 are. A
 * PROBE_RETURN belongs at a function's entry. A function too short for a
 * 5-byte jmp, whose first instructions cannot be relocated, or into whose
 * first bytes a branch leads, takes the trap path
 * (int3 and SIGTRAP, microseconds per hit); an application that replaces
 * the SIGTRAP handler afterwards breaks that path. Patching a function
 * whose first instruction is shorter than the jmp queues SIGRTMAX to the
 * running threads (its handler chained to the one before), to wait until
 * none is stopped inside the bytes replaced. Probes live as long as the
 * library holding this code: it must not be unloaded while any is.
 *
 * Every function returns 0 or a negative errno with a message in err.
 */
#ifndef UEBPF_PROBE_H
#define UEBPF_PROBE_H

#include <stdbool.h>
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

/*
 * Whether p's function took the trap path (an int3 and a signal per hit, a
 * few microseconds) rather than a jmp, and why (*why may be NULL).
 */
bool probe_is_trap(const struct probe *p, const char **why);
/*
 * Hits of p's function that ran no program: called from inside a program or
 * helper (recursion), or with 64 return probes pending on the thread.
 */
uint64_t probe_missed(const struct probe *p);

int probe_resolve(const char *target, void **addr, char *err, size_t err_len);
int probe_resolve_file_off(const char *path, uint64_t off, void **addr, char *err, size_t err_len);
/* The same for data: where file offset off of path is mapped writable here. */
int probe_resolve_data_off(const char *path, uint64_t off, void **addr, char *err, size_t err_len);

/*
 * USDT semaphores (probe_usdt.c): the 16-bit counter at file offset off of
 * path, incremented atomically while a probe is attached with it, as the
 * kernel does for a uprobe's ref_ctr_offset; put takes the increment back
 * (NULL is a no-op).
 */
int probe_semaphore_get(const char *path, uint64_t off, uint16_t **sema, char *err, size_t err_len);
void probe_semaphore_put(uint16_t *sema);

#endif
