#!/usr/bin/env bash
# Runs the shared nginx yardstick against the Release build, with auth on (bearer check on
# every request; GOVERNED=1: a virtual key instead, see bench/governed-gateway.sh). Extra arguments go to yardstick.sh (e.g. --rounds 5 --json /tmp/y.json).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-bench/bench-config.yaml}
WORKERS=${WORKERS:-2}
if [ "${GOVERNED:-0}" = 1 ]; then
  # A virtual key instead of the master key (issue 6): bench/governed-gateway.sh creates it.
  export BENCH_KEY=${VIRTUAL_KEY:-sk-bench-virtual-0123456789abcdef}
  CMD="env CONFIG=$CONFIG WORKERS=$WORKERS ./bench/governed-gateway.sh"
else
  export BENCH_KEY=${BENCH_KEY:-sk-bench-0123456789abcdef0123456789}
  # A fresh store per run: spend rows of earlier runs would make every run slower than the last.
  db_dir=$(mktemp -d)
  trap 'rm -rf "$db_dir"' EXIT
  CMD="./build/apps/switchyard/switchyard --config $CONFIG --port 4000 --num_workers $WORKERS --db $db_dir/bench.db"
fi
../shared/bench/yardstick.sh --gateway-cmd "$CMD" \
  --gateway-url http://127.0.0.1:4000 --stream "$@"
