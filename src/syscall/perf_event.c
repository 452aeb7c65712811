// SPDX-License-Identifier: MIT
/*
 * perf_event_open on the uprobe PMU, and the ioctls libbpf makes on such an
 * event (PERF_EVENT_IOC_SET_BPF, _ENABLE, _DISABLE). libbpf reads the PMU's
 * type and the retprobe bit from /sys/bus/event_source/devices/uprobe, then
 * opens an event with config bit 0 = retprobe, config1 = the binary's path,
 * config2 = the file offset, config bits 32-63 = the file offset of a USDT
 * semaphore, which the process running the hook increments while it is
 * installed (probe_semaphore_get); uebpf answers with an fd of its own. A
 * link's BPF cookie reaches the program through helpers_attach_cookie.
 *
 * With a registry (UEBPF_REGISTRY set: a loader under `uebpf load` or
 * `uebpf trace`), the event's fd is an fd of an unnamed file in the
 * registry holding the attachment's lock (registry/registry.h): a program
 * attached by ioctl is published under the event's file, one attached by
 * BPF_LINK_CREATE under the link's (link.c). Agents in target processes
 * install the hooks. Closing every fd of the event (or link), in every
 * process, ends the attachment: the kernel drops the lock, which is what
 * agents test. Without a registry, the event applies to this process and
 * the hook is installed here (probe_attach), removed by DISABLE, LINK_DETACH
 * or once no fd of the event or link is left (the object table's
 * collection).
 *
 * A tracepoint event (PERF_TYPE_TRACEPOINT) of a syscall event is made by
 * tracepoint.c, the same kind of event with another kind of attachment.
 */
#define _GNU_SOURCE
#include <asm/ptrace.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers/helpers.h"
#include "probe/probe.h"
#include "registry/registry.h"
#include "syscall/internal.h"
#include "uebpf/uebpf.h"

#define UPROBE_TYPE_FILE "/sys/bus/event_source/devices/uprobe/type"
#define UPROBE_REF_CTR_SHIFT 32 /* config bits of a USDT semaphore's offset */

static int uprobe_type = -1;

static void read_uprobe_type(void)
{
	FILE *f = fopen(UPROBE_TYPE_FILE, "re");
	int t;

	if (!f)
		return;
	if (fscanf(f, "%d", &t) == 1 && t >= 0)
		uprobe_type = t;
	fclose(f);
}

bool syscall_perf_event_ours(const struct perf_event_attr *attr)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, read_uprobe_type);
	if (attr && attr->type == PERF_TYPE_TRACEPOINT)
		return sys_tp_ours(attr);
	if (attr && sys_perf_output_ours(attr))
		return true;
	return attr && uprobe_type >= 0 && attr->type == (uint32_t)uprobe_type;
}

static pthread_mutex_t attach_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

void sys_attach_lock(void)
{
	pthread_mutex_lock(&attach_lock);
}

void sys_attach_unlock(void)
{
	pthread_mutex_unlock(&attach_lock);
}

static struct reg *registry;
static int registry_err;
static char registry_msg[512];

static void open_registry(void)
{
	const char *name = getenv("UEBPF_REGISTRY");
	char path[REG_PATH_MAX];

	if (!name || !*name)
		return;
	registry_err =
		reg_path(name, path, sizeof(path), registry_msg, sizeof(registry_msg))
			?: reg_open(path, true, &registry, registry_msg, sizeof(registry_msg));
}

int sys_registry(struct reg **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, open_registry);
	if (registry_err)
		sys_error("UEBPF_REGISTRY: %s", registry_msg);
	*out = registry;
	return registry_err;
}

int sys_perf_check_target(pid_t pid, int cpu, int group_fd, unsigned long flags, int32_t *filter)
{
	if (group_fd != -1) {
		sys_error("perf_event_open: events in a group are not supported");
		return -EINVAL;
	}
	if (flags & ~(unsigned long)PERF_FLAG_FD_CLOEXEC) {
		sys_error("perf_event_open: flags 0x%lx not supported", flags);
		return -EINVAL;
	}
	if (pid == -1 && cpu == -1) {
		sys_error("perf_event_open: pid -1 needs a cpu");
		return -EINVAL;
	}
	if (pid < -1 || cpu < -1) {
		sys_error("perf_event_open: bad pid %d or cpu %d", (int)pid, cpu);
		return -EINVAL;
	}
	if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH) {
		sys_error("perf_event_open: no process %d", (int)pid);
		return -ESRCH;
	}
	*filter = pid == 0 ? (int32_t)getpid() : (int32_t)pid;
	return 0;
}

