// SPDX-License-Identifier: MIT
/*
 * The attach path of the bpf() emulation, through libbpf's own calls
 * (bpf_program__attach_uprobe(_opts) by name and by offset, auto-attach by
 * section name, BPF_LINK_CREATE, perf_event_open + ioctl by hand):
 *
 *   test_attach OBJ inproc    no registry: hooks go into this process, so
 *                             calling the functions counts in the maps
 *   test_attach OBJ registry  with a registry of its own: the attachments'
 *                             records, and their end when every fd closes
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "registry/registry.h"

__attribute__((noipa)) int target_a(int x)
{
	return x * 2 + 5;
}

__attribute__((noipa)) int target_b(int x)
{
	return x + 1;
}

__attribute__((noipa)) int target_c(int x)
{
	return x - 1;
}

__attribute__((noipa)) int auto_target(int x)
{
	return x ^ 1;
}

static char exe[4096];
static struct bpf_object *obj;

/* The file offset of the code at fn, as libbpf computes it from the ELF. */
static uint64_t file_off(void *fn)
{
	unsigned long lo, hi, off, a = (unsigned long)fn;
	char line[4352];
	FILE *f = fopen("/proc/self/maps", "r");
	uint64_t ret = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) == 3 && a >= lo && a < hi)
			ret = a - lo + off;
	if (f)
		fclose(f);
	return ret;
}

static uint64_t count(const char *map, uint32_t key)
{
	uint64_t v = 0;

	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, map), &key, &v);
	return v;
}

static struct bpf_program *prog(const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	REQUIRE(p, "program %s", name);
	return p;
}

static int open_event(uint64_t off, int retprobe, pid_t pid, int cpu, uint64_t extra_config)
{
	struct perf_event_attr attr = {.size = sizeof(attr)};
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "r");
	int type = -1;

	if (f) {
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
	}
	attr.type = (uint32_t)type;
	attr.config = (uint64_t)retprobe | extra_config;
	attr.config1 = (uint64_t)(uintptr_t)exe;
	attr.config2 = off;
	return (int)syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Attach paths that need no registry's reader: what the emulation refuses. */
static void test_errors(void)
{
	int prog_fd = bpf_program__fd(prog("count_arg"));
	int sock_fd = bpf_program__fd(prog("not_a_probe"));
	int fd, ret;

	/* libbpf's perf link probe */
	ret = bpf_link_create(prog_fd, -1, BPF_PERF_EVENT, NULL);
	EXPECT(ret == -EBADF, "LINK_CREATE on fd -1: %d", ret);
	ret = bpf_link_create(prog_fd, prog_fd, BPF_PERF_EVENT, NULL);
	EXPECT(ret == -EINVAL, "LINK_CREATE on a program fd: %d", ret);
	EXPECT(open_event(0, 0, -1, -1, 0) < 0 && errno == EINVAL, "pid -1 cpu -1");
	EXPECT(open_event(0, 0, 0x3fffffff, -1, 0) < 0 && errno == ESRCH, "no such process");
	EXPECT(open_event(0, 0, 0, -1, 1ull << 1) < 0 && errno == EOPNOTSUPP, "config bit 1");
	fd = open_event(file_off((void *)target_c), 0, 0, -1, 0);
	REQUIRE(fd >= 0, "perf_event_open: %s", strerror(errno));
	EXPECT(ioctl(fd, PERF_EVENT_IOC_SET_BPF, sock_fd) < 0 && errno == EINVAL,
	       "a socket filter on a uprobe");
	ret = bpf_link_create(sock_fd, fd, BPF_PERF_EVENT, NULL);
	EXPECT(ret == -EINVAL, "LINK_CREATE of a socket filter: %d", ret);
	close(fd);
}

