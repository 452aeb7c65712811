/* SPDX-License-Identifier: MIT */
/*
 * The verifier's abstract state and the environment of one verification;
 * shared by the files of src/verifier only.
 */
#ifndef UEBPF_VERIFIER_STATE_H
#define UEBPF_VERIFIER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scalar.h"
#include "verifier.h"

#define V_MAX_PROCESSED 1000000u /* instructions interpreted over all paths, as the kernel */
#define V_MAX_PENDING 8192u	 /* branches waiting to be explored, as the kernel */
#define V_MAX_VAR_OFF (1 << 29)	 /* largest pointer offset magnitude, as the kernel */
#define V_MAX_SUBPROGS 256

#define V_MAX_REFS 32 /* references (ring buffer reservations) a path may hold */

/*
 * Register types: each has its access check in mem.c and its arithmetic
 * rule in alu.c. The sized regions (map value, map key, ring buffer memory)
 * are [0, mem_size) from their base; the _OR_NULL forms become the region
 * or the scalar 0 on the two branches of a comparison with 0 (jmp.c).
 */
enum vtype {
	V_NOT_INIT,
	V_SCALAR,
	V_CTX,		     /* the program's context structure */
	V_STACK,	     /* a frame of the stack: frameno; off counts from its top */
	V_PKT,		     /* packet data (raw mode: the run's memory) */
	V_PKT_META,	     /* metadata before packet data (XDP, tc) */
	V_PKT_END,	     /* one past the packet (raw mode: r1 + r2) */
	V_MAP_PTR,	     /* a map (CONST_PTR_TO_MAP): map */
	V_MAP_VALUE,	     /* a value of map */
	V_MAP_VALUE_OR_NULL, /* a lookup's result, id shared by its copies */
	V_MAP_KEY,	     /* a key of map (for_each_map_elem callbacks) */
	V_RINGBUF_MEM,	     /* a ring buffer reservation, ref its reference */
	V_RINGBUF_MEM_OR_NULL,
	V_FUNC, /* a function of the program (callback): off is its first slot */
	V_NTYPES,
};

/* The names of the types in messages, as the kernel's log spells them. */
extern const char *const v_type_names[V_NTYPES];

/*
 * One register. Pointers are base + off + the value of s (their variable
 * part, a scalar); scalars are s. Packet pointers sharing an id share their
 * variable part, and range (bytes past base + variable part, proven inside
 * the packet by a comparison with its end) is learnt for all of them at once.
 */
struct vreg {
	uint8_t type;	 /* enum vtype */
	uint8_t frameno; /* V_STACK: the frame pointed into */
	bool is_len;	 /* raw mode: a scalar equal to the run's memory length */
	bool rdonly;	 /* sized regions: the program may not write them */
	int32_t off;
	uint32_t id;	/* pkt: the variable part; _OR_NULL: the null check's identity */
	uint32_t range; /* pkt: proven bytes; sized regions: their size */
	uint32_t ref;	/* ring buffer memory: the reservation's reference */
	uint16_t map;	/* map types: index in env->maps */
	struct scalar s;
};

/* What a byte of the stack holds. */
enum vslot_kind {
	SLOT_INVALID, /* never written on this path */
	SLOT_MISC,    /* written, nothing more known */
	SLOT_SPILL,   /* part of an 8-byte register spill, in the slot's spill */
	SLOT_CONST,   /* a known byte, in the slot's val */
};

struct vslot {
	uint8_t kind[8]; /* byte i of the slot, lowest address first */
	uint8_t val[8];	 /* SLOT_CONST bytes */
	struct vreg spill;
};

/* The byte b of slot s when its value is known on this path: a constant or a constant's spill. */
bool slot_byte_known(const struct vslot *s, unsigned b, uint8_t *v);

struct vframe {
	struct vreg regs[ISA_NREGS];
	int callsite; /* pc of the call that made this frame; -1 for the main one */
	int subprog;
	uint32_t cb_helper;  /* a callback's frame: the helper that calls it, else 0 */
	uint16_t nslots;     /* slots[0..nslots) exist: the deepest 8 * nslots bytes used */
	struct vslot *slots; /* slot i covers [-(i + 1) * 8, -i * 8) from the frame top */
};

struct vckpt;

/* A reference the path holds: released by a helper, or a leak at exit. */
struct vref {
	uint32_t id;
	uint32_t insn; /* where it was acquired */
};

