// SPDX-License-Identifier: MIT
/*
 * Abstract states: allocation, copies, and the two comparisons pruning
 * needs. state_subsumes decides whether everything a stored (old) state
 * stands for includes what the current one does, looking only at registers
 * and stack slots the rest of the program may read (static liveness,
 * cfg.c). In the innermost frame, a scalar register or spilled scalar
 * outside the precise set (cfg.c: its value reaches no check and no
 * branch) only has to be a scalar in both: from there on the two states
 * take the same paths through the same checks, whatever it holds. In
 * callers, the registers live at the return and every stack byte are
 * compared whole (a callee may read its callers' stacks through pointers).
 * Identities of packet pointers must correspond one to one: the old
 * exploration may have relied on two registers moving together.
 */
#include <stdlib.h>
#include <string.h>

#include "state.h"

__thread size_t v_mem_now, v_mem_peak;

/*
 * States and frames freed during a verification are kept for the next
 * copies (a path splits at every undecided jump, each split a copy): on
 * loops that split in every iteration, malloc and the page faults of fresh
 * memory were most of the time. A cached frame keeps its slot array, nslots
 * its capacity. state_cache_drain empties the cache when a verification
 * ends. The memory statistics count what the states use, not the cache.
 */
#define V_CACHE 64
static __thread struct vframe *frame_cache[V_CACHE];
static __thread struct vstate *state_cache[V_CACHE];
static __thread unsigned nframes_cached, nstates_cached;

void state_cache_drain(void)
{
	while (nframes_cached) {
		struct vframe *f = frame_cache[--nframes_cached];

		free(f->slots);
		free(f);
	}
	while (nstates_cached)
		free(state_cache[--nstates_cached]);
}

struct vstate *state_new(void)
{
	struct vstate *st;

	if (nstates_cached) {
		st = state_cache[--nstates_cached];
		memset(st, 0, sizeof(*st));
	} else {
		st = calloc(1, sizeof(struct vstate));
	}
	if (st)
		v_mem_add(sizeof(*st));
	return st;
}

static struct vframe *frame_copy(const struct vframe *src)
{
	struct vframe *f = nframes_cached ? frame_cache[--nframes_cached] : NULL;
	struct vslot *slots = f ? f->slots : NULL;
	unsigned cap = f ? f->nslots : 0;

	if (!f && !(f = malloc(sizeof(*f))))
		return NULL;
	if (src->nslots > cap) {
		free(slots);
		slots = malloc(src->nslots * sizeof(struct vslot));
		if (!slots) {
			free(f);
			return NULL;
		}
	}
	*f = *src;
	f->slots = slots;
	if (src->nslots)
		memcpy(f->slots, src->slots, src->nslots * sizeof(struct vslot));
	v_mem_add((long)(sizeof(*f) + f->nslots * sizeof(struct vslot)));
	return f;
}

struct vframe *frame_new(void)
{
	struct vframe *f = calloc(1, sizeof(*f));

	if (f)
		v_mem_add(sizeof(*f));
	return f;
}

void frame_free(struct vframe *f)
{
	if (!f)
		return;
	v_mem_add(-(long)(sizeof(*f) + f->nslots * sizeof(struct vslot)));
	if (nframes_cached < V_CACHE) {
		frame_cache[nframes_cached++] = f;
		return;
	}
	free(f->slots);
	free(f);
}

static void frames_free(struct vstate *st)
{
	for (int i = 0; i <= st->curframe; i++) {
		frame_free(st->frames[i]);
		st->frames[i] = NULL;
	}
}

int state_copy_into(struct vstate *dst, const struct vstate *src)
{
	frames_free(dst);
	dst->curframe = src->curframe;
	dst->pc = src->pc;
	dst->cp = src->cp;
	dst->nrefs = src->nrefs;
	memcpy(dst->refs, src->refs, src->nrefs * sizeof(src->refs[0]));
	for (int i = 0; i <= src->curframe; i++) {
		dst->frames[i] = frame_copy(src->frames[i]);
		if (!dst->frames[i]) {
			frames_free(dst);
			return -1;
		}
	}
	return 0;
}

struct vstate *state_copy(const struct vstate *src)
{
	struct vstate *st = state_new();

	if (st && state_copy_into(st, src)) {
		free(st);
		return NULL;
	}
	return st;
}

void state_free(struct vstate *st)
{
	if (!st)
		return;
	frames_free(st);
	v_mem_add(-(long)sizeof(*st));
	if (nstates_cached < V_CACHE) {
		state_cache[nstates_cached++] = st;
		return;
	}
	free(st);
}

