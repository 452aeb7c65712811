// SPDX-License-Identifier: MIT
/*
 * The benchmark programs as instructions: a target's prologue followed by
 * the body every engine shares, assembled from the text in progs/.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "common/errbuf.h"
#include "isa/asm.h"

static const struct {
	const char *prologue[2]; /* by enum bench_target */
	const char *body;
} progs[] = {
	[BENCH_PROG_BASELINE] = {{"", ""}, bench_text_baseline},
	[BENCH_PROG_FLETCHER16] = {{bench_text_fletcher16_uebpf, bench_text_fletcher16_kernel},
				   bench_text_fletcher16},
};

int bench_prog_build(enum bench_prog prog, enum bench_target target, struct isa_insn **insns,
		     size_t *n, char *err, size_t err_len)
{
	const char *pro = progs[prog].prologue[target];
	size_t plen = strlen(pro), blen = strlen(progs[prog].body);
	char *text = malloc(plen + blen + 1);
	int ret;

	if (!text) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	memcpy(text, pro, plen);
	memcpy(text + plen, progs[prog].body, blen + 1);
	ret = isa_assemble(text, insns, n, err, err_len);
	free(text);
	return ret;
}
