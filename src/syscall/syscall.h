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
 * OBJ_GET, LINK_CREATE (BPF_PERF_EVENT) and LINK_DETACH; others give -EINVAL, as an older kernel would, so libbpf's feature probes see what is
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
#include <sys/types.h>

long syscall_bpf(int cmd, void *attr, unsigned int size);

/*
 * Uprobes (perf_event.c): perf_event_open on the uprobe PMU, and the
 * PERF_EVENT_IOC_SET_BPF / _ENABLE / _DISABLE ioctls on the events it made.
 * With UEBPF_REGISTRY set, attachments go into that registry for agents in
 * other processes (registry/registry.h); without, hooks go into this
 * process. syscall_perf_event_ours says whether an attribute is one for
 * uebpf (the uprobe PMU's type); syscall_perf_ioctl sets *handled when fd
 * is a uebpf event and the request one of those three.
 */
struct perf_event_attr;
bool syscall_perf_event_ours(const struct perf_event_attr *attr);
long syscall_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
			     unsigned long flags);
long syscall_perf_ioctl(int fd, unsigned long req, unsigned long arg, bool *handled);

const char *syscall_last_error(void);

/*
 * The VM of the program behind fd, a program fd of the emulation, or NULL:
 * valid while an fd of the program is open.
 */
struct uebpf_vm;
struct uebpf_vm *syscall_prog_vm(int fd);

#endif
