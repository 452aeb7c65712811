/* SPDX-License-Identifier: MIT */
/*
 * uebpf embedding API: run an eBPF program from any C program.
 *
 * Create a VM, register helpers by kernel helper ID, load a program (raw
 * instructions or assembly text), then run it with a pointer to memory and
 * its length (r1 and r2 on entry, r10 the frame pointer) and read r0.
 * Functions return 0 or a negative errno; where a message helps, it is
 * written into the caller's buffer. A loaded VM is immutable: any number of
 * threads may call uebpf_vm_run on it at once.
 */
#ifndef UEBPF_UEBPF_H
#define UEBPF_UEBPF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uebpf_vm;

/* A helper in the kernel's calling convention: r1..r5 in, r0 out. */
typedef uint64_t (*uebpf_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				    uint64_t r5);

enum uebpf_engine {
	UEBPF_ENGINE_INTERP = 0,
	UEBPF_ENGINE_JIT = 1,
	UEBPF_ENGINE_AOT = 2,
};

/* Flags of uebpf_vm_register_helper_ex. */
enum {
	/* The program stops with r0 = 0 when this helper returns 0. */
	UEBPF_HELPER_STOP_ON_ZERO = 1u << 0,
};

struct uebpf_vm *uebpf_vm_create(void);
void uebpf_vm_destroy(struct uebpf_vm *vm);

/* Before load. Registering an ID again replaces the earlier helper. */
int uebpf_vm_register_helper(struct uebpf_vm *vm, uint32_t id, const char *name,
			     uebpf_helper_fn fn);
int uebpf_vm_register_helper_ex(struct uebpf_vm *vm, uint32_t id, const char *name,
				uebpf_helper_fn fn, unsigned flags);

/*
 * Memory the program may read (and write, if writable) besides the memory it
 * is run with and its stack: e.g. buffers that helpers hand out. Before load.
 */
int uebpf_vm_add_region(struct uebpf_vm *vm, void *base, size_t len, int writable);

/* Stop a run with -E2BIG after this many instructions; 0 means no budget. */
int uebpf_vm_set_insn_budget(struct uebpf_vm *vm, uint64_t budget);

/* Which engine runs the program; before load. The interpreter is the default. */
int uebpf_vm_set_engine(struct uebpf_vm *vm, enum uebpf_engine engine);

/* Program types the verifier knows: what r1 points to on entry. */
enum uebpf_prog_type {
	UEBPF_PROG_RAW_MEM = 0, /* r1 = the run's memory, r2 = its length (uebpf_vm_run) */
	UEBPF_PROG_SOCKET_FILTER, /* r1 = struct __sk_buff, read only but cb[] */
	UEBPF_PROG_SCHED_CLS, /* r1 = struct __sk_buff, with data/data_end/data_meta */
	UEBPF_PROG_XDP, /* r1 = struct xdp_md */
	UEBPF_PROG_KPROBE, /* r1 = struct pt_regs (kprobe, uprobe), read only */
	UEBPF_PROG_RAW_TRACEPOINT, /* r1 = u64 args[12], read only */
	UEBPF_PROG_TRACEPOINT, /* r1 = a tracepoint's record (up to 8192 bytes), read only */
};

/*
 * Before load: verify the program as the kernel's verifier would for a
 * privileged loader of this type (every path, types, bounds, memory
 * accesses). A rejected load fails with the verifier's message (instruction
 * and reason) in err. Loads and stores proven in bounds then run without
 * run-time checks; for types other than UEBPF_PROG_RAW_MEM that holds for
 * stack accesses only, since uebpf_vm_run cannot know the context's layout.
 */
int uebpf_vm_set_verify(struct uebpf_vm *vm, enum uebpf_prog_type type);

