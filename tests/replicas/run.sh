#!/usr/bin/env bash
# Several replicas behind nginx, sharing Redis, while replicas die.
#
# Starts on 127.0.0.1 only: Redis, one standalone sandbox Digistore24 with
# many tenant keys, 3 replicas for the load (rate limit high) and 3 more with
# a low rate limit, and two nginx instances built from deploy/nginx.conf.
# Then tests/replicas/driver.py sends concurrent MCP tool calls through nginx,
# SIGTERMs replica 1 and SIGKILLs replica 2 in the middle, and checks what
# came back. Then (e) two more replicas share a throw-away PostgreSQL: IPNs go
# to one that is SIGKILLed mid-flight and are resent to the other, as
# Digistore24 does. Prints "PASS <check>" / "FAIL <check>: reason" and ends with
# "replicas: N passed, N failed". See tests/replicas/README.md.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
started_at=$(date +%s)
passed=0
failed=0
pids=()
replica_pid=()
tmp=""
pg_dir=""
pg_bin=""

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

show_logs() {
  [ -n "$tmp" ] && [ -d "$tmp" ] || return 0
  for f in "$tmp"/logs/*.log "$tmp"/nginx*/error.log "$tmp"/nginx*/access.log; do
    [ -s "$f" ] || continue
    echo "---- last 30 lines of ${f#"$tmp"/}"
    tail -n 30 "$f"
  done
}

# Postgres refuses to run as root: as root, its binaries run as `postgres`.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  local pid
  if [ -n "$pg_dir" ]; then
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$pg_dir"
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 1 30); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [ -n "$tmp" ] && [ "${KEEP_TMP:-0}" != 1 ]; then rm -rf "$tmp"; fi
}

finish() {
  if [ "$failed" -gt 0 ]; then show_logs; fi
  cleanup
  trap - EXIT
  echo "(took $(( $(date +%s) - started_at )) s)"
  echo "replicas: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && exit 0 || exit 1
}
trap finish EXIT
trap 'fail interrupted "signal received"; exit 1' INT TERM

# start NAME CMD...: runs CMD in the background, output into logs/NAME.log.
# Disowned (no "Killed" notice from bash), except replica1, whose exit status
# the test reads with `wait`.
start() {
  local name=$1
  shift
  NO_COLOR=1 "$@" >"$tmp/logs/$name.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
  [ "$name" = replica1 ] || disown "$last_pid"
}

