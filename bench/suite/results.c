// SPDX-License-Identifier: MIT
/* The result rows of a run (or of a CSV read back), and the table printed as tests end. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

int suite_results_add(struct suite_results *r, const struct suite_result *row)
{
	struct suite_result *rows = realloc(r->rows, (r->n + 1) * sizeof(*rows)), *dst;

	if (!rows)
		return -ENOMEM;
	r->rows = rows;
	dst = &rows[r->n];
	*dst = *row;
	dst->test = strdup(row->test);
	dst->samples = row->nsamples ? malloc(row->nsamples * sizeof(double)) : NULL;
	if (!dst->test || (row->nsamples && !dst->samples)) {
		free(dst->test);
		free(dst->samples);
		return -ENOMEM;
	}
	if (row->nsamples)
		memcpy(dst->samples, row->samples, row->nsamples * sizeof(double));
	r->n++;
	return 0;
}

void suite_results_free(struct suite_results *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->rows[i].test);
		free(r->rows[i].samples);
	}
	free(r->rows);
	r->rows = NULL;
	r->n = 0;
}

void suite_variant_name(const struct suite_result *r, char *buf, size_t len)
{
	if (r->size)
		snprintf(buf, len, "%s [%u B]", r->test, r->size);
	else
		snprintf(buf, len, "%s", r->test);
}

void suite_table_head(FILE *f)
{
	fprintf(f, "%-34s %-7s %10s %10s %9s %10s %10s %9s %9s %5s\n", "test", "engine",
		"median ns", "mean ns", "stddev", "p95 ns", "min ns", "x kernel", "x native",
		"drop%");
}

void suite_table_rows(FILE *f, const struct suite_result *rows, size_t n)
{
	char name[160];

	for (size_t i = 0; i < n; i++) {
		const struct suite_result *r = &rows[i];

		suite_variant_name(r, name, sizeof(name));
		fprintf(f, "%-34.34s %-7s %10.2f %10.2f %9.2f %10.2f %10.2f", name,
			suite_engine_name(r->engine), r->st.median, r->st.mean, r->st.stddev,
			r->st.p95, r->st.min);
		benchlib_print_ratio(f, r->ratio_kernel);
		benchlib_print_ratio(f, r->ratio_native);
		fprintf(f, " %5.1f\n",
			r->slices ? 100.0 * (double)r->dropped / (double)r->slices : 0.0);
	}
}

void suite_insns_table(FILE *f, const struct suite_result *rows, size_t n)
{
	char name[160];

	fprintf(f, "%-34s %-7s %14s %9s\n", "test", "engine", "insns per run", "x native");
	for (size_t i = 0; i < n; i++) {
		suite_variant_name(&rows[i], name, sizeof(name));
		fprintf(f, "%-34.34s %-7s %14.1f", name, suite_engine_name(rows[i].engine),
			rows[i].insns);
		benchlib_print_ratio(f, rows[i].ratio_native);
		fputc('\n', f);
	}
}
