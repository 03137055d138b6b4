#!/usr/bin/env bash
# Gateway command for the "governed" yardstick run (issue 6): starts switchyard on a fresh SQLite
# store, creates one virtual key with a fixed value through /key/generate (master key), and stays
# in the foreground until the yardstick stops it. Requests then authenticate with that virtual
# key: key cache lookup, model access, budget reservation and a spend-ledger row per request.
#   BENCH_KEY=sk-bench-virtual-0123456789abcdef ./bench/run-yardstick.sh --gateway-cmd ...
# (bench/run-yardstick.sh sets this up when GOVERNED=1.)
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-bench/bench-config.yaml}
PORT=${PORT:-4000}
WORKERS=${WORKERS:-2}
MASTER=${MASTER_KEY:-sk-bench-0123456789abcdef0123456789}
VKEY=${VIRTUAL_KEY:-sk-bench-virtual-0123456789abcdef}
dir=$(mktemp -d)
./build/apps/switchyard/switchyard --config "$CONFIG" --port "$PORT" --num_workers "$WORKERS" \
  --db "$dir/bench.db" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 0' TERM INT
for _ in $(seq 200); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/health/liveliness" && break
  sleep 0.05
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/key/generate" \
  -H "Authorization: Bearer $MASTER" -H 'content-type: application/json' \
  -d "{\"key\":\"$VKEY\",\"key_alias\":\"bench\",\"models\":[\"bench-model\",\"bench-model-stream\"]}"
wait "$pid"
