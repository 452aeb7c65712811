// SPDX-License-Identifier: MIT
/*
 * The table of helpers by kernel ID (linux/bpf.h) and their registration.
 * The legacy bpf_probe_read and probe_read_str are the user forms.
 */
#include <linux/bpf.h>
#include <stddef.h>

#include "helpers/helpers.h"
#include "helpers/internal.h"
#include "vm/vm.h"

struct helper_entry {
	uint32_t id;
	const char *name;
	uebpf_helper_fn fn;
};

#define ENTRY(name, fn)                             \
	{                                           \
		BPF_FUNC_##name, #name, helper_##fn \
	}

static const struct helper_entry table[] = {
	ENTRY(map_lookup_elem, map_lookup_elem),
	ENTRY(map_update_elem, map_update_elem),
	ENTRY(map_delete_elem, map_delete_elem),
	ENTRY(map_push_elem, map_push_elem),
	ENTRY(map_pop_elem, map_pop_elem),
	ENTRY(map_peek_elem, map_peek_elem),
	ENTRY(ringbuf_output, ringbuf_output),
	ENTRY(ringbuf_reserve, ringbuf_reserve),
	ENTRY(ringbuf_submit, ringbuf_submit),
	ENTRY(ringbuf_discard, ringbuf_discard),
	ENTRY(ringbuf_query, ringbuf_query),
	ENTRY(perf_event_output, perf_event_output),
	ENTRY(ktime_get_ns, ktime_get_ns),
	ENTRY(ktime_get_boot_ns, ktime_get_boot_ns),
	ENTRY(ktime_get_coarse_ns, ktime_get_coarse_ns),
	ENTRY(get_prandom_u32, get_prandom_u32),
	ENTRY(get_smp_processor_id, get_smp_processor_id),
	ENTRY(get_numa_node_id, get_numa_node_id),
	ENTRY(get_current_pid_tgid, get_current_pid_tgid),
	ENTRY(get_current_uid_gid, get_current_uid_gid),
	ENTRY(get_current_comm, get_current_comm),
	ENTRY(get_func_ip, get_func_ip),
	ENTRY(get_attach_cookie, get_attach_cookie),
	ENTRY(probe_read, probe_read_user),
	ENTRY(probe_read_str, probe_read_user_str),
	ENTRY(probe_read_user, probe_read_user),
	ENTRY(probe_read_user_str, probe_read_user_str),
	ENTRY(probe_read_kernel, probe_read_kernel),
	ENTRY(probe_read_kernel_str, probe_read_kernel_str),
	ENTRY(probe_write_user, probe_write_user),
	ENTRY(trace_printk, trace_printk),
	ENTRY(snprintf, snprintf),
	ENTRY(csum_diff, csum_diff),
	ENTRY(xdp_adjust_head, xdp_adjust_head),
	ENTRY(xdp_adjust_tail, xdp_adjust_tail),
	ENTRY(strncmp, strncmp),
	ENTRY(loop, loop),
	ENTRY(for_each_map_elem, for_each_map_elem),
};

bool helpers_is_builtin(uint32_t id, uebpf_helper_fn fn)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].id == id)
			return table[i].fn == fn;
	return false;
}

int helpers_register_all(struct uebpf_vm *vm)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int ret = uebpf_vm_register_helper(vm, table[i].id, table[i].name, table[i].fn);

		if (ret)
			return ret;
	}
	/* a tail call that will happen stops the caller: the engines' stop-on-zero */
	return uebpf_vm_register_helper_ex(vm, BPF_FUNC_tail_call, "tail_call", vm_tail_call,
					   UEBPF_HELPER_STOP_ON_ZERO);
}
