#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL and Redis, each on a free loopback port in a
# temporary directory, and always stops them (and removes their data) afterwards.
#
#   scripts/test-services.sh [--no-redis] [--no-postgres] -- COMMAND [ARGS...]
#
# Exports for the command:
#   SY_TEST_PG_URL     postgresql://USER@127.0.0.1:PORT/switchyard_test
#   SY_TEST_REDIS_URL  redis://127.0.0.1:PORT
# A service whose binaries are missing is skipped with a notice (the variable stays unset), so
# the PostgreSQL/Redis variants of the tests skip instead of failing on a machine without them.
# As root, PostgreSQL runs as the `postgres` system user (initdb refuses to run as root).
set -euo pipefail

want_pg=1
want_redis=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-postgres) want_pg=0; shift ;;
    --no-redis) want_redis=0; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: $0 [--no-redis] [--no-postgres] -- COMMAND [ARGS...]" >&2
  exit 2
fi

PG_BIN=${PG_BIN:-}
if [ -z "$PG_BIN" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && PG_BIN=$d; done
fi

free_port() {
  python3 - <<'PY' 2>/dev/null || shuf -i 20000-60000 -n 1
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

WORK=$(mktemp -d /tmp/sy-services.XXXXXX)
chmod 755 "$WORK"
pg_started=0
redis_pid=""
as_pg=()

cleanup() {
  local rc=$?
  if [ $pg_started -eq 1 ]; then
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT INT TERM

if [ $want_pg -eq 1 ]; then
  if [ -z "$PG_BIN" ]; then
    echo "test-services: PostgreSQL binaries not found; PostgreSQL tests will be skipped" >&2
  else
    pg_user=$(id -un)
    if [ "$(id -u)" -eq 0 ]; then
      pg_user=postgres
      as_pg=(runuser -u postgres --)
      mkdir -p "$WORK/pg"
      chown postgres "$WORK/pg"
    fi
    port=$(free_port)
    "${as_pg[@]}" "$PG_BIN/initdb" -D "$WORK/pg" -U "$pg_user" -A trust --no-sync \
      -E UTF8 >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg/server.log" -w -t 30 \
      -o "-p $port -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" \
      start >/dev/null || { cat "$WORK/pg/server.log" >&2; exit 1; }
    pg_started=1
    "${as_pg[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$pg_user" switchyard_test
    export SY_TEST_PG_URL="postgresql://$pg_user@127.0.0.1:$port/switchyard_test"
    echo "test-services: PostgreSQL on 127.0.0.1:$port" >&2
  fi
fi

if [ $want_redis -eq 1 ]; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "test-services: redis-server not found; Redis tests will be skipped" >&2
  else
    rport=$(free_port)
    redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
      --dir "$WORK" --logfile "$WORK/redis.log" &
    redis_pid=$!
    for _ in $(seq 1 100); do
      if (exec 3<>/dev/tcp/127.0.0.1/"$rport") 2>/dev/null; then break; fi
      sleep 0.05
    done
    export SY_TEST_REDIS_URL="redis://127.0.0.1:$rport"
    echo "test-services: Redis on 127.0.0.1:$rport" >&2
  fi
fi

"$@"
