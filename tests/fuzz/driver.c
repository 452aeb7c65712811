// SPDX-License-Identifier: MIT
/*
 * Runs a harness without libFuzzer, for ctest: every file named on the
 * command line (saved inputs: earlier crashers and seeds), each followed by
 * --mutate variants of it (a few bytes overwritten, positions and values
 * from --seed), then --runs random inputs from --seed, each of random
 * length up to --max-len. Not coverage-guided; the harnesses shape raw
 * bytes into mostly valid input, so random bytes reach deep anyway, and
 * mutated seeds reach where structure matters (object files). A failure
 * aborts with the input's seed, file and variant printed first, so it can
 * be replayed.
 *
 * Usage: fuzz_NAME [--runs N] [--seed S] [--max-len L] [--mutate M] [FILE...]
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* What is running, for the crash handler: "seed N" or a file name. */
static char current[512];

static void on_crash(int sig)
{
	static const char head[] = "fuzz: crashed on input ";
	size_t len = strlen(current);

	(void)!write(2, head, sizeof(head) - 1);
	(void)!write(2, current, len);
	(void)!write(2, "\n", 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Variant k of a saved input: 1 to 8 bytes overwritten with random or boundary values. */
static void mutate(uint8_t *buf, size_t len, uint64_t seed, uint64_t k)
{
	static const uint8_t special[] = {0, 0xff, 0x7f, 0x80, 1};
	uint64_t st = seed * 0x100000001b3ull + k, n = 1 + next(&st) % 8;

	for (uint64_t i = 0; len && i < n; i++) {
		uint64_t r = next(&st);

		buf[r % len] = r >> 61 ? (uint8_t)(r >> 40) : special[(r >> 32) % sizeof(special)];
	}
}

static int run_file(const char *path, uint64_t variants, uint64_t seed)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *p = realloc(buf, cap = cap ? 2 * cap : 4096);

			if (!p) {
				fclose(f);
				free(buf);
				return -1;
			}
			buf = p;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	snprintf(current, sizeof(current), "%s", path);
	LLVMFuzzerTestOneInput(buf, len);
	if (variants && len) {
		uint8_t *copy = malloc(len);

		for (uint64_t k = 0; copy && k < variants; k++) {
			memcpy(copy, buf, len);
			mutate(copy, len, seed, k);
			snprintf(current, sizeof(current), "%s --seed %" PRIu64 " variant %" PRIu64,
				 path, seed, k);
			LLVMFuzzerTestOneInput(copy, len);
		}
		free(copy);
	}
	free(buf);
	return 0;
}

static int parse(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end || !*s ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t runs = 1000, seed = 1, max_len = 2048, variants = 0;
	int i, files = 0;
	uint8_t *buf;

	signal(SIGABRT, on_crash);
	signal(SIGSEGV, on_crash);
	signal(SIGBUS, on_crash);
	signal(SIGFPE, on_crash);
	for (i = 1; i < argc; i++) {
		uint64_t *opt = !strcmp(argv[i], "--runs")	? &runs
				: !strcmp(argv[i], "--seed")	? &seed
				: !strcmp(argv[i], "--max-len") ? &max_len
				: !strcmp(argv[i], "--mutate")	? &variants
								: NULL;

		if (!opt) {
			files++;
			if (run_file(argv[i], variants, seed))
				return 1;
			continue;
		}
		if (++i == argc || parse(argv[i], opt) || (opt == &max_len && !max_len)) {
			fprintf(stderr,
				"usage: %s [--runs N] [--seed S] [--max-len L] [--mutate M] "
				"[FILE...]\n",
				argv[0]);
			return 2;
		}
	}
	buf = malloc(max_len);
	if (!buf)
		return 1;
	for (uint64_t r = 0; r < runs; r++) {
		uint64_t s = seed + r, st = s;
		size_t len = next(&st) % (max_len + 1);

		for (size_t j = 0; j < len; j += 8) {
			uint64_t v = next(&st);

			memcpy(buf + j, &v, len - j < 8 ? len - j : 8);
		}
		snprintf(current, sizeof(current), "--seed %" PRIu64 " --runs 1 --max-len %" PRIu64,
			 s, max_len);
		LLVMFuzzerTestOneInput(buf, len);
	}
	free(buf);
	printf("%d saved inputs, %" PRIu64 " variants of each and %" PRIu64
	       " random ones (seeds %" PRIu64 "..%" PRIu64 ") ran clean\n",
	       files, variants, runs, seed, seed + runs - 1);
	return 0;
}
