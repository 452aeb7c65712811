/* SPDX-License-Identifier: MIT */
/*
 * registry: what a loader process hands to target processes, as files in a
 * directory of uebpf's state directory (<state>/registry/NAME, mode 0700):
 *
 *   map-INO          a map's own file (its inode number names it), hard-linked
 *   prog-PID-ID      a program: type, name, map table, instructions
 *   attach-PID-N     an attachment: program, uprobe/uretprobe (path + file
 *                    offset) or syscall entry/exit (number, event name in
 *                    path, tracepoint id), pid filter, loader pid
 *   tail-MAP-I       slot I of the PROG_ARRAY map file MAP: the program file
 *                    it names and the ID the loader's slot holds (reg_tail.c)
 *   trace            trace_printk output of every process using the registry
 *
 * Every file appears whole: it is written as an unnamed O_TMPFILE and given
 * its name by linkat, so a reader in another process sees it complete or
 * not at all; no file is changed once named. Maps are shared memory
 * already, so the registry names them and every process maps the same map.
 *
 * A program's lddw map references are stored as indexes into its map table
 * (BPF_PSEUDO_MAP_IDX / _IDX_VALUE with the value offset), the table naming
 * map files, so any process rebinds them to its own mapping of each map.
 *
 * An attachment is live while its name exists and some open file
 * description of its file holds a read lock (an OFD lock) on it: the loader
 * takes the lock through the fd it hands out as the perf event or the link,
 * so closing every copy of that fd, in every process, or the loader's
 * death, ends it, with nothing to intercept; a detach (LINK_DETACH,
 * PERF_EVENT_IOC_DISABLE) renames it to a hidden name (".off-attach-..."),
 * from which an enable renames it back. reg_attach_live tests the lock
 * without taking it.
 *
 * Every function returns 0 or a negative errno with a message in err.
 */
#ifndef UEBPF_REGISTRY_H
#define UEBPF_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "isa/isa.h"

#define REG_NAME_MAX 64	  /* a file name in the registry, NUL included */
#define REG_PATH_MAX 4096 /* a target path */
#define REG_DEFAULT "default"

/* The directory for UEBPF_REGISTRY's value: a name under <state>/registry, or a path. */
int reg_path(const char *name, char *path, size_t len, char *err, size_t err_len);

/* The registry directory: made (owner-only) when create, else it must exist; owner-only. */
struct reg;
int reg_open(const char *path, bool create, struct reg **out, char *err, size_t err_len);
void reg_close(struct reg *r);
const char *reg_dir(const struct reg *r);
int reg_dirfd(const struct reg *r);

/* Remove every file of the registry, then the directory (uebpf trace's own registry). */
int reg_remove(struct reg *r, char *err, size_t err_len);

/* Maps: name the map file fd in the registry (idempotent); its name into name. */
int reg_add_map(struct reg *r, int fd, char name[REG_NAME_MAX], char *err, size_t err_len);
/* A new fd (O_RDWR) of the map file called name. */
int reg_open_map(struct reg *r, const char *name, int *fd, char *err, size_t err_len);

/*
 * Programs. The instructions' lddw map references are indexes into maps
 * (src ISA_PSEUDO_MAP_IDX or ISA_PSEUDO_MAP_IDX_VALUE).
 */
struct reg_prog {
	uint32_t type; /* enum bpf_prog_type */
	uint32_t expected_attach_type;
	char name[16];
	uint32_t nmaps;
	char (*maps)[REG_NAME_MAX];
	uint32_t ninsns;
	struct isa_insn *insns;
};

/* Write p under a new name ("prog-PID-N", into name). */
int reg_add_prog(struct reg *r, const struct reg_prog *p, char name[REG_NAME_MAX], char *err,
		 size_t err_len);
/* Read the program called name; reg_prog_free releases what it allocated. */
int reg_read_prog(struct reg *r, const char *name, struct reg_prog *p, char *err, size_t err_len);
void reg_prog_free(struct reg_prog *p);

/* Attachments. */
enum reg_attach_kind {
	REG_UPROBE = 0,
	REG_URETPROBE = 1,
	REG_SYSCALL_ENTER = 2, /* a syscall tracepoint (src/systp): offset the number */
	REG_SYSCALL_EXIT = 3,
};

#define REG_SYSCALL_ANY UINT64_MAX /* the offset of raw_syscalls and raw tracepoints */

struct reg_attach {
	uint32_t kind; /* enum reg_attach_kind */
	int32_t pid;   /* the only process it applies to, or -1 for every one */
	int32_t loader_pid;
	uint32_t tp_id; /* syscall tracepoints: the id the loader opened (common_type) */
	/* uprobes: file offset in path, as perf_event_open's config2; syscalls: the number */
	uint64_t offset;
	/* uprobes: file offset of a USDT semaphore in path (config >> 32), 0 for none */
	uint64_t ref_ctr_off;
	uint64_t cookie; /* what bpf_get_attach_cookie gives the program */
	char prog[REG_NAME_MAX];
	char path[REG_PATH_MAX];
};

/*
 * An attachment's file, unnamed: a new fd (O_RDWR, O_CLOEXEC) holding the
 * read lock that keeps the attachment live. It stands for the attachment
 * in the loader (the perf event or link fd).
 */
int reg_attach_new(struct reg *r, int *fd, char *err, size_t err_len);
/* Write a into the unnamed file fd and name it ("attach-PID-N" into name). */
int reg_attach_publish(struct reg *r, int fd, const struct reg_attach *a, char name[REG_NAME_MAX],
		       char *err, size_t err_len);
/* Name it again after a reg_attach_unpublish (the file keeps its content). */
int reg_attach_republish(struct reg *r, const char *name, char *err, size_t err_len);
/* Remove the name: the attachment ends for every process. */
int reg_attach_unpublish(struct reg *r, const char *name, char *err, size_t err_len);

/*
 * The live attachments: fn is called for each name with its record; a
 * non-zero return stops the walk and is returned. Attachments no one holds
 * any more are removed on the way.
 */
typedef int (*reg_attach_fn)(void *ctx, const char *name, const struct reg_attach *a);
int reg_for_each_attach(struct reg *r, reg_attach_fn fn, void *ctx, char *err, size_t err_len);
/* Is the attachment called name live? */
bool reg_attach_live(struct reg *r, const char *name);

/*
 * PROG_ARRAY slots for tail calls in targets: slot index of the map file
 * map names the program file prog, and holds id in the map's memory while
 * that is so. reg_set_tail replaces the record atomically; reg_clear_tail
 * removes it (none is fine).
 */
struct reg_tail {
	uint32_t index;
	uint32_t id;
	char map[REG_NAME_MAX];
	char prog[REG_NAME_MAX];
};

int reg_set_tail(struct reg *r, const struct reg_tail *t, char *err, size_t err_len);
int reg_clear_tail(struct reg *r, const char *map, uint32_t index, char *err, size_t err_len);
/* Every slot record; a non-zero return of fn stops the walk and is returned. */
typedef int (*reg_tail_fn)(void *ctx, const struct reg_tail *t);
int reg_for_each_tail(struct reg *r, reg_tail_fn fn, void *ctx, char *err, size_t err_len);

/* The trace file's path (trace_printk output), made empty if missing. */
int reg_trace_path(struct reg *r, char *path, size_t len, char *err, size_t err_len);

#endif
