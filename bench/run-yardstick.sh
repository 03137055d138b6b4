#!/usr/bin/env bash
# Runs the shared nginx yardstick against the Release build, with auth on (bearer check on
# every request). Extra arguments go to yardstick.sh (e.g. --rounds 5 --json /tmp/y.json).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-bench/bench-config.yaml}
WORKERS=${WORKERS:-2}
export BENCH_KEY=${BENCH_KEY:-sk-bench-0123456789abcdef0123456789}
exec ../shared/bench/yardstick.sh \
  --gateway-cmd "./build/apps/switchyard/switchyard --config $CONFIG --port 4000 --num_workers $WORKERS" \
  --gateway-url http://127.0.0.1:4000 --stream "$@"
