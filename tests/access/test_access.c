// SPDX-License-Identifier: MIT
/*
 * Who may reach uebpf's objects. The state directory is made 0700 and a
 * map's file 0600, both the user's; a pin directory is made 0700. Run as
 * root, it also checks, as the user nobody in a forked child, that none of
 * it can be opened (the state directory, a map file linked into it, the
 * map through /proc/PID/fd, the pin), and that `uebpf run` runs a
 * clang-built object as nobody with a state directory of its own: no
 * privilege is needed for user-space programs. Not root: those checks are
 * skipped, with the reason printed.
 *
 *   test_access UEBPF_BINARY PROGS_DIR
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/bpf.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "maps/maps.h"
#include "syscall/syscall.h"

static char top[] = "/tmp/uebpf-access-XXXXXX";
static char state[64], pins[64], linked[128], pin[128];

static bool private_to_me(const char *path, mode_t type)
{
	struct stat st;

	return !lstat(path, &st) && (st.st_mode & S_IFMT) == type && st.st_uid == geteuid() &&
	       !(st.st_mode & 077);
}

/* Made by uebpf: the state directory, a map file, a pin and its directory. */
static int make_objects(struct map **m)
{
	struct map_attr attr = {
		.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 4};
	char err[256], proc[64];
	struct stat st;
	int fd, ret;

	snprintf(state, sizeof(state), "%s/state", top);
	snprintf(pins, sizeof(pins), "%s/pins", top);
	setenv("UEBPF_STATE_DIR", state, 1);
	setenv("UEBPF_PIN_DIR", pins, 1);
	ret = map_create(&attr, m, err, sizeof(err));
	REQUIRE(!ret, "map_create: %s", err);
	EXPECT(private_to_me(state, S_IFDIR), "the state directory is mine, mode 0700");
	EXPECT(!fstat(map_fd(*m), &st) && st.st_uid == geteuid() && !(st.st_mode & 077),
	       "the map's file is mine, mode %o", st.st_mode & 0777);

	/* what a registry or a pin by name does: give the file a name in the directory */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", map_fd(*m));
	snprintf(linked, sizeof(linked), "%s/map", state);
	EXPECT(!linkat(AT_FDCWD, proc, AT_FDCWD, linked, AT_SYMLINK_FOLLOW), "link: %s",
	       strerror(errno));
	EXPECT(private_to_me(linked, S_IFREG), "the named map file is mine, mode 0600");

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pinned", 4, 8, 1, NULL);
	REQUIRE(fd >= 0, "bpf_map_create: %s", syscall_last_error());
	EXPECT(!bpf_obj_pin(fd, "/sys/fs/bpf/access/m"), "pin: %s", syscall_last_error());
	snprintf(pin, sizeof(pin), "%s/sys/fs/bpf/access/m", pins);
	EXPECT(private_to_me(pins, S_IFDIR), "the pin directory is mine, mode 0700");
	return fd;
}

static bool become_nobody(void)
{
	struct passwd *pw = getpwnam("nobody");

	return pw && !setgroups(0, NULL) && !setgid(pw->pw_gid) && !setuid(pw->pw_uid);
}

/* As nobody: nothing of root's opens. Exit status: the number of things that did. */
static int child_intruder(pid_t owner, int map_fd)
{
	const char *paths[4] = {state, linked, pin, NULL};
	char proc[64];
	int opened = 0, fd;

	if (!become_nobody())
		return 100;
	snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", (int)owner, map_fd);
	paths[3] = proc;
	for (int i = 0; i < 4; i++) {
		fd = open(paths[i], O_RDONLY);
		if (fd >= 0) {
			printf("nobody opened %s\n", paths[i]);
			opened++;
			close(fd);
		} else if (errno != EACCES && errno != EPERM) {
			printf("nobody: %s: %s, not a refusal\n", paths[i], strerror(errno));
			opened++;
		}
	}
	fflush(stdout);
	return opened;
}

/* As nobody, in a directory of its own: uebpf run on a clang-built object. */
static int run_as_nobody(const char *uebpf, const char *obj, const char *home)
{
	char st[300], pn[300], data[300];
	FILE *f;

	if (!become_nobody())
		return 100;
	snprintf(st, sizeof(st), "%s/state", home);
	snprintf(pn, sizeof(pn), "%s/pins", home);
	snprintf(data, sizeof(data), "%s/zero64", home);
	f = fopen(data, "w");
	if (!f)
		return 101;
	for (int i = 0; i < 64; i++)
		fputc(0, f);
	fclose(f);
	setenv("UEBPF_STATE_DIR", st, 1);
	setenv("UEBPF_PIN_DIR", pn, 1);
	setenv("HOME", home, 1);
	execl(uebpf, uebpf, "run", obj, "--data-in", data, "--json", (char *)NULL);
	return 102;
}

static int wait_child(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

int main(int argc, char **argv)
{
	char home[64], obj[128], exe[128], objsrc[512];
	struct map *m;
	pid_t pid;
	bool skip = false;
	int fd, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s UEBPF_BINARY PROGS_DIR\n", argv[0]);
		return 2;
	}
	/* REQUIRE evaluates its condition twice: calls with effects go first */
	rc = mkdtemp(top) ? 0 : -errno;
	REQUIRE(!rc, "mkdtemp: %s", strerror(-rc));
	fd = make_objects(&m);
	if (geteuid() != 0) {
		printf("SKIP: not root: cannot check as another user (nobody) that the objects "
		       "are refused, nor run uebpf as nobody\n");
		skip = true;
		goto out;
	}
	fflush(stdout);
	pid = fork();
	if (!pid)
		_exit(child_intruder(getppid(), map_fd(m)));
	rc = wait_child(pid);
	EXPECT(rc == 0, "nobody opened %d of root's objects (status %d)", rc, rc);

	/* nobody's own corner: top is root's 0700, so it gets a 0711 path to it */
	snprintf(home, sizeof(home), "%s/nobody", top);
	snprintf(obj, sizeof(obj), "%s/global_data.bpf.o", home);
	snprintf(objsrc, sizeof(objsrc), "%s/global_data.bpf.o", argv[2]);
	rc = chmod(top, 0711) || mkdir(home, 0700) || chown(home, 65534, 65534) ? -errno : 0;
	REQUIRE(!rc, "a directory for nobody: %s", strerror(-rc));
	snprintf(exe, sizeof(exe), "%s/uebpf", home);
	rc = child_copy_file(objsrc, obj, 0644) ?: child_copy_file(argv[1], exe, 0755);
	REQUIRE(!rc, "copy %s and %s for nobody: %s", objsrc, argv[1], strerror(-rc));
	fflush(stdout);
	pid = fork();
	if (!pid)
		_exit(run_as_nobody(exe, obj, home));
	rc = wait_child(pid);
	EXPECT(rc == 0, "uebpf run as nobody: exit %d", rc);
out:
	close(fd);
	map_close(m);
	nftw(top, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	rc = check_summary();
	return rc || !skip ? rc : 77;
}
