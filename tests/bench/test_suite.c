// SPDX-License-Identifier: MIT
/*
 * The suite runner's library without running anything: the parser and the
 * object checks (each bad input gives its error and the line), the
 * statistics against values computed by hand, the regression check on
 * synthetic samples, and the extended CSV read back as it was written.
 *
 *   test_suite OBJ_DIR
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "suite.h"

static const char *obj_dir;

#define NEAR(x, want, tol) (fabs((x) - (want)) <= (tol))

/* Parse text as /tmp-less suite "t.yaml"; returns the error code, message in err. */
static int parse(const char *text, struct suite *s, char *err, size_t len)
{
	return suite_parse(text, strlen(text), "t.yaml", s, err, len);
}

static void expect_parse_error(const char *text, const char *want)
{
	struct suite s;
	char err[512] = "";
	int ret = parse(text, &s, err, sizeof(err));

	EXPECT(ret == -EINVAL, "parse gave %d for:\n%s", ret, text);
	EXPECT(strstr(err, want), "message '%s' lacks '%s'", err, want);
	suite_free(&s);
}

static void test_parse_ok(void)
{
	static const char text[] = "# a comment\n"
				   "tests:\n"
				   "  - name: Map\n"
				   "    description: reads\n"
				   "    elf_file: generic_map.bpf.o\n"
				   "    map_state_preparation:\n"
				   "      program: prepare_HASH\n"
				   "      iteration_count: 1024\n"
				   "    iteration_count: 500\n"
				   "    platform: Linux\n"
				   "    program_type: xdp\n"
				   "    batch_size: 64\n"
				   "    pass_data: true\n"
				   "    pass_context: false\n"
				   "    expected_result: 0\n"
				   "    program_cpu_assignment:\n"
				   "      update_HASH: [0]\n"
				   "      read_HASH: remaining\n"
				   "    some_future_key: ignored\n"
				   "  - name: Scaling\n"
				   "    elf_file: fletcher16.bpf.o\n"
				   "    iteration_count: 10\n"
				   "    program_cpu_assignment:\n"
				   "      fletcher16: all\n"
				   "    uebpf:\n"
				   "      engines: [jit, kernel]\n"
				   "      native: fletcher16\n"
				   "      data_sizes: [80, 2560]\n"
				   "      measure: uretprobe\n"
				   "      user_pointer: true\n";
	struct suite s;
	char err[512] = "";
	struct suite_test *t;
	int ret;

	ret = parse(text, &s, err, sizeof(err));
	REQUIRE(!ret, "valid suite refused: %s", err);
	EXPECT(s.ntests == 2, "%zu tests", s.ntests);
	t = &s.tests[0];
	EXPECT(!strcmp(t->name, "Map") && !strcmp(t->description, "reads"), "name/description");
	EXPECT(t->iteration_count == 500 && t->prep_iterations == 1024, "counts");
	EXPECT(!strcmp(t->prep_prog, "prepare_HASH") && t->prep_line == 7, "prep at line %d",
	       t->prep_line);
	EXPECT(t->nassign == 2 && t->assign[0].kind == SUITE_CPUS_LIST && t->assign[0].ncpus == 1 &&
		       t->assign[0].cpus[0] == 0 && t->assign[1].kind == SUITE_CPUS_REMAINING,
	       "assignments");
	EXPECT(t->batch_size == 64 && t->pass_data && !t->pass_context && t->has_expected,
	       "optional keys");
	EXPECT(!strcmp(t->platform, "Linux") && !strcmp(t->program_type, "xdp"), "strings");
	EXPECT(t->engines[SUITE_INTERP] && t->engines[SUITE_NATIVE], "all engines by default");
	t = &s.tests[1];
	EXPECT(t->assign[0].kind == SUITE_CPUS_ALL, "all");
	EXPECT(!t->engines[SUITE_INTERP] && t->engines[SUITE_JIT] && t->engines[SUITE_KERNEL],
	       "uebpf.engines");
	EXPECT(t->nsizes == 2 && t->data_sizes[0] == 80 && t->data_sizes[1] == 2560, "sizes");
	EXPECT(!strcmp(t->native, "fletcher16"), "native");
	EXPECT(!t->has_expected && t->pass_data, "defaults");
	EXPECT(t->measure == SUITE_URETPROBE && t->user_pointer, "uebpf.measure, user_pointer");
	EXPECT(s.tests[0].measure == SUITE_TEST_RUN && !s.tests[0].user_pointer, "their defaults");

	/* the CPU plan: writer on 0, readers on the rest */
	{
		int plan[4];

		EXPECT(!suite_cpu_plan(&s.tests[0], 4, plan, err, sizeof(err)), "plan: %s", err);
		EXPECT(plan[0] == 0 && plan[1] == 1 && plan[3] == 1, "plan %d %d %d", plan[0],
		       plan[1], plan[3]);
	}
	suite_free(&s);
}

