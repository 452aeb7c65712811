/* SPDX-License-Identifier: MIT */
/*
 * syscall internals: the objects bpf() hands out and the command handlers.
 *
 * Every object (map, program, BTF blob) is a file: a map is its shared file, the
 * others an empty memfd named after them. The emulation keeps one fd of its
 * own per object; the fds it returns are duplicates of that one, so an
 * object is found from any fd the caller holds (dup'd, inherited, passed
 * over a socket) by the file's identity, device and inode, as fstat gives
 * them. As in the kernel, an object lives while an fd of it is open, a pin
 * names it or a program uses it: when the table has grown, the objects none
 * of the process's fds (/proc/self/fd) refer to, unpinned and unused, are
 * freed.
 *
 * Handlers get the caller's attribute copied into a zeroed union bpf_attr
 * and write results there, in the fields the kernel writes back: the
 * dispatcher copies it back to the caller for commands that have results.
 * They return what bpf() returns, or a negative errno, with a message in
 * the thread's last error.
 */
#ifndef UEBPF_SYSCALL_INTERNAL_H
#define UEBPF_SYSCALL_INTERNAL_H

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "isa/isa.h"
#include "syscall/syscall.h"

struct map;
struct map_perf_ring;
struct uebpf_vm;

/* The kernel's ENOTSUPP, which bpf() passes to user space; libc has no name for it. */
#define SYS_ENOTSUPP 524

enum sys_kind {
	SYS_MAP = 1,
	SYS_PROG,
	SYS_BTF,
	SYS_PERF_EVENT, /* a uprobe or syscall tracepoint perf event (perf_event.c, tracepoint.c) */
	SYS_LINK,	/* a BPF link of a program to a perf event (link.c) */
	SYS_PERF_OUTPUT, /* a BPF output perf event and its ring (perf_output.c) */
};

struct sys_obj;

struct sys_map {
	struct map *map;
	bool frozen;
	struct sys_obj *btf; /* the BTF its key and value types are in, or NULL */
	uint32_t btf_key_type_id;
	uint32_t btf_value_type_id;
	uint32_t btf_vmlinux_value_type_id;
	/* PROG_ARRAY: the program in each slot, held while there (PERF_EVENT_ARRAY: the event) */
	struct sys_obj **progs;
};

struct sys_prog {
	struct uebpf_vm *vm;
	uint32_t type;
	uint32_t expected_attach_type;
	uint32_t attach_btf_id; /* tp_btf: the kernel BTF's btf_trace_NAME */
	char name[BPF_OBJ_NAME_LEN];
	bool gpl;
	struct isa_insn *insns; /* as loaded, for BPF_OBJ_GET_INFO_BY_FD */
	uint32_t ninsns;
	struct sys_obj **maps; /* the maps it refers to, each holding a reference */
	uint32_t nmaps;
	struct sys_obj *btf;
	uint64_t load_time; /* CLOCK_BOOTTIME ns */
	uint32_t uid;
	char reg_name[64]; /* its file in the registry once exported (reg_export.c), or "" */
};

struct sys_btf {
	void *data;
	uint32_t size;
};

/*
 * Where a program is attached to a uprobe: with a registry, a file there
 * (named while attached, its fd in the caller's hands holding the lock that
 * keeps the attachment live: registry/registry.h); without one, a probe in
 * this process.
 */
struct sys_attach {
	char name[64]; /* the registry's name for it, once published */
	bool published;
	struct probe *probe;
	struct systp_hook *hook; /* a syscall tracepoint's, in this process */
	uint64_t cookie;	 /* LINK_CREATE's perf_event.bpf_cookie */
	struct uebpf_vm *vm;	 /* what probe runs, with cookie */
	uint16_t *sema;		 /* the USDT semaphore probe holds up, or NULL */
};

struct sys_perf_event {
	uint32_t kind;	   /* enum reg_attach_kind */
	int32_t pid;	   /* the process it applies to, -1 for all */
	uint64_t offset;   /* file offset in path; a syscall tracepoint's number */
	uint64_t ref_ctr_off; /* a USDT semaphore's file offset in path (config >> 32), or 0 */
	uint32_t tp_id;	   /* a syscall tracepoint's id */
	char *path;	   /* a syscall tracepoint's event name */
	bool enabled;
	struct sys_obj *prog; /* attached by PERF_EVENT_IOC_SET_BPF, held */
	struct sys_obj *link; /* the link attaching a program to it, if any (not held) */
	struct sys_attach att; /* the attachment when by ioctl */
};

