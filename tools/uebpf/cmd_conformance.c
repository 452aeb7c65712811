// SPDX-License-Identifier: MIT
/*
 * uebpf conformance: run bpf_conformance .data tests in a fresh VM each.
 *
 * A case passes when its program loads and runs and r0 equals -- result in
 * all 64 bits, or when it has a non-empty -- error and the load or the run
 * fails with a message containing that text. A file that does not parse or
 * assemble always fails: the test itself is broken, and no expected error
 * may excuse that.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "test_helpers.h"
#include "testfile.h"

static const char conformance_usage[] =
	"Usage: uebpf conformance [--engine E] [--expect-fail] [-v] PATH...\n"
	"\n"
	"Run bpf_conformance tests: each PATH is a .data file or a directory of\n"
	"them (run in name order). Prints 'FAIL name: reason' per failing case\n"
	"(with -v also 'PASS name'), then 'N passed, N failed'.\n"
	"\n"
	"  --engine E      interp (default), jit or aot\n"
	"  --expect-fail   succeed only when every case fails (negative suites)\n"
	"  -v, --verbose   also list the cases that pass\n"
	"\n"
	"Exit status: 0 when all cases passed (with --expect-fail: all failed),\n"
	"1 otherwise, 2 for a bad command line.\n";

struct conf_opts {
	enum uebpf_engine engine;
	bool expect_fail;
	bool verbose;
};

struct conf_files {
	char **paths;
	size_t n, cap;
};

static int add_file(struct conf_files *files, char *path)
{
	if (!path)
		return -ENOMEM;
	if (files->n == files->cap) {
		size_t cap = files->cap ? files->cap * 2 : 64;
		char **p = realloc(files->paths, cap * sizeof(*p));

		if (!p) {
			free(path);
			return -ENOMEM;
		}
		files->paths = p;
		files->cap = cap;
	}
	files->paths[files->n++] = path;
	return 0;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_data(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && !strcmp(name + len - 5, ".data");
}

/* The .data files of dir, sorted, appended to files. */
static int add_dir(struct conf_files *files, const char *dir)
{
	size_t first = files->n;
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	if (!d)
		return cli_usage_error("conformance", "%s: %s", dir, strerror(errno));
	while (!ret && (de = readdir(d))) {
		char *path;

		if (!is_data(de->d_name))
			continue;
		path = malloc(strlen(dir) + strlen(de->d_name) + 2);
		if (path)
			sprintf(path, "%s/%s", dir, de->d_name);
		ret = add_file(files, path);
	}
	closedir(d);
	if (ret)
		return cli_error("conformance", "out of memory");
	if (files->n == first)
		return cli_usage_error("conformance", "%s: no .data files", dir);
	qsort(files->paths + first, files->n - first, sizeof(char *), path_cmp);
	return CLI_OK;
}

static int collect(struct conf_files *files, char **paths, int npaths)
{
	struct stat st;
	int ret;

	for (int i = 0; i < npaths; i++) {
		if (stat(paths[i], &st))
			return cli_usage_error("conformance", "%s: %s", paths[i], strerror(errno));
		if (S_ISDIR(st.st_mode)) {
			ret = add_dir(files, paths[i]);
			if (ret)
				return ret;
		} else if (add_file(files, strdup(paths[i]))) {
			return cli_error("conformance", "out of memory");
		}
	}
	return CLI_OK;
}

/* The case name: the file name without directory and .data. */
static void case_name(const char *path, char *name, size_t len)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	snprintf(name, len, "%.*s", (int)(is_data(base) ? strlen(base) - 5 : strlen(base)), base);
}

/* A load or run failed with msg: a pass only if the test expected that error. */
static bool expected_failure(const struct cli_testfile *tf, const char *what, const char *msg,
			     char *why, size_t why_len)
{
	if (tf->error && tf->error[0] && strstr(msg, tf->error))
		return true;
	if (!tf->error)
		snprintf(why, why_len, "%s: %s", what, msg);
	else if (!tf->error[0])
		snprintf(why, why_len,
			 "%s: %s (the expected error is empty, which matches nothing)", what, msg);
	else
		snprintf(why, why_len, "%s: %s (expected an error containing '%s')", what, msg,
			 tf->error);
	return false;
}

