/* SPDX-License-Identifier: MIT */
/*
 * syscall: the bpf() system call, answered by uebpf in user space, so that
 * an unmodified libbpf loads clang-built objects into uebpf maps and
 * programs.
 *
 * syscall_bpf takes what bpf(2) takes and returns what it would, but as a
 * value: a new fd, 0, or a negative errno (the caller turns it into -1 and
 * errno). Commands: MAP_CREATE, MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM,
 * MAP_DELETE_ELEM, MAP_GET_NEXT_KEY, MAP_LOOKUP_AND_DELETE_ELEM,
 * MAP_FREEZE, MAP_LOOKUP/LOOKUP_AND_DELETE/UPDATE/DELETE_BATCH, BTF_LOAD, PROG_LOAD, PROG_TEST_RUN,
 * PROG_BIND_MAP, OBJ_GET_INFO_BY_FD, MAP/PROG/BTF_GET_FD_BY_ID and _GET_NEXT_ID, OBJ_PIN,
 * OBJ_GET, LINK_CREATE (BPF_PERF_EVENT), LINK_DETACH and RAW_TRACEPOINT_OPEN
 * (sys_enter, sys_exit); others give -EINVAL, as an older kernel would, so libbpf's feature probes see what is
 * supported.
 *
 * Objects are real fds (close, dup, fcntl work; a map's fd is its shared file,
 * and a BPF_F_MMAPABLE array's values are at offset 0 of it, for mmap).
 * Programs run on the engine named by the environment variable
 * UEBPF_ENGINE (interp, jit or aot; interp when unset). Pins live under
 * UEBPF_PIN_DIR (default: the state directory's "pins"): the path the
 * caller gives, e.g. /sys/fs/bpf/x, becomes UEBPF_PIN_DIR/sys/fs/bpf/x. A
 * pinned map outlives its process (a hard link of its file); a pinned
 * program lives as long as the process that pinned it.
 *
 * The message explaining the last failure on this thread is
 * syscall_last_error (a PROG_LOAD rejection also goes to the caller's
 * log_buf, as the kernel's verifier log does).
 */
#ifndef UEBPF_SYSCALL_H
#define UEBPF_SYSCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

long syscall_bpf(int cmd, void *attr, unsigned int size);

/*
 * Uprobes (perf_event.c) and syscall tracepoints (tracepoint.c):
 * perf_event_open on the uprobe PMU or on a syscall event's tracepoint id, and the
 * PERF_EVENT_IOC_SET_BPF / _ENABLE / _DISABLE ioctls on the events it made.
 * With UEBPF_REGISTRY set, attachments go into that registry for agents in
 * other processes (registry/registry.h); without, hooks go into this
 * process. syscall_perf_event_ours says whether an attribute is one for
 * uebpf (the uprobe PMU's type, a syscall event's tracepoint id, or a
 * software BPF output event: perf_output.c, whose ENABLE and DISABLE are
 * taken here too);
 * syscall_perf_ioctl sets *handled when fd
 * is a uebpf event and the request one of those three.
 */
struct perf_event_attr;
bool syscall_perf_event_ours(const struct perf_event_attr *attr);
long syscall_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
			     unsigned long flags);
long syscall_perf_ioctl(int fd, unsigned long req, unsigned long arg, bool *handled);

/*
 * Rings' consumers (ring_poll.c), for the mmap and epoll interposition:
 * each returns false when fd is not a RINGBUF map's or a BPF output perf
 * event's (or the mapping is a plain one of its file), for the caller to
 * hand the call to libc; else the call's result is in *out or *result
 * (MAP_FAILED or -1 with errno set). epoll_ctl_fn is
 * libc's epoll_ctl, for the proxy's own calls. syscall_ring_epoll_prepare
 * readies the proxies of epfd before an epoll_wait on it.
 */
struct epoll_event;
typedef int (*epoll_ctl_fn)(int epfd, int op, int fd, struct epoll_event *ev);
bool syscall_ring_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off,
		       void **out);
bool syscall_ring_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev, epoll_ctl_fn real,
			    int *result);
void syscall_ring_epoll_prepare(int epfd);

const char *syscall_last_error(void);

/*
 * The VM of the program behind fd, a program fd of the emulation, or NULL:
 * valid while an fd of the program is open.
 */
struct uebpf_vm;
struct uebpf_vm *syscall_prog_vm(int fd);

#endif
