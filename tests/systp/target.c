// SPDX-License-Identifier: MIT
/*
 * A process doing known system calls: 100 getpid, 50 writes of 7 bytes to
 * /dev/null, 20 reads of 13 bytes from /dev/zero, made with syscall() so
 * that no library caches or merges them. With --fork, a child does 30, 10
 * and 10 of the same besides (a second process, which a pid filter must
 * leave out).
 *
 * usage: target [--wait] [--fork]
 * --wait: first wait for SIGUSR1, calling getppid() every millisecond
 * meanwhile, so a loader can see its programs run in this process (getppid
 * counted) before it lets the known work start. Prints nothing: its exit
 * status says whether its calls did what they should.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void work(int getpids, int writes, int reads, int null_fd, int zero_fd)
{
	char buf[16] = "written";

	for (int i = 0; i < getpids; i++)
		syscall(SYS_getpid);
	for (int i = 0; i < writes; i++)
		syscall(SYS_write, null_fd, buf, 7);
	for (int i = 0; i < reads; i++)
		syscall(SYS_read, zero_fd, buf, 13);
}

static void wait_go(void)
{
	struct timespec tick = {.tv_nsec = 1000000};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	do
		syscall(SYS_getppid);
	while (sigtimedwait(&set, NULL, &tick) != SIGUSR1);
}

int main(int argc, char **argv)
{
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	int wait = 0, fork_child = 0, status = 0;
	pid_t child;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait = 1;
		else if (!strcmp(argv[i], "--fork"))
			fork_child = 1;
		else
			return 2;
	}
	if (null_fd < 0 || zero_fd < 0)
		return 3;
	if (wait)
		wait_go();
	work(100, 50, 20, null_fd, zero_fd);
	if (fork_child) {
		child = fork();
		if (child == 0) {
			work(30, 10, 10, null_fd, zero_fd);
			_exit(0);
		}
		if (child < 0 || waitpid(child, &status, 0) != child || status)
			return 4;
	}
	return 0;
}