static void test_parse_errors(void)
{
	expect_parse_error("tests:\n  - name: [unclosed\n", "t.yaml:3: malformed YAML");
	expect_parse_error("tests:\n  - name: a\n\tbad: tab\n", "malformed YAML");
	expect_parse_error("", "empty");
	expect_parse_error("- just a list\n", "t.yaml:1: a suite is a mapping");
	expect_parse_error("other: 1\n", "missing the top-level key 'tests'");
	expect_parse_error("tests: 3\n", "'tests' must be a list");
	expect_parse_error("tests:\n  - elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment: {p: all}\n",
			   "t.yaml:2: test: missing required key 'name'");
	expect_parse_error("tests:\n  - name: x\n    iteration_count: 1\n"
			   "    program_cpu_assignment: {p: all}\n",
			   "test 'x': missing required key 'elf_file'");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n"
			   "    program_cpu_assignment: {p: all}\n",
			   "missing required key 'iteration_count'");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n",
			   "missing required key 'program_cpu_assignment'");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: many\n"
			   "    program_cpu_assignment: {p: all}\n",
			   "t.yaml:4: 'iteration_count' must be an integer");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: -5\n"
			   "    program_cpu_assignment: {p: all}\n",
			   "non-negative integer");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment:\n      p: everywhere\n",
			   "t.yaml:6: 'CPU' must be");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment:\n      p: []\n",
			   "CPUs must be all, remaining");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment: {p: all}\n"
			   "    map_state_preparation: {program: q}\n",
			   "map_state_preparation needs 'iteration_count'");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment: {p: all}\n    pass_data: maybe\n",
			   "t.yaml:6: 'pass_data' must be true or false");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment: {p: all}\n"
			   "    uebpf: {engines: [interp, ebpf-for-windows]}\n",
			   "unknown engine 'ebpf-for-windows'");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment: {p: all}\n    uebpf: {native: sha256}\n",
			   "no native twin called 'sha256'");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment: {p: all}\n    uebpf: {data_sizes: [8]}\n",
			   "at least 14 B");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment: {p: all}\n    uebpf: {measure: kprobe}\n",
			   "t.yaml:6: test 'x': uebpf.measure must be test_run, uprobe, uretprobe, "
			   "verifier or syscall");
	expect_parse_error("tests:\n  - name: x\n    elf_file: a.o\n    iteration_count: 1\n"
			   "    program_cpu_assignment: {p: all}\n    uebpf: {user_pointer: 3}\n",
			   "'user_pointer' must be true or false");
}

