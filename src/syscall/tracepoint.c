// SPDX-License-Identifier: MIT
/*
 * Syscall tracepoints, as libbpf attaches to them. SEC("tracepoint/C/N"):
 * libbpf reads the event's id from tracefs (events/C/N/id), opens
 * perf_event_open(PERF_TYPE_TRACEPOINT, config = id) and attaches by
 * PERF_EVENT_IOC_SET_BPF + ENABLE or BPF_LINK_CREATE, as for uprobes; the
 * event made here is perf_event.c's kind of event, so both paths and the
 * registry's publication are theirs. The id is the kernel's when tracefs is
 * readable, else uebpf's own, which interpose_tracefs.c serves in place of
 * the files an unprivileged user cannot open (systp/systp.h).
 * SEC("raw_tp/sys_enter"), SEC("tp_btf/sys_enter") and their sys_exit:
 * BPF_RAW_TRACEPOINT_OPEN (tp_btf through the type its attach_btf_id names
 * in the kernel's BTF); the fd is such an event with the program attached.
 *
 * Unlike uprobes, the kernel runs a tracepoint's programs in every process
 * whatever pid the event was opened for (libbpf opens pid -1); uebpf
 * honours a pid given, as it does for uprobes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/registry.h"
#include "syscall/internal.h"
#include "systp/systp.h"

bool sys_tp_kind(uint32_t kind)
{
	return kind == REG_SYSCALL_ENTER || kind == REG_SYSCALL_EXIT;
}

bool sys_tp_ours(const struct perf_event_attr *attr)
{
	struct systp_event ev;

	return attr->type == PERF_TYPE_TRACEPOINT && !systp_event_of_id(attr->config, &ev);
}

/* A new event for ev; the caller's fd or a negative errno. */
static long new_event(const struct systp_event *ev, int32_t pid, uint32_t tp_id, bool enabled,
		      const char *name, unsigned long flags, struct sys_obj *prog)
{
	struct sys_obj *obj = calloc(1, sizeof(*obj));

	if (!obj || !(obj->event.path = strdup(name))) {
		free(obj);
		sys_error("out of memory");
		return -ENOMEM;
	}
	obj->kind = SYS_PERF_EVENT;
	obj->event.kind = ev->exit ? REG_SYSCALL_EXIT : REG_SYSCALL_ENTER;
	obj->event.pid = pid;
	obj->event.offset = ev->nr == SYSTP_ANY ? REG_SYSCALL_ANY : (uint64_t)ev->nr;
	obj->event.tp_id = tp_id;
	obj->event.enabled = enabled;
	obj->event.prog = prog;
	return sys_perf_event_add(obj, flags);
}

long sys_tp_open(const struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
		 unsigned long flags)
{
	char name[SYSTP_NAME_MAX];
	struct systp_event ev;
	int32_t filter;
	int ret;

	ret = sys_perf_check_target(pid, cpu, group_fd, flags, &filter);
	if (ret)
		return ret;
	if (systp_event_of_id(attr->config, &ev)) {
		sys_error("perf_event_open: tracepoint %llu is not a syscall event",
			  (unsigned long long)attr->config);
		return -ENOENT;
	}
	systp_event_name(&ev, name);
	return new_event(&ev, filter, (uint32_t)attr->config, !attr->disabled, name, flags, NULL);
}

int sys_tp_set_here(struct sys_attach *att, const struct sys_perf_event *ev, struct sys_obj *prog,
		    bool want)
{
	struct systp_event e = {.exit = ev->kind == REG_SYSCALL_EXIT,
				.nr = ev->offset == REG_SYSCALL_ANY ? SYSTP_ANY : (long)ev->offset};
	struct systp_attach_opts opts;
	char err[512];
	int ret;

	if (want == (att->hook != NULL))
		return 0;
	if (!want) {
		ret = systp_detach(att->hook, err, sizeof(err));
		if (ret)
			sys_error("%s: detach: %s", ev->path, err);
		else
			att->hook = NULL;
		return ret;
	}
	if (ev->pid != -1 && ev->pid != (int32_t)getpid()) {
		sys_error("a tracepoint for process %d needs a registry (run the loader under "
			  "`uebpf load`)",
			  (int)ev->pid);
		return -EOPNOTSUPP;
	}
	opts = (struct systp_attach_opts){.tp_id = ev->tp_id,
					  .raw = prog->prog.type != BPF_PROG_TYPE_TRACEPOINT,
					  .pid = ev->pid,
					  .cookie = att->cookie};
	ret = systp_attach(&e, &opts, prog->prog.vm, &att->hook, err, sizeof(err));
	if (ret)
		sys_error("%s: %s", ev->path, err);
	return ret;
}

/* The raw tracepoint a program attaches to: "sys_enter" or "sys_exit" into ev. */
static int raw_tp_event(const union bpf_attr *attr, const struct sys_prog *p,
			struct systp_event *ev)
{
	char name[128], btf_name[128];
	int ret;

	if (attr->raw_tracepoint.name) {
		if (p->type != BPF_PROG_TYPE_RAW_TRACEPOINT) {
			sys_error("BPF_RAW_TRACEPOINT_OPEN: program type %u with a name (raw_tp "
				  "programs only)",
				  p->type);
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "%s",
			 (const char *)sys_ptr(attr->raw_tracepoint.name));
	} else {
		if (p->type != BPF_PROG_TYPE_TRACING ||
		    p->expected_attach_type != BPF_TRACE_RAW_TP) {
			sys_error("BPF_RAW_TRACEPOINT_OPEN: without a name, the program must be "
				  "tp_btf (tracing, BPF_TRACE_RAW_TP)");
			return -EINVAL;
		}
		ret = sys_vmlinux_type_name(p->attach_btf_id, btf_name, sizeof(btf_name));
		if (ret)
			return ret;
		if (strncmp(btf_name, "btf_trace_", 10)) {
			sys_error("BPF_RAW_TRACEPOINT_OPEN: BTF type %u (%s) is not a tracepoint",
				  p->attach_btf_id, btf_name);
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "%s", btf_name + 10);
	}
	if (systp_event_parse("raw_syscalls", name, ev)) {
		sys_error("BPF_RAW_TRACEPOINT_OPEN: tracepoint %s: uebpf has sys_enter and "
			  "sys_exit only",
			  name);
		return -ENOENT;
	}
	return 0;
}

int sys_raw_tp_open(union bpf_attr *attr)
{
	char name[SYSTP_NAME_MAX];
	struct sys_obj *prog, *obj;
	struct systp_event ev;
	long fd;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(raw_tracepoint.prog_fd), "BPF_RAW_TRACEPOINT_OPEN");
	if (ret)
		return ret;
	ret = sys_obj_get((int)attr->raw_tracepoint.prog_fd, SYS_PROG, &prog);
	if (ret)
		return ret;
	ret = raw_tp_event(attr, &prog->prog, &ev);
	if (ret) {
		sys_obj_put(prog);
		return ret;
	}
	snprintf(name, sizeof(name), "%s", ev.exit ? "sys_exit" : "sys_enter");
	/* the event holds the program's reference from here, freed with it */
	fd = new_event(&ev, -1, 0, true, name, PERF_FLAG_FD_CLOEXEC, prog);
	if (fd < 0) {
		sys_obj_put(prog);
		return (int)fd;
	}
	sys_attach_lock();
	ret = sys_obj_get((int)fd, SYS_PERF_EVENT, &obj);
	if (!ret) {
		ret = sys_perf_update(obj);
		sys_obj_put(obj);
	}
	sys_attach_unlock();
	if (ret) {
		close((int)fd);
		return ret;
	}
	return (int)fd;
}
