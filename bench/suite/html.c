// SPDX-License-Identifier: MIT
/*
 * The HTML report: one file, no scripts, no external resources, its charts
 * inline SVG drawn here. Per test variant, horizontal bars of the median
 * ns per run of each engine (a whisker from min to p95, the ratio to the
 * kernel written beside); per test with data sizes, the scaling curve (ns
 * against input size, a line per engine); with a history file, the median
 * of each engine over the runs in it.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/errbuf.h"
#include "suite.h"

#define BAR_W 640
#define BAR_ROW 22
#define BAR_LEFT 70
#define LINE_W 640
#define LINE_H 300
#define PAD_L 70
#define PAD_R 110
#define PAD_T 20
#define PAD_B 40
#define MAX_POINTS 256

static const char *const engine_color[SUITE_NENGINES] = {
	[SUITE_INTERP] = "#4e79a7", [SUITE_JIT] = "#f28e2b",	[SUITE_AOT] = "#59a14f",
	[SUITE_KERNEL] = "#e15759", [SUITE_NATIVE] = "#76b7b2",
};

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A round number at or above x: 1, 2 or 5 times a power of ten. */
static double nice_ceil(double x)
{
	double p, m;

	if (!(x > 0))
		return 1;
	p = pow(10, floor(log10(x)));
	m = x / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void bars(FILE *f, const struct suite_result *rows, size_t n)
{
	double max = 0, kernel = NAN;
	int h = (int)n * BAR_ROW + 30;
	char name[200];

	for (size_t i = 0; i < n; i++) {
		max = fmax(max, fmax(rows[i].st.p95, rows[i].st.median));
		if (rows[i].engine == SUITE_KERNEL)
			kernel = rows[i].st.median;
	}
	max = nice_ceil(max);
	suite_variant_name(&rows[0], name, sizeof(name));
	fprintf(f, "<h3>");
	esc(f, name);
	fprintf(f,
		"</h3>\n<svg class=\"chart bars\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
		BAR_W + 200, h);
	esc(f, name);
	fprintf(f, ": ns per run by engine\">\n");
	for (size_t i = 0; i < n; i++) {
		const struct suite_result *r = &rows[i];
		double y = (double)i * BAR_ROW + 5, scale = BAR_W / max;
		double w = r->st.median * scale;

		fprintf(f, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n",
			BAR_LEFT - 6, y + 14, suite_engine_name(r->engine));
		fprintf(f,
			"<rect class=\"bar\" x=\"%d\" y=\"%.0f\" width=\"%.1f\" height=\"16\" "
			"fill=\"%s\"%s><title>%s: median %.2f ns</title></rect>\n",
			BAR_LEFT, y, fmax(w, 1), engine_color[r->engine],
			r->engine == SUITE_KERNEL ? " stroke=\"#000\"" : "",
			suite_engine_name(r->engine), r->st.median);
		fprintf(f,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n",
			BAR_LEFT + r->st.min * scale, BAR_LEFT + r->st.p95 * scale, y + 8, y + 8);
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\">%.2f ns",
			BAR_LEFT + fmax(w, r->st.p95 * scale) + 6, y + 13, r->st.median);
		if (!isnan(kernel) && r->engine != SUITE_KERNEL)
			fprintf(f, " (%.2fx kernel)", r->st.median / kernel);
		fprintf(f, "</text>\n");
	}
	fprintf(f,
		"<text x=\"%d\" y=\"%d\" class=\"axis\">0 .. %g ns per run; whiskers: min to "
		"p95</text>\n</svg>\n",
		BAR_LEFT, h - 6, max);
}

struct series {
	int engine;
	const char *label;
	size_t n;
	double x[MAX_POINTS], y[MAX_POINTS];
};

