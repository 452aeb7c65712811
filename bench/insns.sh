#!/bin/sh
# Exact counts from callgrind, free of the machine's timing noise:
# 1. host instructions per executed eBPF instruction of the interpreter, on
#    Fletcher-16 over 2560 B (uebpf-bench --insns-probe); the native twin is
#    counted the same way for scale;
# 2. host instructions per run of every test of a suite (the default one) on
#    every engine and native twin: `uebpf bench SUITE --callgrind`, written
#    as 'insns' rows of the extended CSV bench/results/latest-suite-insns.csv.
# Usage: bench/insns.sh [BUILD_DIR] [RUNS] [SUITE]
set -eu

build=${1:-build}
runs=${2:-50}
suite=${3:-bench/suites/default.yaml}
bench=$build/bench/uebpf-bench
target=12

command -v valgrind >/dev/null || { echo "insns.sh: valgrind is not installed" >&2; exit 1; }
[ -x "$bench" ] || { echo "insns.sh: no $bench (build first)" >&2; exit 1; }

# The engine's run function covers whichever loop variant it picks; should a
# rename hide it, the public entry point is the next best thing.
interp_fn=interp_run
nm "$bench" | grep -q " interp_run$" || interp_fn=uebpf_vm_run
native_fn=bench_native_fletcher16

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Instructions callgrind collected inside fn, over the whole probe.
count() {
	valgrind --tool=callgrind --toggle-collect="$1" --callgrind-out-file="$tmp/$1.out" \
		"$bench" --insns-probe "$runs" >"$tmp/probe" 2>"$tmp/$1.log" ||
		{ cat "$tmp/$1.log" >&2; exit 1; }
	sed -n 's/^totals: *\([0-9]*\).*/\1/p; s/^summary: *\([0-9]*\).*/\1/p' "$tmp/$1.out" |
		head -n 1
}

interp=$(count "$interp_fn")
native=$(count "$native_fn")
ebpf=$(sed -n 's/^ebpf_insns_per_run //p' "$tmp/probe")
bytes=$(sed -n 's/^bytes //p' "$tmp/probe")

awk -v i="$interp" -v n="$native" -v e="$ebpf" -v r="$runs" -v b="$bytes" -v t="$target" \
	-v f="$interp_fn" 'BEGIN {
	per_run = i / r; ratio = per_run / e
	printf "interpreter on Fletcher-16 over %d B, %d runs under callgrind (%s)\n", b, r, f
	printf "  eBPF instructions per run       %12d\n", e
	printf "  host instructions per run       %12.0f\n", per_run
	printf "  host insns per eBPF insn        %12.2f  (target <= %d: %s)\n", ratio, t,
		ratio <= t ? "met" : sprintf("missed by %.0f%%", (ratio / t - 1) * 100)
	printf "  native twin host insns per run  %12.0f  (%.2f per byte)\n", n / r, n / r / b
	printf "  interp / native host insns      %12.2f\n", i / n
}'

echo
mkdir -p bench/results
"$build/tools/uebpf/uebpf" bench "$suite" --callgrind --native \
	--ext-csv bench/results/latest-suite-insns.csv
