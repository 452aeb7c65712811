// SPDX-License-Identifier: MIT
/*
 * Object files through libbpf and the bpf() emulation: the input is the
 * bytes of an ELF file, opened from memory or, for odd sizes, from a file
 * holding them; then loaded (maps made, programs relocated, loaded into
 * uebpf VMs) and each program run once with BPF_PROG_TEST_RUN on a packet.
 * Whatever the bytes, nothing crashes, hangs or leaks (ASan and LSan in
 * `make fuzz`), and the process does not pile up descriptors. The seeds
 * are the clang-built objects of tests/progs, so mutations are mostly
 * still objects with odd sections, relocations and instructions.
 *
 * libbpf 1.1 (Debian 12's) itself crashes on some malformed ELF files in
 * bpf_object__open (fixed upstream since): that is not uebpf's to fix, so
 * each input is first opened in a forked child that does only that, and
 * one that kills the child is counted (printed at exit) and goes no
 * further. Everything after
 * a successful open runs in this process, under the sanitizers and with
 * coverage.
 *
 * The emulation loads programs of types the verifier does not know
 * without verifying them and runs them without an instruction budget (as
 * PROG_TEST_RUN has none), so a mutated loop would run forever: programs
 * with a backward jump or a bpf_loop call are loaded but not run.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_FDS 512 /* the emulation frees what no fd names once its table doubles */
#define BPF_FUNC_LOOP 181

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static char pins[] = "/tmp/uebpf-fuzz-pins-XXXXXX";

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_pins(void)
{
	nftw(pins, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	signal(SIGPIPE, SIG_IGN);
	libbpf_set_print(quiet);
	/* pinned maps of a mutated object go here, not to the default /run */
	if (!mkdtemp(pins))
		fuzz_fail("mkdtemp: %s", strerror(errno));
	atexit(remove_pins);
	setenv("UEBPF_PIN_DIR", pins, 1);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* Whether the program could loop: a backward jump, or bpf_loop. */
static bool may_loop(const struct bpf_program *prog)
{
	const struct bpf_insn *in = bpf_program__insns(prog);
	size_t n = bpf_program__insn_cnt(prog);

	for (size_t i = 0; in && i < n; i++) {
		uint8_t cls = BPF_CLASS(in[i].code), op = BPF_OP(in[i].code);

		if (in[i].code == (BPF_LD | BPF_IMM | BPF_DW)) {
			i++;
			continue;
		}
		if (cls != BPF_JMP && cls != BPF_JMP32)
			continue;
		if (op == BPF_CALL && in[i].src_reg == 0 && in[i].imm == BPF_FUNC_LOOP)
			return true;
		if (op == BPF_CALL || op == BPF_EXIT)
			continue;
		if (cls == BPF_JMP32 && op == BPF_JA ? in[i].imm < 0 : in[i].off < 0)
			return true;
	}
	return false;
}

static void run_all(struct bpf_object *obj)
{
	uint8_t pkt[256], out[512];
	struct bpf_program *prog;

	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 3);
	bpf_object__for_each_program(prog, obj)
	{
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .data_out = out, .data_size_out = sizeof(out));
		int fd = bpf_program__fd(prog);

		if (fd < 0 || may_loop(prog))
			continue;
		bpf_prog_test_run_opts(fd, &t);
	}
}

/* The object from a file holding the bytes (an unlinked memfd, named through /proc). */
static struct bpf_object *open_file(const uint8_t *data, size_t size)
{
	struct bpf_object *obj = NULL;
	int fd = memfd_create("fuzz-obj", MFD_CLOEXEC);
	char path[64];

	if (fd < 0)
		fuzz_fail("memfd_create: %s", strerror(errno));
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		obj = bpf_object__open_file(path, NULL);
	}
	close(fd);
	return obj;
}

static struct bpf_object *open_obj(const uint8_t *data, size_t size)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .object_name = "fuzz");

	if (size & 1)
		return open_file(data, size);
	return bpf_object__open_mem(data, size, &o);
}

static unsigned long libbpf_crashes;

static void report_crashes(void)
{
	if (libbpf_crashes)
		fprintf(stderr, "fuzz_elf: %lu inputs crashed libbpf's bpf_object__open\n",
			libbpf_crashes);
}

/*
 * The child that tries each object first: it reads a length and the bytes
 * from one pipe, opens and closes the object, and answers one byte on the
 * other. If it dies, the next input gets a new one.
 */
static pid_t checker;
static int to_checker = -1, from_checker = -1;

static bool read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	for (size_t put = 0; put < len;) {
		ssize_t n = write(fd, (const uint8_t *)buf + put, len - put);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		put += (size_t)n;
	}
	return true;
}

static __attribute__((noreturn)) void checker_loop(int in, int out)
{
	int null = open("/dev/null", O_WRONLY);
	uint8_t *buf;
	size_t size;

	if (null >= 0)
		dup2(null, 2);
	while (read_all(in, &size, sizeof(size)) && (buf = malloc(size ? size : 1))) {
		if (!read_all(in, buf, size))
			break;
		bpf_object__close(open_obj(buf, size));
		free(buf);
		if (!write_all(out, "k", 1))
			break;
	}
	_exit(0);
}

static void checker_start(void)
{
	int down[2], up[2];

	if (pipe2(down, O_CLOEXEC) || pipe2(up, O_CLOEXEC))
		fuzz_fail("pipe: %s", strerror(errno));
	checker = fork();
	if (checker < 0)
		fuzz_fail("fork: %s", strerror(errno));
	if (!checker) {
		/* the parent's ends, or this child would never see its input end */
		close(down[1]);
		close(up[0]);
		checker_loop(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	to_checker = down[1];
	from_checker = up[0];
}

/* Whether libbpf opens (or refuses) the object without dying, tried in the checker. */
static bool libbpf_survives(const uint8_t *data, size_t size)
{
	char ok;
	int status;

	if (!checker)
		checker_start();
	if (write_all(to_checker, &size, sizeof(size)) && write_all(to_checker, data, size) &&
	    read_all(from_checker, &ok, 1))
		return true;
	close(to_checker);
	close(from_checker);
	while (waitpid(checker, &status, 0) < 0 && errno == EINTR)
		;
	checker = 0;
	if (!libbpf_crashes++)
		atexit(report_crashes);
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpf_object *obj;

	setup();
	if (!libbpf_survives(data, size))
		return 0;
	obj = open_obj(data, size);
	if (!obj)
		return 0;
	if (!bpf_object__load(obj))
		run_all(obj);
	bpf_object__close(obj);
	if (open_fds() > MAX_FDS)
		fuzz_fail("%d descriptors open after closing the object", open_fds());
	return 0;
}
