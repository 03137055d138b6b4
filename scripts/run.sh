#!/usr/bin/env bash
# `make run`: starts the gateway on $PORT with the example config. Without OPENAI_API_KEY in the
# environment, the bundled mock provider is started too and the example config is pointed at it,
# so everything works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
PORT=${PORT:-4000}
MOCK_PORT=${MOCK_PORT:-4010}
CONFIG=${CONFIG:-config/example.yaml}

mock_pid=""
cleanup() {
  if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

if [ -z "${OPENAI_API_KEY:-}" ]; then
  echo "run: OPENAI_API_KEY is not set: serving from the bundled mock provider on 127.0.0.1:$MOCK_PORT" >&2
  "$BUILD_DIR/tools/mock_upstream/mock_upstream" --port "$MOCK_PORT" >/dev/null &
  mock_pid=$!
  export OPENAI_API_KEY="sk-mock-provider-key"
  export OPENAI_API_BASE="http://127.0.0.1:$MOCK_PORT/v1"
fi
echo "run: switchyard on http://0.0.0.0:$PORT (config $CONFIG). Try:" >&2
echo "  curl localhost:$PORT/v1/chat/completions -H 'Authorization: Bearer sk-1234' -d '{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'" >&2
"$BUILD_DIR/apps/switchyard/switchyard" --config "$CONFIG" --port "$PORT" &
gw_pid=$!
forward() { kill -TERM "$gw_pid" 2>/dev/null || true; }
trap 'forward' INT TERM
wait "$gw_pid" || true
wait "$gw_pid" 2>/dev/null || true
