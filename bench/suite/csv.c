// SPDX-License-Identifier: MIT
/*
 * CSV files. The bpf_performance form has its columns (Timestamp, Test,
 * Average Duration (ns), CPU i Duration (ns)) so its tooling reads ours;
 * each engine is a test of its own there ("NAME [engine]"). The extended
 * form is uebpf's: '#' header lines, then one "stat" row per test variant
 * and engine and, for --compare, one "sample" row per batch; a callgrind
 * pass writes "insns" rows instead (host instructions per run, exact). Every row
 * carries its run's timestamp and commit, so a history file is many runs
 * appended to one another.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/errbuf.h"
#include "suite.h"

static const char ext_columns[] = "row,timestamp,commit,test,size,engine,batch,ns,median_ns,"
				  "mean_ns,stddev_ns,p95_ns,min_ns,ratio_kernel,ratio_native,"
				  "slices,dropped,insns_per_run";
enum {
	COL_ROW,
	COL_TS,
	COL_COMMIT,
	COL_TEST,
	COL_SIZE,
	COL_ENGINE,
	COL_BATCH,
	COL_NS,
	COL_MEDIAN,
	COL_MEAN,
	COL_STDDEV,
	COL_P95,
	COL_MIN,
	COL_RK,
	COL_RN,
	COL_SLICES,
	COL_DROPPED,
	COL_INSNS,
	NCOLS
};

/* A field, quoted when it holds a comma, a quote or a line break. */
static void field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void num(FILE *f, double x)
{
	if (!isnan(x))
		fprintf(f, "%.3f", x);
}

static int finish(FILE *f, const char *path, char *err, size_t err_len)
{
	bool bad = ferror(f);

	if (fclose(f) || bad) {
		errbuf_set(err, err_len, "%s: write error", path);
		return -EIO;
	}
	return 0;
}

