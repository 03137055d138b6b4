#!/usr/bin/env bash
# User-space instructions per request of the gateway, counted by valgrind's callgrind:
#   bench/instructions-per-request.sh [CONFIG]        (default bench/bench-config-nologs.yaml)
# Unlike CPU time, the count barely moves between runs on a noisy VM (about ±2 %), which makes it
# the tool for A/B comparisons of request-path changes (BIN=other/binary). It counts user space
# only: the kernel's TCP work (about half of the gateway's CPU per request) is not in it, so
# check the result with the yardstick. The upstream is the yardstick's own static nginx mock
# (../shared/bench/mock-nginx.conf.in), so the request path sees the same answer.
#
# Needs valgrind, nginx and wrk. Prints requests measured, instructions per request and the
# callgrind file (callgrind_annotate FILE shows where they go).
# LUA=script (default bench/chat.lua); the yardstick's own request, streamed:
#   LUA=../shared/bench/chat.lua YARDSTICK_STREAM=1 YARDSTICK_MODEL=bench-model-stream \
#   BENCH_KEY=sk-bench-0123456789abcdef0123456789 bench/instructions-per-request.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-bench/bench-config-nologs.yaml}
BIN=${BIN:-./build/apps/switchyard/switchyard}
LUA=${LUA:-bench/chat.lua}
PORT=${PORT:-4100}
MOCK_PORT=${MOCK_PORT:-4201}
TEMPLATE=../shared/bench/mock-nginx.conf.in
for tool in valgrind callgrind_control callgrind_annotate nginx wrk curl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[ -f "$TEMPLATE" ] || { echo "missing: $TEMPLATE (the yardstick's mock)" >&2; exit 1; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
mkdir -p "$tmp"/{client_body,proxy_temp,fastcgi_temp,uwsgi_temp,scgi_temp}
sed -e "s#__PREFIX__#$tmp#g; s#__MOCK_PORT__#$MOCK_PORT#g; s#__STREAM_PORT__#$((MOCK_PORT + 1))#g; s#__STATUS_LOCATION__##g" \
  "$TEMPLATE" >"$tmp/nginx.conf"
nginx -p "$tmp/" -c "$tmp/nginx.conf" -e "$tmp/error.log" &
mock=$!
export MOCK_API_BASE=http://127.0.0.1:$MOCK_PORT/v1 MOCK_STREAM_API_BASE=http://127.0.0.1:$((MOCK_PORT + 1))/v1
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/cg.%p" \
  "$BIN" --config "$CONFIG" --port "$PORT" --num_workers 1 --db "$tmp/bench.db" >"$tmp/gw.log" 2>&1 &
gw=$!
trap 'kill $gw $mock 2>/dev/null || true; wait $gw $mock 2>/dev/null || true' EXIT
for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:$PORT/health/liveliness" && break; sleep 0.1; done
wrk -t1 -c8 -d2s -s "$LUA" "http://127.0.0.1:$PORT/v1/chat/completions" >/dev/null  # warm-up
callgrind_control -i on "$gw" >/dev/null
out=$(wrk -t1 -c8 -d4s -s "$LUA" "http://127.0.0.1:$PORT/v1/chat/completions")
callgrind_control -i off "$gw" >/dev/null
callgrind_control -d "$gw" >/dev/null
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
file="$tmp/cg.$gw.1"
total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "$out" | grep -E 'Non-2xx|Socket errors' || true
echo "requests=$reqs instructions_per_request=$((total / reqs)) callgrind_file=$file"
trap 'kill $gw $mock 2>/dev/null || true; wait $gw $mock 2>/dev/null || true; echo "(kept $tmp)"' EXIT
