// SPDX-License-Identifier: MIT
/*
 * Tail calls. Every loaded program gets an ID (the kernel's prog ID, which
 * a PROG_ARRAY holds); bpf_tail_call looks the ID up in the array, and on
 * success records the target in the run and returns 0, which as a
 * stop-on-zero helper ends the calling program on every engine at once
 * (all of its local frames with it). vm_run_tail_calls then runs the target
 * with the same context, up to VM_MAX_TAIL_CALLS times, as the kernel does.
 * A failed tail call returns a negative errno and the program goes on.
 *
 * Where a program tail-calls from a bpf-to-bpf subprogram, the kernel
 * returns from the target to the subprogram's caller, and so does
 * vm_tail_call_frame: the engines call it for those calls and return its
 * r0 from the subprogram.
 *
 * IDs index a table of VMs in this process; a VM leaves the table when it
 * is destroyed, and its ID is not reused until the table wraps, so a stale
 * ID in a map finds nothing. Destroying a VM while another thread may
 * tail-call into it is the embedder's race to avoid, as for running it.
 */
#include <errno.h>
#include <pthread.h>

#include "maps/maps.h"
#include "vm.h"

#define VM_MAX_PROGS 65536

static struct uebpf_vm *progs[VM_MAX_PROGS];
static pthread_mutex_t progs_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t next_id = 1;

int vm_prog_register(struct uebpf_vm *vm)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&progs_lock);
	for (uint32_t tries = 0; tries < VM_MAX_PROGS - 1; tries++) {
		uint32_t id = next_id;

		next_id = next_id == VM_MAX_PROGS - 1 ? 1 : next_id + 1;
		if (!progs[id]) {
			__atomic_store_n(&progs[id], vm, __ATOMIC_RELEASE);
			vm->id = id;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&progs_lock);
	return ret;
}

void vm_prog_unregister(struct uebpf_vm *vm)
{
	if (!vm->id)
		return;
	__atomic_store_n(&progs[vm->id], NULL, __ATOMIC_RELEASE);
	vm->id = 0;
}

uint64_t vm_tail_call(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4, uint64_t r5)
{
	struct vm_run *run = vm_current_run;
	const struct vm_map *m = run ? vm_map_from_handle(run->vm, map) : NULL;
	uint32_t id;

	(void)r4;
	(void)r5;
	if (!m || index > UINT32_MAX)
		return (uint64_t)-EINVAL;
	if (run->tail_count >= VM_MAX_TAIL_CALLS)
		return (uint64_t)-E2BIG;
	id = map_prog_array_get(m->map, (uint32_t)index);
	run->tail = id ? __atomic_load_n(&progs[id], __ATOMIC_ACQUIRE) : NULL;
	if (!run->tail)
		return (uint64_t)-ENOENT;
	run->tail_count++;
	run->tail_ctx = ctx;
	return 0;
}

uint64_t vm_run_tail_calls(struct vm_run *run, uint64_t r0, uint64_t r2, bool interp)
{
	while (run->tail && !run->fault) {
		const struct uebpf_vm *next = run->tail;
		const struct vm_engine *engine = interp ? &vm_interp_engine : next->engine;

		run->tail = NULL;
		run->vm = next;
		run->budget = next->insn_budget;
		r0 = engine->run(run, run->tail_ctx, r2);
	}
	return r0;
}

struct vm_tail_ret vm_tail_call_frame(uint64_t ctx, uint64_t map, uint64_t index, uint64_t r4,
				      uint64_t r5)
{
	struct vm_run *run = vm_current_run;
	struct vm_tail_ret ret = {.err = vm_tail_call(ctx, map, index, r4, r5)};
	struct vm_run outer;

	if (ret.err)
		return ret;
	/* the targets run on fresh stacks of their own: put back what they change */
	outer = *run;
	ret.r0 = vm_run_tail_calls(run, 0, run->mem_len, run->interp_only);
	run->vm = outer.vm;
	run->budget = outer.budget;
	run->stack_lo = outer.stack_lo;
	run->stack_hi = outer.stack_hi;
	run->frame_lo = outer.frame_lo;
	return ret;
}
