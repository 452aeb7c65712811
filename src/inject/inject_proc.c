// SPDX-License-Identifier: MIT
/* What /proc says about the target: who owns it, its state, its mappings. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "inject/internal.h"

struct proc_status {
	pid_t tgid;
	pid_t ppid;
	pid_t tracer;
	char state;
	unsigned long uid[3]; /* real, effective, saved */
};

static int read_status(pid_t pid, struct proc_status *st)
{
	char path[64], line[256];
	FILE *f;
	int fields = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "State: %c", &st->state) == 1)
			fields++;
		else if (sscanf(line, "Tgid: %d", &st->tgid) == 1)
			fields++;
		else if (sscanf(line, "TracerPid: %d", &st->tracer) == 1)
			fields++;
		else if (sscanf(line, "PPid: %d", &st->ppid) == 1)
			fields++;
		else if (sscanf(line, "Uid: %lu %lu %lu", &st->uid[0], &st->uid[1], &st->uid[2]) ==
			 3)
			fields++;
	}
	fclose(f);
	return fields == 5 ? 0 : -ESRCH;
}

pid_t inject_parent(pid_t pid)
{
	struct proc_status st = {0};

	return read_status(pid, &st) ? -1 : st.ppid;
}

int inject_check_target(pid_t pid, char *err, size_t err_len)
{
	struct proc_status st = {0};
	uid_t me = getuid();
	int ret;

	if (pid <= 0) {
		errbuf_set(err, err_len, "%d is not a process id", (int)pid);
		return -EINVAL;
	}
	ret = read_status(pid, &st);
	if (ret) {
		errbuf_set(err, err_len, "no process %d", (int)pid);
		return -ESRCH;
	}
	if (st.tgid != pid) {
		errbuf_set(err, err_len, "%d is a thread of process %d; give the process id",
			   (int)pid, (int)st.tgid);
		return -EINVAL;
	}
	if (pid == getpid()) {
		errbuf_set(err, err_len,
			   "process %d is this process itself; load the object "
			   "with dlopen instead",
			   (int)pid);
		return -EINVAL;
	}
	if (st.state == 'Z' || st.state == 'X') {
		errbuf_set(err, err_len, "process %d has exited", (int)pid);
		return -ESRCH;
	}
	if (geteuid() != 0 && (st.uid[0] != me || st.uid[1] != me || st.uid[2] != me)) {
		errbuf_set(err, err_len,
			   "process %d belongs to uid %lu and you are uid %lu: only "
			   "root may inject into another user's process",
			   (int)pid, st.uid[0], (unsigned long)me);
		return -EPERM;
	}
	if (st.tracer) {
		errbuf_set(err, err_len,
			   "process %d is already traced by process %d (a "
			   "debugger?); detach it first",
			   (int)pid, (int)st.tracer);
		return -EBUSY;
	}
	if (st.state == 'T' || st.state == 't') {
		errbuf_set(err, err_len, "process %d is stopped; continue it first (kill -CONT %d)",
			   (int)pid, (int)pid);
		return -EINVAL;
	}
	return 0;
}

int inject_find_object(pid_t pid, inject_match_fn match, const void *ctx, struct inject_object *obj)
{
	char path[64], line[4096 + 128];
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, off;
		unsigned int major, minor;
		unsigned long ino;
		int name_at = 0;
		char *name;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %x:%x %lu %n", &start,
			   &end, &off, &major, &minor, &ino, &name_at) < 6 ||
		    !name_at)
			continue;
		name = line + name_at;
		name[strcspn(name, "\n")] = '\0';
		if (off != 0 || name[0] != '/' || !match(name, makedev(major, minor), ino, ctx))
			continue;
		snprintf(obj->path, sizeof(obj->path), "%s", name);
		obj->start = start;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}