# ---- tools: nginx and redis-server from apt when missing
nginx_bin=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; })
redis_bin=$(command -v redis-server || { [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server; })
missing=()
[ -n "$nginx_bin" ] || missing+=(nginx)
[ -n "$redis_bin" ] || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} with apt"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  # Keep the packages' own services from starting (nginx would take port 80).
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null && "${sudo[@]}" chmod 755 "$policy" && made_policy=1
  fi
  { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >/tmp/replicas-apt.log 2>&1
  apt_status=$?
  [ "$made_policy" = 1 ] && "${sudo[@]}" rm -f "$policy"
  if [ "$apt_status" -ne 0 ]; then
    tail -n 20 /tmp/replicas-apt.log
    fail "setup: install ${missing[*]}" "apt-get exited $apt_status"
    exit 1
  fi
  nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
  redis_bin=$(command -v redis-server || echo /usr/bin/redis-server)
fi
python=$(command -v python3) || { fail "setup: python3" "python3 not found"; exit 1; }

# ---- the binary (built by the test command's cargo step; built here only if missing)
bin=${DS24_MCP_BIN:-$root/target/debug/digistore24-mcp}
if [ ! -x "$bin" ]; then
  echo "building $bin"
  (cd "$root" && cargo build --quiet --bin digistore24-mcp) || { fail "setup: cargo build" "build failed"; exit 1; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ds24-replicas.XXXXXX")
mkdir -p "$tmp/logs" "$tmp/nginx" "$tmp/nginx-rl"
driver=("$python" "$here/driver.py")

# ---- ports: redis, sandbox, 3 load replicas, 3 rate-limited replicas, 2 nginx
read -r p_redis p_sbx p_r1 p_r2 p_r3 p_l1 p_l2 p_l3 p_ngx p_ngx_rl < <("${driver[@]}" ports 10)
public_host=mcp.example.com
tenants=16
tenant_keys=$(for i in $(seq -w 1 "$tenants"); do printf 'sandbox-tenant-%s,' "$i"; done)sandbox-ratelimit

start redis "$redis_bin" --bind 127.0.0.1 --port "$p_redis" --save '' --appendonly no --dir "$tmp" --protected-mode yes
# 20 ms upstream latency keeps calls in flight when a replica dies.
start sandbox "$bin" sandbox --listen "127.0.0.1:$p_sbx" --latency-ms 20 --extra-key "$tenant_keys"
"${driver[@]}" wait-tcp "$p_redis" "$p_sbx" --timeout 20 --pids "${pids[@]}" || { fail "setup: redis and sandbox start" "not listening"; exit 1; }

common=(serve --api-base-url "http://127.0.0.1:$p_sbx/api/call" --redis-url "redis://127.0.0.1:$p_redis"
        --allowed-host "$public_host" --shutdown-delay-secs 1 --shutdown-grace-secs 10 --confirm off)
# Load replicas: a rate limit far above the load (so the Redis limiter is in
# the path but never refuses); rate-limit replicas: 5/s, burst 5, one key.
for i in 1 2 3; do
  port_var=p_r$i
  start "replica$i" "$bin" "${common[@]}" --listen "127.0.0.1:${!port_var}" --rate-limit-rps 100000 --rate-limit-burst 100000
  replica_pid[i]=$last_pid
done
for i in 1 2 3; do
  port_var=p_l$i
  start "ratelimited$i" "$bin" "${common[@]}" --listen "127.0.0.1:${!port_var}" --rate-limit-rps 5 --rate-limit-burst 5
done
urls=()
for p in "$p_r1" "$p_r2" "$p_r3" "$p_l1" "$p_l2" "$p_l3"; do urls+=("http://127.0.0.1:$p/health"); done
"${driver[@]}" wait-http "${urls[@]}" --timeout 30 --pids "${pids[@]}" || { fail "setup: replicas start" "a replica did not answer /health"; exit 1; }

for which in nginx nginx-rl; do
  if [ "$which" = nginx ]; then port=$p_ngx; ups=("$p_r1" "$p_r2" "$p_r3"); else port=$p_ngx_rl; ups=("$p_l1" "$p_l2" "$p_l3"); fi
  "${driver[@]}" nginx-conf --site "$root/deploy/nginx.conf" --template "$here/nginx.conf.template" \
    --prefix "$tmp/$which" --port "$port" --upstream-ports "${ups[@]}" \
    || { fail "setup: nginx config from deploy/nginx.conf" "could not be generated"; exit 1; }
  if ! "$nginx_bin" -t -q -p "$tmp/$which" -e "$tmp/$which/error.log" -c "$tmp/$which/nginx.conf" >"$tmp/logs/$which-t.log" 2>&1; then
    cat "$tmp/logs/$which-t.log"
    fail "setup: nginx -t with deploy/nginx.conf" "config rejected"
    exit 1
  fi
  start "$which" "$nginx_bin" -p "$tmp/$which" -e "$tmp/$which/error.log" -c "$tmp/$which/nginx.conf"
done
"${driver[@]}" wait-http "http://127.0.0.1:$p_ngx/health" "http://127.0.0.1:$p_ngx_rl/health" --timeout 20 --pids "${pids[@]}" \
  || { fail "setup: nginx start" "nginx did not proxy /health"; exit 1; }
pass "setup: redis, sandbox, 6 replicas and 2 nginx (deploy/nginx.conf) up"

# ---- the driver: baseline, rate limit, load with SIGTERM and SIGKILL
"${driver[@]}" run --nginx-port "$p_ngx" --rl-nginx-port "$p_ngx_rl" --host "$public_host" \
  --tenants "$tenants" --concurrency 16 --duration 6 --term-at 2 --kill-at 3.5 \
  --shutdown-delay 1 --term-pid "${replica_pid[1]}" --term-port "$p_r1" --kill-pid "${replica_pid[2]}" --kill-port "$p_r2" \
  --rl-key sandbox-ratelimit --rl-rps 5 --rl-burst 5 --rl-calls 30 >"$tmp/driver.out" 2>&1
driver_status=$?
cat "$tmp/driver.out"
p=$(grep -c '^PASS ' "$tmp/driver.out")
f=$(grep -c '^FAIL ' "$tmp/driver.out")
passed=$((passed + p))
failed=$((failed + f))
if [ "$driver_status" -ne 0 ] && [ "$f" -eq 0 ]; then
  fail "driver" "exited $driver_status without reporting a failure"
fi

# ---- (c) the SIGTERMed replica exits 0 once drained (delay 1 s + calls in flight; grace 10 s)
pid_r1=${replica_pid[1]}
for _ in $(seq 1 150); do kill -0 "$pid_r1" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid_r1" 2>/dev/null; then
  fail "(c) SIGTERMed replica exited 0 after draining" "still running 15 s after the load ended"
else
  wait "$pid_r1"
  status=$?
  if [ "$status" -eq 0 ]; then pass "(c) SIGTERMed replica exited 0 after draining"
  else fail "(c) SIGTERMed replica exited 0 after draining" "exit status $status"; fi
fi

# ---- (e) two replicas on one PostgreSQL: IPNs to A, SIGKILL mid-flight, resent to B
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1)
if [ -z "$pg_bin" ]; then
  bash "$root/scripts/ensure-postgres.sh" >"$tmp/logs/ensure-postgres.log" 2>&1
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -n 1)
fi
if [ -z "$pg_bin" ]; then
  fail "(e) setup: PostgreSQL" "no initdb (scripts/ensure-postgres.sh failed, see logs/ensure-postgres.log)"
