// SPDX-License-Identifier: MIT
/*
 * The interpreter: two instances of the loop in interp_loop.h, one that
 * counts instructions against a budget and one that does not.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "vm.h"

#define INTERP_NAME interp_unbounded
#define INTERP_BUDGET 0
#include "interp_loop.h"

#define INTERP_NAME interp_budgeted
#define INTERP_BUDGET 1
#include "interp_loop.h"

static uint64_t interp_run(struct vm_run *run, uint64_t r1, uint64_t r2)
{
	if (run->budget)
		return interp_budgeted(run, r1, r2);
	return interp_unbounded(run, r1, r2);
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
};