static void test_inproc(void)
{
	LIBBPF_OPTS(bpf_uprobe_opts, by_name, .func_name = "target_a");
	LIBBPF_OPTS(bpf_uprobe_opts, ret_opts, .func_name = "target_a", .retprobe = true);
	struct bpf_link *l, *r, *a, *d;
	int fd, prog_fd = bpf_program__fd(prog("count_arg"));

	/* by name, pid 0 (this process) */
	l = bpf_program__attach_uprobe_opts(prog("count_arg"), 0, exe, 0, &by_name);
	REQUIRE(l, "attach_uprobe_opts(target_a): %s", strerror(errno));
	for (int i = 0; i < 10; i++)
		(void)(target_a(i) + target_a(i));
	EXPECT(count("hits", 3) == 2 && count("hits", 9) == 2, "hits %llu %llu",
	       (unsigned long long)count("hits", 3), (unsigned long long)count("hits", 9));
	/* a return probe beside the entry probe */
	r = bpf_program__attach_uprobe_opts(prog("count_ret"), -1, exe, 0, &ret_opts);
	REQUIRE(r, "uretprobe: %s", strerror(errno));
	EXPECT(target_a(7) == 19, "target_a still returns its value");
	EXPECT(count("rets", 19) == 1 && count("hits", 7) == 3, "rets[19] %llu hits[7] %llu",
	       (unsigned long long)count("rets", 19), (unsigned long long)count("hits", 7));
	bpf_link__destroy(l);
	bpf_link__destroy(r);
	target_a(7);
	EXPECT(count("hits", 7) == 3 && count("rets", 19) == 1, "counted after destroy");

	/* by file offset */
	l = bpf_program__attach_uprobe(prog("count_arg"), false, -1, exe,
				       file_off((void *)target_b));
	REQUIRE(l, "attach_uprobe by offset: %s", strerror(errno));
	for (int i = 100; i < 105; i++)
		target_b(i);
	EXPECT(count("hits", 100) == 1 && count("hits", 104) == 1, "by offset");

	/* BPF_LINK_DETACH ends it while the link's fd stays open */
	EXPECT(!bpf_link_detach(bpf_link__fd(l)), "LINK_DETACH: %s", strerror(errno));
	target_b(100);
	EXPECT(count("hits", 100) == 1, "counted after LINK_DETACH");
	bpf_link__destroy(l);

	/* auto-attach from SEC("uprobe//proc/self/exe:auto_target") */
	a = bpf_program__attach(prog("auto_entry"));
	REQUIRE(a, "auto-attach: %s", strerror(errno));
	auto_target(3);
	auto_target(3);
	EXPECT(count("autos", 3) == 2, "auto-attached: %llu",
	       (unsigned long long)count("autos", 3));
	bpf_link__destroy(a);

	/* perf_event_open and the ioctls by hand */
	fd = open_event(file_off((void *)target_c), 0, 0, -1, 0);
	REQUIRE(fd >= 0, "perf_event_open: %s", strerror(errno));
	EXPECT(!ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog_fd), "SET_BPF: %s", strerror(errno));
	EXPECT(ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0 && errno == EEXIST, "SET_BPF twice");
	target_c(200);
	EXPECT(!ioctl(fd, PERF_EVENT_IOC_DISABLE, 0), "DISABLE");
	target_c(200);
	EXPECT(!ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
	target_c(200);
	EXPECT(count("hits", 200) == 2, "ioctl path: %llu", (unsigned long long)count("hits", 200));
	EXPECT(!ioctl(fd, PERF_EVENT_IOC_DISABLE, 0), "DISABLE");
	close(fd);

	/* a link follows the event's DISABLE and ENABLE */
	fd = open_event(file_off((void *)target_c), 0, 0, -1, 0);
	REQUIRE(fd >= 0, "perf_event_open: %s", strerror(errno));
	d = bpf_program__attach_perf_event(prog("count_arg"), fd);
	REQUIRE(d, "attach_perf_event: %s", strerror(errno));
	target_c(201);
	EXPECT(!ioctl(fd, PERF_EVENT_IOC_DISABLE, 0), "DISABLE");
	target_c(201);
	EXPECT(!ioctl(fd, PERF_EVENT_IOC_ENABLE, 0), "ENABLE");
	target_c(201);
	EXPECT(count("hits", 201) == 2, "link on a disabled event: %llu",
	       (unsigned long long)count("hits", 201));
	bpf_link__destroy(d); /* closes fd too */
	target_c(201);
	EXPECT(count("hits", 201) == 2, "counted after destroy");
}

struct walk {
	int n;
	struct reg_attach last;
	char name[REG_NAME_MAX];
};

static int visit(void *ctx, const char *name, const struct reg_attach *a)
{
	struct walk *w = ctx;

	w->n++;
	w->last = *a;
	snprintf(w->name, sizeof(w->name), "%s", name);
	return 0;
}

static struct walk live(struct reg *r)
{
	struct walk w = {0};
	char err[512];

	EXPECT(!reg_for_each_attach(r, visit, &w, err, sizeof(err)), "walk: %s", err);
	return w;
}

/* The program file names the map by its registry file, and its lddw by table index. */
static void check_prog(struct reg *r, const char *name)
{
	struct reg_prog p;
	struct stat a, b;
	char err[512];
	int fd, ret = reg_read_prog(r, name, &p, err, sizeof(err));

	/* REQUIRE evaluates its condition twice: calls go before it */
	REQUIRE(!ret, "%s", err);
	EXPECT(!strcmp(p.name, "count_arg") && p.type == BPF_PROG_TYPE_KPROBE, "name %s type %u",
	       p.name, p.type);
	REQUIRE(p.nmaps == 1, "%u maps", p.nmaps);
	ret = reg_open_map(r, p.maps[0], &fd, err, sizeof(err));
	REQUIRE(!ret, "%s", err);
	fstat(fd, &a);
	fstat(bpf_object__find_map_fd_by_name(obj, "hits"), &b);
	EXPECT(a.st_ino == b.st_ino, "the map file is the map's");
	close(fd);
	for (uint32_t i = 0; i < p.ninsns; i++)
		if (p.insns[i].opcode == 0x18 && p.insns[i].src)
			EXPECT(p.insns[i].src == 5 && p.insns[i].imm == 0, "lddw src %u imm %d",
			       p.insns[i].src, p.insns[i].imm);
	reg_prog_free(&p);
}

