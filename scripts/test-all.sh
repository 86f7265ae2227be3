#!/usr/bin/env bash
# Runs every test of the project: the cargo tests (unit, integration, golden
# wire tests, sandbox) and the real MCP clients with the official conformance
# suite (tests/clients/run.sh). Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

logs=.cache/test-logs
mkdir -p "$logs"
passed=0
failed=0

echo "== cargo test"
cargo test --all-targets 2>&1 | tee "$logs/cargo.log"
cargo_status=${PIPESTATUS[0]}
# Sum libtest's "test result: ok. N passed; M failed; ..." lines.
read -r p f < <(grep -E '^test result:' "$logs/cargo.log" \
  | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' \
  | awk '{p+=$1; f+=$2} END {print p+0, f+0}')
passed=$((passed + p))
failed=$((failed + f))
if [ "$cargo_status" -ne 0 ] && [ "$f" -eq 0 ]; then
  echo "cargo test exited $cargo_status (build failure?)"
  failed=$((failed + 1))
fi

if [ "${SKIP_CLIENTS:-0}" != "1" ]; then
  echo "== real MCP clients and conformance (tests/clients/run.sh)"
  bash tests/clients/run.sh 2>&1 | tee "$logs/clients.log"
  clients_status=${PIPESTATUS[0]}
  line=$(grep -E '^clients: [0-9]+ passed, [0-9]+ failed' "$logs/clients.log" | tail -n 1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/clients: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    passed=$((passed + p))
    failed=$((failed + f))
  fi
  if [ "$clients_status" -ne 0 ] && { [ -z "$line" ] || [ "${f:-0}" -eq 0 ]; }; then
    echo "tests/clients/run.sh exited $clients_status without reporting a failure"
    failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