struct sys_link {
	struct sys_obj *prog;  /* held */
	struct sys_obj *event; /* held */
	bool detached;	       /* BPF_LINK_DETACH */
	struct sys_attach att;
};

struct sys_obj {
	enum sys_kind kind;
	uint32_t id;
	int fd; /* the emulation's own fd of the object's file */
	dev_t dev;
	ino_t ino;
	int refs;    /* the table's, plus one per user (a program using a map, a running command) */
	bool pinned; /* a pin refers to fd: kept for the life of the process */
	union {
		struct sys_map map;
		struct sys_prog prog;
		struct sys_btf btf;
		struct sys_perf_event event;
		struct sys_link link;
		struct map_perf_ring *ring; /* SYS_PERF_OUTPUT */
	};
};

/*
 * BPF output perf events (perf_output.c): perf_event_open of
 * PERF_COUNT_SW_BPF_OUTPUT, its ENABLE/DISABLE ioctls (*handled set when
 * fd is such an event), and a PERF_EVENT_ARRAY's UPDATE/DELETE, which
 * take and hold the events.
 */
struct perf_event_attr;
bool sys_perf_output_ours(const struct perf_event_attr *attr);
long sys_perf_output_open(const struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
			  unsigned long flags);
long sys_perf_output_ioctl(int fd, unsigned long req, bool *handled);
int sys_perf_array_op(int cmd, struct sys_obj *map, const void *key, const void *value,
		      uint64_t flags);
/*
 * The object an fd is of, with a reference, only if it is in the table:
 * -ENOENT without a message otherwise (nothing is adopted).
 */
int sys_obj_find(int fd, struct sys_obj **out);

/* The thread's last error message, set by every failing handler. */
__attribute__((format(printf, 1, 2))) void sys_error(const char *fmt, ...);

/*
 * Objects. sys_obj_add takes a new object whose kind, fd and payload are
 * set: it records the file identity, gives it an id and a table reference,
 * and returns a new fd for the caller (O_CLOEXEC, as the kernel's). On
 * failure the object is left to the caller.
 */
int sys_obj_add(struct sys_obj *obj);
/*
 * As sys_obj_add, but the caller's fd is user_fd, which must be an fd of the
 * object's file on an open file description of its own (the lock an
 * attachment's liveness rests on is the caller's, not the table's). The
 * table takes user_fd: it is returned, or closed on failure.
 */
int sys_obj_add_user_fd(struct sys_obj *obj, int user_fd);
/*
 * The object behind fd, with a reference (kind 0: any kind). -EBADF when fd
 * is not open, -EINVAL when it is not an object of that kind.
 */
int sys_obj_get(int fd, enum sys_kind kind, struct sys_obj **out);
struct sys_obj *sys_obj_get_id(enum sys_kind kind, uint32_t id);
/* The next id of this kind after id (BPF_*_GET_NEXT_ID); 0 when none. */
uint32_t sys_obj_next_id(enum sys_kind kind, uint32_t id);
void sys_obj_put(struct sys_obj *obj);
void sys_obj_set_pinned(struct sys_obj *obj);
/* The programs a PROG_ARRAY holds (map_cmds.c), released when it is freed. */
void sys_prog_array_release(struct sys_map *m);
/* What a program object holds (prog_load.c), released when it is freed. */
void sys_prog_release(struct sys_prog *p);
/* A new fd of obj for the caller. */
int sys_obj_new_fd(struct sys_obj *obj);
/* What an event or link holds (perf_event.c, link.c), released when it is freed. */
void sys_perf_event_release(struct sys_obj *obj);
void sys_link_release(struct sys_obj *obj);
/* An empty memfd to stand for an object named name ("uebpf-prog:NAME"). */
int sys_obj_memfd(const char *what, const char *name);

/* Checks shared by the handlers. */
bool sys_tail_zero(const void *p, size_t from, size_t to);
#define SYS_ATTR_END(field) (offsetof(union bpf_attr, field) + sizeof(((union bpf_attr *)0)->field))
/* -EINVAL with a message when attr has bytes set past what cmd uses. */
int sys_check_attr(const union bpf_attr *attr, size_t end, const char *cmd);
/* A user pointer field of an attribute. */
static inline void *sys_ptr(uint64_t v)
{
	return (void *)(uintptr_t)v;
}