int sys_attach_fds(struct sys_obj *obj, const char *what, const char *cmd, int *user_fd)
{
	char proc[64], err[512];
	struct reg *r;
	int ret = sys_registry(&r);

	if (ret)
		return ret;
	if (!r) {
		obj->fd = sys_obj_memfd(what, "uprobe");
		*user_fd = -1;
		return obj->fd < 0 ? obj->fd : 0;
	}
	ret = reg_attach_new(r, user_fd, err, sizeof(err));
	if (ret) {
		sys_error("%s", err);
		return ret;
	}
	/* the table's own fd: another description of the file, without the lock */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", *user_fd);
	obj->fd = open(proc, O_RDWR | O_CLOEXEC);
	if (obj->fd < 0) {
		ret = -errno;
		sys_error("%s: %s: %s", cmd, proc, strerror(errno));
		close(*user_fd);
	}
	return ret;
}

long syscall_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
			     unsigned long flags)
{
	const char *path = (const char *)(uintptr_t)attr->config1;
	struct sys_obj *obj;
	int32_t filter;
	int ret;

	if (attr->type == PERF_TYPE_TRACEPOINT)
		return sys_tp_open(attr, pid, cpu, group_fd, flags);
	if (sys_perf_output_ours(attr))
		return sys_perf_output_open(attr, pid, cpu, group_fd, flags);
	ret = sys_perf_check_target(pid, cpu, group_fd, flags, &filter);
	if (ret)
		return ret;
	if (attr->config & ~1ull & ((1ull << UPROBE_REF_CTR_SHIFT) - 1)) {
		sys_error("perf_event_open: uprobe config 0x%llx: only the retprobe bit (0) and "
			  "a semaphore offset (bits 32-63) are supported",
			  (unsigned long long)attr->config);
		return -EOPNOTSUPP;
	}
	if (!path)
		return -EFAULT;
	if (!*path || strnlen(path, REG_PATH_MAX) == REG_PATH_MAX) {
		sys_error("perf_event_open: uprobe path is empty or too long");
		return -EINVAL;
	}
	obj = calloc(1, sizeof(*obj));
	if (!obj || !(obj->event.path = strdup(path))) {
		free(obj);
		sys_error("out of memory");
		return -ENOMEM;
	}
	obj->kind = SYS_PERF_EVENT;
	obj->event.kind = attr->config & 1 ? REG_URETPROBE : REG_UPROBE;
	obj->event.pid = filter;
	obj->event.offset = attr->config2;
	obj->event.ref_ctr_off = attr->config >> UPROBE_REF_CTR_SHIFT;
	obj->event.enabled = !attr->disabled;
	return sys_perf_event_add(obj, flags);
}

long sys_perf_event_add(struct sys_obj *obj, unsigned long flags)
{
	int ret, user_fd;

	obj->fd = -1;
	ret = sys_attach_fds(obj, "perf_event", "perf_event_open", &user_fd);
	if (!ret)
		ret = user_fd >= 0 ? sys_obj_add_user_fd(obj, user_fd) : sys_obj_add(obj);
	/* the kernel's event fds are close-on-exec only when asked */
	if (ret >= 0 && !(flags & PERF_FLAG_FD_CLOEXEC))
		fcntl(ret, F_SETFD, 0);
	if (ret < 0) {
		if (obj->fd >= 0)
			close(obj->fd);
		free(obj->event.path);
		free(obj);
	}
	return ret;
}

bool sys_perf_prog_ok(const struct sys_perf_event *ev, const struct sys_obj *prog, const char *cmd)
{
	bool tp = sys_tp_kind(ev->kind);

	if (prog->prog.type == (tp ? BPF_PROG_TYPE_TRACEPOINT : BPF_PROG_TYPE_KPROBE))
		return true;
	sys_error("%s: a %s takes a %s program, not type %u", cmd, tp ? "tracepoint" : "uprobe",
		  tp ? "tracepoint" : "kprobe", prog->prog.type);
	return false;
}

static void run_prog(void *ctx, struct pt_regs *regs)
{
	const struct sys_attach *att = ctx;
	uint64_t r0;

	helpers_attach_cookie = att->cookie;
	uebpf_vm_run(att->vm, regs, sizeof(*regs), &r0, NULL, 0);
	helpers_attach_cookie = 0;
}

static int attach_here(struct sys_attach *att, const struct sys_perf_event *ev,
		       struct sys_obj *prog)
{
	char err[512];
	void *addr;
	int ret;

	if (ev->pid != -1 && ev->pid != (int32_t)getpid()) {
		sys_error("a uprobe on process %d needs a registry (run the loader under "
			  "`uebpf load`)",
			  (int)ev->pid);
		return -EOPNOTSUPP;
	}
	att->vm = prog->prog.vm;
	ret = probe_resolve_file_off(ev->path, ev->offset, &addr, err, sizeof(err));
	if (!ret && ev->ref_ctr_off)
		ret = probe_semaphore_get(ev->path, ev->ref_ctr_off, &att->sema, err, sizeof(err));
	if (!ret)
		ret = probe_attach(addr, ev->kind == REG_URETPROBE ? PROBE_RETURN : PROBE_ENTRY,
				   run_prog, att, &att->probe, err, sizeof(err));
	if (ret) {
		probe_semaphore_put(att->sema);
		att->sema = NULL;
		sys_error("uprobe %s+0x%llx: %s", ev->path, (unsigned long long)ev->offset, err);
	}
	return ret;
}

