// SPDX-License-Identifier: MIT
/*
 * BPF output perf events: what libbpf's perf_buffer__new opens, one per
 * CPU (perf_event_open of type PERF_TYPE_SOFTWARE, config
 * PERF_COUNT_SW_BPF_OUTPUT, sample_type PERF_SAMPLE_RAW, pid -1 and a CPU),
 * maps (ring_poll.c sizes the ring at the mmap), enables with
 * PERF_EVENT_IOC_ENABLE and puts into a PERF_EVENT_ARRAY at the CPU's
 * index. The event is a ring of src/maps (map_perf_ring_*), a file of the
 * state directory; its fd is an fd of that file.
 *
 * A PERF_EVENT_ARRAY slot names the event by this process's pid and the
 * table's own fd of the ring, so programs in other processes (targets run
 * by `uebpf start`) open it through /proc; the map object holds the event
 * while a slot names it, as the kernel's array holds the event's file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/maps.h"
#include "syscall/internal.h"

bool sys_perf_output_ours(const struct perf_event_attr *attr)
{
	return attr->type == PERF_TYPE_SOFTWARE && attr->config == PERF_COUNT_SW_BPF_OUTPUT;
}

/* What the emulation cannot give: the record holds nothing but the raw sample. */
static int check_attr(const struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
		      unsigned long flags)
{
	if (attr->sample_type & ~(uint64_t)PERF_SAMPLE_RAW) {
		sys_error("perf_event_open: BPF output sample_type 0x%llx: only PERF_SAMPLE_RAW is "
			  "supported",
			  (unsigned long long)attr->sample_type);
		return -EOPNOTSUPP;
	}
	if (attr->inherit || attr->freq || attr->sample_id_all || attr->read_format) {
		sys_error("perf_event_open: BPF output: inherit, freq, sample_id_all and "
			  "read_format are not supported");
		return -EOPNOTSUPP;
	}
	if (group_fd != -1) {
		sys_error("perf_event_open: events in a group are not supported");
		return -EINVAL;
	}
	if (flags & ~(unsigned long)PERF_FLAG_FD_CLOEXEC) {
		sys_error("perf_event_open: flags 0x%lx not supported", flags);
		return -EINVAL;
	}
	if (pid != -1 && pid != 0) {
		sys_error("perf_event_open: a BPF output event of process %d is not supported (pid "
			  "-1 or 0)",
			  (int)pid);
		return -EOPNOTSUPP;
	}
	if ((pid == -1 && cpu < 0) || cpu < -1) {
		sys_error("perf_event_open: bad cpu %d for pid %d", cpu, (int)pid);
		return -EINVAL;
	}
	if (cpu >= 0 && (long)cpu >= sysconf(_SC_NPROCESSORS_CONF)) {
		sys_error("perf_event_open: no CPU %d", cpu);
		return -ENODEV;
	}
	return 0;
}

long sys_perf_output_open(const struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
			  unsigned long flags)
{
	struct map_perf_ring_attr ra = {.cpu = cpu,
					.wakeup_events = attr->wakeup_events,
					.wakeup_watermark = attr->wakeup_watermark,
					.watermark = attr->watermark,
					.enabled = !attr->disabled};
	struct sys_obj *obj;
	char err[256];
	int ret;

	ret = check_attr(attr, pid, cpu, group_fd, flags);
	if (ret)
		return ret;
	obj = calloc(1, sizeof(*obj));
	if (!obj) {
		sys_error("out of memory");
		return -ENOMEM;
	}
	ret = map_perf_ring_create(&ra, &obj->ring, err, sizeof(err));
	if (ret) {
		sys_error("perf_event_open: %s", err);
		free(obj);
		return ret;
	}
	obj->kind = SYS_PERF_OUTPUT;
	obj->fd = map_perf_ring_fd(obj->ring);
	ret = sys_obj_add(obj);
	if (ret < 0) {
		map_perf_ring_close(obj->ring);
		free(obj);
		return ret;
	}
	/* the kernel's event fds are close-on-exec only when asked */
	if (!(flags & PERF_FLAG_FD_CLOEXEC))
		fcntl(ret, F_SETFD, 0);
	return ret;
}

long sys_perf_output_ioctl(int fd, unsigned long req, bool *handled)
{
	struct sys_obj *obj;

	if (req != PERF_EVENT_IOC_ENABLE && req != PERF_EVENT_IOC_DISABLE)
		return 0;
	if (sys_obj_find(fd, &obj))
		return 0;
	if (obj->kind == SYS_PERF_OUTPUT) {
		*handled = true;
		map_perf_ring_enable(obj->ring, req == PERF_EVENT_IOC_ENABLE);
	}
	sys_obj_put(obj);
	return 0;
}

static pthread_mutex_t perf_array_lock = PTHREAD_MUTEX_INITIALIZER;

int sys_perf_array_op(int cmd, struct sys_obj *obj, const void *key, const void *value,
		      uint64_t flags)
{
	struct sys_map *sm = &obj->map;
	struct map *m = sm->map;
	struct sys_obj *ev = NULL, *old = NULL;
	uint32_t index, fd;
	int ret;

	memcpy(&index, key, sizeof(index));
	if (cmd == BPF_MAP_UPDATE_ELEM) {
		if (flags != BPF_ANY)
			return -EINVAL;
		if (index >= map_info(m)->max_entries)
			return -E2BIG;
		memcpy(&fd, value, sizeof(fd));
		ret = sys_obj_get((int)fd, SYS_PERF_OUTPUT, &ev);
		if (ret)
			return ret == -EINVAL ? -EBADF : ret;
	}
	pthread_mutex_lock(&perf_array_lock);
	if (!sm->progs)
		sm->progs = calloc(map_info(m)->max_entries, sizeof(*sm->progs));
	if (!sm->progs)
		ret = -ENOMEM;
	else if (ev)
		ret = map_perf_array_set(m, index, getpid(), ev->fd, ev->ring);
	else
		ret = map_perf_array_clear(m, index);
	if (!ret && index < map_info(m)->max_entries) {
		old = sm->progs[index];
		sm->progs[index] = ev;
		ev = NULL;
	}
	pthread_mutex_unlock(&perf_array_lock);
	if (old)
		sys_obj_put(old);
	if (ev)
		sys_obj_put(ev);
	return ret;
}
