# The two commands a user needs: `make run` and `make test`. Every target installs what is
# missing first (scripts/install-deps.sh is idempotent and quiet when nothing is missing).

BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build run test test-long clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Until the server exists, `make run` runs the engine demo: write, close, reopen, read.
run: build
	@$(BUILD_DIR)/cairn-engine-demo ./data/demo

# Every fast suite: unit, model-based and crash, and the unit suite under ASan + UBSan.
test: build
	@cd $(BUILD_DIR) && ctest -j $(JOBS) --output-on-failure --no-label-summary --no-tests=error --timeout 600

# The same suites with many more seeds and bigger data; not run by CI.
test-long: build
	@cd $(BUILD_DIR) && CAIRN_TEST_LONG=1 ctest -j $(JOBS) --output-on-failure --no-label-summary --no-tests=error --timeout 3600

clean:
	rm -rf $(BUILD_DIR)
