// SPDX-License-Identifier: MIT
/*
 * uebpf-bench-maps-worker OBJ BATCHES REPEAT: the uebpf side of the map
 * benchmark. This executable links uebpf's syscall(), so libbpf loads the
 * object into the bpf() emulation and the engine is UEBPF_ENGINE's. One
 * line per row on stdout, "PROG RETVAL NS_PER_OP", for the driver; exit
 * status 1 with the reason on stderr when anything fails.
 */
#include <stdio.h>
#include <stdlib.h>

#include "maps_bench.h"
#include "syscall/syscall.h"

int main(int argc, char **argv)
{
	struct maps_result res[32];
	struct maps_timing t;
	char err[512] = "";

	if (argc != 4 || maps_nrows > 32) {
		fprintf(stderr, "usage: uebpf-bench-maps-worker OBJ BATCHES REPEAT\n");
		return 2;
	}
	t.batches = (unsigned)strtoul(argv[2], NULL, 10);
	t.repeat = (unsigned)strtoul(argv[3], NULL, 10);
	if (!t.batches || !t.repeat) {
		fprintf(stderr, "uebpf-bench-maps-worker: BATCHES and REPEAT must be positive\n");
		return 2;
	}
	if (maps_measure(argv[1], &t, res, err, sizeof(err))) {
		fprintf(stderr, "%s%s%s\n", err, *syscall_last_error() ? ": " : "",
			syscall_last_error());
		return 1;
	}
	for (unsigned i = 0; i < maps_nrows; i++)
		printf("%s %u %.3f\n", maps_rows[i].prog, res[i].retval, res[i].ns_per_op);
	return 0;
}
