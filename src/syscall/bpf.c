// SPDX-License-Identifier: MIT
/*
 * syscall_bpf: the dispatcher. The caller's attribute is copied into a
 * zeroed union (a shorter one from an older libbpf reads as zeros beyond
 * its end; a longer one must be zero past what this build knows, -E2BIG,
 * as the kernel checks), then each command's handler takes it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "syscall/internal.h"
#include "uebpf/uebpf.h"

bool sys_tail_zero(const void *p, size_t from, size_t to)
{
	const unsigned char *c = p;

	for (size_t i = from; i < to; i++)
		if (c[i])
			return false;
	return true;
}

int sys_check_attr(const union bpf_attr *attr, size_t end, const char *cmd)
{
	if (!sys_tail_zero(attr, end, sizeof(*attr))) {
		sys_error("%s: attribute bytes past offset %zu must be zero", cmd, end);
		return -EINVAL;
	}
	return 0;
}

int sys_check_obj_name(const char *name)
{
	size_t i;

	for (i = 0; i < BPF_OBJ_NAME_LEN && name[i]; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '_' && c != '.') {
			sys_error("name: character 0x%02x not allowed", (unsigned char)c);
			return -EINVAL;
		}
	}
	if (i == BPF_OBJ_NAME_LEN) {
		sys_error("name longer than %u characters", BPF_OBJ_NAME_LEN - 1);
		return -EINVAL;
	}
	return 0;
}

int sys_engine(int *engine)
{
	static const char *const names[] = {
		[UEBPF_ENGINE_INTERP] = "interp",
		[UEBPF_ENGINE_JIT] = "jit",
		[UEBPF_ENGINE_AOT] = "aot",
	};
	const char *env = getenv("UEBPF_ENGINE");

	if (!env || !*env) {
		*engine = UEBPF_ENGINE_INTERP;
		return 0;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(env, names[i])) {
			*engine = (int)i;
			return 0;
		}
	}
	sys_error("UEBPF_ENGINE=%s: expected interp, jit or aot", env);
	return -EINVAL;
}

static int dispatch(int cmd, union bpf_attr *attr)
{
	switch (cmd) {
	case BPF_MAP_CREATE:
		return sys_map_create(attr);
	case BPF_MAP_LOOKUP_ELEM:
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		return sys_map_elem(cmd, attr);
	case BPF_MAP_FREEZE:
		return sys_map_freeze(attr);
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		return sys_map_batch(cmd, attr);
	case BPF_BTF_LOAD:
		return sys_btf_load(attr);
	case BPF_PROG_LOAD:
		return sys_prog_load(attr);
	case BPF_PROG_TEST_RUN:
		return sys_prog_test_run(attr);
	case BPF_PROG_BIND_MAP:
		return sys_prog_bind_map(attr);
	case BPF_OBJ_GET_INFO_BY_FD:
		return sys_obj_get_info(attr);
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_PROG_GET_FD_BY_ID:
	case BPF_BTF_GET_FD_BY_ID:
		return sys_get_fd_by_id(cmd, attr);
	case BPF_MAP_GET_NEXT_ID:
	case BPF_PROG_GET_NEXT_ID:
	case BPF_BTF_GET_NEXT_ID:
		return sys_get_next_id(cmd, attr);
	case BPF_OBJ_PIN:
		return sys_obj_pin(attr);
	case BPF_OBJ_GET:
		return sys_obj_get_pinned(attr);
	case BPF_LINK_CREATE:
		return sys_link_create(attr);
	case BPF_LINK_DETACH:
		return sys_link_detach(attr);
	case BPF_RAW_TRACEPOINT_OPEN:
		return sys_raw_tp_open(attr);
	default:
		sys_error("bpf command %d is not supported by uebpf", cmd);
		return -EINVAL;
	}
}

/* Commands with results in the attribute; their handlers change no other field. */
static bool writes_back(int cmd)
{
	switch (cmd) {
	case BPF_PROG_TEST_RUN:
	case BPF_OBJ_GET_INFO_BY_FD:
	case BPF_MAP_GET_NEXT_ID:
	case BPF_PROG_GET_NEXT_ID:
	case BPF_BTF_GET_NEXT_ID:
	case BPF_MAP_LOOKUP_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
		return true;
	default:
		return false;
	}
}

long syscall_bpf(int cmd, void *uattr, unsigned int size)
{
	union bpf_attr attr;
	int ret;

	memset(&attr, 0, sizeof(attr));
	if (!uattr) {
		sys_error("bpf: no attribute");
		return -EFAULT;
	}
	if (size > sizeof(attr)) {
		if (!sys_tail_zero(uattr, sizeof(attr), size)) {
			sys_error("bpf: attribute of %u bytes has unknown fields set", size);
			return -E2BIG;
		}
		size = sizeof(attr);
	}
	memcpy(&attr, uattr, size);
	ret = dispatch(cmd, &attr);
	if (writes_back(cmd))
		memcpy(uattr, &attr, size);
	return ret;
}
