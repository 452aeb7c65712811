# Entry points. Each target installs what it needs (scripts/setup.sh), builds
# with CMake into $(BUILD), then does its job.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all setup build test demo bench bench-insns asan format clean

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

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan
