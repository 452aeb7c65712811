// SPDX-License-Identifier: MIT
/*
 * The interpreter: instances of the loop in interp_loop.h, for a run and
 * for a callback a helper calls (call_sub), each with and without counting
 * instructions against a budget.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vm.h"

#define INTERP_NAME interp_unbounded
#define INTERP_BUDGET 0
#define INTERP_SUB 0
#include "interp_loop.h"

#define INTERP_NAME interp_budgeted
#define INTERP_BUDGET 1
#define INTERP_SUB 0
#include "interp_loop.h"

/*
 * Callbacks count instructions only when the run does, each call against
 * a budget of the run's size: bounded, as the helpers that call them
 * bound their number.
 */
#define INTERP_NAME interp_sub_unbounded
#define INTERP_BUDGET 0
#define INTERP_SUB 1
#include "interp_loop.h"

#define INTERP_NAME interp_sub_budgeted
#define INTERP_BUDGET 1
#define INTERP_SUB 1
#include "interp_loop.h"

static uint64_t interp_run(struct vm_run *run, uint64_t r1, uint64_t r2)
{
	if (run->budget)
		return interp_budgeted(run, r1, r2);
	return interp_unbounded(run, r1, r2);
}

static uint64_t interp_call_sub(struct vm_run *run, const struct vm_op *entry,
				const uint64_t *args)
{
	if (run->budget)
		return interp_sub_budgeted(run, entry, args);
	return interp_sub_unbounded(run, entry, args);
}

static int interp_prepare(struct uebpf_vm *vm, char *err, size_t err_len)
{
	(void)vm;
	(void)err;
	(void)err_len;
	return 0;
}

static void interp_release(struct uebpf_vm *vm)
{
	(void)vm;
}

const struct vm_engine vm_interp_engine = {
	.name = "interp",
	.prepare = interp_prepare,
	.run = interp_run,
	.release = interp_release,
	.call_sub = interp_call_sub,
};
