#!/usr/bin/env bash
# Profile of the server while it answers `tools/call listProducts` at 64
# connections (legacy era), with perf's cpu-clock sampling (works in VMs
# without hardware counters). Writes bench/results/profile.txt:
#   1. self time grouped by kind (kernel network, scheduler/futex, allocator, JSON, logging, ...);
#   2. the top symbols by self time;
#   3. inclusive time of the frames of our own pipeline (DWARF call graphs; a lower
#      bound, as some stacks are cut).
# Run through `bash bench/run.sh --profile [SECONDS]` (it builds first).
# `bash bench/run.sh --profile sandbox [SECONDS]` profiles the built-in sandbox
# instead, answering `listProducts` (28 KB) straight to wrk at 64 connections:
# bench/results/profile-sandbox.txt.
set -euo pipefail
BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
WHAT=server
if [ "${1:-}" = sandbox ]; then WHAT=sandbox; shift; fi
SECS="${1:-10}"
SERVER_BIN="${SERVER_BIN:-$ROOT/target/release/digistore24-mcp}"
OUT="$BENCH/results/profile.txt"
[ "$WHAT" = sandbox ] && OUT="$BENCH/results/profile-sandbox.txt"
TMP="$BENCH/results/tmp"
mkdir -p "$TMP"

if ! command -v perf >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y linux-perf >/dev/null 2>&1 || true
fi
command -v perf >/dev/null || { echo "profile: perf is missing (apt-get install linux-perf)" >&2; exit 2; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
U=$(port); S=$(port)
if [ "$WHAT" = sandbox ]; then
  "$SERVER_BIN" sandbox --listen "127.0.0.1:$S" --latency-ms 0 >/dev/null 2>&1 & SP=$!
  UP=
  cleanup() { kill "$SP" 2>/dev/null || true; }
  trap cleanup EXIT
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$S/sandbox/health" && break; sleep 0.05; done
  WRK=(wrk -t2 -c64 -s "$BENCH/wrk/mcp.lua" "http://127.0.0.1:$S/api/call/listProducts" -- upstream 1 sandbox-writable)
  TITLE="perf cpu-clock profile of the built-in sandbox, listProducts straight to it, 64 connections, $SECS s"
else
  "$BENCH/target/release/ds24-bench" upstream --listen "127.0.0.1:$U" >/dev/null 2>&1 & UP=$!
  "$SERVER_BIN" serve --listen "127.0.0.1:$S" --api-base-url "http://127.0.0.1:$U/api/call" --confirm off >/dev/null 2>&1 & SP=$!
  cleanup() { kill "$UP" "$SP" 2>/dev/null || true; }
  trap cleanup EXIT
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$S/health" >/dev/null 2>&1 && break; sleep 0.05; done
  WRK=(wrk -t2 -c64 -s "$BENCH/wrk/mcp.lua" "http://127.0.0.1:$S/mcp" -- call-legacy 64)
  TITLE="perf cpu-clock profile of the server, tools/call listProducts (2025-06-18), 64 connections, $SECS s"
fi
"${WRK[@]:0:1}" -d2s "${WRK[@]:1}" >/dev/null   # warm-up

LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "[bench] perf: flat profile, $SECS s" >&2
perf record -q -e cpu-clock -F 1999 -p "$SP" -o "$TMP/perf.flat" -- sleep "$SECS" >/dev/null 2>&1 &
PF=$!
"${WRK[@]:0:1}" -d"${SECS}s" "${WRK[@]:1}" | grep WRKJSON > "$TMP/wrk.flat"
wait $PF || true

echo "[bench] perf: call graphs (DWARF), 4 s" >&2
perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$SP" -o "$TMP/perf.dwarf" -- sleep 4 >/dev/null 2>&1 &
PF=$!
"${WRK[@]:0:1}" -d4s "${WRK[@]:1}" | grep WRKJSON > "$TMP/wrk.dwarf"
wait $PF || true

perf report -i "$TMP/perf.flat" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' \
  | cut -c1-300 | sed 's/ *$//' > "$TMP/flat.txt"
perf report -i "$TMP/perf.dwarf" --children --sort sym --stdio -g none --percent-limit 0.3 2>/dev/null | grep -v '^#' \
  | grep -v '^$' | cut -c1-300 | sed 's/ *$//' > "$TMP/children.txt"

python3 - "$TMP" "$OUT" "$SECS" "$LOAD" "$TITLE" <<'PY'
import json, re, sys
tmp, out, secs, load, title = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
rows = []
for line in open(f"{tmp}/flat.txt"):
    m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)", line)
    if m:
        rows.append((float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()))
