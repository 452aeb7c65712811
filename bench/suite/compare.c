// SPDX-License-Identifier: MIT
/*
 * Regression check against a baseline run. For each test variant and
 * engine both runs have, the batch samples of the two are compared with
 * the Mann-Whitney U test; a change counts only when it is both
 * significant (p < alpha) and large enough to matter (the median moved by
 * more than min_shift): with enough batches any tiny shift becomes
 * significant, and a large shift on three batches may be chance.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/errbuf.h"
#include "suite.h"

static const struct suite_result *match(const struct suite_results *r,
					const struct suite_result *want)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].engine == want->engine && r->rows[i].size == want->size &&
		    !strcmp(r->rows[i].test, want->test))
			return &r->rows[i];
	return NULL;
}

int suite_compare(const struct suite_results *cur, const struct suite_results *base,
		  const struct suite_compare_opts *o, FILE *f, int *regressions, char *err,
		  size_t err_len)
{
	size_t compared = 0, moved = 0;
	char name[200];

	*regressions = 0;
	fprintf(f,
		"\nComparison with the baseline (commit %s, %s): Mann-Whitney U on the batch "
		"samples, p < %g and a median shift over %.0f%%\n",
		base->sys.commit, base->sys.timestamp, o->alpha, o->min_shift * 100);
	for (size_t i = 0; i < cur->n; i++) {
		const struct suite_result *c = &cur->rows[i], *b = match(base, c);
		struct benchlib_stats bs, cs;
		struct benchlib_mwu u;
		double shift;
		const char *verdict;

		if (!b || !b->nsamples || !c->nsamples)
			continue;
		if (benchlib_mann_whitney(c->samples, c->nsamples, b->samples, b->nsamples, &u)) {
			errbuf_set(err, err_len, "out of memory");
			return -ENOMEM;
		}
		benchlib_stats_compute(b->samples, b->nsamples, &bs);
		benchlib_stats_compute(c->samples, c->nsamples, &cs);
		compared++;
		shift = cs.median / bs.median - 1;
		if (u.p >= o->alpha || fabs(shift) <= o->min_shift)
			continue;
		verdict = shift > 0 ? "SLOWER" : "faster";
		if (shift > 0)
			(*regressions)++;
		if (!moved++)
			fprintf(f, "%-34s %-7s %10s %10s %8s %9s\n", "test", "engine", "base ns",
				"now ns", "shift", "p");
		suite_variant_name(c, name, sizeof(name));
		fprintf(f, "%-34.34s %-7s %10.2f %10.2f %+7.1f%% %9.2g %s\n", name,
			suite_engine_name(c->engine), bs.median, cs.median, shift * 100, u.p,
			verdict);
	}
	if (!compared) {
		errbuf_set(err, err_len,
			   "nothing to compare: the baseline has no batch samples of these tests "
			   "and engines");
		return -EINVAL;
	}
	if (!moved)
		fprintf(f, "nothing moved (%zu test/engine pairs compared)\n", compared);
	else
		fprintf(f, "%zu of %zu test/engine pairs moved, %d slower\n", moved, compared,
			*regressions);
	return 0;
}
