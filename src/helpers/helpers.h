/* SPDX-License-Identifier: MIT */
/*
 * helpers: the kernel's BPF helper functions (IDs and semantics of
 * linux/bpf.h) for programs run by uebpf: maps, ring buffers, time,
 * identity, probe reads, trace_printk and snprintf, checksums, strings,
 * and bpf_loop / for_each_map_elem on engines that can call back into a
 * program (vm_engine.call_sub). tail_call is the VM's (vm/tail_call.c).
 *
 * helpers_register_all registers every helper this module has on a VM,
 * before load. A helper checks each pointer it is given against the memory
 * the current run may use (its memory, stack, the VM's regions and bound
 * maps) and answers -EFAULT rather than touch anything else; a map argument
 * must be a handle of a map bound to the VM (vm_map_from_handle), else
 * -EINVAL.
 *
 * trace_printk writes to the file named by the environment variable
 * UEBPF_TRACE_PIPE (appending; read once, at the first message), else to
 * stderr.
 */
#ifndef UEBPF_HELPERS_H
#define UEBPF_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "uebpf/uebpf.h"

/*
 * Registers every helper by its kernel ID and name ("map_lookup_elem"), before
 * load; 0 or a negative errno.
 */
int helpers_register_all(struct uebpf_vm *vm);

/*
 * Whether fn is this module's helper for the kernel helper ID id: an engine
 * that open-codes a helper (the AOT tier) copies its semantics only where
 * the program calls that very function.
 */
bool helpers_is_builtin(uint32_t id, uebpf_helper_fn fn);

/*
 * This thread's state of bpf_get_prandom_u32 (xorshift64*), 0 until its
 * first call seeds it: an engine that open-codes the helper steps the same
 * state, so the sequence is the helper's.
 */
extern __thread uint64_t helpers_prandom_state;

/*
 * What bpf_get_attach_cookie returns on this thread: whoever runs a program
 * for an attachment sets it to the attachment's cookie around the run.
 */
extern __thread uint64_t helpers_attach_cookie;

/* What bpf_get_current_pid_tgid returns on this thread (cached per thread). */
uint64_t helpers_current_pid_tgid(void);

#endif
