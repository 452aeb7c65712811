# Entry points. Each target installs what it needs (scripts/setup.sh), builds
# with CMake into $(BUILD), then does its job.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

FUZZ_TIME ?= 600

.PHONY: all setup build test demo bench bench-insns asan fuzz format clean

all: build

setup:
	@./scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	$(BUILD)/examples/embed

bench: build
	@mkdir -p bench/results
	$(BUILD)/bench/uebpf-bench --csv bench/results/latest.csv

bench-insns: build
	./bench/insns.sh $(BUILD)

# The whole test suite under AddressSanitizer and UBSan.
asan:
	$(MAKE) test BUILD=build-asan CMAKE_ARGS="-DUEBPF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"

# Coverage-guided fuzzing (libFuzzer, clang-19), FUZZ_TIME seconds per
# harness. New inputs go to build-fuzz/corpus; crashes to build-fuzz/, to be
# kept in tests/fuzz/corpus/ once fixed, where ctest replays them.
fuzz: setup
	@CC=clang-19 cmake -S . -B build-fuzz -DUEBPF_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j$(JOBS) --target fuzz_asm fuzz_engines
	@mkdir -p build-fuzz/corpus/asm build-fuzz/corpus/engines
	build-fuzz/tests/fuzz/fuzz_asm -max_total_time=$(FUZZ_TIME) \
		-artifact_prefix=build-fuzz/asm- build-fuzz/corpus/asm bench/progs
	build-fuzz/tests/fuzz/fuzz_engines -max_total_time=$(FUZZ_TIME) \
		-artifact_prefix=build-fuzz/engines- build-fuzz/corpus/engines \
		tests/fuzz/corpus/engines

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
