#!/usr/bin/env bash
# Quick CPU-per-request check of the gateway process (not a substitute for the yardstick):
#   bench/cpu-per-request.sh CONFIG [lua-script] [url-path]
# Prints requests/s, the gateway's CPU microseconds per request (utime+stime from /proc) and the
# same per thread (workers, spend-ledger flush thread, log writer, ...), which is how the spend
# ledger's cost was split from the core's. BIN=path runs another binary (A/B comparisons: on a
# VM without hardware counters single runs vary by about ±2 µs, so alternate A and B runs).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=$1; SCRIPT=${2:-bench/chat.lua}; PATH_=${3:-/v1/chat/completions}
PORT=${PORT:-4100}; DUR=${DUR:-3}; CONNS=${CONNS:-32}; WORKERS=${WORKERS:-1}
BIN=${BIN:-./build/apps/switchyard/switchyard}
db_dir=$(mktemp -d)
"$BIN" --config "$CONFIG" --port "$PORT" --num_workers "$WORKERS" --db "$db_dir/bench.db" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$db_dir"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/health/liveliness" && break; sleep 0.05; done
threads() { for t in /proc/$pid/task/*; do echo "$(basename "$t") $(awk '{print $14+$15}' "$t/stat")"; done | sort; }
ticks() { awk '{print $14+$15}' /proc/$pid/stat; }
t0=$(ticks); threads >"$db_dir/a"
out=$(wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$SCRIPT" "http://127.0.0.1:$PORT$PATH_")
t1=$(ticks); threads >"$db_dir/b"
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
hz=$(getconf CLK_TCK)
echo "rps=$rps cpu_us_per_req=$(awk -v a="$t0" -v b="$t1" -v r="$reqs" -v hz="$hz" 'BEGIN{printf "%.1f", (b-a)*1e6/hz/r}')"
join "$db_dir/a" "$db_dir/b" | awk -v r="$reqs" -v hz="$hz" '$3 > $2 {printf "  thread %-8s %6.1f us/req\n", $1, ($3-$2)*1e6/hz/r}'
echo "$out" | grep -E 'Non-2xx|Socket errors' || true