/* The name field of MAP_CREATE and PROG_LOAD: NUL-terminated, [A-Za-z0-9_.]. */
int sys_check_obj_name(const char *name);

/* Handlers, by command. */
int sys_map_create(union bpf_attr *attr);
int sys_map_elem(int cmd, union bpf_attr *attr);
int sys_map_freeze(union bpf_attr *attr);
int sys_map_batch(int cmd, union bpf_attr *attr);
int sys_btf_load(union bpf_attr *attr);
int sys_prog_load(union bpf_attr *attr);
int sys_prog_test_run(union bpf_attr *attr);
int sys_prog_bind_map(union bpf_attr *attr);
int sys_obj_get_info(union bpf_attr *attr);
int sys_get_fd_by_id(int cmd, union bpf_attr *attr);
int sys_get_next_id(int cmd, union bpf_attr *attr);
int sys_obj_pin(union bpf_attr *attr);
int sys_obj_get_pinned(union bpf_attr *attr);
int sys_link_create(union bpf_attr *attr);
int sys_link_detach(union bpf_attr *attr);

/*
 * Uprobe attachments (perf_event.c). sys_perf_update makes the event's
 * attachment (its link's, if it has one) what its state asks: present
 * when enabled and a program is attached and not detached, else absent.
 */
int sys_perf_update(struct sys_obj *event);
/*
 * Held around every change of an event's or link's state (a recursive
 * lock: freeing a link in a collection may happen inside a change).
 */
void sys_attach_lock(void);
void sys_attach_unlock(void);
/* The registry of UEBPF_REGISTRY, opened at first use; NULL without one (in-process). */
struct reg;
int sys_registry(struct reg **out);
/*
 * The fds of a new perf event or link (perf_event.c): with a registry, the
 * caller's *user_fd holds the attachment file's lock and obj->fd is the
 * table's unlocked description of it; without one, an empty memfd named
 * after what and *user_fd -1. cmd names the command in messages.
 */
int sys_attach_fds(struct sys_obj *obj, const char *what, const char *cmd, int *user_fd);
/* Write the program into the registry, once; its name is then prog->reg_name. */
int sys_prog_export(struct reg *r, struct sys_obj *prog);
/*
 * With a registry, record that slot index of the PROG_ARRAY map now holds
 * prog (exported first), or nothing when prog is NULL, for targets' tail calls.
 */
int sys_prog_array_export(struct sys_obj *map, uint32_t index, struct sys_obj *prog);
/* perf_event_open's pid and cpu, as the kernel checks them; *filter: -1 or the pid. */
int sys_perf_check_target(pid_t pid, int cpu, int group_fd, unsigned long flags, int32_t *filter);
/*
 * Give a new event (kind SYS_PERF_EVENT, event filled in, path allocated)
 * its fds: the caller's fd, or a negative errno with obj and its path freed.
 */
long sys_perf_event_add(struct sys_obj *obj, unsigned long flags);
/* May prog be attached to ev? If not, a message naming cmd. */
bool sys_perf_prog_ok(const struct sys_perf_event *ev, const struct sys_obj *prog, const char *cmd);

/*
 * Syscall tracepoints (tracepoint.c): perf_event_open on PERF_TYPE_TRACEPOINT
 * with the id of a syscall event (uebpf's own, or the kernel's read from
 * tracefs), BPF_RAW_TRACEPOINT_OPEN of sys_enter/sys_exit, and their hooks
 * in this process when there is no registry.
 */
struct perf_event_attr;
bool sys_tp_ours(const struct perf_event_attr *attr);
long sys_tp_open(const struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
		 unsigned long flags);
int sys_raw_tp_open(union bpf_attr *attr);
/* The name of type id in the kernel's BTF (/sys/kernel/btf/vmlinux), with a message if none. */
int sys_vmlinux_type_name(uint32_t id, char *name, size_t len);
/* Is kind (enum reg_attach_kind) a syscall tracepoint's? */
bool sys_tp_kind(uint32_t kind);
/* Make the hook of ev in this process present or absent. */
int sys_tp_set_here(struct sys_attach *att, const struct sys_perf_event *ev, struct sys_obj *prog,
		    bool want);

/* The uebpf engine programs load on: env UEBPF_ENGINE, interp by default. */
int sys_engine(int *engine);

#endif