/* suite_resolve on the built objects: a missing file, a missing program. */
static void test_resolve(void)
{
	static const char missing_obj[] = "tests:\n  - name: x\n    elf_file: nothere.bpf.o\n"
					  "    iteration_count: 1\n"
					  "    program_cpu_assignment: {baseline_program: all}\n";
	static const char bad_prog[] =
		"tests:\n  - name: x\n    elf_file: baseline.bpf.o\n"
		"    iteration_count: 1\n    program_cpu_assignment:\n"
		"      baseline_program: [0]\n      no_such_prog: remaining\n";
	static const char bad_prep[] = "tests:\n  - name: x\n    elf_file: generic_map.bpf.o\n"
				       "    iteration_count: 1\n"
				       "    program_cpu_assignment: {read_HASH: all}\n"
				       "    map_state_preparation:\n      program: prepare_TRIE\n"
				       "      iteration_count: 1\n";
	static const char good[] = "tests:\n  - name: x\n    elf_file: baseline.bpf.o\n"
				   "    iteration_count: 1\n"
				   "    program_cpu_assignment: {baseline_program: all}\n";
	struct suite s;
	char err[512] = "";
	int ret;

	ret = parse(missing_obj, &s, err, sizeof(err));
	REQUIRE(!ret, "%s", err);
	EXPECT(suite_resolve(&s, obj_dir, err, sizeof(err)) == -ENOENT, "missing object");
	EXPECT(strstr(err, "t.yaml:3: test 'x': object nothere.bpf.o not found"), "%s", err);
	suite_free(&s);

	ret = parse(bad_prog, &s, err, sizeof(err));
	REQUIRE(!ret, "%s", err);
	EXPECT(suite_resolve(&s, obj_dir, err, sizeof(err)) == -EINVAL, "unknown program");
	EXPECT(strstr(err, "t.yaml:7: test 'x': baseline.bpf.o has no program 'no_such_prog' "
			   "(it has: baseline_program)"),
	       "%s", err);
	suite_free(&s);

	ret = parse(bad_prep, &s, err, sizeof(err));
	REQUIRE(!ret, "%s", err);
	EXPECT(suite_resolve(&s, obj_dir, err, sizeof(err)) == -EINVAL, "unknown prep program");
	EXPECT(strstr(err, "t.yaml:7:") && strstr(err, "no program 'prepare_TRIE'"), "%s", err);
	suite_free(&s);

	ret = parse(good, &s, err, sizeof(err));
	REQUIRE(!ret, "%s", err);
	EXPECT(!suite_resolve(&s, obj_dir, err, sizeof(err)), "good suite: %s", err);
	EXPECT(s.tests[0].elf_path && !access(s.tests[0].elf_path, R_OK), "elf_path");
	suite_free(&s);
}

static void test_stats(void)
{
	static const double x[] = {5, 1, 4, 2, 3, 100, 6, 7, 8, 9};
	struct benchlib_stats st;

	benchlib_stats_compute(x, 10, &st);
	EXPECT(st.n == 10 && st.min == 1 && st.median == 5.5, "min %g median %g", st.min,
	       st.median);
	EXPECT(st.p95 == 100, "p95 %g (nearest rank: the 10th of 10)", st.p95);
	EXPECT(NEAR(st.mean, 14.5, 1e-12), "mean %g", st.mean);
	/* squares about 14.5 sum to 8182.5 (90.25 * 90 + ...), over n - 1 */
	EXPECT(NEAR(st.stddev, sqrt(8182.5 / 9), 1e-9), "stddev %g", st.stddev);
	benchlib_stats_compute(x, 1, &st);
	EXPECT(st.median == 5 && st.stddev == 0 && st.p95 == 5, "one sample");
}

