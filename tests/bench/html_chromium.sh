#!/bin/sh
# The HTML report in a real browser: two runs of the smoke suite into a
# history, the report rendered by headless Chromium, and its DOM searched
# for the charts' SVG elements (bars, the scaling curve, the history).
#   html_chromium.sh UEBPF SMOKE.yaml OBJ_DIR WORK_DIR
set -u
cli=$1 smoke=$2 objs=$3 work=$4

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "SKIP: chromium is not installed (Debian package chromium; scripts/setup.sh installs it)"
	exit 77
fi
mkdir -p "$work" && rm -f "$work/history.csv"
for i in 1 2; do
	UEBPF_COMMIT=run$i "$cli" bench "$smoke" --engine jit --native --batches 2 \
		--iterations 500 --obj-dir "$objs" --history "$work/history.csv" \
		--html "$work/report.html" >"$work/run$i.txt" 2>&1 ||
		{ echo "FAIL: run $i:"; cat "$work/run$i.txt"; exit 1; }
done
# Root needs --no-sandbox; a private profile keeps runs apart.
timeout 60 "$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
	--dump-dom "file://$work/report.html" >"$work/dom.html" 2>"$work/chromium.txt" ||
	{ echo "FAIL: chromium:"; tail -5 "$work/chromium.txt"; exit 1; }

status=0
check() { # what, pattern, least count
	n=$(grep -o "$2" "$work/dom.html" | wc -l)
	if [ "$n" -lt "$3" ]; then
		echo "FAIL: $1: $n of '$2' in the rendered DOM, want at least $3"
		status=1
	else
		echo "ok: $1 ($n)"
	fi
}
check "bar charts" '<svg class="chart bars"' 3
check "bars" '<rect class="bar"' 6
check "scaling curve" '<svg class="chart scaling"' 1
check "history charts" '<svg class="chart history"' 1
check "lines" '<polyline class="series"' 3
check "results table" '<table>' 1
exit $status
