// SPDX-License-Identifier: MIT
/*
 * Stopping every thread of the target, and letting them go.
 *
 * Each thread in /proc/PID/task is seized (PTRACE_SEIZE: no signal is sent,
 * so the target sees nothing) and interrupted (PTRACE_INTERRUPT), and we
 * wait for its stop. A thread may be creating another while this goes on,
 * so the task list is read again until a pass finds no new thread: once
 * every listed thread is stopped, none can start one. A thread may also
 * stop for a signal that was pending (a signal-delivery-stop) rather than
 * for our interrupt; that signal is kept and handed back when the thread is
 * let go, so it is delivered as if we had not been there. Threads that
 * exit meanwhile are marked gone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "inject/internal.h"

/* How long a seized thread may take to stop (one in uninterruptible sleep is late). */
#define INJECT_STOP_TIMEOUT_MS 5000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The event thread t has, if any: 1 (and its wait status), 0, or -errno.
 * It is looked at first without being taken (WNOWAIT), because the end of
 * the thread group leader must be left for its parent when that is our
 * caller (a test starting its own victim): taking it would steal the
 * parent's exit status. Any other thread's end is ours to reap.
 */
static int take_event(struct inject_session *s, struct inject_thread *t, int *status)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)t->tid, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL))
		return errno == EINTR ? 0 : -errno;
	if (si.si_pid == 0)
		return 0;
	if (si.si_code == CLD_TRAPPED || si.si_code == CLD_STOPPED) {
		if (waitpid(t->tid, status, __WALL | WNOHANG) != t->tid)
			return -ECHILD;
		return 1;
	}
	t->gone = true;
	if (t->tid != s->pid || !s->leader_is_child)
		waitpid(t->tid, status, __WALL | WNOHANG);
	*status = si.si_code == CLD_EXITED ? W_EXITCODE(si.si_status, 0) : si.si_status & 0x7f;
	return 1;
}

int inject_wait(struct inject_session *s, struct inject_thread *t, int *status, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct timespec pause = {0, 100 * 1000};

	for (;;) {
		int r = take_event(s, t, status);

		if (r)
			return r < 0 ? r : 0;
		/* a thread that ended must be reaped for the leader's end to be reported */
		for (size_t i = 0; i < s->n; i++) {
			struct inject_thread *o = &s->threads[i];
			int st;

			if (o != t && o->stopped && !o->gone && take_event(s, o, &st) < 0)
				o->gone = true;
		}
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 10 * 1000 * 1000)
			pause.tv_nsec *= 2;
	}
}

static bool known(const struct inject_session *s, pid_t tid)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->threads[i].tid == tid)
			return true;
	}
	return false;
}

static int add_thread(struct inject_session *s, pid_t tid)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct inject_thread *t = realloc(s->threads, cap * sizeof(*t));

		if (!t)
			return -ENOMEM;
		s->threads = t;
		s->cap = cap;
	}
	s->threads[s->n++] = (struct inject_thread){.tid = tid};
	return 0;
}

static void eperm_message(pid_t pid, char *err, size_t err_len)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	int scope = -1;

	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = -1;
		fclose(f);
	}
	if (scope > 0)
		errbuf_set(err, err_len,
			   "ptrace refused to attach to process %d (EPERM): "
			   "kernel.yama.ptrace_scope is %d, which lets only %s trace it; run as "
			   "root or set /proc/sys/kernel/yama/ptrace_scope to 0",
			   (int)pid, scope,
			   scope == 1 ? "its ancestors and CAP_SYS_PTRACE" : "CAP_SYS_PTRACE");
	else
		errbuf_set(err, err_len,
			   "ptrace refused to attach to process %d (EPERM): it "
			   "needs CAP_SYS_PTRACE, or the process is not dumpable, or a security "
			   "module (see kernel.yama.ptrace_scope) forbids it",
			   (int)pid);
}

/* How a thread stopped: the signal to hand back when it goes (0: our interrupt, a group stop). */
static void record_stop(struct inject_thread *t, int status)
{
	t->stopped = true;
	t->sig = (status >> 16) ? 0 : WSTOPSIG(status);
}

