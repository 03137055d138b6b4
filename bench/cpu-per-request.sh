#!/usr/bin/env bash
# Quick CPU-per-request check of the gateway process (not a substitute for the yardstick):
#   bench/cpu-per-request.sh CONFIG [lua-script] [url-path]
# Prints requests/s and the gateway's CPU microseconds per request (utime+stime from /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=$1; SCRIPT=${2:-bench/chat.lua}; PATH_=${3:-/v1/chat/completions}
PORT=${PORT:-4100}; DUR=${DUR:-3}; CONNS=${CONNS:-32}; WORKERS=${WORKERS:-1}
./build/apps/switchyard/switchyard --config "$CONFIG" --port "$PORT" --num_workers "$WORKERS" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/health/liveliness" && break; sleep 0.05; done
ticks() { awk '{print $14+$15}' /proc/$pid/stat; }
t0=$(ticks)
out=$(wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$SCRIPT" "http://127.0.0.1:$PORT$PATH_")
t1=$(ticks)
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
hz=$(getconf CLK_TCK)
echo "rps=$rps cpu_us_per_req=$(awk -v a="$t0" -v b="$t1" -v r="$reqs" -v hz="$hz" 'BEGIN{printf "%.1f", (b-a)*1e6/hz/r}')"
echo "$out" | grep -E 'Non-2xx|Socket errors' || true
