/* SPDX-License-Identifier: MIT */
/*
 * verifier: proves at load time that a program is safe the way the Linux
 * kernel's verifier does (abstract interpretation of every path), so that
 * engines can run its memory accesses without run-time checks.
 *
 * The input has passed vm_validate (known opcodes, registers in range,
 * reserved fields zero); the verifier checks again, cheaply, what its own
 * memory safety depends on (jump targets, lddw pairs).
 */
#ifndef UEBPF_VERIFIER_H
#define UEBPF_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"
#include "uebpf/uebpf.h"

/* What memory a load or store was proven inside of (bits of the proven map). */
enum {
	VERIFIER_MEM_STACK = 1u << 0, /* a frame of the eBPF stack */
	VERIFIER_MEM_CTX = 1u << 1,   /* the context structure of the program type */
	VERIFIER_MEM_PKT = 1u << 2,   /* packet data; in raw mode the run's memory */
	VERIFIER_MEM_MAP = 1u << 3,   /* a map value or key, or ring buffer memory */
};

/* What the verifier needs to know of a map an lddw refers to (linux/bpf.h values). */
struct verifier_map {
	uint32_t type, key_size, value_size, max_entries, flags;
	const void *handle; /* the same map gives the same handle */
};

/*
 * Describes the map the lddw at insn refers to (its pseudo source and imm;
 * for value references insn[1].imm is the offset): 0, or a negative errno
 * when it names no map.
 */
typedef int (*verifier_map_fn)(void *ctx, const struct isa_insn *insn, struct verifier_map *out);

struct map;
/* What a verifier_map_fn answers for a map of src/maps (-EBADF for NULL). */
int verifier_map_describe(struct map *m, struct verifier_map *out);

struct verifier_opts {
	enum uebpf_prog_type type;
	/*
	 * 0: the failing instruction and why; 1: also the registers there;
	 * 2: also every instruction interpreted, with its registers.
	 */
	unsigned log_level;
	/* maps: programs referring to one are refused without it */
	verifier_map_fn map_of;
	void *map_ctx;
};

struct verifier_stats {
	uint64_t insns_processed; /* instructions interpreted, over all paths */
	uint64_t states_stored;	  /* checkpoints kept for pruning */
	uint64_t states_pruned;	  /* paths cut because a stored state subsumed them */
	uint64_t peak_states;	  /* most checkpoints kept at once */
	uint64_t max_per_insn;	  /* most checkpoints kept at one instruction */
	uint64_t peak_pending;	  /* most branches waiting at once */
	uint64_t peak_mem;	  /* most bytes of abstract state allocated at once */
	uint64_t time_ns;
	uint32_t stack_depth; /* deepest combined stack of a call chain, bytes */
};

/*
 * Verify n slots. On success returns 0 and, if proven is not NULL, fills
 * proven[pc] (n bytes) with the VERIFIER_MEM_* kinds the load or store at pc
 * was proven inside of, on every path reaching it (0 for other slots). On
 * rejection returns a negative errno (-EACCES unsafe, -EINVAL malformed,
 * -E2BIG too complex, -ENOMEM) with "insn N: reason" in log.
 */
int verifier_check(const struct isa_insn *insns, size_t n, const struct verifier_opts *opts,
		   uint8_t *proven, struct verifier_stats *stats, char *log, size_t log_len);

/*
 * The kernel's statistics lines (its log_level 4): instructions processed,
 * states, verification time, stack depth; appended to log.
 */
void verifier_stats_log(const struct verifier_stats *stats, char *log, size_t log_len);

/*
 * The verifier's program type for a kernel program type (BPF_PROG_TYPE_*),
 * or -1 when it models none.
 */
int verifier_prog_type(uint32_t kernel_type);

#endif
