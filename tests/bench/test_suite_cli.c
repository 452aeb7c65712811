// SPDX-License-Identifier: MIT
/*
 * uebpf bench through the command line: a smoke run of the smoke suite with
 * few iterations (every output file checked for its shape, never for a
 * time), --compare against baselines made three times faster and slower
 * than a real run (5 batches each: the least two-sided p of 5 against 5
 * is 2/252, under the 0.01 that counts), the other kinds of test (a
 * uprobe and a uretprobe on the victim function, verifier time, a ring
 * buffer emptied between slices, probe_read_user of the runner's word,
 * batch_size, a syscall tracepoint on getpid) on every engine with the kernel
 * and native twins, the callgrind pass (skipped, with the reason, without
 * valgrind), and each bad input's message and exit status.
 *
 *   test_suite_cli UEBPF SMOKE.yaml OBJ_DIR WORK_DIR
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static const char *cli, *smoke, *obj_dir, *work;
static char out[1 << 16];

/* Run the CLI with args (NULL-terminated); its stdout and stderr go to out. */
static int run(const char *const *args)
{
	char path[512];
	const char *argv[32];
	size_t n = 0, len;
	int status;
	pid_t pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/out.txt", work);
	argv[n++] = cli;
	argv[n++] = "bench";
	while (*args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid = fork();
	if (!pid) {
		if (!freopen(path, "w", stdout) || dup2(fileno(stdout), 2) < 0)
			_exit(126);
		execv(cli, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	f = fopen(path, "r");
	len = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[len] = '\0';
	if (f)
		fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *slurp(const char *name)
{
	static char buf[1 << 18];
	char path[512];
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", work, name);
	f = fopen(path, "r");
	if (!f)
		return strcpy(buf, "");
	len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static void put(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", work, name);
	f = fopen(path, "w");
	REQUIRE(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static const char *wpath(const char *name)
{
	static char paths[8][512];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, 512, "%s/%s", work, name);
	return p;
}

static void test_smoke(void)
{
	const char *args[] = {smoke,
			      "--quiet-filter",
			      "--kernel",
			      "--native",
			      "--batches",
			      "5",
			      "--iterations",
			      "2000",
			      "--obj-dir",
			      obj_dir,
			      "--csv",
			      wpath("bpf.csv"),
			      "--ext-csv",
			      wpath("ext.csv"),
			      "--html",
			      wpath("r.html"),
			      NULL};
	bool kernel_skipped;
	char *text;
	int ret = run(args);

	REQUIRE(ret == 0, "smoke run exit %d:\n%s", ret, out);
	kernel_skipped = strstr(out, "kernel column skipped") != NULL;
	EXPECT(strstr(out, "median ns") && strstr(out, "x kernel"), "no table:\n%s", out);
	for (const char *const *e = (const char *const[]){"interp", "jit", "aot", "native", NULL};
	     *e; e++) {
		char want[64];

		snprintf(want, sizeof(want), "Baseline                           %s", *e);
		EXPECT(strstr(out, want), "no row '%s':\n%s", want, out);
	}
	EXPECT(kernel_skipped || strstr(out, "Fletcher-16 [640 B]                kernel"),
	       "no kernel row and no reason:\n%s", out);
	EXPECT(strstr(out, "[1/4] Baseline: loading on interp"), "no progress line:\n%s", out);
	text = slurp("bpf.csv");
	EXPECT(!strncmp(text, "Timestamp,Test,Average Duration (ns),CPU 0 Duration (ns)", 56),
	       "bpf_performance CSV head:\n%.200s", text);
	EXPECT(strstr(text, ",Baseline [jit],") && strstr(text, ",Fletcher-16 [80 B] [native],"),
	       "bpf_performance CSV rows:\n%s", text);
	text = slurp("ext.csv");
	EXPECT(strstr(text, "# machine: ") && strstr(text, "# kernel: ") &&
		       strstr(text, "# compiler: ") && strstr(text, "# commit: "),
	       "extended CSV header:\n%.400s", text);
	EXPECT(strstr(text, "\nstat,") && strstr(text, "\nsample,"), "extended rows");
	EXPECT(strstr(text, ",Fletcher-16,640,aot,"), "the size column:\n%s", text);
	text = slurp("r.html");
	EXPECT(strstr(text, "<svg class=\"chart bars\"") &&
		       strstr(text, "<svg class=\"chart scaling\""),
	       "HTML charts");
	EXPECT(!strstr(text, "<script") && !strstr(text, "src=") && !strstr(text, "href="),
	       "the report loads nothing");
}

/* The extended CSV with every sample multiplied by factor. */
static void scaled_baseline(const char *name, double factor)
{
	char *text = strdup(slurp("ext.csv")), *line, *save;
	char path[512];
	FILE *f;

	REQUIRE(text, "strdup");
	snprintf(path, sizeof(path), "%s/%s", work, name);
	f = fopen(path, "w");
	REQUIRE(f, "%s", path);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *field[17], *p = line;
		size_t n = 0;

		if (strncmp(line, "sample,", 7)) {
			fprintf(f, "%s\n", line);
			continue;
		}
		while (n < 17 && (field[n++] = strsep(&p, ",")))
			;
		for (size_t i = 0; i < 17; i++) {
			if (i == 7)
				fprintf(f, ",%.3f", strtod(field[i], NULL) * factor);
			else
				fprintf(f, "%s%s", i ? "," : "", field[i]);
		}
		fputc('\n', f);
	}
	fclose(f);
	free(text);
}

static void test_compare(void)
{
	const char *slower[] = {smoke,
				"--engine",
				"jit",
				"--batches",
				"5",
				"--iterations",
				"2000",
				"--obj-dir",
				obj_dir,
				"--compare",
				wpath("fast.csv"),
				NULL};
	const char *faster[] = {smoke,
				"--engine",
				"jit",
				"--batches",
				"5",
				"--iterations",
				"2000",
				"--obj-dir",
				obj_dir,
				"--compare",
				wpath("slow.csv"),
				NULL};
	int ret;

	scaled_baseline("fast.csv", 1.0 / 3);
	scaled_baseline("slow.csv", 3);
	ret = run(slower);
	EXPECT(ret == 1, "against a 3x faster baseline: exit %d, want 1:\n%s", ret, out);
	EXPECT(strstr(out, "SLOWER") && strstr(out, "Comparison with the baseline"), "%s", out);
	ret = run(faster);
	EXPECT(ret == 0, "against a 3x slower baseline: exit %d, want 0:\n%s", ret, out);
	EXPECT(strstr(out, "faster") && !strstr(out, "SLOWER"), "%s", out);
}

static void expect_fail(const char *const *args, int want, const char *msg)
{
	int ret = run(args);

	EXPECT(ret == want, "exit %d, want %d:\n%s", ret, want, out);
	EXPECT(strstr(out, msg), "message lacks '%s':\n%s", msg, out);
}

static void test_errors(void)
{
	put("bad.yaml", "tests:\n  - name: x\n    elf_file: [a\n");
	put("noobj.yaml", "tests:\n  - name: x\n    elf_file: missing.bpf.o\n"
			  "    iteration_count: 1\n    program_cpu_assignment: {p: all}\n");
	put("noprog.yaml", "tests:\n  - name: x\n    elf_file: baseline.bpf.o\n"
			   "    iteration_count: 1\n    program_cpu_assignment:\n"
			   "      nope: all\n");
	put("nokey.yaml", "tests:\n  - name: x\n    elf_file: baseline.bpf.o\n"
			  "    program_cpu_assignment: {baseline_program: all}\n");
	put("wrong.yaml",
	    "tests:\n  - name: y\n    elf_file: baseline.bpf.o\n    platform: Windows\n"
	    "    iteration_count: 10\n"
	    "    program_cpu_assignment: {baseline_program: [0]}\n"
	    "  - name: x\n    elf_file: baseline.bpf.o\n"
	    "    iteration_count: 10\n    expected_result: 7\n"
	    "    program_cpu_assignment: {baseline_program: [0]}\n");
	expect_fail((const char *[]){wpath("wrong.yaml"), "--obj-dir", obj_dir, "--engine", "jit",
				     NULL},
		    1, "test 'x' on jit: CPU 0 returned 0, expected 7");
	EXPECT(strstr(out, "test 'y' is for Windows, skipped"), "platform:\n%s", out);
	expect_fail((const char *[]){wpath("bad.yaml"), NULL}, 1, "bad.yaml:4: malformed YAML");
	expect_fail((const char *[]){wpath("noobj.yaml"), "--obj-dir", obj_dir, NULL}, 1,
		    "noobj.yaml:3: test 'x': object missing.bpf.o not found");
	expect_fail((const char *[]){wpath("noprog.yaml"), "--obj-dir", obj_dir, NULL}, 1,
		    "noprog.yaml:6: test 'x': baseline.bpf.o has no program 'nope'");
	expect_fail((const char *[]){wpath("nokey.yaml"), NULL}, 1,
		    "missing required key 'iteration_count'");
	expect_fail((const char *[]){wpath("none.yaml"), NULL}, 1, "none.yaml: No such file");
	expect_fail((const char *[]){smoke, "--engine", "gpu", NULL}, 2, "unknown engine 'gpu'");
	expect_fail((const char *[]){smoke, "--batches", "0", NULL}, 2, "invalid batch count");
	expect_fail((const char *[]){NULL}, 2, "expected one SUITE.yaml");
	expect_fail(
		(const char *[]){smoke, "--obj-dir", obj_dir, "--compare", wpath("none.csv"), NULL},
		1, "none.csv: No such file");
}

static bool has_row(const char *test, const char *engine)
{
	char want[128];

	snprintf(want, sizeof(want), "%-34.34s %-7s", test, engine);
	return strstr(out, want) != NULL;
}

static void test_kinds(void)
{
	static const char kinds[] =
		"tests:\n"
		"  - name: Uprobe\n    elf_file: uprobe.bpf.o\n    iteration_count: 2000\n"
		"    program_cpu_assignment: {probe_entry: [0]}\n"
		"    uebpf: {measure: uprobe, native: victim}\n"
		"  - name: Uretprobe\n    elf_file: uprobe.bpf.o\n    iteration_count: 2000\n"
		"    program_cpu_assignment: {probe_return: [0]}\n"
		"    uebpf: {measure: uretprobe, native: victim}\n"
		"  - name: Verifier\n    platform: uebpf\n    elf_file: generic_map.bpf.o\n"
		"    iteration_count: 1\n    program_cpu_assignment: {read_HASH: [0]}\n"
		"    uebpf: {measure: verifier, engines: [interp, kernel]}\n"
		"  - name: Ring\n    elf_file: ringbuf.bpf.o\n    iteration_count: 3000\n"
		"    program_cpu_assignment: {ringbuf_output: [0]}\n"
		"  - name: Read user\n    elf_file: helpers.bpf.o\n    iteration_count: 1000\n"
		"    program_cpu_assignment: {helper_probe_read_user: [0]}\n"
		"    uebpf: {user_pointer: true}\n"
		"  - name: Batched\n    elf_file: baseline.bpf.o\n    iteration_count: 1000\n"
		"    batch_size: 300\n    program_cpu_assignment: {baseline_program: [0]}\n"
		"  - name: Syscall\n    elf_file: syscall.bpf.o\n    iteration_count: 500\n"
		"    program_cpu_assignment: {getpid_enter: [0]}\n"
		"    uebpf: {measure: syscall, native: getpid}\n";
	const char *args[] = {wpath("kinds.yaml"), "--kernel", "--native",  "--batches", "2",
			      "--slice-ms",	   "1",	       "--obj-dir", obj_dir,	 NULL};
	bool kernel;
	int ret;

	put("kinds.yaml", kinds);
	ret = run(args);
	REQUIRE(ret == 0, "kinds run exit %d:\n%s", ret, out);
	kernel = !strstr(out, "kernel column skipped");
	for (const char *const *t = (const char *const[]){"Uprobe", "Uretprobe", "Ring", "Read user",
							  "Batched", "Syscall", NULL};
	     *t; t++) {
		for (const char *const *e = (const char *const[]){"interp", "jit", "aot", NULL}; *e;
		     e++)
			EXPECT(has_row(*t, *e), "no row %s on %s:\n%s", *t, *e, out);
		EXPECT(!kernel || has_row(*t, "kernel"), "no kernel row for %s:\n%s", *t, out);
	}
	EXPECT(has_row("Uprobe", "native") && has_row("Uretprobe", "native") &&
		       has_row("Syscall", "native"),
	       "native twins");
	EXPECT(has_row("Verifier", "interp") && !has_row("Verifier", "jit") &&
		       (!kernel || has_row("Verifier", "kernel")),
	       "verifier rows:\n%s", out);
}

/* The callgrind pass on the baseline: exact counts, an 'insns' row per engine. */
static void test_callgrind(void)
{
	const char *args[] = {
		smoke,	 "--callgrind=50", "--engine",	       "jit", "--native", "--obj-dir",
		obj_dir, "--ext-csv",	   wpath("insns.csv"), NULL};
	char *text;
	int ret;

	if (system("valgrind --version >/dev/null 2>&1")) {
		printf("skip: callgrind pass: valgrind is not installed (scripts/setup.sh)\n");
		return;
	}
	ret = run(args);
	if (ret == 1 && strstr(out, "sanitizer build")) {
		printf("skip: callgrind pass: a sanitizer build cannot run under valgrind\n");
		return;
	}
	REQUIRE(ret == 0, "--callgrind exit %d:\n%s", ret, out);
	EXPECT(strstr(out, "insns per run") && has_row("Baseline", "jit") &&
		       has_row("Baseline", "native") && has_row("Fletcher-16 [640 B]", "jit"),
	       "callgrind table:\n%s", out);
	EXPECT(!has_row("Baseline", "interp"), "an engine not asked for:\n%s", out);
	text = slurp("insns.csv");
	EXPECT(strstr(text, "\ninsns,") && strstr(text, ",Baseline,0,jit,") &&
		       !strstr(text, "\nstat,"),
	       "insns rows:\n%s", text);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: test_suite_cli UEBPF SMOKE.yaml OBJ_DIR WORK_DIR\n");
		return 2;
	}
	cli = argv[1];
	smoke = argv[2];
	obj_dir = argv[3];
	work = argv[4];
	if (mkdir(work, 0755) && errno != EEXIST) {
		perror(work);
		return 1;
	}
	test_errors();
	test_smoke();
	test_compare();
	test_kinds();
	test_callgrind();
	return check_summary();
}
