#!/usr/bin/env bash
# Runs every test of the project and ends with one line: "N passed, N failed".
#   0. cargo fmt --check and cargo clippy --all-targets -- -D warnings: one
#      check each in the count
#   1. cargo test: unit tests, integration tests, golden wire tests, sandbox,
#      IPN events on SQLite and on a PostgreSQL the tests start themselves
#      (scripts/ensure-postgres.sh installs it when missing)
#   2. tests/clients/run.sh: official MCP SDKs, Inspector, conformance suite
#   3. tests/browser/run.sh: real pages in headless Chromium (CORS, the SDK in a browser)
#   4. tests/replicas/run.sh: three replicas behind a real nginx with Redis
# SKIP_CLIENTS=1 / SKIP_BROWSER=1 / SKIP_REPLICAS=1 leave out suite 2 / 3 / 4.
set -uo pipefail
cd "$(dirname "$0")/.."

logs=.cache/test-logs
mkdir -p "$logs"
passed=0
failed=0

# A check that passes or fails as a whole (its exit code), counted as one.
run_check() {
  local name=$1
  shift
  echo "== $name ($*)"
  "$@" 2>&1 | tee "$logs/$name.log"
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then
    passed=$((passed + 1))
  else
    echo "$name failed (log: $logs/$name.log)"
    failed=$((failed + 1))
  fi
}

run_check fmt cargo fmt --check
run_check clippy cargo clippy --all-targets -- -D warnings

# The IPN tests start their own PostgreSQL; without one they would only skip.
run_check postgres bash scripts/ensure-postgres.sh
export DS24_REQUIRE_POSTGRES=1

echo "== cargo test"
cargo test --all-targets 2>&1 | tee "$logs/cargo.log"
status=${PIPESTATUS[0]}
# Sum libtest's "test result: ok. N passed; M failed; ..." lines.
read -r p f < <(grep -E '^test result:' "$logs/cargo.log" \
  | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' \
  | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
passed=$((passed + p))
failed=$((failed + f))
if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
  echo "cargo test exited $status without a failing test (build failure?)"
  failed=$((failed + 1))
fi

# An external suite prints "<name>: N passed, N failed" as its last count line.
run_suite() {
  local name=$1 script=$2
  echo "== $name ($script)"
  bash "$script" 2>&1 | tee "$logs/$name.log"
  local status=${PIPESTATUS[0]}
  local line p f
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$logs/$name.log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/^[a-z]+: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    passed=$((passed + p))
    failed=$((failed + f))
  else
    f=0
  fi
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "$script exited $status without reporting a failing check"
    failed=$((failed + 1))
  fi
}

# The browser suite runs first: its installer (tests/clients/run.sh --install-only)
# clears .cache/clients-run, where the clients suite leaves its logs.
[ "${SKIP_BROWSER:-0}" = "1" ] || run_suite browser tests/browser/run.sh
[ "${SKIP_CLIENTS:-0}" = "1" ] || run_suite clients tests/clients/run.sh
[ "${SKIP_REPLICAS:-0}" = "1" ] || run_suite replicas tests/replicas/run.sh

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
