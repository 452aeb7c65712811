// SPDX-License-Identifier: MIT
/*
 * The results: a table for the reader, and a CSV with one row per test,
 * engine and input size for whatever tracks them over time.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "benchlib.h"
#include "common/errbuf.h"

#define CSV_HEADER "test,engine,param,ns_median,ns_min,ns_p95,runs,ratio_native,ratio_kernel"

void bench_report_head(FILE *f, const char *param_name)
{
	fprintf(f, "%-10s %6s %-10s %11s %11s %11s %12s %9s %9s\n", "test", param_name, "engine",
		"median ns", "min ns", "p95 ns", "runs", "x native", "x kernel");
}

void bench_report_rows(FILE *f, const struct bench_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];
		char param[24] = "";

		if (r->param)
			snprintf(param, sizeof(param), "%zu", r->param);
		fprintf(f, "%-10s %6s %-10s %11.2f %11.2f %11.2f %12" PRIu64, r->test, param,
			r->engine, r->st.median, r->st.min, r->st.p95, r->st.runs);
		benchlib_print_ratio(f, r->ratio_native);
		benchlib_print_ratio(f, r->ratio_kernel);
		fputc('\n', f);
	}
	fflush(f);
}

static void csv_ratio(FILE *f, double r)
{
	if (!isnan(r))
		fprintf(f, "%.3f", r);
}

int bench_report_csv(const char *path, const struct bench_row *rows, size_t n, char *err,
		     size_t err_len)
{
	int ret = benchlib_make_parent(path);
	FILE *f;

	if (ret) {
		errbuf_set(err, err_len, "cannot create the directory of %s: %s", path,
			   strerror(-ret));
		return ret;
	}
	f = fopen(path, "w");
	if (!f) {
		ret = -errno;
		errbuf_set(err, err_len, "cannot write %s: %s", path, strerror(errno));
		return ret;
	}
	fprintf(f, "%s\n", CSV_HEADER);
	for (size_t i = 0; i < n; i++) {
		const struct bench_row *r = &rows[i];

		fprintf(f, "%s,%s,", r->test, r->engine);
		if (r->param)
			fprintf(f, "%zu", r->param);
		fprintf(f, ",%.3f,%.3f,%.3f,%" PRIu64 ",", r->st.median, r->st.min, r->st.p95,
			r->st.runs);
		csv_ratio(f, r->ratio_native);
		fputc(',', f);
		csv_ratio(f, r->ratio_kernel);
		fputc('\n', f);
	}
	if (fclose(f)) {
		ret = -errno;
		errbuf_set(err, err_len, "cannot write %s: %s", path, strerror(errno));
	}
	return ret;
}
