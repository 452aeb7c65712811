// SPDX-License-Identifier: MIT
/*
 * uebpf trace OBJ [--engine E] [--prog NAME]... [--hist MAP] -- CMD ARGS...: the
 * one-command form of `uebpf load` + `uebpf start`. This process is the
 * loader: libbpf loads OBJ through the emulation (this executable's
 * syscall() routes it) with a registry of its own, and auto-attaches its
 * uprobe and syscall tracepoint programs there; then CMD runs with the agent preloaded. While it
 * runs, trace_printk lines (the registry's trace file) and ring buffer
 * records are printed as they come; when it ends, every map (--hist: MAP
 * as a power-of-two histogram); the exit status is CMD's. The registry is
 * removed at the end.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "map_dump.h"
#include "maps/maps.h"
#include "preload.h"
#include "registry/registry.h"
#include "syscall/syscall.h"

#define POLL_NS 20000000 /* how often output is collected while CMD runs */
#define MAX_PROGS 64

static const char trace_help[] =
	"Usage: uebpf trace OBJ [--engine E] [--prog NAME]... [--hist MAP] -- CMD [ARGS...]\n"
	"\n"
	"Load the BPF object OBJ, attach its uprobe and uretprobe programs (by\n"
	"their section names, SEC(\"uprobe/BINARY:FUNCTION\")) and its syscall\n"
	"tracepoints (SEC(\"tracepoint/syscalls/sys_enter_NAME\"), _exit_NAME,\n"
	"raw_syscalls/sys_enter|sys_exit, raw_tp/ and tp_btf/sys_enter|sys_exit);\n"
	"only the NAMEd ones with --prog), run CMD with them, printing\n"
	"trace_printk lines and ring buffer records as they come and every map\n"
	"at the end. --hist MAP prints\n"
	"MAP, whose keys are log2 buckets (u32) and values counts (u64), as a\n"
	"histogram instead. Programs run in CMD on engine E (interp, jit or aot;\n"
	"jit by default). The exit status is CMD's.\n";

struct trace {
	struct bpf_object *obj;
	struct bpf_link *links[MAX_PROGS];
	int nlinks;
	struct map *rings[MAX_PROGS];
	const char *ring_names[MAX_PROGS];
	int nrings;
	int trace_fd;
	struct reg *reg;
};

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* uprobes, and the syscall tracepoints of src/systp in each form libbpf attaches */
static bool is_uprobe(const struct bpf_program *p)
{
	static const char *const tracepoints[] = {
		"tracepoint/syscalls/",	    "tracepoint/raw_syscalls/", "tp/syscalls/",
		"tp/raw_syscalls/",	    "raw_tp/sys_enter",		"raw_tp/sys_exit",
		"raw_tracepoint/sys_enter", "raw_tracepoint/sys_exit",	"tp_btf/sys_enter",
		"tp_btf/sys_exit"};
	const char *sec = bpf_program__section_name(p);

	for (size_t i = 0; i < sizeof(tracepoints) / sizeof(tracepoints[0]); i++)
		if (!strncmp(sec, tracepoints[i], strlen(tracepoints[i])))
			return true;
	return bpf_program__type(p) == BPF_PROG_TYPE_KPROBE &&
	       (!strncmp(sec, "uprobe", 6) || !strncmp(sec, "uretprobe", 9));
}

static bool wanted(const char *name, char **only, int nonly)
{
	for (int i = 0; i < nonly; i++)
		if (!strcmp(only[i], name))
			return true;
	return !nonly;
}

