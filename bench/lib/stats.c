// SPDX-License-Identifier: MIT
/*
 * Statistics of timing samples, and the Mann-Whitney U test that decides
 * whether two sets of samples differ. U makes no assumption about the
 * shape of the distribution (timings are skewed, with a long slow tail),
 * only that the batches are independent draws.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "benchlib.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void benchlib_stats_compute(const double *x, size_t n, struct benchlib_stats *st)
{
	double *s, sum = 0, sq = 0;

	memset(st, 0, sizeof(*st));
	st->median = st->mean = st->stddev = st->p95 = st->min = NAN;
	if (!n || !(s = malloc(n * sizeof(*s))))
		return;
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	st->n = n;
	st->min = s[0];
	st->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	/* nearest rank: the smallest sample with at least 95% of them at or below it */
	st->p95 = s[(n * 95 + 99) / 100 - 1];
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	st->mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		sq += (s[i] - st->mean) * (s[i] - st->mean);
	st->stddev = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
	free(s);
}

/*
 * The exact distribution of U under the null hypothesis, as the number of
 * orderings of na a's and nb b's with each value of U. Taking the largest
 * element of an ordering: an a beats all n b's (U grows by n) and leaves
 * (m - 1, n); a b beats nothing and leaves (m, n - 1). So
 * c(m, n, k) = c(m - 1, n, k - n) + c(m, n - 1, k), c(0, n, k) = c(m, 0, k) = [k = 0].
 * Two layers of m are kept, each (nb + 1) rows of na * nb + 1 counts.
 * Returns P(U <= u) and P(U >= u) through lo and hi, or -ENOMEM.
 */
static int mwu_exact(size_t na, size_t nb, double u, double *lo, double *hi)
{
	size_t K = na * nb + 1;
	double *prev = calloc((nb + 1) * K, sizeof(double));
	double *cur = calloc((nb + 1) * K, sizeof(double));
	double total = 0, below = 0, above = 0;

	if (!prev || !cur) {
		free(prev);
		free(cur);
		return -ENOMEM;
	}
	for (size_t n = 0; n <= nb; n++)
		prev[n * K] = 1; /* m = 0 */
	for (size_t m = 1; m <= na; m++) {
		double *t;

		memset(cur, 0, (nb + 1) * K * sizeof(double));
		cur[0] = 1; /* n = 0 */
		for (size_t n = 1; n <= nb; n++)
			for (size_t k = 0; k < K; k++)
				cur[n * K + k] =
					(k >= n ? prev[n * K + k - n] : 0) + cur[(n - 1) * K + k];
		t = prev;
		prev = cur;
		cur = t;
	}
	for (size_t k = 0; k < K; k++) {
		double c = prev[nb * K + k];

		total += c;
		if ((double)k <= u + 1e-9)
			below += c;
		if ((double)k >= u - 1e-9)
			above += c;
	}
	*lo = below / total;
	*hi = above / total;
	free(prev);
	free(cur);
	return 0;
}

int benchlib_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
			  struct benchlib_mwu *r)
{
	size_t N = na + nb, ties = 0;
	double u = 0, mu, var, tie_sum = 0, *all, d;

	memset(r, 0, sizeof(*r));
	r->p = 1;
	if (!na || !nb)
		return -EINVAL;
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			u += a[i] > b[j] ? 1 : a[i] == b[j] ? 0.5 : 0;
	r->u = u;
	all = malloc(N * sizeof(*all));
	if (!all)
		return -ENOMEM;
	memcpy(all, a, na * sizeof(*a));
	memcpy(all + na, b, nb * sizeof(*b));
	qsort(all, N, sizeof(*all), cmp_double);
	for (size_t i = 0; i < N;) {
		size_t j = i;

		while (j < N && all[j] == all[i])
			j++;
		if (j - i > 1) {
			double t = (double)(j - i);

			tie_sum += t * t * t - t;
			ties++;
		}
		i = j;
	}
	free(all);
	if (!ties && na * nb <= BENCHLIB_MWU_EXACT_MAX && na <= 50 && nb <= 50) {
		double lo, hi;

		if (mwu_exact(na, nb, u, &lo, &hi))
			return -ENOMEM;
		r->exact = true;
		r->p = fmin(1, 2 * fmin(lo, hi));
		return 0;
	}
	mu = (double)na * (double)nb / 2;
	var = (double)na * (double)nb / 12 *
	      ((double)(N + 1) - tie_sum / ((double)N * (double)(N - 1)));
	if (var <= 0)
		return 0; /* every sample equal: nothing moved */
	/* continuity correction: half a step towards the mean */
	d = fmax(0, fabs(u - mu) - 0.5);
	r->z = (u >= mu ? d : -d) / sqrt(var);
	r->p = fmin(1, erfc(fabs(r->z) / sqrt(2)));
	return 0;
}
