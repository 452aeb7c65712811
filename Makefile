# Entry points. Each target installs what it needs (scripts/setup.sh), builds
# with CMake into $(BUILD), then does its job.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

FUZZ_TIME ?= 600

.PHONY: all setup build test demo bench bench-suite bench-insns asan fuzz format clean

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
	$(BUILD)/tools/uebpf/uebpf trace $(BUILD)/examples/latency.bpf.o --hist latency -- \
		$(BUILD)/examples/demo_victim

bench: build
	@mkdir -p bench/results
	$(BUILD)/bench/uebpf-bench --csv bench/results/latest.csv
	$(BUILD)/bench/uprobe/uebpf-bench-uprobe --csv bench/results/uprobe.csv \
		--scaling-csv bench/results/uprobe-scaling.csv
	$(BUILD)/bench/syscall/uebpf-bench-syscall --csv bench/results/syscall.csv
	$(BUILD)/bench/maps/uebpf-bench-maps --csv bench/results/maps.csv
	$(BUILD)/bench/aot_maploop/uebpf-aot-maploop --csv bench/results/aot_maploop.csv
	$(BUILD)/bench/verifier/uebpf-bench-verifier --csv bench/results/verifier.csv
	$(BUILD)/tools/uebpf/uebpf bench bench/suites/default.yaml --kernel --native --ext-csv bench/results/latest-suite.csv --html bench/results/latest.html

# The YAML suite (uebpf bench): every engine, the kernel and native C, with
# the bpf_performance CSV, the extended CSV, its history and the HTML report.
bench-suite: build
	@mkdir -p bench/results
	$(BUILD)/tools/uebpf/uebpf bench bench/suites/default.yaml --kernel --native \
		--csv bench/results/latest-suite-bpf.csv --ext-csv bench/results/latest-suite.csv \
		--history bench/results/history-suite.csv --html bench/results/latest-suite.html

bench-insns: build
	./bench/insns.sh $(BUILD)

# The whole test suite under AddressSanitizer and UBSan.
asan:
	$(MAKE) test BUILD=build-asan CMAKE_ARGS="-DUEBPF_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"

# Coverage-guided fuzzing (libFuzzer, clang-19), FUZZ_TIME seconds per
# harness, one after the other. New inputs go to build-fuzz/corpus; crashes
# to build-fuzz/, to be kept in tests/fuzz/corpus/ once fixed, where ctest
# replays them. The object harness starts from the clang-built tests/progs.
FUZZ_HARNESSES = asm engines verifier elf
fuzz: setup
	@CC=clang-19 cmake -S . -B build-fuzz -DUEBPF_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j$(JOBS) --target $(addprefix fuzz_,$(FUZZ_HARNESSES))
	@for h in $(FUZZ_HARNESSES); do mkdir -p build-fuzz/corpus/$$h tests/fuzz/corpus/$$h; done
	@mkdir -p build-fuzz/seeds/elf && cp build-fuzz/tests/progs/*.bpf.o build-fuzz/seeds/elf/
	build-fuzz/tests/fuzz/fuzz_asm -max_total_time=$(FUZZ_TIME) \
		-artifact_prefix=build-fuzz/asm- build-fuzz/corpus/asm tests/fuzz/corpus/asm bench/progs
	build-fuzz/tests/fuzz/fuzz_engines -max_total_time=$(FUZZ_TIME) \
		-artifact_prefix=build-fuzz/engines- build-fuzz/corpus/engines \
		tests/fuzz/corpus/engines
	build-fuzz/tests/fuzz/fuzz_verifier -max_total_time=$(FUZZ_TIME) -timeout=20 \
		-artifact_prefix=build-fuzz/verifier- build-fuzz/corpus/verifier \
		tests/fuzz/corpus/verifier
	build-fuzz/tests/fuzz/fuzz_elf -max_total_time=$(FUZZ_TIME) -timeout=20 -max_len=65536 \
		-artifact_prefix=build-fuzz/elf- build-fuzz/corpus/elf tests/fuzz/corpus/elf \
		build-fuzz/seeds/elf

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
