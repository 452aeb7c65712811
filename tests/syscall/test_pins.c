// SPDX-License-Identifier: MIT
/*
 * Pins that outlive their process. Each step runs in a process of its own
 * (forked before this one touches bpf(), so it starts with no object): a
 * map pinned by one is got by the next after the first has exited, with
 * its contents; libbpf's LIBBPF_PIN_BY_NAME reuses the map a first loader
 * pinned, so a program's count goes on across loaders; a program pin lasts
 * only while its process does; a pin directory on another filesystem is
 * refused with -EXDEV.
 *
 *   test_pins PROGS_DIR
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <ftw.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "syscall/syscall.h"

static const char *progs_dir;
static char state[] = "/dev/shm/uebpf-pintest-XXXXXX";

/* Run fn in a child process; whether all its checks passed. */
static bool in_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(failed ? 1 : 0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static uint64_t lookup(int fd, uint32_t k)
{
	uint64_t v = 0;

	return bpf_map_lookup_elem(fd, &k, &v) ? UINT64_MAX : v;
}

static void pin_map(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "durable", 4, 8, 4, NULL);
	uint32_t k = 3;
	uint64_t v = 77;

	REQUIRE(fd >= 0, "create: %s", syscall_last_error());
	EXPECT(bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0, "update");
	EXPECT(bpf_obj_pin(fd, "/sys/fs/bpf/uebpf-test/durable") == 0, "pin: %s",
	       syscall_last_error());
}

static void get_map_and_update(void)
{
	int fd = bpf_obj_get("/sys/fs/bpf/uebpf-test/durable");
	uint32_t k = 3;
	uint64_t v = 78;

	REQUIRE(fd >= 0, "get the map its process pinned before exiting: %s", syscall_last_error());
	EXPECT(lookup(fd, 3) == 77, "the value the first process wrote: %llu",
	       (unsigned long long)lookup(fd, 3));
	EXPECT(bpf_map_update_elem(fd, &k, &v, BPF_ANY) == 0, "update");
}

/* Load pinned.bpf.o, whose map is pinned by name, and run its program once. */
static void load_and_run(void)
{
	char path[512];
	struct bpf_object *obj;
	struct bpf_program *prog;
	int ret;
	unsigned char pkt[ETH_HLEN] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));

	snprintf(path, sizeof(path), "%s/pinned.bpf.o", progs_dir);
	obj = bpf_object__open_file(path, NULL);
	REQUIRE(obj, "open %s", path);
	ret = bpf_object__load(obj);
	REQUIRE(ret == 0, "load: %d %s", ret, syscall_last_error());
	EXPECT(bpf_map__is_pinned(bpf_object__find_map_by_name(obj, "runs")), "map pinned");
	prog = bpf_object__find_program_by_name(obj, "count_runs");
	EXPECT(bpf_prog_test_run_opts(bpf_program__fd(prog), &t) == 0 && t.retval == XDP_PASS,
	       "run");
	bpf_object__close(obj);
}

static void pin_prog(void)
{
	int fd;
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 2},
		{.code = BPF_JMP | BPF_EXIT},
	};

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "short", "GPL", insns, 2, NULL);
	REQUIRE(fd >= 0, "load: %s", syscall_last_error());
	EXPECT(bpf_obj_pin(fd, "/sys/fs/bpf/uebpf-test/prog") == 0, "pin a program: %s",
	       syscall_last_error());
	fd = bpf_obj_get("/sys/fs/bpf/uebpf-test/prog");
	EXPECT(fd >= 0, "its process gets it back: %s", syscall_last_error());
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int main(int argc, char **argv)
{
	char path[512], other[] = "/tmp/uebpf-pintest-XXXXXX";
	struct stat st_state, st_other;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: test_pins PROGS_DIR\n");
		return 2;
	}
	progs_dir = argv[1];
	if (!mkdtemp(state)) {
		printf("mkdtemp %s: %s\n", state, strerror(errno));
		return 1;
	}
	setenv("UEBPF_STATE_DIR", state, 1);
	unsetenv("UEBPF_PIN_DIR");

	EXPECT(in_child(pin_map), "a process pins a map and exits");
	snprintf(path, sizeof(path), "%s/pins/sys/fs/bpf/uebpf-test/durable", state);
	EXPECT(stat(path, &st_state) == 0 && S_ISREG(st_state.st_mode),
	       "the pin is a file in the state directory's pins");
	EXPECT(in_child(get_map_and_update), "another process gets it and writes");
	fd = bpf_obj_get("/sys/fs/bpf/uebpf-test/durable");
	EXPECT(fd >= 0 && lookup(fd, 3) == 78, "a third process sees the second's write");
	if (fd >= 0) {
		struct bpf_map_info info = {0};
		uint32_t len = sizeof(info);

		EXPECT(bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
			       info.type == BPF_MAP_TYPE_ARRAY && info.max_entries == 4 &&
			       !strcmp(info.name, "durable"),
		       "the same map: type %u, max_entries %u, name %s", info.type,
		       info.max_entries, info.name);
		close(fd);
	}

	EXPECT(in_child(load_and_run), "first loader pins its map by name and runs");
	EXPECT(in_child(load_and_run), "second loader reuses the pinned map and runs");
	fd = bpf_obj_get("/sys/fs/bpf/runs");
	EXPECT(fd >= 0 && lookup(fd, 0) == 2, "two runs counted in the one map: %llu",
	       (unsigned long long)(fd >= 0 ? lookup(fd, 0) : 0));
	if (fd >= 0)
		close(fd);

	EXPECT(in_child(pin_prog), "a process pins a program");
	EXPECT(bpf_obj_get("/sys/fs/bpf/uebpf-test/prog") < 0,
	       "the program pin ends with its process");

	/* a pin directory on another filesystem than the state directory */
	if (mkdtemp(other) && !stat(other, &st_other) && !stat(state, &st_state) &&
	    st_other.st_dev != st_state.st_dev) {
		int m = bpf_map_create(BPF_MAP_TYPE_ARRAY, "far", 4, 8, 1, NULL);

		setenv("UEBPF_PIN_DIR", other, 1);
		EXPECT(bpf_obj_pin(m, "/far") == -EXDEV, "pin across filesystems: -EXDEV");
		EXPECT(strstr(syscall_last_error(), "another filesystem"), "and says why: %s",
		       syscall_last_error());
		unsetenv("UEBPF_PIN_DIR");
		close(m);
	} else {
		printf("note: %s is on the state directory's filesystem, -EXDEV not checked\n",
		       other);
	}
	rmdir(other);
	nftw(state, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_summary();
}
