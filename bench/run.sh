#!/usr/bin/env bash
# The benchmark of digistore24-mcp, in one command (see bench/README.md):
#
#   bash bench/run.sh            # standard run (~3 min): writes bench/results/latest.json and bench/RESULTS.md
#   bash bench/run.sh --quick    # smoke test (~1 min): bench/results/quick.json, RESULTS.md untouched
#   bash bench/run.sh --soak     # 5 min at 64 connections, RSS every 10 s: bench/results/soak.json (+ RESULTS.md)
#   bash bench/run.sh --profile  # perf profile of tool calls at 64 connections: bench/results/profile.txt
#
# Other flags go to bench/bench.py (--seconds N, --conns 1,16,64, --soak-seconds N,
# --no-log-variant, --no-sandbox, --scrape-metrics N, --rust-log LEVEL, --out FILE). Set BENCH_NO_BUILD=1
# to skip the builds. Exit status: 0 unless something is broken (errors, a crash);
# never on a figure below target.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"

need() { command -v "$1" >/dev/null 2>&1; }
. "$BENCH/need-wrk.sh"
need python3 || { echo "bench: python3 is missing" >&2; exit 2; }

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  echo "[bench] cargo build --release (server)" >&2
  (cd "$ROOT" && cargo build --release --quiet)
  echo "[bench] cargo build --release (bench helpers: fake upstream, cold-start timer)" >&2
  (cd "$BENCH" && cargo build --release --quiet)
fi

if [ "${1:-}" = "--profile" ]; then
  shift
  exec bash "$BENCH/profile.sh" "$@"
fi
cd "$ROOT"
exec python3 "$BENCH/bench.py" "$@"
