#!/usr/bin/env bash
# IPN receiver benchmark (not a timed test): IPNs/s committed on SQLite and on
# PostgreSQL with none lost, and the latency from an IPN to a woken
# events_wait. Writes bench/results/ipn-{sqlite,postgres}.json; copy the
# figures into bench/RESULTS.md. Targets: >= 2,000 IPNs/s on Postgres,
# p99 wake-up <= 50 ms.
#   bash bench/ipn.sh [--seconds N] [--conns N] [--wakeups N]
# BENCH_NO_BUILD=1 skips the release build; DS24_BIN=path runs another binary.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
. "$BENCH/need-wrk.sh"
[ "${BENCH_NO_BUILD:-0}" = 1 ] || (cd "$ROOT" && cargo build --release --quiet)
BIN="${DS24_BIN:-$ROOT/target/release/digistore24-mcp}"
bash "$ROOT/scripts/ensure-postgres.sh" >/dev/null
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
SECRET=bench-ipn-secret-0123456789
TMP=$(mktemp -d /tmp/ds24-ipn-bench.XXXXXX)
chmod 755 "$TMP"  # the postgres user must reach its data folder
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  [ -d "$TMP/pg" ] && as_pg "$PGBIN/pg_ctl" -D "$TMP/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$BENCH/results"

run() {  # run BACKEND DATABASE_URL COUNT_ROWS_COMMAND [bench flags]
  local backend=$1 url=$2 count=$3 port
  shift 3
  port=$(free_port)
  "$BIN" serve --sandbox --listen "127.0.0.1:$port" --ipn-secret "$SECRET" --database-url "$url" --max-concurrency 0 --ipn-rate-limit-rps 0 >"$TMP/$backend.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  python3 "$BENCH/ipn_bench.py" --port "$port" --secret "$SECRET" --count-rows "$count" "$@" | tee "$BENCH/results/ipn-$backend.json"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
}

run sqlite "sqlite://$TMP/events.db" "python3 -c 'import sqlite3; print(sqlite3.connect(\"$TMP/events.db\").execute(\"select count(*) from ipn_events\").fetchone()[0])'" "$@"

mkdir -p "$TMP/pg" && [ "$(id -u)" != 0 ] || chown postgres: "$TMP/pg"
as_pg "$PGBIN/initdb" -D "$TMP/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
PGPORT=$(free_port)
as_pg "$PGBIN/pg_ctl" -D "$TMP/pg/data" -o "-p $PGPORT -k $TMP/pg -c listen_addresses=127.0.0.1 -c max_connections=200" -l "$TMP/pg/log" -w start >/dev/null
run postgres "postgres://postgres@127.0.0.1:$PGPORT/postgres" "$PGBIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -tAc 'select count(*) from ipn_events'" "$@"