struct vslot *frame_slot(struct vframe *f, int off)
{
	unsigned idx = (unsigned)(-off - 1) / 8;
	struct vslot *s;

	if (idx >= f->nslots) {
		s = realloc(f->slots, (idx + 1) * sizeof(*s));
		if (!s)
			return NULL;
		memset(s + f->nslots, 0, (idx + 1 - f->nslots) * sizeof(*s));
		v_mem_add((long)((idx + 1 - f->nslots) * sizeof(*s)));
		f->slots = s;
		f->nslots = (uint16_t)(idx + 1);
	}
	return &f->slots[idx];
}

void reg_mark_unknown(struct vreg *r)
{
	*r = (struct vreg){.type = V_SCALAR, .s = scalar_unknown()};
}

void reg_mark_not_init(struct vreg *r)
{
	*r = (struct vreg){.type = V_NOT_INIT, .s = scalar_unknown()};
}

void reg_mark_const(struct vreg *r, uint64_t v)
{
	*r = (struct vreg){.type = V_SCALAR, .s = scalar_const(v)};
}

bool reg_is_pointer(const struct vreg *r)
{
	return r->type != V_SCALAR && r->type != V_NOT_INIT;
}

#define V_MAX_IDS 64

/* Old id to current id, one to one. */
struct idmap {
	uint32_t old[V_MAX_IDS], cur[V_MAX_IDS];
	unsigned n;
};

static bool ids_match(struct idmap *m, uint32_t old, uint32_t cur)
{
	for (unsigned i = 0; i < m->n; i++) {
		if (m->old[i] == old)
			return m->cur[i] == cur;
		if (m->cur[i] == cur)
			return false;
	}
	if (m->n == V_MAX_IDS)
		return false;
	m->old[m->n] = old;
	m->cur[m->n++] = cur;
	return true;
}

/* precise: whether the value of a scalar matters, else only its being a scalar does. */
static bool reg_subsumes(const struct vreg *old, const struct vreg *cur, struct idmap *m,
			 bool precise)
{
	if (old->type == V_NOT_INIT)
		return true; /* the old paths never read it: any value does */
	if (old->type != cur->type)
		return false;
	switch (old->type) {
	case V_SCALAR:
		return (!old->is_len || cur->is_len) && (!precise || scalar_in(&old->s, &cur->s));
	case V_PKT:
	case V_PKT_META:
		if (old->range > cur->range || !ids_match(m, old->id, cur->id))
			return false;
		break;
	case V_STACK:
		if (old->frameno != cur->frameno)
			return false;
		break;
	case V_MAP_VALUE_OR_NULL:
	case V_RINGBUF_MEM_OR_NULL:
		if (!ids_match(m, old->id, cur->id))
			return false;
		break;
	default:
		break;
	}
	if (old->map != cur->map || old->rdonly != cur->rdonly || old->range != cur->range ||
	    (old->ref && !ids_match(m, old->ref, cur->ref)) || (!old->ref && cur->ref))
		return false;
	return old->off == cur->off && scalar_in(&old->s, &cur->s);
}

bool slot_byte_known(const struct vslot *s, unsigned b, uint8_t *v)
{
	if (s->kind[b] == SLOT_CONST) {
		*v = s->val[b];
		return true;
	}
	if (s->kind[b] == SLOT_SPILL && s->spill.type == V_SCALAR && scalar_is_const(&s->spill.s)) {
		*v = (uint8_t)(s->spill.s.var.value >> (8 * b));
		return true;
	}
	return false;
}

static const struct vslot empty_slot;

static const struct vslot *slot_at(const struct vframe *f, unsigned i)
{
	return i < f->nslots ? &f->slots[i] : &empty_slot;
}

static bool spilled_scalar(const struct vslot *s)
{
	return s->kind[0] == SLOT_SPILL && s->spill.type == V_SCALAR;
}

/*
 * A byte the old state did not know (invalid, or written with anything) is
 * read as an unknown scalar there: any byte that reads as a scalar now is
 * covered, and one never written only by an old invalid byte. A byte the old
 * state knew must hold the same value now, if its slot is in precise; a
 * slot outside live is not compared at all.
 */