/* Wait for the stop (or end) of every thread seized and not stopped yet. */
static int wait_stops(struct inject_session *s, char *err, size_t err_len)
{
	long long deadline = now_ms() + INJECT_STOP_TIMEOUT_MS;
	struct timespec pause = {0, 100 * 1000};

	for (;;) {
		struct inject_thread *late = NULL;

		for (size_t i = 0; i < s->n; i++) {
			struct inject_thread *t = &s->threads[i];
			int status, r;

			if (t->stopped || t->gone)
				continue;
			r = take_event(s, t, &status);
			if (r < 0)
				t->gone = true;
			else if (r && !t->gone)
				record_stop(t, status);
			else if (!r)
				late = t;
		}
		if (!late)
			return 0;
		if (now_ms() >= deadline) {
			errbuf_set(err, err_len,
				   "thread %d of process %d did not stop within %d "
				   "ms (uninterruptible sleep?)",
				   (int)late->tid, (int)s->pid, INJECT_STOP_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		nanosleep(&pause, NULL);
		if (pause.tv_nsec < 10 * 1000 * 1000)
			pause.tv_nsec *= 2;
	}
}

/* A thread that has ended but is still listed: ptrace refuses it with EPERM. */
static bool thread_exiting(pid_t pid, pid_t tid)
{
	char path[96], line[128], state = 'X';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "State: %c", &state) == 1)
			break;
	}
	fclose(f);
	return state == 'Z' || state == 'X';
}

/* Seize the threads of the task list not seized yet; *added counts them. */
static int seize_new(struct inject_session *s, int *added, char *err, size_t err_len)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)s->pid);
	dir = opendir(path);
	if (!dir) {
		errbuf_set(err, err_len, "process %d exited", (int)s->pid);
		return -ESRCH;
	}
	while ((de = readdir(dir))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid <= 0 || known(s, tid))
			continue;
		if (ptrace(PTRACE_SEIZE, tid, NULL, NULL)) {
			if (errno == ESRCH || (errno == EPERM && thread_exiting(s->pid, tid)))
				continue;
			ret = -errno;
			if (errno == EPERM)
				eperm_message(s->pid, err, err_len);
			else
				errbuf_set(err, err_len, "ptrace(PTRACE_SEIZE) of thread %d: %s",
					   (int)tid, strerror(errno));
			break;
		}
		ret = add_thread(s, tid);
		if (ret) {
			ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
			errbuf_set(err, err_len, "out of memory");
			break;
		}
		ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
		(*added)++;
	}
	closedir(dir);
	return ret;
}

int inject_stop_all(struct inject_session *s, pid_t pid, char *err, size_t err_len)
{
	char path[64];
	int ret, added;
	size_t live = 0;

	*s = (struct inject_session){.pid = pid, .mem_fd = -1};
	s->leader_is_child = inject_parent(pid) == getpid();
	do {
		added = 0;
		ret = seize_new(s, &added, err, err_len);
		if (!ret)
			ret = wait_stops(s, err, err_len);
		if (ret)
			goto fail;
	} while (added);
	for (size_t i = 0; i < s->n; i++)
		live += !s->threads[i].gone;
	if (!live) {
		errbuf_set(err, err_len, "process %d exited", (int)pid);
		ret = -ESRCH;
		goto fail;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	s->mem_fd = open(path, O_RDWR | O_CLOEXEC);
	if (s->mem_fd < 0) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		errbuf_set(err, err_len, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	inject_resume_all(s);
	return ret;
}

void inject_resume_all(struct inject_session *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct inject_thread *t = &s->threads[i];
		int status;

		/* A thread seized but not stopped yet cannot be detached: wait for its stop. */
		if (!t->gone && !t->stopped &&
		    !inject_wait(s, t, &status, INJECT_STOP_TIMEOUT_MS) && !t->gone)
			record_stop(t, status);
		if (t->stopped && !t->gone)
			ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(long)t->sig);
	}
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	free(s->threads);
	*s = (struct inject_session){.mem_fd = -1};
}

struct inject_thread *inject_pick_thread(struct inject_session *s)
{
	struct inject_thread *best = NULL;

	for (size_t i = 0; i < s->n; i++) {
		struct inject_thread *t = &s->threads[i];

		if (t->gone || !t->stopped)
			continue;
		if (t->sig == 0 && t->tid == s->pid)
			return t;
		if (!best || (best->sig != 0 && t->sig == 0))
			best = t;
	}
	return best;
}
