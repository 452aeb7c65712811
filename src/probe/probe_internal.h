/* SPDX-License-Identifier: MIT */
/*
 * probe internals: the per-function site (its trampoline page, its probes,
 * how it is patched), the per-thread state of the dispatcher, and what each
 * file of the module offers the others.
 *
 * A site's page, reserved within rel32 reach of the function and sealed
 * read-execute once, never written or freed again (a thread may be inside
 * it at any time, even long after its probes are gone):
 *
 *   +0   .quad probe_entry_common          called through the slot below
 *   +8   .quad the struct probe_site *     found by probe_entry_common
 *   +16  lea -128(%rsp), %rsp              step below the red zone
 *   +21  call *-27(%rip)                   to probe_entry_common (+0)
 *   +27  lea 128(%rsp), %rsp
 *   +35  the displaced instructions, relocated; jmp back to the function
 *   ...  the out-of-line copy of the first instruction for the trap path,
 *        relocated; jmp back after it
 */
#ifndef UEBPF_PROBE_INTERNAL_H
#define UEBPF_PROBE_INTERNAL_H

/* The return address probe_entry_common finds on its stack, less this, is the site slot. */
#define PROBE_STUB_SITE_BACK 19

#ifndef __ASSEMBLER__

#include <asm/ptrace.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe.h"

#define PROBE_STUB_CODE 16     /* offset of the stub's code in the page */
#define PROBE_STUB_CONT 35     /* offset of the relocated instructions */
#define PROBE_JMP_LEN 5	       /* jmp rel32: the patch at the function */
#define PROBE_DISPLACED_MAX 32 /* displaced bytes, original or relocated */
#define PROBE_SHADOW_DEPTH 64  /* return probes pending per thread */

/* The probes of a site, as the dispatcher reads them: replaced whole, never edited. */
struct probe_list {
	unsigned n_entry, n_return;
	struct probe *p[]; /* n_entry entry probes, then n_return return probes */
};

enum probe_mode {
	PROBE_MODE_JMP,	 /* a jmp to the stub */
	PROBE_MODE_TRAP, /* an int3; the SIGTRAP handler runs the probes */
};

struct probe_site {
	uintptr_t addr;
	enum probe_mode mode;
	uint8_t *page; /* the trampoline page */
	size_t map_len;
	uintptr_t stub;			   /* stub code: where a thread goes in place of addr */
	uintptr_t ool;			   /* trap path: the relocated first instruction */
	size_t patch_len;		   /* bytes patched at addr: 5 (jmp) or 1 (int3) */
	uint8_t orig[PROBE_DISPLACED_MAX]; /* the function's bytes before any patch */
	size_t orig_len;
	size_t first_len; /* length of the function's first instruction */
	bool patched;
	_Atomic(struct probe_list *) list;
	_Atomic uint64_t missed;
	struct probe_site *next; /* probe_sites, pushed once, never unlinked */
	char why_trap[160];	 /* why the site took the trap path */
};

struct probe {
	probe_fn fn;
	void *ctx;
	enum probe_kind kind;
	struct probe_site *site;
};

/* Every site ever made, newest first; read without lock by the SIGTRAP handler. */
extern _Atomic(struct probe_site *) probe_sites;

/* probe_dispatch.c: called by the trampolines and the SIGTRAP handler. */
void probe_dispatch_entry(struct probe_site *site, struct pt_regs *regs);
uint64_t probe_dispatch_return(struct pt_regs *regs);
/*
 * For an unwinder about to walk the calling thread's stack from sp: the
 * original return addresses of its pending return probes go back into
 * their slots (disarm); where a catch resumes with sp, the entries of the
 * frames unwound are dropped and the live ones armed again (rearm).
 */
void probe_shadow_disarm(uint64_t sp);
void probe_shadow_rearm(uint64_t sp);
/* probe_unwind.c: hook the unwinder's entry points, once found (after a return probe). */
void probe_unwind_setup(void);
/*
 * After a site's list was replaced: wait until no thread can still be
 * running a probe of the old list, so the caller may free it (and the
 * probes' contexts).
 */
void probe_sync_threads(void);

/* probe_tramp.S */
void probe_entry_common(void);
void probe_return_tramp(void);

/* probe_reloc.c: the displaced instructions, moved. */
struct probe_reloc {
	uint8_t code[2 * PROBE_DISPLACED_MAX]; /* relocated, with the jmp back */
	size_t len;
	size_t orig_len; /* original bytes they replace */
};
/*
 * Relocates whole instructions from code (at address addr, avail bytes
 * readable) covering at least min bytes, for placement at dst, and appends
 * a jmp back to addr + orig_len. Returns 0, or -EOPNOTSUPP with the reason
 * in why (an instruction that cannot move, code that ends before min bytes,
 * a branch into the covered bytes).
 */
int probe_relocate(const uint8_t *code, uintptr_t addr, size_t avail, size_t min, uintptr_t dst,
		   struct probe_reloc *out, char *why, size_t why_len);
/*
 * Does any branch (or RIP-relative address) of the function [start, end)
 * point into (addr, addr + len)? Then patching those bytes would break it.
 */
bool probe_branches_into(uintptr_t start, uintptr_t end, uintptr_t addr, size_t len);

/* probe_patch.c: writing code while other threads run it. */
/*
 * inner: the code now at addr has an instruction boundary inside the len
 * bytes, where a thread may be stopped; the write then waits for none to be
 * (probe_fence).
 */
int probe_patch_write(uintptr_t addr, const uint8_t *bytes, size_t len, bool inner, char *err,
		      size_t err_len);
int probe_trap_install(char *err, size_t err_len);
/* The protection (PROT_*) and end of the mapping that holds addr, from /proc/self/maps. */
int probe_mapping(uintptr_t addr, int *prot, uintptr_t *end);

/*
 * probe_fence.c: with an int3 over addr already visible to every thread,
 * waits until no thread is stopped inside (addr, addr + len), where the
 * rest of the patch goes; -EBUSY if one keeps stopping there, or another
 * negative errno when the threads cannot be checked.
 */
int probe_fence(uintptr_t addr, size_t len);

/* probe_resolve.c: the ELF function around addr ([*start, *start + *size)), or -ENOENT. */
int probe_func_extent(uintptr_t addr, uintptr_t *start, size_t *size);

#endif /* __ASSEMBLER__ */

#endif