static void test_registry(const char *name)
{
	LIBBPF_OPTS(bpf_uprobe_opts, ret_opts, .func_name = "target_a", .retprobe = true);
	int fd, fd2, prog_fd = bpf_program__fd(prog("count_arg")), status, ret;
	char err[512], dir[REG_PATH_MAX];
	struct bpf_link *l;
	struct walk w;
	struct reg *r;
	pid_t child;

	ret = reg_path(name, dir, sizeof(dir), err, sizeof(err))
		      ?: reg_open(dir, false, &r, err, sizeof(err));
	REQUIRE(!ret, "%s", err);
	EXPECT(live(r).n == 0, "empty at first");

	l = bpf_program__attach_uprobe_opts(prog("count_ret"), -1, exe, 0, &ret_opts);
	REQUIRE(l, "uretprobe: %s", strerror(errno));
	w = live(r);
	EXPECT(w.n == 1 && w.last.kind == REG_URETPROBE && w.last.pid == -1 &&
		       w.last.loader_pid == getpid() && !strcmp(w.last.path, exe) &&
		       w.last.offset == file_off((void *)target_a),
	       "record: n %d kind %u pid %d path %s off %llx", w.n, w.last.kind, w.last.pid,
	       w.last.path, (unsigned long long)w.last.offset);
	bpf_link__destroy(l);
	EXPECT(live(r).n == 0, "gone after bpf_link__destroy");

	/* the ioctl path; pid 0 is the loader */
	fd = open_event(file_off((void *)target_b), 0, 0, -1, 0);
	REQUIRE(fd >= 0, "perf_event_open: %s", strerror(errno));
	EXPECT(live(r).n == 0, "no program yet");
	EXPECT(!ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog_fd), "SET_BPF: %s", strerror(errno));
	w = live(r);
	EXPECT(w.n == 1 && w.last.kind == REG_UPROBE && w.last.pid == getpid(), "n %d pid %d", w.n,
	       w.last.pid);
	check_prog(r, w.last.prog);
	EXPECT(!ioctl(fd, PERF_EVENT_IOC_DISABLE, 0) && live(r).n == 0, "DISABLE");
	EXPECT(!ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) && live(r).n == 1, "ENABLE");

	/* closing ends it: every fd of it, in every process */
	fd2 = dup(fd);
	close(fd);
	EXPECT(reg_attach_live(r, w.name), "live while a dup is open");
	child = fork();
	if (!child) {
		usleep(200000);
		_exit(0);
	}
	close(fd2);
	EXPECT(reg_attach_live(r, w.name), "live while a child holds it");
	waitpid(child, &status, 0);
	EXPECT(!reg_attach_live(r, w.name), "ended when the last fd closed");
	EXPECT(live(r).n == 0, "walk drops it");
	EXPECT(!reg_remove(r, err, sizeof(err)), "%s", err);
	reg_close(r);

	/* a registry others may enter is refused */
	EXPECT(!mkdir(dir, 0755) && !chmod(dir, 0755), "mkdir %s", dir);
	ret = reg_open(dir, false, &r, err, sizeof(err));
	EXPECT(ret == -EPERM && strstr(err, "mode 0700"), "open of a 0755 registry: %d %s", ret,
	       err);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	char name[64];
	ssize_t n;
	int ret;

	if (argc != 3 || (strcmp(argv[2], "inproc") && strcmp(argv[2], "registry"))) {
		fprintf(stderr, "usage: test_attach OBJ inproc|registry\n");
		return 2;
	}
	/* before libbpf's first call: the emulation reads it once */
	snprintf(name, sizeof(name), "test-attach-%d", (int)getpid());
	if (!strcmp(argv[2], "registry"))
		setenv("UEBPF_REGISTRY", name, 1);
	else
		unsetenv("UEBPF_REGISTRY");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	REQUIRE(n > 0, "readlink /proc/self/exe");
	exe[n] = '\0';
	obj = bpf_object__open_file(argv[1], NULL);
	REQUIRE(obj, "open %s: %s", argv[1], strerror(errno));
	ret = bpf_object__load(obj);
	REQUIRE(!ret, "load: %d", ret);
	test_errors();
	if (!strcmp(argv[2], "registry"))
		test_registry(name);
	else
		test_inproc();
	bpf_object__close(obj);
	return check_summary();
}
