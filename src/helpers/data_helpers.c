// SPDX-License-Identifier: MIT
/*
 * bpf_csum_diff and bpf_strncmp.
 *
 * csum_diff: the ones' complement sum of the to words plus the complements
 * of the from words, onto seed, folded to 16 bits (not complemented), as
 * kernels since 6.12 return it on every architecture (x86 kernels before
 * returned the 32-bit partial sum, which folds to the same checksum).
 * Sizes are multiples of 4 and at most 512 bytes together.
 *
 * strncmp: the kernel's, comparing at most s1_sz bytes of s1 with the
 * NUL-terminated s2, -1, 0 or 1.
 */
#include <string.h>

#include "helpers/internal.h"

#define CSUM_DIFF_MAX 512 /* the kernel's scratch buffer: MAX_BPF_STACK */

static uint64_t sum_words(uint64_t sum, const uint8_t *p, uint64_t size, bool negate)
{
	for (uint64_t i = 0; i < size; i += 4) {
		uint32_t w;

		memcpy(&w, p + i, sizeof(w));
		sum += negate ? ~w : w;
	}
	return sum;
}

HELPER(csum_diff)
{
	uint64_t sum;

	if ((r2 | r4) & 3 || r2 > CSUM_DIFF_MAX || r4 > CSUM_DIFF_MAX - r2)
		return helper_err(EINVAL);
	if (!helper_mem_ok(r1, r2, false) || !helper_mem_ok(r3, r4, false))
		return helper_err(EFAULT);
	sum = sum_words((uint32_t)r5, (const uint8_t *)(uintptr_t)r1, r2, true);
	sum = sum_words(sum, (const uint8_t *)(uintptr_t)r3, r4, false);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

HELPER(strncmp)
{
	const struct vm_run *run = vm_current_run;
	const uint8_t *s1 = (const uint8_t *)(uintptr_t)r1, *s2 = (const uint8_t *)(uintptr_t)r3;
	uint64_t avail;

	(void)r4, (void)r5;
	if (!run || !helper_mem_ok(r1, r2, false))
		return helper_err(EFAULT);
	avail = vm_run_mem_avail(run, r3, false);
	if (!avail || !memchr(s2, 0, avail))
		return helper_err(EINVAL);
	for (uint64_t i = 0; i < r2; i++) {
		if (s1[i] != s2[i])
			return s1[i] < s2[i] ? (uint64_t)-1 : 1;
		if (!s1[i])
			break;
	}
	return 0;
}
