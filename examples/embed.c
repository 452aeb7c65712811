// SPDX-License-Identifier: MIT
/*
 * Embedding uebpf: a C program that filters records with an eBPF program.
 *
 * The program is assembly text loaded at run time; it reads a record through
 * r1 (its length in r2), asks a host helper for the current threshold and
 * returns whether the record passes. The host registers the helper, loads
 * the program once and calls it for each record.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <uebpf/uebpf.h>

struct record {
	uint32_t id;
	uint32_t latency_us;
};

static const char filter_asm[] =
	"# r0 = record->latency_us > threshold()\n"
	"jlt %r2, 8, reject        # too short to be a record\n"
	"ldxw %r6, [%r1+4]         # latency_us, kept in a callee-saved register\n"
	"call 1                    # helper 1: threshold\n"
	"jle %r6, %r0, reject\n"
	"mov %r0, 1\n"
	"exit\n"
	"reject:\n"
	"mov %r0, 0\n"
	"exit\n";

static uint64_t threshold_us = 250;

static uint64_t helper_threshold(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	return threshold_us;
}

int main(void)
{
	struct record records[] = {{1, 120}, {2, 900}, {3, 250}, {4, 251}, {5, 4000}};
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[256];
	unsigned kept = 0;
	uint64_t r0;
	int ret;

	if (!vm) {
		fprintf(stderr, "embed: out of memory\n");
		return 1;
	}
	uebpf_vm_register_helper(vm, 1, "threshold", helper_threshold);
	ret = uebpf_vm_load_asm(vm, filter_asm, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "embed: load failed (%d): %s\n", ret, err);
		uebpf_vm_destroy(vm);
		return 1;
	}
	printf("loaded a %zu-instruction filter; threshold %llu us\n", uebpf_vm_insn_count(vm),
	       (unsigned long long)threshold_us);
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		ret = uebpf_vm_run(vm, &records[i], sizeof(records[i]), &r0, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "embed: run failed (%d): %s\n", ret, err);
			uebpf_vm_destroy(vm);
			return 1;
		}
		printf("record %u latency %4u us -> %s\n", records[i].id, records[i].latency_us,
		       r0 ? "slow" : "ok");
		kept += r0 != 0;
	}
	uebpf_vm_destroy(vm);
	printf("%u of %zu records over the threshold\n", kept, sizeof(records) / sizeof(records[0]));
	/* records 2, 4 and 5 are over 250 us: anything else is a wrong answer */
	return kept == 3 ? 0 : 1;
}