struct vstate {
	struct vframe *frames[ISA_MAX_CALL_DEPTH];
	int curframe;
	size_t pc;
	struct vckpt *cp; /* the last checkpoint this path went through */
	unsigned nrefs;
	struct vref refs[V_MAX_REFS];
};

/*
 * A state stored at a prune point. live counts the paths and child
 * checkpoints still being explored from it; at 0 everything reachable from
 * it was proven safe, and only then may it prune a newer state.
 */
struct vckpt {
	struct vstate st;
	struct vckpt *parent;
	struct vckpt *next; /* at the same pc */
	struct vckpt *prev; /* in env->evicted */
	uint32_t live;
	uint32_t hits, misses;
	bool evicted; /* out of explored, freed when live reaches 0 */
};

/*
 * What of a frame the rest of its function may read (liveness) or depend
 * on the value of (precision), before an instruction: registers (bit i: ri)
 * and the frame's stack slots (bit i: the 8 bytes at [-(i + 1) * 8, -i * 8)
 * from its top).
 */
struct vflow {
	uint16_t regs;
	uint64_t slots;
};

/* prune_point: a state may be stored here; one always is (callback entries). */
#define V_PRUNE 1
#define V_PRUNE_FORCE 2

struct vsubprog {
	size_t start, end;    /* [start, end) */
	uint32_t stack_depth; /* deepest byte used below r10, bytes */
	bool is_cb;	      /* a callback (lddw of BPF_PSEUDO_FUNC names it) */
};

/* A map the program refers to, as the loader described it. */
struct vmap {
	struct verifier_map info;
};

struct venv {
	const struct isa_insn *insns;
	size_t n;
	struct verifier_opts opts;
	uint8_t *proven;
	struct verifier_stats *stats;
	char *log;
	size_t log_len;

	struct vsubprog subprogs[V_MAX_SUBPROGS];
	size_t nsubprogs;
	uint16_t *subprog_of;  /* per slot */
	struct vflow *live;    /* per slot: registers and stack slots read before written */
	struct vflow *precise; /* per slot: those whose scalar value may matter (cfg.c) */
	uint16_t *fp_regs;     /* per slot, in cfg_check: registers that may point into the frame */
	bool main_called;      /* a local call or function reference names insn 0 */
	uint8_t *prune_point;  /* per slot: V_PRUNE_* */
	struct vckpt **explored;	/* per slot: stored states */
	struct vckpt *evicted;		/* out of explored but still being explored (live) */
	uint64_t jmps_processed;	/* jumps, calls and exits interpreted */
	uint64_t ckpt_insns, ckpt_jmps; /* insns_processed and jmps_processed at the last store */

	struct vstate **pending;
	size_t npending, cap_pending;
	uint32_t next_id;
	bool raw;		  /* UEBPF_PROG_RAW_MEM */
	const struct vstate *cur; /* the path being interpreted, for the log */
	size_t log_used;

	struct vmap *maps;
	size_t nmaps;
	uint16_t *lddw_map; /* per slot: index in maps of the map an lddw names */
	uint64_t nstates;   /* checkpoints stored now, for peak_states */
};

/* Bytes of verifier state allocated now and at most, this thread (peak memory). */
extern __thread size_t v_mem_now, v_mem_peak;

static inline void v_mem_add(long bytes)
{
	v_mem_now += (size_t)bytes;
	if (v_mem_now > v_mem_peak)
		v_mem_peak = v_mem_now;
}

/* Writes "insn N: <message>" into the log and returns err. */
__attribute__((format(printf, 4, 5))) int v_err(struct venv *env, int err, size_t pc,
						const char *fmt, ...);
/* "pkt(id=0,off=1,r=0)" style text of a register, for messages. */
const char *v_reg_str(const struct vreg *r, char *buf, size_t len);
/* Appends text to the log (level 2 traces), keeping it NUL-terminated. */
__attribute__((format(printf, 2, 3))) void v_log(struct venv *env, const char *fmt, ...);
/* The map a register of a map type refers to. */
static inline const struct verifier_map *reg_map(const struct venv *env, const struct vreg *r)
{
	return &env->maps[r->map].info;
}

