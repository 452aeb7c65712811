/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the AOT engine share: the interface between the host and
 * the generated code (struct aot_ctx), the translation options, and the
 * emitter, compiler driver and cache entry points.
 */
#ifndef UEBPF_AOT_INTERNAL_H
#define UEBPF_AOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vm/vm.h"

/*
 * Bumped whenever the generated code changes meaning. The cache key already
 * covers the generated text; the version also marks the shared objects
 * themselves (see aot_identity).
 */
#define AOT_EMIT_VERSION 2

/* Symbols of the generated shared object. */
#define AOT_SYM_ENTRY "uebpf_aot_run"
#define AOT_SYM_IDENTITY "uebpf_aot_identity"
#define AOT_SYM_IDENTITY_WORDS "uebpf_aot_identity_words"

/*
 * One run, as the generated code sees it. The generated file declares the
 * same struct and asserts every offset below against the values the host
 * compiler gives it, so the two cannot drift apart silently.
 */
struct aot_ctx {
	/* in */
	uint64_t r1, r2;
	uint64_t mem, mem_len;
	uint64_t budget;		/* budgeted translations: instructions allowed, never 0 */
	const uebpf_helper_fn *helpers; /* by helper ID, for call with an immediate */
	bool (*region_ok)(const struct uebpf_vm *vm, uintptr_t addr, unsigned size, bool write);
	uebpf_helper_fn (*helper)(const struct uebpf_vm *vm, uint64_t id, unsigned *flags);
	const struct uebpf_vm *vm;
	/* where the code publishes its stack for helpers: &run->stack_lo, &run->stack_hi */
	uintptr_t *stack_lo, *stack_hi;
	/* out */
	uint64_t executed; /* budgeted translations: instructions run, on a normal return */
	uint64_t pc, addr;
	uint32_t fault, size; /* enum vm_fault, and what struct vm_run says with it */
};

typedef uint64_t (*aot_entry_fn)(struct aot_ctx *ctx);

/* What a translation is specialised for; part of its identity. */
struct aot_opts {
	/* count instructions against ctx->budget */
	bool budgeted;
};

/*
 * The words that identify a translation: emitter version, options, the
 * instructions, the values their map references resolved to and the
 * decoded operation codes. The generated object carries them, and the
 * loader compares them with its own before trusting an object found in the
 * cache, so that a hash collision or a stale file can never run another
 * program. Returns a malloc'd array of *n words, or NULL.
 */
uint64_t *aot_identity(const struct uebpf_vm *vm, const struct aot_opts *opts, size_t *n);

/* The C translation of vm's program. Returns 0 or a negative errno. */
int aot_emit(const struct uebpf_vm *vm, const struct aot_opts *opts, FILE *out);

/*
 * The compiler to run, malloc'd into *out: cc if given, else the one set
 * through the API, else $UEBPF_CC if set and not empty, else "cc".
 */
int aot_config_cc(const char *cc, char **out);

/*
 * The cache directory's path, malloc'd into *out: the one set through the
 * API, else $UEBPF_AOT_CACHE, else $XDG_CACHE_HOME/uebpf/aot, else
 * ~/.cache/uebpf/aot. -ENOENT when there is none of them.
 */
int aot_config_cache_dir(char **out);

/* Whether a load without an object falls back to another engine: unless UEBPF_AOT_FALLBACK=0. */
bool aot_config_fallback(void);

/*
 * Compile the C text into a new shared object in dir with the compiler cc
 * (NULL: the configured one, see aot_config_cc). Its name begins with
 * stem and is unique; *so gets its malloc'd path. The caller renames or
 * removes it.
 */
int aot_compile(const char *cc, const char *text, size_t len, const char *dir, const char *stem,
		char **so, char *err, size_t err_len);

/* The cache directory, created if needed and checked to be private: malloc'd in *dir. */
int aot_cache_dir(char **dir, char *err, size_t err_len);

/* The cache file name of a translation: 32 hex digits of a 128-bit hash of its text. */
#define AOT_KEY_LEN 33
void aot_cache_key(const char *text, size_t len, char key[AOT_KEY_LEN]);

#endif