static int check_names(struct bpf_object *obj, char **only, int nonly)
{
	for (int i = 0; i < nonly; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, only[i]);

		if (p && is_uprobe(p))
			continue;
		if (p)
			return cli_error("trace",
					 "program %s (SEC(\"%s\")) is not a uprobe or syscall "
					 "tracepoint",
					 only[i], bpf_program__section_name(p));
		fprintf(stderr, "uebpf trace: no program '%s'; the object has:", only[i]);
		bpf_object__for_each_program(p, obj) fprintf(stderr, " %s", bpf_program__name(p));
		fputc('\n', stderr);
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int attach_all(struct trace *t, char **only, int nonly)
{
	struct bpf_program *p;
	int ret = check_names(t->obj, only, nonly);

	if (ret)
		return ret;
	bpf_object__for_each_program(p, t->obj)
	{
		const char *name = bpf_program__name(p), *sec = bpf_program__section_name(p);

		if (!wanted(name, only, nonly))
			continue;
		if (!is_uprobe(p)) {
			fprintf(stderr,
				"uebpf trace: skipping %s (SEC(\"%s\")): not a uprobe or syscall "
				"tracepoint\n",
				name, sec);
			continue;
		}
		if (!strchr(sec, '/'))
			return cli_error("trace",
					 "program %s: SEC(\"%s\") names no function; use "
					 "SEC(\"%s/BINARY:FUNCTION\")",
					 name, sec, sec);
		if (t->nlinks == MAX_PROGS)
			return cli_error("trace", "more than %d programs", MAX_PROGS);
		t->links[t->nlinks] = bpf_program__attach(p);
		if (!t->links[t->nlinks])
			return cli_error("trace", "program %s: cannot attach SEC(\"%s\"): %s%s%s",
					 name, sec, strerror(errno),
					 *syscall_last_error() ? ": " : "", syscall_last_error());
		t->nlinks++;
	}
	if (!t->nlinks)
		return cli_error("trace",
				 "%s has no uprobe or syscall tracepoint programs to attach",
				 bpf_object__name(t->obj));
	return CLI_OK;
}

static int open_rings(struct trace *t)
{
	struct bpf_map *m;
	char err[512];

	bpf_object__for_each_map(m, t->obj)
	{
		if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF)
			continue;
		if (t->nrings == MAX_PROGS)
			break;
		if (map_open_fd(bpf_map__fd(m), &t->rings[t->nrings], err, sizeof(err)))
			return cli_error("trace", "ring buffer %s: %s", bpf_map__name(m), err);
		t->ring_names[t->nrings++] = bpf_map__name(m);
	}
	return CLI_OK;
}

static int print_record(void *ctx, void *data, size_t size)
{
	const unsigned char *b = data;

	printf("ringbuf %s: %zu bytes:", (const char *)ctx, size);
	for (size_t i = 0; i < size; i++)
		printf("%s%02x", i % 4 ? "" : " ", b[i]);
	putchar('\n');
	return 0;
}

/* What came since the last call: trace lines, then ring buffer records. */
static void collect(struct trace *t)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(t->trace_fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	for (int i = 0; i < t->nrings; i++)
		map_ringbuf_consume(t->rings[i], print_record, (void *)t->ring_names[i]);
	fflush(stdout);
}

static int run(struct trace *t, char **cmd)
{
	struct timespec tick = {.tv_nsec = POLL_NS};
	char lib[4096], err[512];
	int status;
	pid_t pid;

	if (cli_lib_path("libuebpf-agent.so", lib, sizeof(lib), err, sizeof(err)))
		return cli_error("trace", "%s", err);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return cli_error("trace", "fork: %s", strerror(errno));
	if (!pid) {
		if (cli_preload(lib, err, sizeof(err)) || cli_exec(cmd, err, sizeof(err)))
			fprintf(stderr, "uebpf trace: %s\n", err);
		_exit(127);
	}
	/* ^C is for CMD; the maps are printed once it has ended */
	signal(SIGINT, SIG_IGN);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		collect(t);
		nanosleep(&tick, NULL);
	}
	collect(t);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "uebpf trace: %s: %s\n", cmd[0], strsignal(WTERMSIG(status)));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

