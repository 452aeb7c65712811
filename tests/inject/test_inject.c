// SPDX-License-Identifier: MIT
/*
 * src/inject against a real running program: the victim (1 thread, 3
 * threads with some blocked in nanosleep and read, threads appearing
 * meanwhile) gets the test object loaded and its functions called, then
 * must go on as before: its counters rising, no system call interrupted in
 * its view, its floating-point registers intact. Then every error case.
 *
 * Usage: test_inject VICTIM TESTLIB.so
 */
#define _GNU_SOURCE /* gettid */
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "inject/inject.h"
#include "victim_ctl.h"

static const char *victim_exe, *testlib;
static char err[1024];

/* Whether this process may ptrace a child of its own; the reason why not into why. */
static bool ptrace_allowed(char *why, size_t len)
{
	pid_t child = fork();
	int status;
	bool ok;

	if (child == 0) {
		pause();
		_exit(0);
	}
	ok = ptrace(PTRACE_SEIZE, child, NULL, NULL) == 0;
	if (!ok)
		snprintf(why, len, "ptrace(PTRACE_SEIZE) of a child: %s", strerror(errno));
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return ok;
}

static bool file_says_ran_in(const char *path, pid_t pid)
{
	char line[64], want[64];
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	snprintf(want, sizeof(want), "ran in %d\n", (int)pid);
	ok = fgets(line, sizeof(line), f) && !strcmp(line, want);
	fclose(f);
	return ok;
}

/* What the victim must show after injections: it went on, and nothing leaked into it. */
static void expect_victim_fine(struct victim *v, const char *mode)
{
	struct victim_stats *st = v->stats;
	uint64_t ticks = victim_read(&st->ticks), sleeps = victim_read(&st->sleeps);

	EXPECT(victim_wait_above(&st->ticks, ticks, 5000), "%s: the main loop stopped at %llu",
	       mode, (unsigned long long)ticks);
	EXPECT(victim_wait_above(&st->sleeps, sleeps, 5000), "%s: the sleeps stopped at %llu", mode,
	       (unsigned long long)sleeps);
	if (!strcmp(mode, "3")) {
		uint64_t reads = victim_read(&st->reads);

		EXPECT(write(v->stdin_fd, "x", 1) == 1, "write to the victim");
		EXPECT(victim_wait_above(&st->reads, reads, 5000), "the blocked read did not "
								   "complete");
	}
	if (!strcmp(mode, "churn")) {
		uint64_t spawned = victim_read(&st->spawned);

		EXPECT(victim_wait_above(&st->spawned, spawned, 5000), "no new threads");
	}
	EXPECT(victim_read(&st->bad_sleeps) == 0,
	       "%s: %llu nanosleeps came back early or "
	       "failed",
	       mode, (unsigned long long)victim_read(&st->bad_sleeps));
	EXPECT(victim_read(&st->bad_reads) == 0, "%s: %llu reads failed", mode,
	       (unsigned long long)victim_read(&st->bad_reads));
	EXPECT(victim_read(&st->fp_bad) == 0, "%s: floating-point state lost %llu times", mode,
	       (unsigned long long)victim_read(&st->fp_bad));
}