/* state.c */
struct vstate *state_new(void);
struct vstate *state_copy(const struct vstate *src);
int state_copy_into(struct vstate *dst, const struct vstate *src);
void state_free(struct vstate *st);
/* Frees what state_free and frame_free kept for reuse: at the end of a verification. */
void state_cache_drain(void);
struct vframe *frame_new(void);
void frame_free(struct vframe *f);
/* The slot of frame f holding byte off (< 0) below its top, grown as needed; NULL: no memory. */
struct vslot *frame_slot(struct vframe *f, int off);
void reg_mark_unknown(struct vreg *r);
void reg_mark_not_init(struct vreg *r);
void reg_mark_const(struct vreg *r, uint64_t v);
bool reg_is_pointer(const struct vreg *r);
/*
 * Whether old's exploration covers cur: same shape, every part of cur within
 * old's (a scalar register whose value cannot matter, outside precise, in
 * any scalar).
 */
bool state_subsumes(const struct venv *env, const struct vstate *old, const struct vstate *cur);
/*
 * Scalars of cur's frames (registers, spills, constant stack bytes) that
 * differ from old's become unknown: cur then covers every later state of a
 * repetition that only changes those.
 */
void state_widen(const struct vstate *old, struct vstate *cur);
/* Whether each state subsumes the other: the same in all that may matter from here on. */
bool state_equal(const struct venv *env, const struct vstate *a, const struct vstate *b);

/* cfg.c: structure, subprograms, reachability, prune points, liveness */
int cfg_check(struct venv *env);

/* ctx.c: context fields of the program types */
int ctx_access(struct venv *env, size_t pc, int off, unsigned size, bool write,
	       struct vreg *loaded);

/* mem.c: loads, stores and atomics */
int mem_check(struct venv *env, struct vstate *st);
/*
 * A helper's access to [ptr, ptr + size) for every size up to size_max:
 * inside the region ptr points to, writable when write. Stack bytes a
 * helper writes become unknown data. regno names ptr in messages.
 */
int mem_helper_access(struct venv *env, struct vstate *st, unsigned regno, const struct vreg *ptr,
		      uint64_t size_max, bool write);
/* Every register and spill of st with ref (or, with or_null, id) becomes an unknown scalar. */
void regs_invalidate_ref(struct vstate *st, uint32_t ref);
/* Pointers into the packet lose their proven range: a helper moved the packet. */
void regs_forget_pkt(struct vstate *st);

/* alu.c */
int alu_check(struct venv *env, struct vstate *st);

/*
 * jmp.c: a conditional jump. *taken gets the state of the taken branch (NULL
 * when it cannot be taken); *fall_dead tells the fall-through cannot happen.
 * Returns 1 when only the jump can happen: st itself is then the taken
 * branch (*taken NULL), else 0 or a negative errno.
 */
int jmp_cond(struct venv *env, struct vstate *st, struct vstate **taken, bool *fall_dead);

/*
 * helper_protos.c: prototypes of the helpers the verifier knows. A helper
 * taking a callback may push the callback's path as *cb (NULL otherwise):
 * the caller explores it as a call made at the helper's instruction.
 */
int helper_call(struct venv *env, struct vstate *st, struct vstate **cb);
/* The argument registers a call of helper id reads (r1-r5 for one without a prototype). */
uint16_t helper_args_read(uint32_t id);
/* Pushes a frame for the callback at target, called by helper from st's innermost frame. */
int helper_callback_enter(struct venv *env, struct vstate *st, uint32_t helper, size_t target);
/* At a callback's exit: r0 within [0, 1], as the helpers taking callbacks need. */
int helper_callback_ret(struct venv *env, const struct vstate *st);

/* Every register and spill of the state, for updates that follow an identity. */
#define FOR_EACH_REG(st, r, body)                                   \
	for (int _f = 0; _f <= (st)->curframe; _f++) {              \
		struct vframe *_fr = (st)->frames[_f];              \
		for (unsigned _i = 0; _i < ISA_NREGS; _i++) {       \
			struct vreg *r = &_fr->regs[_i];            \
			body                                        \
		}                                                   \
		for (unsigned _i = 0; _i < _fr->nslots; _i++) {     \
			struct vreg *r = &_fr->slots[_i].spill;     \
			if (_fr->slots[_i].kind[0] == SLOT_SPILL) { \
				body                                \
			}                                           \
		}                                                   \
	}

static inline struct vframe *cur_frame(const struct vstate *st)
{
	return st->frames[st->curframe];
}

static inline struct vreg *cur_regs(const struct vstate *st)
{
	return st->frames[st->curframe]->regs;
}

#endif