int suite_csv_write_bpf(const char *path, const struct suite_results *r, char *err, size_t err_len)
{
	FILE *f = fopen(path, "w");
	char name[200];

	if (!f) {
		errbuf_set(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "Timestamp,Test,Average Duration (ns)");
	for (int c = 0; c < r->ncpus; c++)
		fprintf(f, ",CPU %d Duration (ns)", c);
	fputc('\n', f);
	for (size_t i = 0; i < r->n; i++) {
		const struct suite_result *row = &r->rows[i];
		double sum = 0;
		int used = 0;

		for (int c = 0; c < r->ncpus; c++) {
			if (!isnan(row->cpu_ns[c])) {
				sum += row->cpu_ns[c];
				used++;
			}
		}
		suite_variant_name(row, name, sizeof(name));
		snprintf(name + strlen(name), sizeof(name) - strlen(name), " [%s]",
			 suite_engine_name(row->engine));
		fprintf(f, "%s,", r->sys.timestamp);
		field(f, name);
		fputc(',', f);
		num(f, used ? sum / used : NAN);
		for (int c = 0; c < r->ncpus; c++) {
			fputc(',', f);
			num(f, row->cpu_ns[c]);
		}
		fputc('\n', f);
	}
	return finish(f, path, err, err_len);
}

static void row_head(FILE *f, const char *kind, const struct suite_results *r,
		     const struct suite_result *row)
{
	fprintf(f, "%s,%s,", kind, r->sys.timestamp);
	field(f, r->sys.commit);
	fputc(',', f);
	field(f, row->test);
	fprintf(f, ",%u,%s,", row->size, suite_engine_name(row->engine));
}

int suite_csv_write_ext(const char *path, const struct suite_results *r, bool samples, bool append,
			char *err, size_t err_len)
{
	struct stat st;
	bool fresh = !append || stat(path, &st) || !st.st_size;
	FILE *f = fopen(path, append ? "a" : "w");

	if (!f) {
		errbuf_set(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fresh) {
		fprintf(f,
			"# uebpf bench results\n# machine: %s\n# kernel: %s\n# compiler: %s\n"
			"# commit: %s\n# timestamp: %s\n%s\n",
			r->sys.machine, r->sys.kernel, r->sys.compiler, r->sys.commit,
			r->sys.timestamp, ext_columns);
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct suite_result *row = &r->rows[i];

		if (!isnan(row->insns)) {
			row_head(f, "insns", r, row);
			fputs(",,,,,,,,", f);
			num(f, row->ratio_native);
			fputs(",,,", f);
			num(f, row->insns);
			fputc('\n', f);
		}
		if (!row->nsamples)
			continue;
		row_head(f, "stat", r, row);
		fputs(",,", f);
		num(f, row->st.median);
		fputc(',', f);
		num(f, row->st.mean);
		fputc(',', f);
		num(f, row->st.stddev);
		fputc(',', f);
		num(f, row->st.p95);
		fputc(',', f);
		num(f, row->st.min);
		fputc(',', f);
		num(f, row->ratio_kernel);
		fputc(',', f);
		num(f, row->ratio_native);
		fprintf(f, ",%llu,%llu,\n", (unsigned long long)row->slices,
			(unsigned long long)row->dropped);
		for (size_t b = 0; samples && b < row->nsamples; b++) {
			row_head(f, "sample", r, row);
			fprintf(f, "%zu,", b);
			num(f, row->samples[b]);
			fputs(",,,,,,,,,,\n", f);
		}
	}
	return finish(f, path, err, err_len);
}

/* Split line into at most NCOLS fields in place (quotes removed); returns the count. */
static size_t split(char *line, char **fields)
{
	size_t n = 0;
	char *r = line, *w;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < NCOLS) {
		bool quoted = *r == '"';

		fields[n++] = w = r;
		if (quoted) {
			r++;
			while (*r && !(*r == '"' && r[1] != '"')) {
				if (*r == '"')
					r++;
				*w++ = *r++;
			}
			if (*r == '"')
				r++;
		} else {
			while (*r && *r != ',')
				*w++ = *r++;
		}
		if (*r != ',') {
			*w = '\0';
			break;
		}
		r++;
		*w = '\0';
	}
	return n;
}

static double dnum(const char *s)
{
	return *s ? strtod(s, NULL) : NAN;
}

/* The row of results for (test, size, engine), made when absent. */
static struct suite_result *find_row(struct suite_results *r, const char *test, uint32_t size,
				     int engine)
{
	struct suite_result blank = {.test = (char *)test, .size = size, .engine = engine};

	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].size == size && r->rows[i].engine == engine &&
		    !strcmp(r->rows[i].test, test))
			return &r->rows[i];
	for (int c = 0; c < SUITE_MAX_CPUS; c++)
		blank.cpu_ns[c] = NAN;
	blank.ratio_kernel = blank.ratio_native = blank.insns = NAN;
	benchlib_stats_compute(NULL, 0, &blank.st);
	return suite_results_add(r, &blank) ? NULL : &r->rows[r->n - 1];
}