else
  pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/ds24-replicas-pg.XXXXXX")
  chmod 755 "$pg_dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$pg_dir"
  read -r p_pg p_ia p_ib < <("${driver[@]}" ports 3)
  if as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$tmp/logs/initdb.log" 2>&1 \
    && as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -o "-p $p_pg -k $pg_dir -c listen_addresses=127.0.0.1" -l "$pg_dir/log" -w start \
      >"$tmp/logs/pg_ctl.log" 2>&1; then
    ipn_secret=replicas-ipn-secret-0123456789
    # Same --ipn-secret and database on both: either verifies and stores any IPN.
    ipn=(--database-url "postgres://postgres@127.0.0.1:$p_pg/postgres" --ipn-secret "$ipn_secret")
    start ipn-a "$bin" "${common[@]}" --listen "127.0.0.1:$p_ia" "${ipn[@]}"
    pid_ia=$last_pid
    start ipn-b "$bin" "${common[@]}" --listen "127.0.0.1:$p_ib" "${ipn[@]}"
    # Only these two: replicas 1 and 2 of the load are gone by now.
    if "${driver[@]}" wait-http "http://127.0.0.1:$p_ia/health" "http://127.0.0.1:$p_ib/health" --timeout 30 --pids "$pid_ia" "$last_pid"; then
      "${driver[@]}" ipn-kill --a-port "$p_ia" --a-pid "$pid_ia" --b-port "$p_ib" --secret "$ipn_secret" \
        --count 200 --psql "$pg_bin/psql -h 127.0.0.1 -p $p_pg -U postgres -d postgres -tAc" >"$tmp/ipn.out" 2>&1
      ipn_status=$?
      cat "$tmp/ipn.out"
      p=$(grep -c '^PASS ' "$tmp/ipn.out")
      f=$(grep -c '^FAIL ' "$tmp/ipn.out")
      passed=$((passed + p))
      failed=$((failed + f))
      if [ "$ipn_status" -ne 0 ] && [ "$f" -eq 0 ]; then fail "(e) driver" "exited $ipn_status without reporting a failure"; fi
    else
      fail "(e) setup: IPN replicas on PostgreSQL start" "a replica did not answer /health"
    fi
  else
    tail -n 5 "$tmp/logs/initdb.log" "$tmp/logs/pg_ctl.log"
    fail "(e) setup: PostgreSQL" "initdb or pg_ctl failed"
  fi
fi
