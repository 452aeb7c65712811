// SPDX-License-Identifier: MIT
/*
 * Property: a program the verifier accepts never faults. Random raw-memory
 * programs are built from pieces that make the verifier's decisions close
 * calls (pointers into the memory moved by constants and masked variables,
 * end comparisons of every kind, off-by-one accesses, length checks on r2,
 * stack accesses near the frame's edges, forward branches on loaded data,
 * constants stored in pieces and read back).
 * Each one the verifier accepts runs on the checked interpreter (no
 * verification, every access checked) over memory of many lengths and
 * contents: a memory fault there is a verifier bug. It then runs verified,
 * accesses unchecked, and must give the same r0.
 *
 *   test_verifier_fuzz [--seed S] [--count N]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uebpf/uebpf.h"

#define MAX_TEXT 8192
#define MEM_MAX 48

static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const sizes[] = {"b", "h", "w", "dw"};
static const char *const conds[] = {"jgt", "jge", "jlt", "jle", "jeq", "jne", "jsgt", "jslt"};

#define EMIT(...) (len += (size_t)snprintf(text + len, MAX_TEXT - len, __VA_ARGS__))

/*
 * What the program has stored at [r10-16, r10), as the generator wrote it,
 * so that a branch on a reloaded value can be built to go either way.
 */
static uint8_t shadow[16];

/*
 * Stores of immediates of mixed sizes, a reload, and a branch on whether
 * the reload holds the value really stored there, which skips an access
 * outside every proven range (jeq) or falls into it (jne): a verifier that
 * knows a wrong value thinks the jne always jumps, accepts, and the run
 * faults.
 */
static size_t const_piece(char *text, size_t len, unsigned l)
{
	unsigned stores = 1 + rnd(3), sz, at;
	uint64_t v = 0;
	int32_t imm;

	for (unsigned i = 0; i < stores; i++) {
		sz = rnd(4);
		at = (1u << sz) * rnd(16 >> sz);
		imm = (int32_t)(rnd(1u << 16) - (1u << 15)) * (int32_t)(1 + rnd(3));
		EMIT("st%s [%%r10-%u], %d\n", sizes[sz], 16 - at, imm);
		for (unsigned b = 0; b < (1u << sz); b++)
			shadow[at + b] = (uint8_t)((uint64_t)(int64_t)imm >> (8 * b));
	}
	sz = rnd(4);
	at = (1u << sz) * rnd(16 >> sz);
	for (unsigned b = 0; b < (1u << sz); b++)
		v |= (uint64_t)shadow[at + b] << (8 * b);
	EMIT("ldx%s %%r9, [%%r10-%u]\nlddw %%r8, %#llx\n%s %%r9, %%r8, L%u\n"
	     "ldxb %%r0, [%%r1+%u]\nL%u:\n",
	     sizes[sz], 16 - at, (unsigned long long)v, rnd(2) ? "jeq" : "jne", l, 4096 + rnd(4096),
	     l);
	return len;
}

