// SPDX-License-Identifier: MIT
/*
 * The cases of the report: the baseline, then Fletcher-16 over growing
 * inputs. Every input is a prefix of one buffer of pseudo-random bytes from a
 * fixed seed, so each run of the benchmark checksums the same data.
 */
#include <stdlib.h>

#include "bench.h"

static const size_t fletcher16_sizes[] = {80, 160, 320, 640, 1280, 2560};

#define NSIZES (sizeof(fletcher16_sizes) / sizeof(fletcher16_sizes[0]))
#define DATA_LEN 2560

_Static_assert(DATA_LEN <= BENCH_FLETCHER16_CAP, "inputs fit the program's loop cap");

/* xorshift64*: the generator only has to be fixed, not good. */
static void fill(uint8_t *p, size_t len)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < len; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (uint8_t)((x * 0x2545f4914f6cdd1dull) >> 56);
	}
}

struct bench_case *bench_cases(size_t *n)
{
	struct bench_case *cases = calloc(1 + NSIZES, sizeof(*cases));
	uint8_t *data = malloc(DATA_LEN);

	if (!cases || !data) {
		free(cases);
		free(data);
		return NULL;
	}
	fill(data, DATA_LEN);
	cases[0] =
		(struct bench_case){.test = "baseline", .prog = BENCH_PROG_BASELINE, .data = data};
	for (size_t i = 0; i < NSIZES; i++)
		cases[1 + i] = (struct bench_case){.test = "fletcher16",
						   .prog = BENCH_PROG_FLETCHER16,
						   .param = fletcher16_sizes[i],
						   .data = data,
						   .len = fletcher16_sizes[i]};
	for (size_t i = 0; i < 1 + NSIZES; i++)
		cases[i].expect = bench_native_twin(cases[i].prog)(cases[i].data,
								   cases[i].data + cases[i].len);
	*n = 1 + NSIZES;
	return cases;
}

void bench_cases_free(struct bench_case *cases, size_t n)
{
	if (n)
		free(cases[0].data);
	free(cases);
}
