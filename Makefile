# Switchyard: the two commands are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
PORT ?= 4000
MOCK_PORT ?= 4010
CONFIG ?= config/example.yaml

.PHONY: all deps build run test test-unit test-e2e test-asan bench clean e2e-deps

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@PORT=$(PORT) MOCK_PORT=$(MOCK_PORT) CONFIG=$(CONFIG) BUILD_DIR=$(BUILD_DIR) ./scripts/run.sh

e2e-deps:
	@cd tests/e2e && (test -d node_modules/openai || timeout 600 npm ci --no-audit --no-fund)

# Unit, integration and e2e tests run beside a throwaway PostgreSQL and Redis
# (scripts/test-services.sh), so the PostgreSQL variants run too.
test: build e2e-deps
	@./scripts/test-services.sh -- sh -c 'cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L "unit|integration"'
	@BUILD_DIR=$(abspath $(BUILD_DIR)) ./scripts/test-services.sh -- ./scripts/test-e2e.sh

test-unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

test-e2e: build e2e-deps
	@BUILD_DIR=$(abspath $(BUILD_DIR)) ./scripts/test-services.sh -- ./scripts/test-e2e.sh

# Unit, integration, robustness and end-to-end tests under AddressSanitizer +
# UndefinedBehaviorSanitizer (the e2e suite drives the sanitized gateway and mock binaries).
test-asan: deps e2e-deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSY_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -j $(JOBS) -L 'unit|integration|fuzz'
	@ASAN_OPTIONS=detect_leaks=0 BUILD_DIR=$(abspath build-asan) ./scripts/test-e2e.sh

bench: build
	@./bench/run-yardstick.sh

clean:
	rm -rf $(BUILD_DIR) build-asan