/* One piece of program; labels are numbered so every jump goes forward. */
static size_t piece(char *text, size_t len, unsigned *label)
{
	unsigned sz = rnd(4), off = rnd(12), k = rnd(12), l = (*label)++;

	if (rnd(9) == 0)
		return const_piece(text, len, l);
	switch (rnd(8)) {
	case 0: /* pointer moved by a constant, checked against the end, accessed */
		EMIT("mov %%r6, %%r1\nadd %%r6, %u\nmov %%r7, %%r6\nadd %%r7, %u\n%s %%r7, %%r4, "
		     "L%u\nldx%s %%r0, [%%r6+%u]\nL%u:\n",
		     rnd(8), k, rnd(2) ? "jgt" : "jge", l, sizes[sz], off, l);
		break;
	case 1: /* the end on the left */
		EMIT("mov %%r7, %%r1\nadd %%r7, %u\n%s %%r4, %%r7, L%u\nldx%s %%r0, "
		     "[%%r1+%u]\nL%u:\n",
		     k, rnd(2) ? "jlt" : "jle", l, sizes[sz], off, l);
		break;
	case 2: /* a masked variable offset */
		EMIT("ldxb %%r8, [%%r10-8]\nand %%r8, %u\nmov %%r6, %%r1\nadd %%r6, %%r8\nmov "
		     "%%r7, "
		     "%%r6\nadd %%r7, %u\njgt %%r7, %%r4, L%u\nst%s [%%r6+%u], 7\nL%u:\n",
		     rnd(16), k, l, sizes[sz], off, l);
		break;
	case 3: /* a length check on r2 as given */
		EMIT("%s %%r2, %u, L%u\nldx%s %%r0, [%%r1+%u]\nL%u:\n", rnd(2) ? "jlt" : "jle", k,
		     l, sizes[sz], off, l);
		break;
	case 4: /* the stack near its edges */
		EMIT("stdw [%%r10-%u], %u\nldx%s %%r5, [%%r10-%u]\n", 8 * (3 + rnd(62)), k,
		     sizes[sz], (1u << sz) * (1 + rnd(520 >> sz)));
		break;
	case 5: /* a branch on data already read */
		EMIT("%s %%r0, %u, L%u\nadd %%r0, 1\nL%u:\n", conds[rnd(8)], k, l, l);
		break;
	case 6: /* arithmetic on the scalars */
		EMIT("%s %%r0, %u\n", rnd(2) ? "add" : "xor", k);
		break;
	default: /* a packet pointer spilled and filled */
		EMIT("stxdw [%%r10-24], %%r1\nldxdw %%r6, [%%r10-24]\njgt %%r6, %%r4, L%u\nldx%s "
		     "%%r0, [%%r6+%u]\nL%u:\n",
		     l, sizes[sz], off, l);
		break;
	}
	return len;
}

static void program(char *text)
{
	unsigned label = 0, n = 1 + rnd(6);
	size_t len = 0;

	EMIT("mov %%r0, 0\nstdw [%%r10-8], 0\nstdw [%%r10-16], 0\nmov %%r4, %%r1\n"
	     "add %%r4, %%r2\n");
	memset(shadow, 0, sizeof(shadow));
	for (unsigned i = 0; i < n; i++)
		len = piece(text, len, &label);
	EMIT("exit\n");
}

static struct uebpf_vm *load(const char *text, bool verify, char *err, size_t err_len)
{
	struct uebpf_vm *vm = uebpf_vm_create();

	if (!vm || (verify && uebpf_vm_set_verify(vm, UEBPF_PROG_RAW_MEM)) ||
	    uebpf_vm_load_asm(vm, text, err, err_len)) {
		uebpf_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

int main(int argc, char **argv)
{
	unsigned long count = 20000, accepted = 0, runs = 0, failures = 0;
	uint64_t seed = 1;
	static char text[MAX_TEXT];
	uint8_t mem[MEM_MAX], copy[MEM_MAX];
	char err[512];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--count"))
			count = strtoul(argv[i + 1], NULL, 0);
	}
	for (unsigned long i = 0; i < count && failures < 10; i++) {
		struct uebpf_vm *checked, *verified;

		rng = (seed + i) * 0x9e3779b97f4a7c15ull | 1;
		program(text);
		verified = load(text, true, err, sizeof(err));
		if (!verified)
			continue;
		accepted++;
		checked = load(text, false, err, sizeof(err));
		for (size_t n = 0; checked && n <= MEM_MAX; n += 1 + rnd(5)) {
			uint64_t r_checked = 0, r_verified = 0;
			int ret;

			for (size_t b = 0; b < n; b++)
				mem[b] = (uint8_t)rnd(256);
			memcpy(copy, mem, n);
			runs++;
			ret = uebpf_vm_run(checked, n ? mem : NULL, n, &r_checked, err,
					   sizeof(err));
			if (!ret)
				ret = uebpf_vm_run(verified, n ? copy : NULL, n, &r_verified, err,
						   sizeof(err));
			if (ret || r_checked != r_verified || memcmp(mem, copy, n)) {
				failures++;
				printf("FAIL seed %llu, memory of %zu bytes: %s%s\n%s\n",
				       (unsigned long long)(seed + i), n,
				       ret ? "accepted program faults: " : "results differ",
				       ret ? err : "", text);
				break;
			}
		}
		uebpf_vm_destroy(checked);
		uebpf_vm_destroy(verified);
	}
	printf("%lu random programs, %lu accepted by the verifier, %lu runs, %lu failures\n", count,
	       accepted, runs, failures);
	return failures || !accepted ? 1 : 0;
}
