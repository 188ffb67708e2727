# Thin wrapper over CMake for the README's commands.
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all demo check bench install clean

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j2

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

demo: all
	@if [ -x $(BUILD)/tmpf ]; then $(BUILD)/tmpf --help | head -n 5 && $(BUILD)/tmpf dir; fi
	$(BUILD)/tmpf-demo

check: all
	cd $(BUILD) && ctest --output-on-failure -j2

bench: all
	bash bench/run-all.sh $(BUILD)/bench

install: all
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD)
