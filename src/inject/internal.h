/* SPDX-License-Identifier: MIT */
/*
 * What the files of src/inject share: a session is one stop of the whole
 * target (every thread seized and stopped) during which calls are made in
 * it; /proc readers; the ELF symbol lookup.
 */
#ifndef UEBPF_INJECT_INTERNAL_H
#define UEBPF_INJECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct inject_thread {
	pid_t tid;
	bool stopped;
	bool gone; /* exited */
	/*
	 * The signal the thread was stopped for (a signal-delivery-stop), to
	 * be delivered when it is let go; 0 when it stopped for our interrupt.
	 */
	int sig;
};

struct inject_session {
	pid_t pid;
	bool leader_is_child; /* the target is our child: its exit status is not ours to take */
	int mem_fd;	      /* /proc/PID/mem */
	struct inject_thread *threads;
	size_t n, cap;
};

/* Refuse what cannot or must not be injected into, with the reason. */
int inject_check_target(pid_t pid, char *err, size_t err_len);

/*
 * The next event of thread t, at most timeout_ms from now: 0 and a wait
 * status (a stop, or the thread's end), -ETIMEDOUT or -errno. Meanwhile the
 * other threads of the session that end are marked gone (see inject_stop.c).
 */
int inject_wait(struct inject_session *s, struct inject_thread *t, int *status, int timeout_ms);

/* The parent of process pid, or -1. */
pid_t inject_parent(pid_t pid);

/* Seize and stop every thread of pid; on failure nothing is left stopped. */
int inject_stop_all(struct inject_session *s, pid_t pid, char *err, size_t err_len);
/* Let every thread go, each with the signal it had stopped for. */
void inject_resume_all(struct inject_session *s);
/* The thread to run calls on: one stopped by our interrupt, the main one if it can. */
struct inject_thread *inject_pick_thread(struct inject_session *s);

/*
 * Call fn in the target on thread t: rdi = the address of a copy of str on
 * the thread's stack (0 when str is NULL), rsi = arg2; *ret gets rax. The
 * thread's registers, extended state and stack are restored whatever
 * happens, unless the process is gone.
 */
int inject_remote_call(struct inject_session *s, struct inject_thread *t, uint64_t fn,
		       const char *str, uint64_t arg2, uint64_t *ret, char *err, size_t err_len);
/* A NUL-terminated string at addr in the target, at most len - 1 bytes. */
int inject_read_string(struct inject_session *s, uint64_t addr, char *buf, size_t len);

/* An object mapped in the target: its path there and where it is loaded. */
struct inject_object {
	char path[4096];
	uint64_t start; /* the start of its mapping at file offset 0 */
};

/* An object that match accepts (given its path in the maps), by the first mapping at offset 0. */
typedef bool (*inject_match_fn)(const char *path, dev_t dev, ino_t ino, const void *ctx);
int inject_find_object(pid_t pid, inject_match_fn match, const void *ctx,
		       struct inject_object *obj);

/* The run-time address of symbol (a function) in obj, read from its ELF file. */
int inject_symbol_addr(pid_t pid, const struct inject_object *obj, const char *symbol,
		       uint64_t *addr, char *err, size_t err_len);

#endif
