#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the test suite and print how to reach it.
#
#   eval "$(scripts/ci/postgres.sh)"      # sets OXY_TEST_POSTGRES_URL
#
# Installs Debian's `postgresql` package when no server binaries are present, then runs a private
# cluster (initdb into $OXY_PG_DIR, default /var/tmp/oxy-postgres) on 127.0.0.1:$OXY_PG_PORT (default
# 5433) as the `postgres` user, and creates a password-protected user and database for the tests.
# Safe to run again: it reuses the cluster, skips what is already there and returns in about a second.
# Only the `export` lines go to stdout; progress goes to stderr.
set -euo pipefail

PORT="${OXY_PG_PORT:-5433}"
DATA_DIR="${OXY_PG_DIR:-/var/tmp/oxy-postgres}"
DB_USER="${OXY_PG_USER:-oxy_test}"
DB_PASSWORD="${OXY_PG_PASSWORD:-oxy_test}"
DB_NAME="${OXY_PG_DATABASE:-oxy_test}"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$dir" && -x "$dir/postgres" ]]; then echo "$dir"; fi
}

as_postgres() {
  if [[ "$(id -un)" == "postgres" ]]; then "$@"; else runuser -u postgres -- "$@"; fi
}

BINDIR="$(find_bindir)"
if [[ -z "$BINDIR" ]]; then
  log "installing PostgreSQL from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # Don't let the package start its own cluster on 5432: we run a private one.
  apt-get install -y -qq --no-install-recommends postgresql >&2
  BINDIR="$(find_bindir)"
  [[ -n "$BINDIR" ]] || { log "postgresql installed but no server binaries found"; exit 1; }
fi

if ! "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  if [[ ! -s "$DATA_DIR/PG_VERSION" ]]; then
    log "creating a cluster in $DATA_DIR"
    mkdir -p "$DATA_DIR"
    chown postgres: "$DATA_DIR"
    chmod 700 "$DATA_DIR"
    as_postgres "$BINDIR/initdb" -D "$DATA_DIR" -U postgres -A trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >&2
  fi
  log "starting the server on 127.0.0.1:$PORT"
  # A stale pid file from a killed server would stop pg_ctl; only remove it when no such process runs.
  if [[ -f "$DATA_DIR/postmaster.pid" ]] && ! kill -0 "$(head -n 1 "$DATA_DIR/postmaster.pid")" 2>/dev/null; then
    rm -f "$DATA_DIR/postmaster.pid"
  fi
  as_postgres "$BINDIR/pg_ctl" -D "$DATA_DIR" -l "$DATA_DIR/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2
fi

# Superuser over the Unix socket (trust); the test user logs in over TCP with its password.
psql_admin() { as_postgres "$BINDIR/psql" -h "$DATA_DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [[ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != "1" ]]; then
  psql_admin -c "CREATE ROLE \"$DB_USER\" LOGIN PASSWORD '$DB_PASSWORD'" >&2
fi
if [[ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != "1" ]]; then
  psql_admin -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\"" >&2
fi

echo "export OXY_TEST_POSTGRES_URL=postgresql+psycopg://$DB_USER:$DB_PASSWORD@127.0.0.1:$PORT/$DB_NAME"