/* A log2 histogram, as bpftrace's hist() shows one. */
static int print_hist(const struct bpf_map *m)
{
	uint64_t counts[64] = {0}, max = 0, v;
	uint32_t key, next;
	int fd = bpf_map__fd(m), lo = 64, hi = -1;
	bool started = false;

	if (bpf_map__key_size(m) != 4 || bpf_map__value_size(m) != 8 ||
	    bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_HASH ||
	    bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_ARRAY)
		return cli_error("trace", "--hist %s: needs 4-byte keys and 8-byte values",
				 bpf_map__name(m));
	while (!bpf_map_get_next_key(fd, started ? &key : NULL, &next)) {
		started = true;
		key = next;
		if (key >= 64 || bpf_map_lookup_elem(fd, &key, &v) || !v)
			continue;
		counts[key] = v;
		max = v > max ? v : max;
		lo = (int)key < lo ? (int)key : lo;
		hi = (int)key > hi ? (int)key : hi;
	}
	printf("@%s:\n", bpf_map__name(m));
	for (int k = lo; k <= hi; k++) {
		int bar = max ? (int)(counts[k] * 40 / max) : 0;
		char range[64];

		snprintf(range, sizeof(range), "[%llu, %llu)", 1ull << k,
			 k == 63 ? ~0ull : 2ull << k);
		printf("%-26s %10llu |%-40.*s|\n", range, (unsigned long long)counts[k], bar,
		       "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
	}
	return CLI_OK;
}

static int print_maps(struct trace *t, const char *hist)
{
	struct bpf_map *m;
	int ret = CLI_OK;

	bpf_object__for_each_map(m, t->obj)
	{
		if (hist && !strcmp(bpf_map__name(m), hist))
			ret = print_hist(m);
		else if (!hist)
			map_dump(stdout, m);
	}
	fflush(stdout);
	return ret;
}

static int trace(const char *path, char **only, int nonly, const char *hist, char **cmd)
{
	char reg_name[64], dir[REG_PATH_MAX], trace_path[REG_PATH_MAX + 8], err[512];
	struct trace t = {.trace_fd = -1};
	int ret;

	snprintf(reg_name, sizeof(reg_name), "trace-%d", (int)getpid());
	/* before libbpf's first call: the emulation reads UEBPF_REGISTRY once */
	if (cli_use_registry(reg_name, true, dir, sizeof(dir), err, sizeof(err)) ||
	    reg_open(dir, false, &t.reg, err, sizeof(err)) ||
	    reg_trace_path(t.reg, trace_path, sizeof(trace_path), err, sizeof(err))) {
		ret = cli_error("trace", "%s", err);
		goto out;
	}
	setenv("UEBPF_TRACE_PIPE", trace_path, 1);
	t.trace_fd = open(trace_path, O_RDONLY | O_CLOEXEC);
	libbpf_set_print(print_warnings);
	t.obj = bpf_object__open_file(path, NULL);
	if (!t.obj) {
		ret = cli_error("trace", "%s: %s", path, strerror(errno));
		goto out;
	}
	if (bpf_object__load(t.obj)) {
		ret = cli_error("trace", "%s: cannot load: %s", path, syscall_last_error());
		goto out;
	}
	if (hist && !bpf_object__find_map_by_name(t.obj, hist)) {
		ret = cli_error("trace", "--hist: %s has no map '%s'", path, hist);
		goto out;
	}
	ret = attach_all(&t, only, nonly) ?: open_rings(&t);
	if (ret)
		goto out;
	ret = run(&t, cmd);
	if (print_maps(&t, hist) && !ret)
		ret = CLI_FAIL;
out:
	for (int i = 0; i < t.nlinks; i++)
		bpf_link__destroy(t.links[i]);
	for (int i = 0; i < t.nrings; i++)
		map_close(t.rings[i]);
	bpf_object__close(t.obj);
	if (t.trace_fd >= 0)
		close(t.trace_fd);
	if (t.reg && reg_remove(t.reg, err, sizeof(err)))
		fprintf(stderr, "uebpf trace: %s\n", err);
	reg_close(t.reg);
	return ret;
}

int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{"engine", required_argument, NULL, 'e'},
		{"prog", required_argument, NULL, 'p'},
		{"hist", required_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char *only[MAX_PROGS];
	const char *hist = NULL;
	enum uebpf_engine engine;
	int opt, nonly = 0, dash;

	for (dash = 1; dash < argc && strcmp(argv[dash], "--"); dash++)
		if (!strcmp(argv[dash], "--help") || !strcmp(argv[dash], "-h")) {
			fputs(trace_help, stdout);
			return CLI_OK;
		}
	optind = 1;
	while ((opt = getopt_long(dash, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (cli_parse_engine(optarg, &engine))
				return cli_usage_error("trace", "unknown engine '%s'", optarg);
			setenv("UEBPF_ENGINE", optarg, 1);
			break;
		case 'p':
			if (nonly == MAX_PROGS)
				return cli_usage_error("trace", "more than %d --prog", MAX_PROGS);
			only[nonly++] = optarg;
			break;
		case 'H':
			hist = optarg;
			break;
		default:
			return cli_bad_option("trace", opt, argv);
		}
	}
	if (optind >= dash)
		return cli_usage_error("trace", "no BPF object given");
	if (optind + 1 < dash)
		return cli_usage_error("trace", "one object only; the command goes after '--'");
	if (dash + 1 >= argc)
		return cli_usage_error("trace", "no command given (uebpf trace OBJ -- CMD...)");
	return trace(argv[optind], only, nonly, hist, argv + dash + 1);
}
