# Thin wrapper over CMake for the README's commands. Builds are quiet: one
# line saying what is built, the compiler's output only when it fails
# (make V=1 shows everything).
BUILD ?= build
CMAKE_FLAGS ?=
# Benchmarks always use their own Release build (-O3, no -g, no asserts).
BENCH_BUILD ?= build-release
MAKEFLAGS += --no-print-directory

ifeq ($(V),1)
QUIET =
else
# Runs a command with its output in $(BUILD)/make.log, shown only if it fails.
QUIET = > $(BUILD)/make.log 2>&1 || { cat $(BUILD)/make.log; exit 1; }
endif

.PHONY: all demo check bench bench-doc bench-build install clean

all: $(BUILD)/CMakeCache.txt
	@echo "building tmpf in $(BUILD)/ ..."
	@cmake --build $(BUILD) -j2 $(QUIET)

$(BUILD)/CMakeCache.txt:
	@echo "configuring $(BUILD)/ ..."
	@mkdir -p $(BUILD)
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) $(QUIET)

# The main job: the tmpf tool's commands and the library tour, run in a
# scratch directory that is removed afterwards. Builds only what it runs.
demo: $(BUILD)/CMakeCache.txt
	@echo "building the tmpf tool and the demo in $(BUILD)/ ..."
	@cmake --build $(BUILD) -j2 --target tmpf_tool tmpf-demo $(QUIET)
	@sh examples/demo.sh $(BUILD)

# The tests, then what was skipped and why.
check: all
	@(cd $(BUILD) && ctest --output-on-failure -j2); rc=$$?; \
	    sh tests/skipped.sh $(BUILD); exit $$rc

bench-build:
	cmake -S . -B $(BENCH_BUILD) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Release -DTMPF_BUILD_TESTS=OFF -DTMPF_BUILD_BENCH=ON
	cmake --build $(BENCH_BUILD) -j2

# Prints one table of every benchmark (see docs/BENCHMARKS.md).
bench: bench-build
	TMPF_BENCH_COMMAND="make bench" bash bench/run-all.sh $(BENCH_BUILD)/bench

# The same, and puts the table into docs/BENCHMARKS.md.
bench-doc: bench-build
	TMPF_BENCH_COMMAND="make bench-doc" bash bench/run-all.sh --write docs/BENCHMARKS.md $(BENCH_BUILD)/bench

# One line: how many files, and where (the list: install_manifest.txt).
install: all
	@cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX)) $(QUIET)
	@echo "installed $$(wc -l < $(BUILD)/install_manifest.txt) files into" \
	    "$(if $(PREFIX),$(PREFIX),$$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' $(BUILD)/CMakeCache.txt))" \
	    "(list: $(BUILD)/install_manifest.txt)"

clean:
	rm -rf $(BUILD) $(BENCH_BUILD)