static void test_victim(const char *mode)
{
	const char *extra[] = {mode, NULL};
	char mark[] = "/tmp/uebpf-inject-mark-XXXXXX";
	struct victim v;
	uint64_t handle = 0, again = 0;
	int ret = 0, fd, status;

	ret = victim_start(&v, victim_exe, extra);
	REQUIRE(ret == 0, "start the victim (%s): %s", mode, strerror(-ret));
	fd = mkstemp(mark);
	REQUIRE(fd >= 0, "mkstemp");
	close(fd);

	EXPECT_RET(inject_call(v.pid, testlib, "inject_test_calls", NULL, &ret, err, sizeof(err)),
		   -ENOENT);
	EXPECT(strstr(err, "is not loaded in process"), "message: %s", err);

	EXPECT_RET(inject_load(v.pid, testlib, &handle, err, sizeof(err)), 0);
	EXPECT(handle != 0, "%s: no handle (%s)", mode, err);
	EXPECT_RET(inject_load(v.pid, testlib, &again, err, sizeof(err)), 0);
	EXPECT(again == handle, "loading again gives 0x%llx, first 0x%llx",
	       (unsigned long long)again, (unsigned long long)handle);

	EXPECT_RET(inject_call(v.pid, testlib, "inject_test_mark", mark, &ret, err, sizeof(err)),
		   0);
	EXPECT(ret == 1, "%s: inject_test_mark returned %d (%s)", mode, ret, err);
	EXPECT(file_says_ran_in(mark, v.pid), "%s: the mark file does not name the victim", mode);
	unlink(mark);
	/* Many calls: the chosen thread is caught in user code and in system calls alike. */
	for (int i = 0, want = 2; i < 40; i++) {
		ret = 0;
		EXPECT_RET(inject_call(v.pid, testlib, "inject_test_calls", NULL, &ret, err,
				       sizeof(err)),
			   0);
		EXPECT(ret == want, "%s: call %d returned %d, not %d (%s)", mode, i, ret, want,
		       err);
		/* a failed call is reported once, not again by every later one */
		want = ret > 0 ? ret + 1 : want;
	}
	EXPECT_RET(
		inject_call(v.pid, testlib, "inject_test_negative", NULL, &ret, err, sizeof(err)),
		0);
	EXPECT(ret == -22, "a negative int comes back whole: %d", ret);

	EXPECT_RET(inject_call(v.pid, testlib, "no_such_function", NULL, &ret, err, sizeof(err)),
		   -ENOENT);
	EXPECT(strstr(err, "has no symbol no_such_function"), "message: %s", err);
	EXPECT_RET(inject_call(v.pid, testlib, "inject_test_data", NULL, &ret, err, sizeof(err)),
		   -ENOEXEC);
	EXPECT(strstr(err, "not a plain function"), "message: %s", err);
	/* A call that traps (SIGILL, which the victim does not catch) is undone, not fatal. */
	EXPECT_RET(inject_call(v.pid, testlib, "inject_test_trap", NULL, &ret, err, sizeof(err)),
		   -EFAULT);
	EXPECT(strstr(err, "stopped on signal 4"), "message: %s", err);
	/* A call that never returns is abandoned, and the thread put back where it was. */
	inject_set_call_timeout(300);
	EXPECT_RET(inject_call(v.pid, testlib, "inject_test_block", NULL, &ret, err, sizeof(err)),
		   -ETIMEDOUT);
	EXPECT(strstr(err, "did not return within 300 ms"), "message: %s", err);
	inject_set_call_timeout(0);

	expect_victim_fine(&v, mode);
	status = victim_stop(&v);
	EXPECT(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "%s: the victim ended with status 0x%x", mode, status);
}

/* The target exits inside the call: reported, nothing left behind. */
static void test_exit_during_call(void)
{
	const char *extra[] = {"3", NULL};
	struct victim v;
	uint64_t handle;
	int ret = 0, status;

	ret = victim_start(&v, victim_exe, extra);
	REQUIRE(ret == 0, "start the victim: %s", strerror(-ret));
	EXPECT_RET(inject_load(v.pid, testlib, &handle, err, sizeof(err)), 0);
	EXPECT_RET(inject_call(v.pid, testlib, "inject_test_exit", NULL, &ret, err, sizeof(err)),
		   -ESRCH);
	EXPECT(strstr(err, "exited during the call"), "message: %s", err);
	status = victim_stop(&v);
	EXPECT(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 3,
	       "the victim ended with status 0x%x, not by its _exit(3)", status);
	EXPECT_RET(inject_call(v.pid, testlib, "inject_test_calls", NULL, &ret, err, sizeof(err)),
		   -ESRCH);
}

struct live_thread {
	pid_t tid;
	int fds[2];
};

