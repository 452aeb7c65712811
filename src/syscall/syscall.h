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
 * PROG_BIND_MAP, OBJ_GET_INFO_BY_FD, MAP/PROG/BTF_GET_FD_BY_ID and _GET_NEXT_ID, OBJ_PIN and
 * OBJ_GET; others give -EINVAL, as an older kernel would, so libbpf's feature probes see what is
 * supported.
 *
 * Objects are real fds (close, dup, fcntl work; a map's fd is its shared file,
 * and a BPF_F_MMAPABLE array's values are at offset 0 of it, for mmap).
 * Programs run on the engine named by the environment variable
 * UEBPF_ENGINE (interp, jit or aot; interp when unset). Pins live under
 * UEBPF_PIN_DIR (default /run/uebpf/pins): the path the caller gives, e.g.
 * /sys/fs/bpf/x, becomes UEBPF_PIN_DIR/sys/fs/bpf/x.
 *
 * The message explaining the last failure on this thread is
 * syscall_last_error (a PROG_LOAD rejection also goes to the caller's
 * log_buf, as the kernel's verifier log does).
 */
#ifndef UEBPF_SYSCALL_H
#define UEBPF_SYSCALL_H

long syscall_bpf(int cmd, void *attr, unsigned int size);

const char *syscall_last_error(void);

#endif