/* A line chart; xlabels (one per distinct x, may be NULL) name the ticks. */
static void lines(FILE *f, const char *cls, const char *title, const char *xname,
		  const struct series *s, size_t ns, const double *xt, const char *const *xlabels,
		  size_t nxt)
{
	double xmin = INFINITY, xmax = -INFINITY, ymax = 0;
	int pw = LINE_W - PAD_L - PAD_R, ph = LINE_H - PAD_T - PAD_B;

	for (size_t i = 0; i < ns; i++)
		for (size_t j = 0; j < s[i].n; j++) {
			xmin = fmin(xmin, s[i].x[j]);
			xmax = fmax(xmax, s[i].x[j]);
			ymax = fmax(ymax, s[i].y[j]);
		}
	if (!(xmax > xmin))
		xmax = xmin + 1;
	ymax = nice_ceil(ymax);
#define PX(x) (PAD_L + ((x)-xmin) / (xmax - xmin) * pw)
#define PY(y) (PAD_T + ph - (y) / ymax * ph)
	fprintf(f, "<h3>");
	esc(f, title);
	fprintf(f,
		"</h3>\n<svg class=\"chart %s\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
		cls, LINE_W, LINE_H);
	esc(f, title);
	fprintf(f,
		"\">\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"#999\"/>\n",
		PAD_L, PAD_T, pw, ph);
	for (int t = 0; t <= 4; t++) {
		double v = ymax * t / 4;

		fprintf(f,
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"axis\">%g</text>\n",
			PAD_L - 4, PY(v) + 4, v);
	}
	for (size_t t = 0; t < nxt; t++) {
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"axis\">",
			PX(xt[t]), PAD_T + ph + 14);
		if (xlabels)
			esc(f, xlabels[t]);
		else
			fprintf(f, "%g", xt[t]);
		fprintf(f, "</text>\n");
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" class=\"axis\">%s</text>\n",
		PAD_L + pw / 2, LINE_H - 6, xname);
	fprintf(f,
		"<text x=\"12\" y=\"%d\" class=\"axis\" transform=\"rotate(-90 12 %d)\" "
		"text-anchor=\"middle\">ns per run</text>\n",
		PAD_T + ph / 2, PAD_T + ph / 2);
	for (size_t i = 0; i < ns; i++) {
		fprintf(f,
			"<polyline class=\"series\" fill=\"none\" stroke-width=\"2\" stroke=\"%s\" "
			"points=\"",
			engine_color[s[i].engine]);
		for (size_t j = 0; j < s[i].n; j++)
			fprintf(f, "%s%.1f,%.1f", j ? " " : "", PX(s[i].x[j]), PY(s[i].y[j]));
		fprintf(f, "\"><title>%s</title></polyline>\n", s[i].label);
		for (size_t j = 0; j < s[i].n; j++)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
				PX(s[i].x[j]), PY(s[i].y[j]), engine_color[s[i].engine]);
		fprintf(f, "<text x=\"%d\" y=\"%zu\" fill=\"%s\">%s</text>\n", PAD_L + pw + 8,
			PAD_T + 12 + i * 16, engine_color[s[i].engine], s[i].label);
	}
	fprintf(f, "</svg>\n");
#undef PX
#undef PY
}

/* The scaling curve of a test with data sizes: its variants' medians, a line per engine. */
static void scaling(FILE *f, const struct suite_results *r, const char *test)
{
	struct series s[SUITE_NENGINES];
	double xt[MAX_POINTS];
	size_t ns = 0, nxt = 0;
	char title[200];

	for (int e = 0; e < SUITE_NENGINES; e++) {
		struct series *cur = &s[ns];

		cur->engine = e;
		cur->label = suite_engine_name(e);
		cur->n = 0;
		for (size_t i = 0; i < r->n && cur->n < MAX_POINTS; i++) {
			const struct suite_result *row = &r->rows[i];

			if (row->engine != e || !row->size || strcmp(row->test, test))
				continue;
			cur->x[cur->n] = row->size;
			cur->y[cur->n++] = row->st.median;
			if (nxt < MAX_POINTS && (!nxt || xt[nxt - 1] < row->size))
				xt[nxt++] = row->size;
		}
		if (cur->n)
			ns++;
	}
	if (!ns)
		return;
	snprintf(title, sizeof(title), "%s: scaling with the input size", test);
	lines(f, "scaling", title, "input size (bytes)", s, ns, xt, NULL, nxt);
}

/* The history of one test variant: its median per engine over the runs. */
static void history_chart(FILE *f, const struct suite_history *h, const struct suite_result *v)
{
	struct series s[SUITE_NENGINES];
	char labels[MAX_POINTS][24];
	const char *lp[MAX_POINTS];
	double xt[MAX_POINTS];
	size_t ns = 0, nruns = h->n < MAX_POINTS ? h->n : MAX_POINTS;
	size_t first = h->n - nruns;
	char title[240], name[200];

	for (size_t k = 0; k < nruns; k++) {
		snprintf(labels[k], sizeof(labels[k]), "%.8s", h->runs[first + k].sys.commit);
		lp[k] = labels[k];
		xt[k] = (double)k;
	}
	for (int e = 0; e < SUITE_NENGINES; e++) {
		struct series *cur = &s[ns];

		cur->engine = e;
		cur->label = suite_engine_name(e);
		cur->n = 0;
		for (size_t k = 0; k < nruns; k++) {
			const struct suite_results *run = &h->runs[first + k];

			for (size_t i = 0; i < run->n; i++) {
				const struct suite_result *row = &run->rows[i];

				if (row->engine == e && row->size == v->size &&
				    !strcmp(row->test, v->test) && !isnan(row->st.median)) {
					cur->x[cur->n] = (double)k;
					cur->y[cur->n++] = row->st.median;
				}
			}
		}
		if (cur->n)
			ns++;
	}
	if (!ns)
		return;
	suite_variant_name(v, name, sizeof(name));
	snprintf(title, sizeof(title), "%s: history over %zu runs", name, nruns);
	lines(f, "history", title, "commit", s, ns, xt, lp, nruns);
}

