// SPDX-License-Identifier: MIT
/*
 * `uebpf attach` and `uebpf detach`: every bad input and failure gets its
 * message and exit status; then, end to end, a program started normally
 * gets the agent injected, a uprobe from a registry counts its calls, and
 * detaching gives the function its bytes and its behaviour back (twice:
 * attach after detach works too).
 *
 * Usage: test_attach_cli UEBPF VICTIM TESTLIB.so TICKER LOADER OBJ
 * (TICKER, LOADER: tests/agent's ticker and libbpf loader; OBJ:
 * attach_counter.bpf.o, whose uprobe counts the ticker's work(i) by i.)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "inject/internal.h"
#include "maps/maps.h"
#include "registry/registry.h"
#include "victim_ctl.h"

static const char *uebpf, *victim_exe, *testlib, *ticker, *loader, *obj;

struct run {
	char *out; /* stdout and stderr */
	int status;
};

/* uebpf with the arguments after agent (NULL-terminated), agent as UEBPF_AGENT if not NULL. */
static struct run uebpf_run(const char *agent, ...)
{
	char *argv[16] = {(char *)uebpf}, env[PATH_MAX + 16];
	struct run r;
	va_list ap;
	int n = 1;

	va_start(ap, agent);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	snprintf(env, sizeof(env), "UEBPF_AGENT=%s", agent ? agent : "");
	r.out = child_run(argv, agent ? env : NULL, &r.status);
	return r;
}

static void expect_run(int want, const char *msg, struct run r, const char *what)
{
	EXPECT(r.status == want && strstr(r.out, msg), "%s: exit %d (want %d), output: %s", what,
	       r.status, want, r.out);
	free(r.out);
}

static void test_bad_input(const char *registry)
{
	const char *extra[] = {"1", NULL};
	char pid[16], gone[16];
	struct victim v;
	pid_t child;
	int status, ret;

	ret = victim_start(&v, victim_exe, extra);
	REQUIRE(ret == 0, "start the victim: %s", strerror(-ret));
	snprintf(pid, sizeof(pid), "%d", (int)v.pid);
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, &status, 0);
	snprintf(gone, sizeof(gone), "%d", (int)child);

	expect_run(2, "expected one PID, got 0", uebpf_run(NULL, "attach", NULL),
		   "attach without a pid");
	expect_run(2, "'12x' is not a process id", uebpf_run(NULL, "attach", "12x", NULL),
		   "attach 12x");
	expect_run(2, "'0' is not a process id", uebpf_run(NULL, "detach", "0", NULL), "detach 0");
	expect_run(2, "expected one PID, got 2", uebpf_run(NULL, "detach", pid, pid, NULL),
		   "detach with two pids");
	expect_run(2, "unknown option '--registry'",
		   uebpf_run(NULL, "detach", "--registry", "x", pid, NULL), "detach --registry");
	expect_run(2, "unknown option '--bogus'", uebpf_run(NULL, "attach", "--bogus", pid, NULL),
		   "attach --bogus");
	expect_run(0, "Usage: uebpf attach PID", uebpf_run(NULL, "attach", "--help", NULL),
		   "attach --help");
	expect_run(1, "no process", uebpf_run(NULL, "attach", gone, NULL),
		   "attach to an exited process");
	expect_run(1, "no process", uebpf_run(NULL, "detach", gone, NULL),
		   "detach from an exited process");
	expect_run(1, "no agent at /nonexistent/agent.so",
		   uebpf_run("/nonexistent/agent.so", "attach", pid, NULL), "a missing agent");
	expect_run(1, "no registry /nonexistent/registry",
		   uebpf_run(NULL, "attach", "--registry", "/nonexistent/registry", pid, NULL),
		   "a missing registry");
	expect_run(1, "the uebpf agent is not loaded in process",
		   uebpf_run(NULL, "detach", pid, NULL), "detach where nothing was attached");
	/* an object that loads but is no agent: loaded, then the start is not found */
	expect_run(1, "has no symbol uebpf_agent_start",
		   uebpf_run(testlib, "attach", "--registry", registry, pid, NULL),
		   "an agent without its entry point");
	status = victim_stop(&v);
	EXPECT(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the victim ended with status 0x%x", status);
}

static bool match_path(const char *path, dev_t dev, ino_t ino, const void *ctx)
{
	(void)dev;
	(void)ino;
	return !strcmp(path, ctx);
}

