// SPDX-License-Identifier: MIT
/*
 * uebpf verify OBJ: libbpf opens the ELF object and loads its programs
 * through uebpf's bpf() emulation, whose PROG_LOAD runs the verifier. The
 * programs are loaded together first; when that fails (or a full log is
 * asked for) each program (or the one named) is loaded alone with the
 * verifier's log and statistics, and its verdict printed. Exit 0 when every
 * program checked was accepted.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "syscall/syscall.h"

#define VERIFY_LOG_LEN (16u << 20)
#define STATS_LOG_LEN 4096

static const char verify_help[] =
	"Usage: uebpf verify OBJ [--prog NAME] [--log-level 0|1|2] [--stats]\n"
	"\n"
	"Verify the programs of an ELF object as the kernel's verifier would, each as\n"
	"its section's program type. Prints ACCEPTED or REJECTED per program, with\n"
	"the reason and instruction of a rejection.\n"
	"\n"
	"  --prog NAME       verify only this program\n"
	"  --log-level N     0: the verdict; 1: the registers at a rejection;\n"
	"                    2: every instruction interpreted\n"
	"  --stats           instructions processed, states stored, peak states,\n"
	"                    verification time, peak memory\n";

struct verify_opts {
	const char *prog;
	unsigned log_level;
	bool stats;
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/* The value after "key " in the statistics lines of the log, or -1. */
static long long stat_of(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static void print_stats(const char *name, const char *log)
{
	printf("%s: %lld insns processed, %lld states stored, %lld peak states, %lld us, "
	       "%lld bytes peak memory\n",
	       name, stat_of(log, "processed "), stat_of(log, "total_states "),
	       stat_of(log, "peak_states "), stat_of(log, "verification time "),
	       stat_of(log, "peak memory "));
}

/* The log without its statistics lines (they are printed apart), on stdout. */
static void print_log(const char *log)
{
	const char *p = strstr(log, "processed ");

	if (p && (p == log || p[-1] == '\n'))
		printf("%.*s", (int)(p - log), log);
	else
		fputs(log, stdout);
}

static int verify_one(const char *path, const char *name, const struct verify_opts *o, char *log)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p, *target = NULL;
	int ret;

	if (!obj)
		return cli_error("verify", "%s: cannot open the object: %s", path, strerror(errno));
	for (p = bpf_object__next_program(obj, NULL); p; p = bpf_object__next_program(obj, p)) {
		bool me = !strcmp(bpf_program__name(p), name);

		bpf_program__set_autoload(p, me);
		if (me)
			target = p;
	}
	log[0] = 0;
	bpf_program__set_log_buf(target, log, VERIFY_LOG_LEN);
	bpf_program__set_log_level(target, (o->log_level ? o->log_level : 1) | (o->stats ? 4 : 0));
	ret = bpf_object__load(obj);
	if (ret) {
		printf("%s: REJECTED: %s\n", name,
		       *syscall_last_error() ? syscall_last_error() : strerror(-ret));
		if (o->log_level)
			print_log(log);
	} else {
		printf("%s: ACCEPTED\n", name);
		if (o->log_level >= 2)
			print_log(log);
	}
	if (o->stats && (!ret || strstr(log, "processed ")))
		print_stats(name, log);
	bpf_object__close(obj);
	return ret ? CLI_FAIL : CLI_OK;
}

/*
 * All the programs checked, loaded together (one may need another: a
 * PROG_ARRAY libbpf fills at load): 1 when every one was accepted, with its
 * verdict printed; 0 when the load failed, and each is then loaded alone.
 */
static int verify_together(const char *path, char **names, size_t n, const struct verify_opts *o)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	char *logs = calloc(n, STATS_LOG_LEN);
	struct bpf_program *p;
	size_t i;
	int ok = 0;

	if (!obj || !logs || o->log_level >= 2)
		goto out;
	for (p = bpf_object__next_program(obj, NULL); p; p = bpf_object__next_program(obj, p)) {
		for (i = 0; i < n && strcmp(names[i], bpf_program__name(p)); i++)
			;
		if (i == n || !o->stats)
			continue;
		bpf_program__set_log_buf(p, logs + i * STATS_LOG_LEN, STATS_LOG_LEN);
		bpf_program__set_log_level(p, 4);
	}
	if (bpf_object__load(obj))
		goto out;
	ok = 1;
	for (i = 0; i < n; i++) {
		printf("%s: ACCEPTED\n", names[i]);
		if (o->stats)
			print_stats(names[i], logs + i * STATS_LOG_LEN);
	}
out:
	free(logs);
	bpf_object__close(obj);
	return ok;
}

static int verify_obj(const char *path, const struct verify_opts *o)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	char **names = NULL, *log;
	size_t n = 0;
	int ret = CLI_OK;

	if (!obj)
		return cli_error("verify", "%s: cannot open the object: %s", path, strerror(errno));
	for (p = bpf_object__next_program(obj, NULL); p; p = bpf_object__next_program(obj, p)) {
		char **more;

		if (o->prog && strcmp(bpf_program__name(p), o->prog))
			continue;
		more = realloc(names, (n + 1) * sizeof(*names));
		if (!more || !(more[n] = strdup(bpf_program__name(p)))) {
			names = more ? more : names;
			ret = cli_error("verify", "out of memory");
			goto out;
		}
		names = more;
		n++;
	}
	if (!n) {
		ret = o->prog ? cli_error("verify", "%s: no program '%s'", path, o->prog)
			      : cli_error("verify", "%s: the object has no programs", path);
		goto out;
	}
	if (verify_together(path, names, n, o))
		goto out;
	log = malloc(VERIFY_LOG_LEN);
	if (!log) {
		ret = cli_error("verify", "out of memory");
		goto out;
	}
	/* one load per program: a rejection names its own program, the others still run */
	for (size_t i = 0; i < n; i++)
		if (verify_one(path, names[i], o, log))
			ret = CLI_FAIL;
	free(log);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	bpf_object__close(obj);
	return ret;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"prog", required_argument, NULL, 'p'},
		{"log-level", required_argument, NULL, 'l'},
		{"stats", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct verify_opts o = {0};
	char *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			o.prog = optarg;
			break;
		case 'l':
			o.log_level = (unsigned)strtoul(optarg, &end, 10);
			if (*end || !*optarg || o.log_level > 2)
				return cli_usage_error("verify", "--log-level takes 0, 1 or 2");
			break;
		case 's':
			o.stats = true;
			break;
		case 'h':
			fputs(verify_help, stdout);
			return CLI_OK;
		default:
			return cli_bad_option("verify", opt, argv);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("verify", "one object file expected");
	if (!cli_is_elf(argv[optind]))
		return cli_error("verify", "%s: not an ELF object", argv[optind]);
	if (getenv("UEBPF_VERIFY") && !strcmp(getenv("UEBPF_VERIFY"), "0"))
		unsetenv("UEBPF_VERIFY");
	libbpf_set_print(quiet);
	return verify_obj(argv[optind], &o);
}
