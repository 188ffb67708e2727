# Thin wrapper over CMake for the README's commands.
BUILD ?= build
CMAKE_FLAGS ?=
# Benchmarks always use their own Release build (-O3, no -g, no asserts).
BENCH_BUILD ?= build-release

.PHONY: all demo check bench bench-doc bench-build install clean

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j2

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

# The main job: the tmpf tool's commands and the library tour, run in a
# scratch directory that is removed afterwards.
demo: all
	@sh examples/demo.sh $(BUILD)

check: all
	cd $(BUILD) && ctest --output-on-failure -j2

bench-build:
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Release -DTMPF_BUILD_TESTS=OFF -DTMPF_BUILD_BENCH=ON
	cmake --build $(BENCH_BUILD) -j2

# Prints one table of every benchmark (see docs/BENCHMARKS.md).
bench: bench-build
	TMPF_BENCH_COMMAND="make bench" bash bench/run-all.sh $(BENCH_BUILD)/bench

# The same, and puts the table into docs/BENCHMARKS.md.
bench-doc: bench-build
	TMPF_BENCH_COMMAND="make bench-doc" bash bench/run-all.sh --write docs/BENCHMARKS.md $(BENCH_BUILD)/bench

install: all
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD) $(BENCH_BUILD)