static void test_mwu(void)
{
	static const double lo3[] = {1, 2, 3}, hi3[] = {4, 5, 6};
	static const double lo5[] = {1, 2, 3, 4, 5}, hi5[] = {6, 7, 8, 9, 10};
	static const double ta[] = {1, 2, 2, 3}, tb[] = {2, 3, 4, 4};
	struct benchlib_mwu r;

	/* 3 vs 3 separated: U = 0, one ordering of C(6,3) = 20 at U <= 0, p = 2/20 */
	EXPECT(!benchlib_mann_whitney(lo3, 3, hi3, 3, &r), "mwu 3x3");
	EXPECT(r.exact && r.u == 0 && NEAR(r.p, 0.1, 1e-12), "U %g p %g", r.u, r.p);
	/* the other way round: U = 9, the same p */
	benchlib_mann_whitney(hi3, 3, lo3, 3, &r);
	EXPECT(r.u == 9 && NEAR(r.p, 0.1, 1e-12), "U %g p %g", r.u, r.p);
	/* 5 vs 5: p = 2 / C(10,5) = 2/252 */
	benchlib_mann_whitney(lo5, 5, hi5, 5, &r);
	EXPECT(r.u == 0 && NEAR(r.p, 2.0 / 252, 1e-12), "p %g", r.p);
	/* interleaved 1..6 as {1,3,5} vs {2,4,6}: U = 3 of 9; P(U <= 3) = 7/20, p = 0.7 */
	{
		static const double odd[] = {1, 3, 5}, even[] = {2, 4, 6};

		benchlib_mann_whitney(odd, 3, even, 3, &r);
		EXPECT(r.u == 3 && NEAR(r.p, 0.7, 1e-12), "U %g p %g", r.u, r.p);
	}
	/*
	 * Ties: normal approximation. U = 2.5 (by pairs); mu = 8; tie groups of
	 * 3, 2, 2 give var = 16/12 * (9 - 36/56) = 11.142857; z = -(5.5 - 0.5)/sd
	 * = -1.4978617, p = erfc(|z|/sqrt 2) = 0.1341692.
	 */
	benchlib_mann_whitney(ta, 4, tb, 4, &r);
	EXPECT(!r.exact && r.u == 2.5, "U %g exact %d", r.u, r.exact);
	EXPECT(NEAR(r.z, -1.4978617, 1e-6) && NEAR(r.p, 0.1341692, 1e-6), "z %g p %g", r.z, r.p);
	EXPECT(benchlib_mann_whitney(ta, 0, tb, 4, &r) == -EINVAL, "empty side");
}

/* n samples around mean, spread by a fixed pseudo-random sequence from seed. */
static void synth(double *x, size_t n, double mean, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		x[i] = mean * (1 + 0.04 * ((double)(seed >> 11) / (double)(1ull << 53) - 0.5));
	}
}

static void add_row(struct suite_results *r, const char *test, int engine, const double *x,
		    size_t n)
{
	struct suite_result row = {.test = (char *)test,
				   .engine = engine,
				   .samples = (double *)x,
				   .nsamples = n,
				   .ratio_kernel = NAN,
				   .ratio_native = NAN};

	for (int c = 0; c < SUITE_MAX_CPUS; c++)
		row.cpu_ns[c] = NAN;
	benchlib_stats_compute(x, n, &row.st);
	int ret = suite_results_add(r, &row);

	REQUIRE(!ret, "add");
}

static void test_compare(void)
{
	struct suite_compare_opts o = {.alpha = 0.01, .min_shift = 0.05};
	struct suite_results base = {0}, cur = {0};
	double a[20], b[20], c[20], d[20];
	char err[256];
	FILE *out = tmpfile();
	char text[4096] = "";
	int reg = -1;

	REQUIRE(out, "tmpfile");
	synth(a, 20, 100, 1);
	synth(b, 20, 100, 2); /* the same distribution */
	synth(c, 20, 100, 3);
	synth(d, 20, 112, 4); /* 12% slower */
	add_row(&base, "Same", SUITE_JIT, a, 20);
	add_row(&cur, "Same", SUITE_JIT, b, 20);
	add_row(&base, "Shifted", SUITE_JIT, c, 20);
	add_row(&cur, "Shifted", SUITE_JIT, d, 20);
	add_row(&cur, "Absent in base", SUITE_JIT, d, 20);
	EXPECT(!suite_compare(&cur, &base, &o, out, &reg, err, sizeof(err)), "%s", err);
	EXPECT(reg == 1, "%d regressions, want 1", reg);
	rewind(out);
	fread(text, 1, sizeof(text) - 1, out);
	EXPECT(strstr(text, "Shifted") && strstr(text, "SLOWER"), "report:\n%s", text);
	EXPECT(!strstr(text, "Same "), "the unchanged test is reported:\n%s", text);
	EXPECT(strstr(text, "2 test/engine pairs") || strstr(text, "of 2 test/engine"),
	       "compared count:\n%s", text);
	/* faster is reported, not a regression */
	EXPECT(!suite_compare(&base, &cur, &o, out, &reg, err, sizeof(err)) && reg == 0,
	       "reversed: %d", reg);
	/* nothing in common */
	suite_results_free(&base);
	add_row(&base, "Other", SUITE_AOT, a, 20);
	EXPECT(suite_compare(&cur, &base, &o, out, &reg, err, sizeof(err)) == -EINVAL,
	       "nothing to compare");
	fclose(out);
	suite_results_free(&base);
	suite_results_free(&cur);
}

static void test_csv(void)
{
	char path[] = "/tmp/uebpf-suite-csv-XXXXXX";
	struct suite_results r = {0}, back = {0};
	struct suite_history h = {0};
	double a[5] = {1.5, 2.25, 3, 4, 5}, b[3] = {10, 20, 30};
	char err[256];
	int fd = mkstemp(path);

	REQUIRE(fd >= 0, "mkstemp");
	close(fd);
	snprintf(r.sys.commit, sizeof(r.sys.commit), "abc123");
	snprintf(r.sys.timestamp, sizeof(r.sys.timestamp), "2026-01-01T00:00:00Z");
	r.ncpus = 2;
	add_row(&r, "Name, with \"quotes\"", SUITE_INTERP, a, 5);
	add_row(&r, "Plain", SUITE_KERNEL, b, 3);
	r.rows[1].size = 640;
	EXPECT(!suite_csv_write_ext(path, &r, true, false, err, sizeof(err)), "%s", err);
	EXPECT(!suite_csv_read(path, &back, err, sizeof(err)), "%s", err);
	REQUIRE(back.n == 2, "%zu rows back", back.n);
	EXPECT(!strcmp(back.rows[0].test, "Name, with \"quotes\"") &&
		       back.rows[0].engine == SUITE_INTERP && back.rows[0].nsamples == 5 &&
		       back.rows[0].samples[1] == 2.25,
	       "row 0 back: %s", back.rows[0].test);
	EXPECT(back.rows[1].size == 640 && back.rows[1].nsamples == 3 &&
		       back.rows[1].st.median == 20,
	       "row 1 back");
	EXPECT(!strcmp(back.sys.commit, "abc123"), "commit back");
	suite_results_free(&back);

	/* a second run appended: the history has two, the last run is the second */
	snprintf(r.sys.commit, sizeof(r.sys.commit), "def456");
	r.rows[1].samples[0] = 11;
	EXPECT(!suite_csv_write_ext(path, &r, true, true, err, sizeof(err)), "%s", err);
	EXPECT(!suite_history_read(path, &h, err, sizeof(err)) && h.n == 2, "history of %zu", h.n);
	EXPECT(h.n == 2 && !strcmp(h.runs[1].sys.commit, "def456") && h.runs[0].n == 2,
	       "history runs");
	EXPECT(!suite_csv_read(path, &back, err, sizeof(err)) && back.n == 2 &&
		       back.rows[1].samples[0] == 11,
	       "last run read");
	suite_results_free(&back);
	suite_history_free(&h);

	/* not ours */
	{
		FILE *f = fopen(path, "w");

		fputs("Timestamp,Test,Average Duration (ns)\nx,y,1\n", f);
		fclose(f);
	}
	EXPECT(suite_csv_read(path, &back, err, sizeof(err)) == -EINVAL &&
		       strstr(err, "not an extended CSV"),
	       "%s", err);
	suite_results_free(&back);
	unlink(path);
	suite_results_free(&r);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_suite OBJ_DIR\n");
		return 2;
	}
	obj_dir = argv[1];
	test_parse_ok();
	test_parse_errors();
	test_resolve();
	test_stats();
	test_mwu();
	test_compare();
	test_csv();
	return check_summary();
}