/* Gives its tid, then lives until its pipe is closed. */
static void *live_thread(void *arg)
{
	struct live_thread *lt = arg;
	char c;

	__atomic_store_n(&lt->tid, gettid(), __ATOMIC_RELEASE);
	while (read(lt->fds[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Run as nobody in a child: another user's process is refused before ptrace. */
static void test_other_user(pid_t victim)
{
	struct passwd *pw = getpwnam("nobody");
	pid_t child;
	int status;

	if (getuid() != 0 || !pw) {
		printf("note: the other-user case needs root and a user nobody; not run\n");
		return;
	}
	child = fork();
	if (child == 0) {
		uint64_t handle;
		int r;

		if (setgid(pw->pw_gid) || setuid(pw->pw_uid))
			_exit(2);
		r = inject_load(victim, testlib, &handle, err, sizeof(err));
		if (r != -EPERM || !strstr(err, "belongs to uid 0")) {
			printf("FAIL other user: %d %s\n", r, err);
			_exit(1);
		}
		_exit(0);
	}
	waitpid(child, &status, 0);
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "another user's process was not "
	       "refused (status 0x%x)",
	       status);
}

static void test_errors(void)
{
	const char *extra[] = {"1", NULL};
	struct victim v;
	char text[] = "/tmp/uebpf-inject-text-XXXXXX";
	struct live_thread lt = {0};
	pthread_t thread;
	uint64_t handle;
	int ret, status, fd;
	pid_t gone;

	EXPECT_RET(inject_load(-1, testlib, &handle, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "not a process id"), "message: %s", err);
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, &status, 0);
	EXPECT_RET(inject_load(gone, testlib, &handle, err, sizeof(err)), -ESRCH);
	EXPECT(strstr(err, "no process"), "message: %s", err);
	EXPECT_RET(inject_call(gone, testlib, "inject_test_calls", NULL, &ret, err, sizeof(err)),
		   -ESRCH);
	EXPECT_RET(inject_load(getpid(), testlib, &handle, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "this process itself"), "message: %s", err);
	ret = pipe(lt.fds);
	REQUIRE(ret == 0, "pipe");
	pthread_create(&thread, NULL, live_thread, &lt);
	while (!__atomic_load_n(&lt.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	EXPECT_RET(inject_load(lt.tid, testlib, &handle, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "is a thread of process"), "message: %s", err);
	close(lt.fds[1]);
	pthread_join(thread, NULL);
	close(lt.fds[0]);

	ret = victim_start(&v, victim_exe, extra);
	REQUIRE(ret == 0, "start the victim: %s", strerror(-ret));
	EXPECT_RET(inject_load(v.pid, "/nonexistent/lib.so", &handle, err, sizeof(err)), -ENOENT);
	EXPECT(strstr(err, "/nonexistent/lib.so: No such file"), "message: %s", err);
	EXPECT_RET(inject_load(v.pid, "/tmp", &handle, err, sizeof(err)), -ENOEXEC);
	/* not an ELF object: dlopen refuses it in the target, and says why */
	fd = mkstemp(text);
	REQUIRE(fd >= 0, "mkstemp");
	for (int i = 0; i < 20; i++)
		EXPECT(write(fd, "not an ELF\n", 11) == 11, "write %s", text);
	close(fd);
	EXPECT_RET(inject_load(v.pid, text, &handle, err, sizeof(err)), -ENOEXEC);
	EXPECT(strstr(err, "failed in process") && strstr(err, "invalid ELF header"), "message: %s",
	       err);
	unlink(text);
	EXPECT_RET(inject_call(v.pid, testlib, "inject_test_calls", NULL, &ret, err, sizeof(err)),
		   -ENOENT);
	test_other_user(v.pid);
	kill(v.pid, SIGSTOP);
	/* the stop is seen in /proc once the victim has taken it */
	for (int i = 0; i < 1000; i++) {
		ret = inject_load(v.pid, testlib, &handle, err, sizeof(err));
		if (ret == -EINVAL)
			break;
		usleep(1000);
	}
	EXPECT(ret == -EINVAL && strstr(err, "is stopped"), "stopped process: %d %s", ret, err);
	kill(v.pid, SIGCONT);
	expect_victim_fine(&v, "1");
	status = victim_stop(&v);
	EXPECT(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the victim ended with status 0x%x", status);
}

int main(int argc, char **argv)
{
	char why[256];

	if (argc != 3) {
		fprintf(stderr, "usage: test_inject VICTIM TESTLIB.so\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); /* a hung run still shows what failed */
	victim_exe = argv[1];
	testlib = argv[2];
	if (!ptrace_allowed(why, sizeof(why))) {
		printf("SKIP: ptrace is not permitted here: %s\n", why);
		return 77;
	}
	test_victim("1");
	test_victim("3");
	test_victim("churn");
	test_exit_during_call();
	test_errors();
	return check_summary();
}
