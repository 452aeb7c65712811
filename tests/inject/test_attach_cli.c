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
#include "inject/internal.h"
#include "maps/maps.h"
#include "registry/registry.h"
#include "victim_ctl.h"

static const char *uebpf, *victim_exe, *testlib, *ticker, *loader, *obj;

struct proc {
	pid_t pid;
	int in, out; /* its stdin (write end), its stdout and stderr (read end) */
};

/* Start argv with agent (if not NULL) as UEBPF_AGENT. */
static bool spawn(char *const *argv, const char *agent, struct proc *p)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return false;
	p->pid = fork();
	if (p->pid < 0)
		return false;
	if (p->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (agent)
			setenv("UEBPF_AGENT", agent, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->in = in[1];
	p->out = out[0];
	return true;
}

/* All p writes until it ends, and its exit status (128 + signal when killed). */
static char *finish(struct proc *p, int *status)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	close(p->in);
	while (buf && (n = read(p->out, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	close(p->out);
	waitpid(p->pid, status, 0);
	*status = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
	if (buf)
		buf[len] = '\0';
	return buf ? buf : strdup("");
}

struct run {
	char *out; /* stdout and stderr */
	int status;
};

/* uebpf with the arguments after agent (NULL-terminated), agent as UEBPF_AGENT if not NULL. */
static struct run uebpf_run(const char *agent, ...)
{
	char *argv[16] = {(char *)uebpf};
	struct run r = {NULL, -1};
	struct proc p;
	va_list ap;
	int n = 1;

	va_start(ap, agent);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	if (spawn(argv, agent, &p))
		r.out = finish(&p, &r.status);
	else
		r.out = strdup("");
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

/* A line from the ticker for a command; true when it starts with want. */
static bool ask(struct proc *t, const char *cmd, const char *want)
{
	char line[128];
	size_t len = 0;

	if (write(t->in, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return false;
	while (len < sizeof(line) - 1 && read(t->out, &line[len], 1) == 1 && line[len] != '\n')
		len++;
	line[len] = '\0';
	if (!strncmp(line, want, strlen(want)))
		return true;
	printf("  ticker: %s -> %s\n", cmd, line);
	return false;
}

static bool wait_line(struct proc *p, const char *want)
{
	char line[256];
	size_t len = 0;

	while (len < sizeof(line) - 1 && read(p->out, &line[len], 1) == 1) {
		if (line[len] != '\n') {
			len++;
			continue;
		}
		line[len] = '\0';
		if (!strcmp(line, want))
			return true;
		printf("  loader: %s\n", line);
		len = 0;
	}
	return false;
}

/* How often work(0) was counted: key 0 of the registry's map "args"; -1 if there is none. */
static long long work0_count(struct reg *r)
{
	DIR *d = opendir(reg_dir(r));
	long long count = -1;
	struct dirent *e;
	char err[256];

	while (d && (e = readdir(d))) {
		uint32_t key = 0;
		uint64_t v = 0;
		struct map *m;
		int fd;

		if (strncmp(e->d_name, "map-", 4) ||
		    reg_open_map(r, e->d_name, &fd, err, sizeof(err)))
			continue;
		if (!map_open_fd(fd, &m, err, sizeof(err))) {
			if (!strcmp(map_info(m)->name, "args"))
				count = map_lookup_user(m, &key, &v) ? 0 : (long long)v;
			map_close(m);
		}
		close(fd);
	}
	if (d)
		closedir(d);
	return count;
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

static void attach_round(struct proc *t, struct reg *r, const char *dir, const uint8_t *orig,
			 long long *count)
{
	char pid[16];
	uint8_t now[16];

	snprintf(pid, sizeof(pid), "%d", (int)t->pid);
	expect_run(0, "returned 0", uebpf_run(NULL, "attach", "--registry", dir, pid, NULL),
		   "attach");
	EXPECT(work_bytes(t->pid, now) && memcmp(now, orig, 16), "work() is not patched");
	EXPECT(ask(t, "w 10\n", "ok 145") && ask(t, "w 10\n", "ok 145"), "probed calls");
	EXPECT(work0_count(r) == *count + 2, "work(0) counted %lld times, want %lld",
	       work0_count(r), *count + 2);
	*count += 2;
	expect_run(0, "uebpf_agent_stop() in process", uebpf_run(NULL, "detach", pid, NULL),
		   "detach");
	EXPECT(work_bytes(t->pid, now) && !memcmp(now, orig, 16),
	       "work() does not have its bytes back");
	EXPECT(ask(t, "w 10\n", "ok 145"), "the function after detach");
	EXPECT(work0_count(r) == *count, "work(0) counted after detach: %lld times, want %lld",
	       work0_count(r), *count);
}

static void test_end_to_end(void)
{
	char name[64], dir[REG_PATH_MAX], err[512];
	char *ticker_argv[] = {(char *)ticker, NULL};
	char *load_argv[] = {(char *)uebpf,  "load",	  "--registry", dir,
			     (char *)loader, (char *)obj, NULL};
	uint8_t orig[16];
	long long count = 0;
	struct proc t, l;
	struct reg *r;
	char *out;
	int status;
	bool ok;

	snprintf(name, sizeof(name), "inject-%d", (int)getpid());
	/* (REQUIRE evaluates its condition twice: each call is made before it) */
	ok = !reg_path(name, dir, sizeof(dir), err, sizeof(err)) &&
	     !reg_open(dir, true, &r, err, sizeof(err));
	REQUIRE(ok, "%s", err);
	ok = spawn(ticker_argv, NULL, &t);
	REQUIRE(ok, "start the ticker");
	EXPECT(ask(&t, "w 10\n", "ok 145"), "the ticker before any probe");
	EXPECT(work_bytes(t.pid, orig), "read work() in the ticker");
	ok = spawn(load_argv, NULL, &l) && wait_line(&l, "ready");
	REQUIRE(ok, "start the loader");
	EXPECT(ask(&t, "w 10\n", "ok 145") && work0_count(r) == 0,
	       "calls counted before attaching: %lld", work0_count(r));

	attach_round(&t, r, dir, orig, &count);
	attach_round(&t, r, dir, orig, &count);

	out = finish(&l, &status);
	EXPECT(status == 0 && strstr(out, "map args (hash, key 4, value 8 bytes, 10 entries)\n"
					  "  0 => 4\n"),
	       "loader: %d: %s", status, out);
	free(out);
	out = finish(&t, &status);
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
