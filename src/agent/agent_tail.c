// SPDX-License-Identifier: MIT
/*
 * Tail calls in the target. A PROG_ARRAY's shared memory holds the loader's
 * program IDs, which name nothing here; the registry records which program
 * file each slot holds and under which ID (registry/reg_tail.c). Every
 * sync reads those records for the PROG_ARRAYs this process has mapped,
 * loads the programs they name (which may map more PROG_ARRAYs: the walk
 * repeats until none is new) and publishes, per slot, the loader's ID with
 * the VM loaded here. The agent's bpf_tail_call, registered in place of
 * the VM's own in every program the agent loads, takes a slot's VM only
 * while the map still holds the ID recorded with it: a slot changed since
 * the last sync fails (-ENOENT, as an empty slot does) until the next one,
 * and never runs the wrong program.
 *
 * A slot is one atomic word, (loader ID << 48) | address of the VM: IDs are
 * below 65536 (vm/tail_call.c's table) and user-space addresses below 2^47
 * on x86-64, so the pair reads consistently without a lock. The per-map
 * tables are found through an immutable array replaced when a map is
 * added; replaced arrays, the tables and the VMs stay until
 * agent_tail_reset, which runs only once no hook is left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "agent/internal.h"
#include "maps/maps.h"
#include "registry/registry.h"
#include "uebpf/uebpf.h"
#include "vm/vm.h"

#define TAIL_ID_SHIFT 48
#define TAIL_VM_MASK ((1ull << TAIL_ID_SHIFT) - 1)
#define TAIL_PASSES 8 /* chains of PROG_ARRAYs mapped one walk after another */

struct tail_map {
	struct map *map;
	uint32_t n;
	_Atomic uint64_t *slots;
	uint64_t *next; /* the slots as the current walk finds them */
};

struct tail_set {
	size_t n;
	struct tail_map *m[];
};

static _Atomic(struct tail_set *) tail_set;
static struct tail_set **retired;
static size_t nretired;

static struct tail_map *tail_find(const struct tail_set *s, const struct map *m)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->m[i]->map == m)
			return s->m[i];
	return NULL;
}

static uint64_t tail_call(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4, uint64_t r5)
{
	struct vm_run *run = vm_current_run;
	const struct vm_map *m = run ? vm_map_from_handle(run->vm, map) : NULL;
	struct tail_map *t;
	uint64_t slot;
	uint32_t id;

	(void)r4;
	(void)r5;
	if (!m || index > UINT32_MAX)
		return (uint64_t)-EINVAL;
	if (run->tail_count >= VM_MAX_TAIL_CALLS)
		return (uint64_t)-E2BIG;
	id = map_prog_array_get(m->map, (uint32_t)index);
	t = tail_find(atomic_load_explicit(&tail_set, memory_order_acquire), m->map);
	slot = t && index < t->n ? atomic_load_explicit(&t->slots[index], memory_order_acquire) : 0;
	if (!id || !slot || slot >> TAIL_ID_SHIFT != id)
		return (uint64_t)-ENOENT;
	run->tail = (const struct uebpf_vm *)(uintptr_t)(slot & TAIL_VM_MASK);
	run->tail_count++;
	run->tail_ctx = ctx;
	return 0;
}

int agent_tail_register(struct uebpf_vm *vm)
{
	return uebpf_vm_register_helper_ex(vm, BPF_FUNC_tail_call, "tail_call", tail_call,
					   UEBPF_HELPER_STOP_ON_ZERO);
}

/* The table of PROG_ARRAY m, made and published on first use; NULL when out of memory. */
static struct tail_map *tail_map_of(struct map *m)
{
	struct tail_set *old = atomic_load(&tail_set), *s, **r;
	struct tail_map *t = tail_find(old, m);
	uint32_t n = map_info(m)->max_entries;

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	s = malloc(sizeof(*s) + ((old ? old->n : 0) + 1) * sizeof(s->m[0]));
	r = realloc(retired, (nretired + 1) * sizeof(*retired));
	if (r)
		retired = r;
	if (t) {
		t->slots = calloc(n ? n : 1, sizeof(*t->slots));
		t->next = calloc(n ? n : 1, sizeof(*t->next));
	}
	if (!t || !s || !r || !t->slots || !t->next) {
		if (t) {
			free(t->slots);
			free(t->next);
		}
		free(t);
		free(s);
		return NULL;
	}
	t->map = m;
	t->n = n;
	s->n = old ? old->n : 0;
	if (old)
		memcpy(s->m, old->m, old->n * sizeof(s->m[0]));
	s->m[s->n++] = t;
	atomic_store_explicit(&tail_set, s, memory_order_release);
	if (old)
		retired[nretired++] = old;
	return t;
}

static int visit(void *ctx, const struct reg_tail *rec)
{
	struct map *m = agent_find_map(rec->map);
	struct uebpf_vm *vm;
	struct tail_map *t;

	(void)ctx;
	if (!m || map_info(m)->type != BPF_MAP_TYPE_PROG_ARRAY)
		return 0;
	t = tail_map_of(m);
	if (!t) {
		agent_report("tail calls through %s: out of memory", rec->map);
		return 0;
	}
	if (rec->index >= t->n || !rec->id || rec->id >> (64 - TAIL_ID_SHIFT))
		return 0;
	vm = agent_get_prog(rec->prog);
	if (!vm || (uintptr_t)vm & ~TAIL_VM_MASK)
		return 0;
	t->next[rec->index] = (uint64_t)rec->id << TAIL_ID_SHIFT | (uintptr_t)vm;
	return 0;
}

void agent_tail_sync(struct reg *r)
{
	char err[512];

	for (int pass = 0; pass < TAIL_PASSES; pass++) {
		struct tail_set *s = atomic_load(&tail_set);
		size_t maps = agent_nmaps();

		for (size_t i = 0; s && i < s->n; i++)
			memset(s->m[i]->next, 0, s->m[i]->n * sizeof(*s->m[i]->next));
		if (reg_for_each_tail(r, visit, NULL, err, sizeof(err))) {
			agent_report("%s", err);
			return;
		}
		s = atomic_load(&tail_set);
		for (size_t i = 0; s && i < s->n; i++)
			for (uint32_t k = 0; k < s->m[i]->n; k++)
				atomic_store_explicit(&s->m[i]->slots[k], s->m[i]->next[k],
						      memory_order_release);
		if (agent_nmaps() == maps)
			return;
	}
}

void agent_tail_reset(void)
{
	struct tail_set *s = atomic_exchange(&tail_set, NULL);

	for (size_t i = 0; s && i < s->n; i++) {
		free((void *)s->m[i]->slots);
		free(s->m[i]->next);
		free(s->m[i]);
	}
	free(s);
	for (size_t i = 0; i < nretired; i++)
		free(retired[i]);
	free(retired);
	retired = NULL;
	nretired = 0;
}