/*
 * The AOT engine's C compiler and cache directory, for the whole process and
 * every load that starts afterwards; NULL restores the default. The compiler
 * is one program, run without a shell; by default $UEBPF_CC, else "cc". The
 * cache is by default $UEBPF_AOT_CACHE, else $XDG_CACHE_HOME/uebpf/aot, else
 * ~/.cache/uebpf/aot; it must belong to the user and be writable by no one
 * else. Without a working compiler, an AOT load falls back to the JIT and
 * says so in its message buffer (or, with UEBPF_AOT_FALLBACK=0 in the
 * environment, fails). Returns 0, -EINVAL (empty string) or -ENOMEM.
 */
int uebpf_aot_set_compiler(const char *cc);
int uebpf_aot_set_cache_dir(const char *dir);

/*
 * Load a program: code is an array of 8-byte instructions. It is validated
 * (unknown opcodes, bad registers, reserved fields, jumps out of range,
 * falling off the end, unknown helpers) and decoded once. On failure err
 * (if not NULL) holds a message naming the instruction index.
 */
int uebpf_vm_load(struct uebpf_vm *vm, const void *code, size_t code_len, char *err,
		  size_t err_len);

/* Assemble text in the syntax of the bpf_conformance suite, then load it. */
int uebpf_vm_load_asm(struct uebpf_vm *vm, const char *text, char *err, size_t err_len);

/* Number of instruction slots of the loaded program (lddw takes two). */
size_t uebpf_vm_insn_count(const struct uebpf_vm *vm);

/*
 * Run the loaded program with r1 = mem and r2 = mem_len. mem may be NULL when
 * mem_len is 0. On success *r0 holds the program's return value and 0 is
 * returned. A memory access outside the allowed regions, a misaligned atomic
 * operation, a call to an unknown helper through callx, a call deeper than
 * eight frames or an exhausted budget stops the program: the return value is
 * then negative (-EFAULT, -EINVAL, -ENOENT, -E2BIG) and err, when not NULL,
 * says what happened and at which instruction.
 */
int uebpf_vm_run(const struct uebpf_vm *vm, void *mem, size_t mem_len, uint64_t *r0, char *err,
		 size_t err_len);

/*
 * As uebpf_vm_run, on the interpreter whatever the engine, and *insns gets
 * the number of eBPF instructions executed (for profiling: slower than a
 * plain run, as it counts each one).
 */
int uebpf_vm_run_counted(const struct uebpf_vm *vm, void *mem, size_t mem_len, uint64_t *r0,
			 uint64_t *insns, char *err, size_t err_len);

/*
 * Uprobes in this process (x86-64): run a loaded VM each time a function is
 * entered (retprobe 0) or returns (retprobe 1), with r1 = a struct pt_regs
 * of the kernel's layout (<asm/ptrace.h>; libbpf's PT_REGS_PARM1..6 and
 * PT_REGS_RC read it) and r2 = its size. The program sees a copy: writing
 * it changes nothing. target is "binary:symbol", "binary:symbol+offset" or
 * "binary:0xoffset" (a file offset, as libbpf gives it), binary being a
 * path or file name of an object mapped in this process, "" or "self" for
 * the main executable. The function is patched with a jump (a trap when it
 * is too short or cannot be relocated); calls from any number of threads
 * take no lock. A function called from inside a program (through a helper)
 * runs no program again and counts a miss instead. The VM must outlive the
 * probe; uebpf_probe_detach returns once no thread runs the program any
 * more, and the last detach from a function restores its bytes.
 */
struct uebpf_probe;

int uebpf_uprobe_attach(struct uebpf_vm *vm, const char *target, int retprobe,
			struct uebpf_probe **out, char *err, size_t err_len);
int uebpf_uprobe_attach_addr(struct uebpf_vm *vm, void *addr, int retprobe,
			     struct uebpf_probe **out, char *err, size_t err_len);
int uebpf_probe_detach(struct uebpf_probe *p, char *err, size_t err_len);
/* Hits of the probe's function that ran no program (recursion, return probes too deep). */
uint64_t uebpf_probe_missed(const struct uebpf_probe *p);

#ifdef __cplusplus
}
#endif

#endif