static int publish(struct reg *r, struct sys_attach *att, int fd, const struct sys_perf_event *ev,
		   struct sys_obj *prog)
{
	struct reg_attach a = {.kind = ev->kind,
			       .pid = ev->pid,
			       .loader_pid = getpid(),
			       .tp_id = ev->tp_id,
			       .offset = ev->offset,
			       .ref_ctr_off = ev->ref_ctr_off,
			       .cookie = att->cookie};
	char err[512];
	int ret;

	if (att->name[0]) {
		ret = reg_attach_republish(r, att->name, err, sizeof(err));
	} else {
		ret = sys_prog_export(r, prog);
		if (ret)
			return ret;
		snprintf(a.prog, sizeof(a.prog), "%s", prog->prog.reg_name);
		snprintf(a.path, sizeof(a.path), "%s", ev->path);
		ret = reg_attach_publish(r, fd, &a, att->name, err, sizeof(err));
	}
	if (ret)
		sys_error("%s", err);
	return ret;
}

/* Make the attachment present or absent. */
static int set_attached(struct sys_attach *att, int fd, const struct sys_perf_event *ev,
			struct sys_obj *prog, bool want)
{
	char err[512];
	struct reg *r;
	int ret = sys_registry(&r);

	if (ret)
		return ret;
	if (r) {
		if (want == att->published)
			return 0;
		ret = want ? publish(r, att, fd, ev, prog)
			   : reg_attach_unpublish(r, att->name, err, sizeof(err));
		if (ret && !want)
			sys_error("%s", err);
		if (!ret)
			att->published = want;
		return ret;
	}
	if (sys_tp_kind(ev->kind))
		return sys_tp_set_here(att, ev, prog, want);
	if (want == (att->probe != NULL))
		return 0;
	if (want)
		return attach_here(att, ev, prog);
	ret = probe_detach(att->probe, err, sizeof(err));
	if (ret) {
		sys_error("uprobe %s: detach: %s", ev->path, err);
	} else {
		att->probe = NULL;
		probe_semaphore_put(att->sema);
		att->sema = NULL;
	}
	return ret;
}

int sys_perf_update(struct sys_obj *obj)
{
	struct sys_perf_event *ev = &obj->event;
	struct sys_obj *l = ev->link;

	if (l)
		return set_attached(&l->link.att, l->fd, ev, l->link.prog,
				    ev->enabled && !l->link.detached);
	return set_attached(&ev->att, obj->fd, ev, ev->prog, ev->enabled && ev->prog);
}

static int set_bpf(struct sys_obj *obj, int prog_fd)
{
	struct sys_obj *prog;
	int ret;

	if (obj->event.prog || obj->event.link) {
		sys_error("PERF_EVENT_IOC_SET_BPF: the event has a program already");
		return -EEXIST;
	}
	ret = sys_obj_get(prog_fd, SYS_PROG, &prog);
	if (ret)
		return ret;
	if (!sys_perf_prog_ok(&obj->event, prog, "PERF_EVENT_IOC_SET_BPF")) {
		sys_obj_put(prog);
		return -EINVAL;
	}
	obj->event.prog = prog;
	ret = sys_perf_update(obj);
	if (ret) {
		obj->event.prog = NULL;
		sys_obj_put(prog);
	}
	return ret;
}

long syscall_perf_ioctl(int fd, unsigned long req, unsigned long arg, bool *handled)
{
	struct sys_obj *obj;
	bool was;
	int ret;

	*handled = false;
	if (req != PERF_EVENT_IOC_SET_BPF && req != PERF_EVENT_IOC_ENABLE &&
	    req != PERF_EVENT_IOC_DISABLE)
		return 0;
	ret = sys_perf_output_ioctl(fd, req, handled);
	if (*handled)
		return ret;
	if (sys_obj_get(fd, SYS_PERF_EVENT, &obj))
		return 0;
	*handled = true;
	sys_attach_lock();
	switch (req) {
	case PERF_EVENT_IOC_SET_BPF:
		ret = set_bpf(obj, (int)arg);
		break;
	default:
		was = obj->event.enabled;
		obj->event.enabled = req == PERF_EVENT_IOC_ENABLE;
		ret = sys_perf_update(obj);
		if (ret)
			obj->event.enabled = was;
		break;
	}
	sys_attach_unlock();
	sys_obj_put(obj);
	return ret;
}

void sys_perf_event_release(struct sys_obj *obj)
{
	struct sys_perf_event *ev = &obj->event;

	sys_attach_lock();
	set_attached(&ev->att, obj->fd, ev, ev->prog, false);
	sys_attach_unlock();
	if (ev->prog)
		sys_obj_put(ev->prog);
	free(ev->path);
}
