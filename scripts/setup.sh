#!/bin/sh
# Installs the Debian packages uebpf needs to build, test and benchmark.
# Idempotent: quiet when everything is already there. chromium is only for
# a test (tests/bench: the benchmark report in a headless browser).
set -eu

PACKAGES="build-essential cmake pkg-config make
clang-19 llvm-19 libclang-rt-19-dev libbpf-dev libelf-dev zlib1g-dev bpftool
libcapstone-dev libyaml-dev valgrind systemtap-sdt-dev
chromium"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages:$missing; run as root (or: sudo $0)" >&2
	exit 1
fi
echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