static void table(FILE *f, const struct suite_results *r)
{
	char name[200];

	fprintf(f, "<table>\n<tr><th>test</th><th>engine</th><th>median ns</th><th>mean</th>"
		   "<th>stddev</th><th>p95</th><th>min</th><th>x kernel</th><th>x native</th>"
		   "<th>batches</th></tr>\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct suite_result *row = &r->rows[i];

		suite_variant_name(row, name, sizeof(name));
		fprintf(f, "<tr><td>");
		esc(f, name);
		fprintf(f,
			"</td><td>%s</td><td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%.2f</td>"
			"<td>%.2f</td>",
			suite_engine_name(row->engine), row->st.median, row->st.mean,
			row->st.stddev, row->st.p95, row->st.min);
		if (isnan(row->ratio_kernel))
			fprintf(f, "<td>-</td>");
		else
			fprintf(f, "<td>%.2f</td>", row->ratio_kernel);
		if (isnan(row->ratio_native))
			fprintf(f, "<td>-</td>");
		else
			fprintf(f, "<td>%.2f</td>", row->ratio_native);
		fprintf(f, "<td>%zu</td></tr>\n", row->nsamples);
	}
	fprintf(f, "</table>\n");
}

int suite_html_write(const char *path, const struct suite *s, const struct suite_results *r,
		     const struct suite_history *history, char *err, size_t err_len)
{
	FILE *f = fopen(path, "w");
	bool bad;

	if (!f) {
		errbuf_set(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		   "<title>uebpf bench: ");
	esc(f, s->path);
	fprintf(f, "</title>\n<style>\nbody{font-family:sans-serif;margin:2em;max-width:1000px}\n"
		   "svg{font-size:12px;display:block;margin-bottom:1em}\n.axis{fill:#555}\n"
		   "table{border-collapse:collapse;font-size:13px}\n"
		   "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}\n"
		   "td:first-child{text-align:left}\n</style>\n</head>\n<body>\n<h1>uebpf bench: ");
	esc(f, s->path);
	fprintf(f, "</h1>\n<p>");
	esc(f, r->sys.machine);
	fprintf(f, "<br>");
	esc(f, r->sys.kernel);
	fprintf(f, "<br>native twins: ");
	esc(f, r->sys.compiler);
	fprintf(f, "<br>commit ");
	esc(f, r->sys.commit);
	fprintf(f,
		", %s</p>\n<p>Per batch, each engine's CPU time per run; the statistics are "
		"over the batches. Engines alternate in short slices within one run, so "
		"ratios are meaningful even where absolute times swing.</p>\n",
		r->sys.timestamp);
	fprintf(f, "<h2>By test</h2>\n");
	for (size_t i = 0; i < r->n;) {
		size_t j = i;

		while (j < r->n && r->rows[j].size == r->rows[i].size &&
		       !strcmp(r->rows[j].test, r->rows[i].test))
			j++;
		bars(f, r->rows + i, j - i);
		i = j;
	}
	for (size_t t = 0, shown = 0; t < s->ntests; t++) {
		if (s->tests[t].nsizes < 2)
			continue;
		if (!shown++)
			fprintf(f, "<h2>Scaling</h2>\n");
		scaling(f, r, s->tests[t].name);
	}
	if (history && history->n) {
		fprintf(f, "<h2>History</h2>\n");
		for (size_t i = 0; i < r->n; i++)
			if (!i || r->rows[i].size != r->rows[i - 1].size ||
			    strcmp(r->rows[i].test, r->rows[i - 1].test))
				history_chart(f, history, &r->rows[i]);
	}
	fprintf(f, "<h2>Results</h2>\n");
	table(f, r);
	fprintf(f, "</body>\n</html>\n");
	bad = ferror(f);
	if (fclose(f) || bad) {
		errbuf_set(err, err_len, "%s: write error", path);
		return -EIO;
	}
	return 0;
}