static bool stack_subsumes(const struct vframe *old, const struct vframe *cur, struct idmap *m,
			   uint64_t live, uint64_t precise)
{
	unsigned n = old->nslots > cur->nslots ? old->nslots : cur->nslots;

	for (unsigned i = 0; i < n; i++) {
		const struct vslot *o = slot_at(old, i), *c = slot_at(cur, i);
		bool exact = i >= 64 || (precise >> i & 1);

		if (i < 64 && !(live >> i & 1))
			continue;
		if (o->kind[0] == SLOT_SPILL) {
			if (c->kind[0] != SLOT_SPILL ||
			    !reg_subsumes(&o->spill, &c->spill, m, exact))
				return false;
			continue;
		}
		for (unsigned b = 0; b < 8; b++) {
			uint8_t cv;

			if (c->kind[b] == SLOT_SPILL && !spilled_scalar(c))
				return false;
			if (o->kind[b] != SLOT_INVALID && c->kind[b] == SLOT_INVALID)
				return false;
			if (exact && o->kind[b] == SLOT_CONST &&
			    (!slot_byte_known(c, b, &cv) || cv != o->val[b]))
				return false;
		}
	}
	return true;
}

/* Registers of frame i that matter at st->pc: live ones; in callers, r6-r9 live at the return. */
static uint16_t frame_live(const struct venv *env, const struct vstate *st, int i)
{
	if (i == st->curframe)
		return env->live[st->pc].regs | (1u << ISA_REG_FP);
	return (env->live[st->frames[i + 1]->callsite + 1].regs & 0x3c0) | (1u << ISA_REG_FP);
}

static bool subsumes(const struct venv *env, const struct vstate *old, const struct vstate *cur)
{
	struct idmap m;

	m.n = 0; /* the pairs are written as they are found: no need to clear them */
	if (old->curframe != cur->curframe || old->nrefs != cur->nrefs)
		return false;
	for (unsigned i = 0; i < old->nrefs; i++)
		if (!ids_match(&m, old->refs[i].id, cur->refs[i].id))
			return false;
	for (int i = 0; i <= old->curframe; i++) {
		const struct vframe *fo = old->frames[i], *fc = cur->frames[i];
		bool inner = i == cur->curframe;
		uint16_t live = frame_live(env, cur, i);
		uint16_t precise = inner ? env->precise[cur->pc].regs : 0xffff;
		uint64_t live_slots = inner ? env->live[cur->pc].slots : UINT64_MAX;
		uint64_t precise_slots = inner ? env->precise[cur->pc].slots : UINT64_MAX;

		if (fo->callsite != fc->callsite)
			return false;
		for (unsigned r = 0; r < ISA_NREGS; r++)
			if ((live >> r & 1) &&
			    !reg_subsumes(&fo->regs[r], &fc->regs[r], &m, precise >> r & 1))
				return false;
		if (!stack_subsumes(fo, fc, &m, live_slots, precise_slots))
			return false;
	}
	return true;
}

bool state_subsumes(const struct venv *env, const struct vstate *old, const struct vstate *cur)
{
	return subsumes(env, old, cur);
}

/*
 * Each subsuming the other: the same in everything the rest of the program
 * may depend on (values outside the precise sets are never compared, they
 * decide nothing: cfg.c). Unlike the kernel, whose precision marks may
 * still grow later and which therefore compares every bound here, the sets
 * are final, so a loop that only changes such values is found too.
 */
bool state_equal(const struct venv *env, const struct vstate *a, const struct vstate *b)
{
	return subsumes(env, a, b) && subsumes(env, b, a);
}

static bool same_scalar(const struct vreg *a, const struct vreg *b)
{
	return a->type == V_SCALAR && b->type == V_SCALAR && scalar_in(&a->s, &b->s) &&
	       scalar_in(&b->s, &a->s);
}

void state_widen(const struct vstate *old, struct vstate *cur)
{
	for (int i = 0; i <= cur->curframe && i <= old->curframe; i++) {
		const struct vframe *fo = old->frames[i];
		struct vframe *fc = cur->frames[i];

		for (unsigned r = 0; r < ISA_NREGS; r++)
			if (fc->regs[r].type == V_SCALAR &&
			    !same_scalar(&fo->regs[r], &fc->regs[r]))
				reg_mark_unknown(&fc->regs[r]);
		for (unsigned k = 0; k < fc->nslots; k++) {
			const struct vslot *o = slot_at(fo, k);
			struct vslot *c = &fc->slots[k];

			if (spilled_scalar(c)) {
				if (!spilled_scalar(o) || !same_scalar(&o->spill, &c->spill))
					reg_mark_unknown(&c->spill);
				continue;
			}
			for (unsigned b = 0; b < 8; b++)
				if (c->kind[b] == SLOT_CONST &&
				    (o->kind[b] != SLOT_CONST || o->val[b] != c->val[b]))
					c->kind[b] = SLOT_MISC;
		}
	}
}