KINDS = [
    # _raw_spin_unlock_irqrestore is mostly sock_def_readable: waking the peer that reads the socket.
    ("kernel: TCP/IP over loopback, both hops (incl. waking the reader)", lambda d, k, s: k == "k" and re.search(r"tcp|ip_|skb|sock|net_|napi|dev_|inet|__sys_|copy_|_iter|softirq|xmit|recv|send|netif|loopback|_raw_spin_unlock_irqrestore", s)),
    ("kernel: scheduler, wake-ups, futex, epoll", lambda d, k, s: k == "k" and re.search(r"sched|switch|futex|wake|spin|epoll|irq|ep_|schedule|task|timer|hrtimer|tick", s)),
    ("kernel: other (syscall entry, vfs, ...)", lambda d, k, s: k == "k"),
    ("allocator (glibc or mimalloc) + memcpy", lambda d, k, s: re.search(r"_mi_|\bmi_|malloc|free|_int_|realloc|memmove|memcpy|memset|unlink_chunk|consolidate|__rdl_|__rust_alloc|__rust_dealloc|tcache", s)),
    ("JSON (serde_json, parse + serialize)", lambda d, k, s: "serde" in s),
    ("logging (tracing, fmt, stderr)", lambda d, k, s: re.search(r"tracing|nu_ansi|fmt::|core::fmt|Formatter|write_str|write_fmt", s)),
    ("rmcp (per-request service, JSON-RPC)", lambda d, k, s: "rmcp" in s),
    ("upstream client (reqwest, hyper client, url/idna)", lambda d, k, s: re.search(r"reqwest|hyper_util::client|client::|url::|idna", s)),
    ("HTTP server (hyper, axum, tower, httparse)", lambda d, k, s: re.search(r"hyper|axum|tower|httparse|http::", s)),
    ("tokio runtime, channels, cancellation", lambda d, k, s: re.search(r"tokio|mio|futures|cancellation", s)),
    ("metrics", lambda d, k, s: "metrics" in s),
    ("digistore24_mcp (our code, self time)", lambda d, k, s: "digistore24_mcp" in s),
    ("libc other (locks, syscalls wrappers)", lambda d, k, s: d.startswith("libc")),
    ("other (std collections, clones, bytes, ...)", lambda d, k, s: True),
]
groups = {name: 0.0 for name, _ in KINDS}
for pct, dso, kind, sym in rows:
    for name, test in KINDS:
        if test(dso, kind, sym):
            groups[name] += pct
            break
wf = json.loads(open(f"{tmp}/wrk.flat").read().split(" ", 1)[1])
L = []
L.append(title)
L.append(f"load meanwhile: {wf['rps']:.0f} req/s, {wf['requests']} requests, errors {sum(wf['errors'].values())}; "
         f"machine load average before: {load}")
L.append("")
L.append("1. Self time by kind (% of the server's CPU samples)")
for name, pct in sorted(groups.items(), key=lambda x: -x[1]):
    if pct > 0:
        L.append(f"  {pct:6.2f}%  {name}")
L.append("")
L.append("2. Top 45 symbols by self time")
for pct, dso, kind, sym in rows[:45]:
    L.append(f"  {pct:6.2f}%  {dso:<18} {sym[:150]}")
L.append("")
L.append("3. Inclusive time of selected frames (DWARF call graphs; lower bounds, some stacks are cut)")
pat = re.compile(r"digistore24_mcp|sandbox|tracing_core::event::Event::dispatch|tracing_subscriber::fmt::Subscriber|rmcp::service::serve_inner|"
                 r"serve_directly|StreamableHttpService.*(clone|handle_post)|parse_envelope|serde_json::ser::to_vec|"
                 r"CallToolResult::structured|url::ParseOptions::parse|reqwest::async_impl::client::Client::execute_request|"
                 r"uuid|metrics::|JsonRpcMessage.*deserialize|__GI___writev|__GI___libc_write|Stderr|do_futex|tokio::task::spawn::spawn")
seen = set()
for line in open(f"{tmp}/children.txt"):
    m = re.match(r"\s*([\d.]+)%\s+([\d.]+)%\s+\[(.)\]\s+(.*)", line)
    if m and pat.search(m.group(4)) and m.group(4) not in seen:
        seen.add(m.group(4))
        L.append(f"  {float(m.group(1)):6.2f}%  {m.group(4)[:170]}")
open(out, "w").write("\n".join(L) + "\n")
print("\n".join(L[:30]))
PY
echo "[bench] wrote ${OUT#$ROOT/}" >&2
