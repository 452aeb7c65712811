/* SPDX-License-Identifier: MIT */
/*
 * helpers internals: what every helper needs from the run it serves (the
 * current run of this thread, published by uebpf_vm_run), and the helper
 * functions of each file, for the table in helpers.c.
 */
#ifndef UEBPF_HELPERS_INTERNAL_H
#define UEBPF_HELPERS_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/vm.h"

/* Helper functions as the VM calls them: r1..r5 in, r0 out. */
#define HELPER(name) \
	uint64_t helper_##name(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)

/* A negative errno as r0. */
static inline uint64_t helper_err(int e)
{
	return (uint64_t)(int64_t)-e;
}

/* May the program that called this helper hand it [addr, addr + size) to read or write? */
static inline bool helper_mem_ok(uint64_t addr, uint64_t size, bool write)
{
	const struct vm_run *run = vm_current_run;

	return run && vm_run_mem_ok(run, (uintptr_t)addr, size, write);
}

/* The map behind a handle the program passed, or NULL when it is none of its maps. */
static inline const struct vm_map *helper_map(uint64_t handle)
{
	const struct vm_run *run = vm_current_run;

	return run ? vm_map_from_handle(run->vm, handle) : NULL;
}

/*
 * Reads of memory the program has no right to (probe_read*): through the
 * kernel, so a bad address is an error, never a crash. Returns 0 or
 * -EFAULT; copies all of size bytes or fails.
 */
int helper_read_unsafe(void *dst, uintptr_t src, size_t size);
/*
 * A NUL-terminated string of at most size bytes, NUL included, into dst:
 * returns its length with the NUL, or -EFAULT. dst ends with a NUL.
 */
int helper_read_unsafe_str(char *dst, uintptr_t src, size_t size);

/*
 * The kernel's bpf_bprintf format subset (format.c): flags [-+ 0], a width,
 * then %d %i %u %x %X with an optional l or ll, %c, %s, %%, and %p with
 * K x s S B i4 I4 i6 I6 ks us. args are 64-bit; conversions without l take
 * the low 32 bits, as the kernel does. Writes at most out_len bytes with a
 * NUL and returns the length of the whole output (as snprintf), or -EINVAL
 * for a bad format or more conversions than nargs.
 */
int helper_format(char *out, size_t out_len, const char *fmt, const uint64_t *args, unsigned nargs);

HELPER(map_lookup_elem);
HELPER(map_update_elem);
HELPER(map_delete_elem);
HELPER(map_push_elem);
HELPER(map_pop_elem);
HELPER(map_peek_elem);
HELPER(ringbuf_output);
HELPER(ringbuf_reserve);
HELPER(ringbuf_submit);
HELPER(ringbuf_discard);
HELPER(ringbuf_query);
HELPER(perf_event_output);
HELPER(ktime_get_ns);
HELPER(ktime_get_boot_ns);
HELPER(ktime_get_coarse_ns);
HELPER(get_prandom_u32);
HELPER(get_smp_processor_id);
HELPER(get_numa_node_id);
HELPER(get_current_pid_tgid);
HELPER(get_current_uid_gid);
HELPER(get_current_comm);
HELPER(get_func_ip);
HELPER(get_attach_cookie);
HELPER(probe_read_user);
HELPER(probe_read_user_str);
HELPER(probe_read_kernel);
HELPER(probe_read_kernel_str);
HELPER(probe_write_user);
HELPER(trace_printk);
HELPER(snprintf);
HELPER(csum_diff);
HELPER(xdp_adjust_head);
HELPER(xdp_adjust_tail);
HELPER(strncmp);
HELPER(loop);
HELPER(for_each_map_elem);

#endif