/* The first 16 bytes of the ticker's work() in the running process pid. */
static bool work_bytes(pid_t pid, uint8_t bytes[16])
{
	struct inject_object o;
	char real[PATH_MAX], mem[64], err[256];
	uint64_t addr;
	bool ok;
	int fd;

	if (!realpath(ticker, real) || inject_find_object(pid, match_path, real, &o) ||
	    inject_symbol_addr(pid, &o, "work", &addr, err, sizeof(err)))
		return false;
	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)pid);
	fd = open(mem, O_RDONLY);
	ok = fd >= 0 && pread(fd, bytes, 16, (off_t)addr) == 16;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void attach_round(struct child *t, struct reg *r, const char *dir, const uint8_t *orig,
			 long long *count)
{
	char pid[16];
	uint8_t now[16];

	snprintf(pid, sizeof(pid), "%d", (int)t->pid);
	expect_run(0, "returned 0", uebpf_run(NULL, "attach", "--registry", dir, pid, NULL),
		   "attach");
	EXPECT(work_bytes(t->pid, now) && memcmp(now, orig, 16), "work() is not patched");
	EXPECT(child_ask(t, "w 10\n", "ok 145") && child_ask(t, "w 10\n", "ok 145"), "probed calls");
	EXPECT(child_reg_counter(r, "args", 0) == *count + 2, "work(0) counted %lld times, want %lld",
	       child_reg_counter(r, "args", 0), *count + 2);
	*count += 2;
	expect_run(0, "uebpf_agent_stop() in process", uebpf_run(NULL, "detach", pid, NULL),
		   "detach");
	EXPECT(work_bytes(t->pid, now) && !memcmp(now, orig, 16),
	       "work() does not have its bytes back");
	EXPECT(child_ask(t, "w 10\n", "ok 145"), "the function after detach");
	EXPECT(child_reg_counter(r, "args", 0) == *count, "work(0) counted after detach: %lld times, want %lld",
	       child_reg_counter(r, "args", 0), *count);
}

static void test_end_to_end(void)
{
	char name[64], dir[REG_PATH_MAX], err[512];
	char *ticker_argv[] = {(char *)ticker, NULL};
	char *load_argv[] = {(char *)uebpf,  "load",	  "--registry", dir,
			     (char *)loader, (char *)obj, NULL};
	uint8_t orig[16];
	long long count = 0;
	struct child t, l;
	struct reg *r;
	char *out;
	int status;
	bool ok;

	snprintf(name, sizeof(name), "inject-%d", (int)getpid());
	/* (REQUIRE evaluates its condition twice: each call is made before it) */
	ok = !reg_path(name, dir, sizeof(dir), err, sizeof(err)) &&
	     !reg_open(dir, true, &r, err, sizeof(err));
	REQUIRE(ok, "%s", err);
	ok = child_spawn(ticker_argv, NULL, &t);
	REQUIRE(ok, "start the ticker");
	EXPECT(child_ask(&t, "w 10\n", "ok 145"), "the ticker before any probe");
	EXPECT(work_bytes(t.pid, orig), "read work() in the ticker");
	ok = child_spawn(load_argv, NULL, &l) && child_wait_line(&l, "ready", "loader");
	REQUIRE(ok, "start the loader");
	EXPECT(child_ask(&t, "w 10\n", "ok 145") && child_reg_counter(r, "args", 0) == 0,
	       "calls counted before attaching: %lld", child_reg_counter(r, "args", 0));

	attach_round(&t, r, dir, orig, &count);
	attach_round(&t, r, dir, orig, &count);

	out = child_finish(&l, &status);
	EXPECT(status == 0 && strstr(out, "map args (hash, key 4, value 8 bytes, 10 entries)\n"
					  "  0 => 4\n"),
	       "loader: %d: %s", status, out);
	free(out);
	out = child_finish(&t, &status);
	EXPECT(status == 0, "ticker: %d: %s", status, out);
	free(out);
	EXPECT(!reg_remove(r, err, sizeof(err)), "%s", err);
	reg_close(r);
}

/* kernel.yama.ptrace_scope, or 0 without Yama. */
static int yama_scope(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	int scope = 0;

	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
	}
	return scope;
}

int main(int argc, char **argv)
{
	char name[64], dir[REG_PATH_MAX], err[512];
	struct reg *r;
	pid_t child;
	int status;
	bool can_trace, ok;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 7) {
		fprintf(stderr,
			"usage: test_attach_cli UEBPF VICTIM TESTLIB.so TICKER LOADER OBJ\n");
		return 2;
	}
	uebpf = argv[1];
	victim_exe = argv[2];
	testlib = argv[3];
	ticker = argv[4];
	loader = argv[5];
	obj = argv[6];
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	can_trace = ptrace(PTRACE_SEIZE, child, NULL, NULL) == 0;
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	if (!can_trace) {
		printf("SKIP: ptrace is not permitted here: %s\n", strerror(errno));
		return 77;
	}
	if (geteuid() != 0 && yama_scope() > 0) {
		printf("SKIP: uebpf attach traces a process that is not its child, which "
		       "kernel.yama.ptrace_scope %d allows only to CAP_SYS_PTRACE\n",
		       yama_scope());
		return 77;
	}
	snprintf(name, sizeof(name), "inject-bad-%d", (int)getpid());
	ok = !reg_path(name, dir, sizeof(dir), err, sizeof(err)) &&
	     !reg_open(dir, true, &r, err, sizeof(err));
	REQUIRE(ok, "%s", err);
	test_bad_input(dir);
	EXPECT(!reg_remove(r, err, sizeof(err)), "%s", err);
	reg_close(r);
	test_end_to_end();
	return check_summary();
}
