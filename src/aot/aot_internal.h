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
#define AOT_EMIT_VERSION 4

/* Symbols of the generated shared object. */
#define AOT_SYM_ENTRY "uebpf_aot_run"
#define AOT_SYM_IDENTITY "uebpf_aot_identity"
#define AOT_SYM_IDENTITY_WORDS "uebpf_aot_identity_words"

/*
 * Words per bound map in struct aot_ctx.maps, in the order of vm->maps:
 * the map's handle (what an lddw of the map loads), the address of its
 * memory (map_prog_range: values, the ring, the slots), 0 when it has none,
 * and the struct map with the functions the helpers would call on it
 * (map_lookup_func, map_update, map_delete), which the code calls directly
 * on a known map.
 */
enum {
	AOT_MAP_HANDLE,
	AOT_MAP_BASE,
	AOT_MAP_OBJ,
	AOT_MAP_LOOKUP,
	AOT_MAP_UPDATE,
	AOT_MAP_DELETE,
	AOT_MAP_WORDS
};

/*
 * One run, as the generated code sees it. The generated file declares the
 * same struct and asserts every offset below against the values the host
 * compiler gives it, so the two cannot drift apart silently.
 */
struct aot_ctx {
	/* in */
	uint64_t r1, r2, r3, r4, r5; /* r3-r5: a callback's arguments */
	uint64_t mem, mem_len;
	uint64_t budget;		/* budgeted translations: instructions allowed, never 0 */
	const uebpf_helper_fn *helpers; /* by helper ID, for call with an immediate */
	bool (*region_ok)(const struct uebpf_vm *vm, uintptr_t addr, unsigned size, bool write);
	uebpf_helper_fn (*helper)(const struct uebpf_vm *vm, uint64_t id, unsigned *flags);
	const struct uebpf_vm *vm;
	const uint64_t *maps; /* AOT_MAP_WORDS per bound map: the maps of this load */
	uint64_t ops;	      /* vm->ops: a callback's handle is ops + pc * sizeof(struct vm_op) */
	uint64_t entry;	      /* 0: the program; pc + 1: the callback at pc (call_sub) */
	const volatile int32_t *cpu_id; /* this thread's rseq cpu_id, or NULL: ask the helper */
	uint64_t *prandom;		/* this thread's bpf_get_prandom_u32 state */
	/*
	 * The run: where the code publishes its stack for helpers (the stack
	 * and, with callbacks, the current frame), where a callback starts
	 * its frames, and where a callback's fault is recorded.
	 */
	uintptr_t *stack_lo, *stack_hi, *frame_lo;
	const volatile uint32_t *run_fault;
	struct vm_tail_ret (*tail_frame)(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4,
					 uint64_t r5); /* vm_tail_call_frame */
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

/* A bound map as the code is specialised for it (aot_plan.c). */
struct aot_map_shape {
	uint32_t type, key_size, value_size, max_entries, flags, nr_cpus;
	bool rdonly_prog;
	uint64_t range_len; /* bytes of its memory from AOT_MAP_BASE (map_prog_range) */
	/* ARRAY, PERCPU_ARRAY (map_array_inline_info): entries from AOT_MAP_BASE */
	bool array;
	uint32_t stride;
	uint64_t cpu_step;
	/* another map whose lookup the code calls directly (AOT_MAP_LOOKUP) */
	bool direct;
};

/* Helpers the emitter open-codes, as bits of aot_plan.inline_mask. */
enum {
	AOT_INLINE_MAP_LOOKUP, /* on ARRAY and PERCPU_ARRAY maps; a direct call for the others */
	AOT_INLINE_KTIME,
	AOT_INLINE_KTIME_BOOT,
	AOT_INLINE_KTIME_COARSE,
	AOT_INLINE_PRANDOM,
	AOT_INLINE_CPU,
	AOT_INLINE_CSUM_DIFF,
	AOT_INLINE_MAP_UPDATE, /* direct calls of map_update on known maps */
	AOT_INLINE_MAP_DELETE, /* and of map_delete */
	AOT_INLINE_COUNT
};

/*
 * What a translation of vm's program depends on besides the instructions:
 * the shapes of its maps (and, for this load only, where their memory is),
 * the helpers it open-codes (those the program calls are src/helpers' own,
 * not a stop-on-zero registration), and whether it passes callbacks.
 */
struct aot_plan {
	size_t nmaps;
	struct aot_map_shape *maps;
	uint64_t *base; /* this load's AOT_MAP_BASE of each map: not part of the code */
	bool callbacks;
	unsigned inline_mask;
	bool needs_cpu;	    /* ctx->cpu_id is read */
	bool needs_prandom; /* ctx->prandom is used */
};

int aot_plan(const struct uebpf_vm *vm, struct aot_plan *plan);
void aot_plan_free(struct aot_plan *plan);
/*
 * Whether the code calls map_update and map_delete directly on a map of
 * this shape, known at the call: a key (and value) to check, and a map
 * programs may change.
 */
bool aot_changes_direct(const struct aot_map_shape *s);
/* Whether the plan open-codes the helper with kernel ID id. */
bool aot_inlines(const struct aot_plan *plan, uint32_t id);

/* An lddw that decode resolved to an address of this load, and what it names. */
struct aot_reloc {
	enum { AOT_RELOC_MAP, AOT_RELOC_VALUE, AOT_RELOC_FUNC } kind;
	size_t index; /* map index; for FUNC the pc of the callback */
	uint64_t off; /* VALUE: byte offset from the map's AOT_MAP_BASE */
};

bool aot_is_reloc(const struct uebpf_vm *vm, size_t pc);
int aot_reloc(const struct uebpf_vm *vm, const struct aot_plan *plan, size_t pc,
	      struct aot_reloc *r);

/*
 * The words that identify a translation: emitter version, options, the
 * instructions (map references as map indexes), the open-coded helpers,
 * the maps' shapes and the decoded operation codes. The generated object
 * carries them, and the loader compares them with its own before trusting
 * an object found in the cache, so that a hash collision or a stale file
 * can never run another program. Returns a malloc'd array of *n words, or
 * NULL.
 */
uint64_t *aot_identity(const struct uebpf_vm *vm, const struct aot_opts *opts,
		       const struct aot_plan *plan, size_t *n);

/* The C translation of vm's program. Returns 0 or a negative errno. */
int aot_emit(const struct uebpf_vm *vm, const struct aot_opts *opts, const struct aot_plan *plan,
	     FILE *out);

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
 * The most bytes of objects the cache keeps: $UEBPF_AOT_CACHE_MAX, a
 * number with an optional K, M or G suffix (0: no limit); 256M when unset
 * or not a size.
 */
uint64_t aot_config_cache_max(void);

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

/* A cache hit: the object at path was just used (what eviction goes by). */
void aot_cache_touch(const char *path);

/*
 * After publishing the object keep in the cache directory dir: evict the
 * least recently used others while the cache exceeds aot_config_cache_max.
 */
void aot_cache_evict(const char *dir, const char *keep);

#endif
