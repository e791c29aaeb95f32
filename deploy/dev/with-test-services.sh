#!/usr/bin/env bash
# Run a command with PostgreSQL and Redis available.
# DATABASE_URL / REDIS_URL are used when set; otherwise a throwaway server of each is started
# on a free loopback port, and stopped (with its data) when the command ends.
# The throwaway PostgreSQL skips fsync (tests need no durability) unless
# THROWAWAY_PG_DURABLE=1, which the benchmarks set so that writes cost what they cost.
set -euo pipefail

workdir=$(mktemp -d /tmp/portal-test-services.XXXXXX)
pids=()
pg_bin=""

cleanup() {
  if [ -n "$pg_bin" ] && [ -f "$workdir/pg/postmaster.pid" ]; then
    as_pg_user "$pg_bin/pg_ctl" -D "$workdir/pg" -m immediate stop >/dev/null 2>&1 || true
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_pg_user() {
  # initdb and postgres refuse to run as root.
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ -z "${DATABASE_URL:-}" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$pg_bin" ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    else
      echo "PostgreSQL is not installed: install Debian's 'postgresql' package or set DATABASE_URL." >&2
      exit 1
    fi
  fi
  port=$(free_port)
  mkdir -p "$workdir/pg"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$workdir"
  as_pg_user "$pg_bin/initdb" -D "$workdir/pg" -U postgres --auth=trust -E UTF8 >/dev/null
  pg_options="-h 127.0.0.1 -p $port -k $workdir"
  if [ "${THROWAWAY_PG_DURABLE:-0}" != 1 ]; then
    pg_options="$pg_options -c fsync=off -c full_page_writes=off"
  fi
  as_pg_user "$pg_bin/pg_ctl" -D "$workdir/pg" -l "$workdir/pg.log" -w -o "$pg_options" start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "Throwaway PostgreSQL on 127.0.0.1:$port"
fi

if [ -z "${REDIS_URL:-}" ]; then
  if ! command -v redis-server >/dev/null; then
    echo "Redis is not installed: install Debian's 'redis-server' package or set REDIS_URL." >&2
    exit 1
  fi
  port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$workdir" --logfile "$workdir/redis.log" &
  pids+=($!)
  export REDIS_URL="redis://127.0.0.1:$port/0"
  echo "Throwaway Redis on 127.0.0.1:$port"
fi

"$@"