static int add_sample(struct suite_result *row, double x)
{
	double *s = realloc(row->samples, (row->nsamples + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	s[row->nsamples++] = x;
	row->samples = s;
	return 0;
}

/*
 * Read every data row of path, calling fn for each with its fields. Checks
 * the column line; '#' lines are skipped.
 */
typedef int (*row_fn)(void *arg, char **f, int line, char *err, size_t err_len);

static int read_rows(const char *path, row_fn fn, void *arg, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	char line[4096], *fields[NCOLS];
	bool columns = false;
	int ln = 0, ret = 0;
	size_t n;

	if (!f) {
		errbuf_set(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		ln++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (!strncmp(line, "row,", 4)) {
			columns = true;
			continue;
		}
		n = columns ? split(line, fields) : 0;
		/* files from before the insns column */
		if (n == NCOLS - 1)
			fields[n++] = line + strlen(line);
		if (n != NCOLS) {
			errbuf_set(err, err_len,
				   "%s:%d: not an extended CSV of uebpf bench (expected the "
				   "columns %s)",
				   path, ln, ext_columns);
			ret = -EINVAL;
			break;
		}
		ret = fn(arg, fields, ln, err, err_len);
	}
	fclose(f);
	if (!ret && !columns) {
		errbuf_set(err, err_len, "%s: no results in the file", path);
		ret = -EINVAL;
	}
	return ret;
}

static int engine_of(char **f, int line, const char *path, char *err, size_t err_len)
{
	int e = suite_engine_parse(f[COL_ENGINE]);

	if (e < 0)
		errbuf_set(err, err_len, "%s:%d: unknown engine '%s'", path, line, f[COL_ENGINE]);
	return e;
}

struct read_last {
	const char *path;
	struct suite_results *r;
};

/* Rows of a later run than the ones read so far replace them: the last run wins. */
static int last_row(void *arg, char **f, int line, char *err, size_t err_len)
{
	struct read_last *a = arg;
	struct suite_results *r = a->r;
	struct suite_result *row;
	int e = engine_of(f, line, a->path, err, err_len);

	if (e < 0)
		return -EINVAL;
	if (strcmp(f[COL_ROW], "stat") && strcmp(f[COL_ROW], "sample"))
		return 0;
	if (strcmp(r->sys.timestamp, f[COL_TS]) || strcmp(r->sys.commit, f[COL_COMMIT])) {
		suite_results_free(r);
		snprintf(r->sys.timestamp, sizeof(r->sys.timestamp), "%s", f[COL_TS]);
		snprintf(r->sys.commit, sizeof(r->sys.commit), "%s", f[COL_COMMIT]);
	}
	row = find_row(r, f[COL_TEST], (uint32_t)strtoul(f[COL_SIZE], NULL, 10), e);
	if (!row)
		return -ENOMEM;
	if (!strcmp(f[COL_ROW], "sample"))
		return add_sample(row, dnum(f[COL_NS]));
	row->st.median = dnum(f[COL_MEDIAN]);
	row->st.mean = dnum(f[COL_MEAN]);
	row->st.stddev = dnum(f[COL_STDDEV]);
	row->st.p95 = dnum(f[COL_P95]);
	row->st.min = dnum(f[COL_MIN]);
	row->ratio_kernel = dnum(f[COL_RK]);
	row->ratio_native = dnum(f[COL_RN]);
	return 0;
}

int suite_csv_read(const char *path, struct suite_results *r, char *err, size_t err_len)
{
	struct read_last a = {path, r};

	memset(r, 0, sizeof(*r));
	return read_rows(path, last_row, &a, err, err_len);
}

struct read_hist {
	const char *path;
	struct suite_history *h;
};

static int hist_row(void *arg, char **f, int line, char *err, size_t err_len)
{
	struct read_hist *a = arg;
	struct suite_history *h = a->h;
	struct suite_results *run = h->n ? &h->runs[h->n - 1] : NULL;
	struct suite_result *row;
	int e = engine_of(f, line, a->path, err, err_len);

	if (e < 0)
		return -EINVAL;
	if (strcmp(f[COL_ROW], "stat"))
		return 0;
	if (!run || strcmp(run->sys.timestamp, f[COL_TS]) ||
	    strcmp(run->sys.commit, f[COL_COMMIT])) {
		struct suite_results *runs = realloc(h->runs, (h->n + 1) * sizeof(*runs));

		if (!runs)
			return -ENOMEM;
		h->runs = runs;
		run = &runs[h->n++];
		memset(run, 0, sizeof(*run));
		snprintf(run->sys.timestamp, sizeof(run->sys.timestamp), "%s", f[COL_TS]);
		snprintf(run->sys.commit, sizeof(run->sys.commit), "%s", f[COL_COMMIT]);
	}
	row = find_row(run, f[COL_TEST], (uint32_t)strtoul(f[COL_SIZE], NULL, 10), e);
	if (!row)
		return -ENOMEM;
	row->st.median = dnum(f[COL_MEDIAN]);
	row->st.min = dnum(f[COL_MIN]);
	row->st.p95 = dnum(f[COL_P95]);
	return 0;
}

int suite_history_read(const char *path, struct suite_history *h, char *err, size_t err_len)
{
	struct read_hist a = {path, h};

	memset(h, 0, sizeof(*h));
	return read_rows(path, hist_row, &a, err, err_len);
}

void suite_history_free(struct suite_history *h)
{
	for (size_t i = 0; i < h->n; i++)
		suite_results_free(&h->runs[i]);
	free(h->runs);
	memset(h, 0, sizeof(*h));
}