static bool run_program(const struct conf_opts *o, const struct cli_testfile *tf,
			const struct isa_insn *insns, size_t n, char *why, size_t why_len)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	char msg[512] = "";
	uint64_t r0;
	bool pass;
	int ret;

	if (!vm) {
		snprintf(why, why_len, "out of memory");
		return false;
	}
	ret = cli_set_engine(vm, o->engine, msg, sizeof(msg));
	if (!ret)
		ret = cli_register_test_helpers(vm);
	if (ret) {
		snprintf(why, why_len, "cannot set up the VM: %s", msg[0] ? msg : strerror(-ret));
		uebpf_vm_destroy(vm);
		return false;
	}
	ret = uebpf_vm_load(vm, insns, n * sizeof(*insns), msg, sizeof(msg));
	if (ret) {
		pass = expected_failure(tf, "load failed", msg[0] ? msg : strerror(-ret), why,
					why_len);
		uebpf_vm_destroy(vm);
		return pass;
	}
	ret = uebpf_vm_run(vm, tf->mem, tf->mem_len, &r0, msg, sizeof(msg));
	uebpf_vm_destroy(vm);
	if (ret)
		return expected_failure(tf, "run failed", msg[0] ? msg : strerror(-ret), why,
					why_len);
	if (tf->error) {
		snprintf(why, why_len,
			 "ran to the end (r0 = 0x%" PRIx64 ") but expected error '%s'", r0,
			 tf->error);
		return false;
	}
	if (r0 != tf->result) {
		snprintf(why, why_len, "r0 = 0x%" PRIx64 ", expected 0x%" PRIx64, r0, tf->result);
		return false;
	}
	return true;
}

static bool run_case(const struct conf_opts *o, const char *path, char *why, size_t why_len)
{
	struct cli_testfile tf = {0};
	struct isa_insn *insns = NULL;
	char msg[512];
	size_t n = 0, len;
	bool pass = false;
	char *text;

	if (cli_read_file(path, &text, &len, msg, sizeof(msg))) {
		snprintf(why, why_len, "%s", msg);
		return false;
	}
	if (cli_testfile_parse(text, &tf, msg, sizeof(msg)))
		snprintf(why, why_len, "parse error: %s", msg);
	else if (cli_testfile_program(&tf, &insns, &n, msg, sizeof(msg)))
		snprintf(why, why_len, "%s", msg);
	else if (!n)
		snprintf(why, why_len, "empty program");
	else if (!tf.has_result && !tf.error)
		snprintf(why, why_len, "no -- result and no -- error section");
	else
		pass = run_program(o, &tf, insns, n, why, why_len);
	free(insns);
	cli_testfile_free(&tf);
	free(text);
	return pass;
}

static int parse_opts(int argc, char **argv, struct conf_opts *o, bool *help)
{
	static const struct option opts[] = {
		{"engine", required_argument, NULL, 'e'},
		{"expect-fail", no_argument, NULL, 'x'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (cli_parse_engine(optarg, &o->engine))
				return cli_usage_error("conformance",
						       "unknown engine '%s' (interp, jit, aot)",
						       optarg);
			break;
		case 'x':
			o->expect_fail = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			*help = true;
			return CLI_OK;
		default:
			return cli_bad_option("conformance", opt, argv);
		}
	}
	if (optind == argc)
		return cli_usage_error("conformance", "no test file or directory given");
	return CLI_OK;
}

/* Fail once, up front, rather than once per case when the engine is missing. */
static int check_engine(enum uebpf_engine engine)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	char msg[256];
	int ret;

	if (!vm)
		return cli_error("conformance", "out of memory");
	ret = cli_set_engine(vm, engine, msg, sizeof(msg));
	uebpf_vm_destroy(vm);
	return ret ? cli_error("conformance", "%s", msg) : CLI_OK;
}

int cmd_conformance(int argc, char **argv)
{
	struct conf_opts o = {.engine = UEBPF_ENGINE_INTERP};
	struct conf_files files = {0};
	size_t passed = 0, failed = 0;
	bool help = false;
	char name[256], why[1024];
	int ret;

	ret = parse_opts(argc, argv, &o, &help);
	if (ret || help) {
		if (help)
			fputs(conformance_usage, stdout);
		return ret;
	}
	ret = collect(&files, argv + optind, argc - optind);
	if (!ret)
		ret = check_engine(o.engine);
	for (size_t i = 0; !ret && i < files.n; i++) {
		case_name(files.paths[i], name, sizeof(name));
		if (run_case(&o, files.paths[i], why, sizeof(why))) {
			passed++;
			if (o.expect_fail)
				printf("UNEXPECTED PASS %s\n", name);
			else if (o.verbose)
				printf("PASS %s\n", name);
		} else {
			failed++;
			printf("FAIL %s: %s\n", name, why);
		}
	}
	for (size_t i = 0; i < files.n; i++)
		free(files.paths[i]);
	free(files.paths);
	if (ret)
		return ret;
	printf("%zu passed, %zu failed\n", passed, failed);
	return (o.expect_fail ? passed : failed) ? CLI_FAIL : CLI_OK;
}
