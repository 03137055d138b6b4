#!/usr/bin/env bash
# End-to-end tests: node:test with the official SDK clients against the built binary and the mock.
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD_DIR=${BUILD_DIR:-$(pwd)/build}
cd tests/e2e
timeout 1200 node --test --test-concurrency=1 --test-reporter=spec test/*.test.js
