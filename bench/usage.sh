#!/usr/bin/env bash
# Usage recording benchmark (not a timed test): tool calls/s at 64 connections
# with recording off, on SQLite and on PostgreSQL (alternating rounds against
# bench.py's fake upstream), rows lost (expect 0 with a healthy database), and
# usage_report time for a tenant with 1,000,000 rows (p95 over 50 reports,
# from the hourly aggregates). Writes bench/results/usage.json; copy the
# figures into bench/RESULTS.md. Targets: <= 5 % fewer calls/s with recording
# on; report p95 <= 200 ms.
#   bash bench/usage.sh [--seconds N] [--rounds N] [--report-rows N] [--reports N]
# BENCH_NO_BUILD=1 skips the release builds.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
. "$BENCH/need-wrk.sh"
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  (cd "$ROOT" && cargo build --release --quiet && cargo build --release --quiet --example usage_report)
  (cd "$BENCH" && cargo build --release --quiet)
fi
bash "$ROOT/scripts/ensure-postgres.sh" >/dev/null
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
TMP=$(mktemp -d /tmp/ds24-usage-bench.XXXXXX)
chmod 755 "$TMP"  # the postgres user must reach its data folder
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cleanup() {
  [ -d "$TMP/pg" ] && as_pg "$PGBIN/pg_ctl" -D "$TMP/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/pg" && [ "$(id -u)" != 0 ] || chown postgres: "$TMP/pg"
as_pg "$PGBIN/initdb" -D "$TMP/pg/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
PGPORT=$(free_port)
as_pg "$PGBIN/pg_ctl" -D "$TMP/pg/data" -o "-p $PGPORT -k $TMP/pg -c listen_addresses=127.0.0.1 -c max_connections=200" -l "$TMP/pg/log" -w start >/dev/null
PSQL="$PGBIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -d postgres"
$PSQL -qc "create database reports" >/dev/null
cd "$ROOT"
python3 "$BENCH/usage_bench.py" \
  --sqlite-url "sqlite://$TMP/usage.db" \
  --postgres-url "postgres://postgres@127.0.0.1:$PGPORT/postgres" \
  --psql "$PSQL" \
  --report-sqlite-url "sqlite://$TMP/reports.db" \
  --report-postgres-url "postgres://postgres@127.0.0.1:$PGPORT/reports" \
  "$@"
