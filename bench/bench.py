#!/usr/bin/env python3
"""Benchmark of digistore24-mcp: throughput, latency, CPU, memory, cold start,
tool-list size, soak. Run it through `bash bench/run.sh` (which builds first);
see bench/README.md for what each figure means.

Standard library only. Linux only (/proc).
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, "results")
SERVER_BIN = os.path.join(ROOT, "target", "release", "digistore24-mcp")
HELPER_BIN = os.path.join(BENCH, "target", "release", "ds24-bench")
LUA = os.path.join(BENCH, "wrk", "mcp.lua")
CLK = os.sysconf("SC_CLK_TCK")

# The targets of issue 17 (ratios within one run, 2 shared cores).
TARGETS = {
    "ratio_to_upstream_64": {"1kb": 0.25, "12kb": 0.20, "48kb": 0.15},
    "cpu_us_per_call": 40.0,
    "cpu_us_per_kib": 2.0,
    "added_p50_ms_1": 0.15,
    "log_cost": 0.10,
    "idle_rss_mib": 8.0,
    "cold_start_ms": 10.0,
    "slow_p99_ms": 600.0,
    "slow_rss_mib": 64.0,
    "sandbox_rps_64": 15000,
}
# Upstream answer sizes: a page of `page_size` purchases from the fake (~1 KB each).
SIZES = [("1kb", 1), ("12kb", 12), ("48kb", 48)]
CALL_MODES = ["call-legacy", "call-2026"]
LIST_MODES = ["list-legacy", "list-2026"]
BASELINE_TS = {
    "calls_per_s": "~800 (best)",
    "cpu_ms_per_call": 1.45,
    "idle_rss_mib": 73,
    "rss_64_clients_mib": "780 and growing",
    "cold_start_ms": 282,
    "tools_list_bytes": 62800,
    "tools_list_tokens": 13500,
    "tools": 93,
}



def log(*args):
    print("[bench]", *args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc ----

def proc_cpu_s(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK


def proc_minflt(pid):
    """Minor page faults of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def proc_status_kib(pid):
    """VmRSS, VmHWM, RssAnon, RssFile of a process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out


def proc_mem_kib(pid):
    """VmRSS and VmHWM of a process, in KiB."""
    out = proc_status_kib(pid)
    return out.get("VmRSS", 0), out.get("VmHWM", 0)


def machine_cpu():
    """(busy, total, steal) jiffies of the whole machine; steal = taken by the hypervisor for others."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    steal = parts[7] if len(parts) > 7 else 0
    total = sum(parts[:8])
    return total - idle - steal, total, steal


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def alive(proc):
    return proc.poll() is None


class Scraper(threading.Thread):
    """GET /metrics every `interval` seconds, as a Prometheus would (drains histogram buffers)."""

    def __init__(self, port, interval):
        super().__init__(daemon=True)
        self.port, self.interval = port, interval
        self.stop_event = threading.Event()
        self.count = 0

    def run(self):
        while not self.stop_event.wait(self.interval):
            try:
                http_request(self.port, "GET", "/metrics")
                self.count += 1
            except OSError:
                pass

    def stop(self):
        self.stop_event.set()
        self.join()
        return self.count


class RssSampler(threading.Thread):
    """Samples VmRSS of a pid every `interval` seconds until stopped."""

    def __init__(self, pid, interval):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples = []  # (seconds since start, KiB)
        self.stop_event = threading.Event()
        self.t0 = time.monotonic()

    def run(self):
        while not self.stop_event.is_set():
            try:
                rss, _ = proc_mem_kib(self.pid)
            except OSError:
                break
            self.samples.append((round(time.monotonic() - self.t0, 1), rss))
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        self.join()
        return self.samples


# ------------------------------------------------------------ processes ----

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_request(port, method, path, headers=None, body=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_healthy(port, proc, path="/health", timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not alive(proc):
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            status, _ = http_request(port, "GET", path, timeout=2)
            if status in (200, 404, 405):  # the upstreams have no /health
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"nothing answered on port {port} within {timeout} s")


SERVER_ENV = {}


def start(argv, env=None):
    log("start:", " ".join(argv), " ".join(f"{k}={v}" for k, v in SERVER_ENV.items()) if env else "")
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)


def stop(proc):
    if proc is not None and alive(proc):
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def start_fake_upstream(threads, latency_ms=0):
    port = free_port()
    proc = start([HELPER_BIN, "upstream", "--listen", f"127.0.0.1:{port}", "--threads", str(threads),
                  "--latency-ms", str(latency_ms)])
    wait_until_listening(port, proc)
    return proc, port


def start_sandbox(binary):
    port = free_port()
    proc = start([binary, "sandbox", "--listen", f"127.0.0.1:{port}", "--latency-ms", "0"])
    wait_until_listening(port, proc)
    return proc, port


def wait_until_listening(port, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(proc):
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port}")


def server_argv(binary, port, upstream_port, extra=()):
    return [binary, "serve", "--listen", f"127.0.0.1:{port}",
            "--api-base-url", f"http://127.0.0.1:{upstream_port}/api/call", "--confirm", "off", *extra]


def start_server(binary, upstream_port, rust_log=None, extra=()):
    port = free_port()
    env = dict(os.environ)
    env.pop("RUST_LOG", None)
    if rust_log:
        env["RUST_LOG"] = rust_log
    env.update(SERVER_ENV)
    # Logs go to /dev/null: formatting them is still paid, as in production.
    proc = start(server_argv(binary, port, upstream_port, extra), env=env)
    wait_healthy(port, proc)
    return proc, port


def smaps_summary(pid, top=8):
    """Where the resident memory is: smaps_rollup totals and the largest mappings (KiB)."""
    out = {"rollup": {}, "largest": []}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                    out["rollup"][parts[0][:-1]] = int(parts[1])
        maps, current = [], None
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                head = line.split()
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    current = {"map": " ".join(head[5:]) or "[anonymous]", "perms": head[1], "rss": 0}
                    maps.append(current)
                elif head and head[0] == "Rss:" and current is not None:
                    current["rss"] = int(head[1])
        merged = {}
        for m in maps:
            name = f"{os.path.basename(m['map'])} {m['perms']}"
            merged[name] = merged.get(name, 0) + m["rss"]
        out["largest"] = sorted(([k, v] for k, v in merged.items() if v), key=lambda kv: -kv[1])[:top]
    except OSError:
        pass
    return out


# ------------------------------------------------------------------ wrk ----

def run_wrk(port, path, mode, conns, seconds, pids, keys=64, fixed_key=None, call=None):
    """One wrk run; returns its figures plus CPU of the given pids. `call` is
    (tool, JSON arguments, upstream form body); default listProducts."""
    threads = min(conns, 2)
    tool, arguments, form = call or ("listProducts", "{}", "language=en")
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s", "-s", LUA,
            f"http://127.0.0.1:{port}{path}", "--", mode, str(keys), fixed_key or "-", tool, arguments, form]
    before = {name: proc_cpu_s(pid) for name, pid in pids.items()}
    flt0 = {name: proc_minflt(pid) for name, pid in pids.items()}
    mbusy0, mtotal0, msteal0 = machine_cpu()
    proc_rusage_children_delta()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    wall = time.monotonic() - t0
    # wrk's own CPU, from its rusage (communicate() has reaped it).
    wrk_cpu = proc_rusage_children_delta()
    mbusy1, mtotal1, msteal1 = machine_cpu()
    after = {name: proc_cpu_s(pid) for name, pid in pids.items()}
    flt1 = {name: proc_minflt(pid) for name, pid in pids.items()}
    line = next((l for l in out.splitlines() if l.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip()[:500]} {out[-500:]}")
    r = json.loads(line[len("WRKJSON "):])
    if err.strip():
        r["check_messages"] = err.strip().splitlines()[:3]
    n = max(r["requests"], 1)
    e = r["errors"]
    r["errors_total"] = e["connect"] + e["read"] + e["write"] + e["status"] + e["timeout"] + e["check_failed"]
    r["unchecked"] = r["requests"] - r["checked"]
    cores = os.cpu_count() or 1
    r["cpu"] = {}
    for name in pids:
        used = after[name] - before[name]
        r["cpu"][name] = {"ms_per_req": round(used * 1000 / n, 4), "cores": round(used / wall, 3),
                          "minor_faults_per_req": round((flt1[name] - flt0[name]) / n, 3)}
    r["cpu"]["wrk"] = {"ms_per_req": round(wrk_cpu * 1000 / n, 4), "cores": round(wrk_cpu / wall, 3)}
    busy = (mbusy1 - mbusy0) / CLK
    ours = sum(after[k] - before[k] for k in pids) + wrk_cpu
    r["machine"] = {
        "busy_pct": round(100 * (mbusy1 - mbusy0) / max(mtotal1 - mtotal0, 1), 1),
        # CPU used by anything else on the machine (other builds, etc.), in cores.
        "foreign_cores": round(max(busy - ours, 0) / wall, 2),
        "steal_pct": round(100 * (msteal1 - msteal0) / max(mtotal1 - mtotal0, 1), 1),
        "cores": cores,
    }
    r.update({"mode": mode, "conns": conns, "threads": threads, "seconds": seconds})
    return r


_children_cpu = [0.0]


def proc_rusage_children_delta():
    ru = os.times()
    total = ru.children_user + ru.children_system
    delta = total - _children_cpu[0]
    _children_cpu[0] = total
    return delta


def summarize_phase(label, r):
    lat = r["latency_us"]
    c = r["cpu"].get("server", r["cpu"].get("upstream", {}))
    cpu, flt = c.get("ms_per_req", 0), c.get("minor_faults_per_req", 0)
    log(f"{label:<34} {r['rps']:>10.0f} req/s  p50 {lat['p50'] / 1000:6.3f} ms  p99 {lat['p99'] / 1000:7.3f} ms  "
        f"errors {r['errors_total']}  cpu {cpu:.4f} ms/req  faults {flt:.2f}/req  foreign {r['machine']['foreign_cores']} cores")


# ------------------------------------------------------------- pieces ----

def machine_info():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    top = subprocess.run(["top", "-bn1"], capture_output=True, text=True).stdout.splitlines()[:5] if shutil.which("top") else []
    git = lambda *a: subprocess.run(["git", "-C", ROOT, *a], capture_output=True, text=True).stdout.strip()
    return {
        "commit": git("rev-parse", "--short", "HEAD") or None,
        "uncommitted_files_in_src": len([l for l in git("status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock").splitlines() if l]),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": platform.platform(),
        "rustc": rustc,
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0].strip()
        if shutil.which("wrk") else None,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "loadavg_before": loadavg(),
        "top_before": top,
    }


def tools_list_size(binary):
    out = subprocess.run([binary, "tools", "--json"], capture_output=True, text=True, check=True).stdout
    tools = json.loads(out)
    compact = json.dumps(tools, separators=(",", ":"), ensure_ascii=False).encode()
    cost = subprocess.run([binary, "tools", "--cost"], capture_output=True, text=True, check=True).stdout
    tokens = None
    for line in cost.splitlines():
        parts = line.split()
        if parts and parts[0] == "all":
            tokens = int(parts[-1])
    return {"tools": len(tools), "tools_array_bytes": len(compact), "tokens_cl100k": tokens}


def mcp_headers(era, method, name=None, key="key-1"):
    h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
         "Authorization": f"Bearer {key}"}
    if era == "legacy":
        h["MCP-Protocol-Version"] = "2025-06-18"
    else:
        h["MCP-Protocol-Version"] = "2026-07-28"
        h["Mcp-Method"] = method
        if name:
            h["Mcp-Name"] = name
    return h


META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "0"}}


def preflight(port):
    """One request of each kind first: what the server requires, and sizes."""
    out = {}
    call = {"name": "listProducts", "arguments": {}}
    cases = {
        "call-legacy": ("legacy", "tools/call", "listProducts", {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}),
        "call-2026": ("2026", "tools/call", "listProducts",
                      {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": dict(call, _meta=META)}),
        "call-2026-without-_meta": ("2026", "tools/call", "listProducts",
                                    {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call}),
        "list-legacy": ("legacy", "tools/list", None, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        "list-2026": ("2026", "tools/list", None, {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}}),
    }
    for name, (era, method, tool, body) in cases.items():
        status, data = http_request(port, "POST", "/mcp", mcp_headers(era, method, tool), json.dumps(body))
        try:
            answer = json.loads(data)
        except ValueError:
            answer = {}
        entry = {"status": status, "bytes": len(data)}
        if "error" in answer:
            entry["error"] = answer["error"]
        elif "result" in answer:
            entry["is_error"] = bool(answer["result"].get("isError"))
        out[name] = entry
    # Without the 2026 headers entirely.
    h = mcp_headers("2026", "tools/call", "listProducts")
    del h["Mcp-Method"], h["Mcp-Name"]
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": dict(call, _meta=META)}
    status, data = http_request(port, "POST", "/mcp", h, json.dumps(body))
    out["call-2026-without-Mcp-Method"] = {"status": status, "bytes": len(data), "answer": data[:200].decode(errors="replace")}
    return out


def cold_start(binary, upstream_port, runs):
    argv = [HELPER_BIN, "coldstart", "--runs", str(runs), "--", binary, "serve", "--listen", "127.0.0.1:{port}",
            "--api-base-url", f"http://127.0.0.1:{upstream_port}/api/call", "--confirm", "off"]
    out = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, **SERVER_ENV))
    if out.returncode != 0:
        raise RuntimeError(f"coldstart failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def metrics_tool_calls(port):
    """Tool-call totals by outcome from /metrics (drains histograms: call only at the end)."""
    status, data = http_request(port, "GET", "/metrics")
    totals = {}
    for line in data.decode().splitlines():
        m = re.match(r'ds24_mcp_tool_calls_total\{(.*)\} (\S+)', line)
        if m:
            outcome = re.search(r'outcome="([^"]+)"', m.group(1)).group(1)
            totals[outcome] = totals.get(outcome, 0) + int(float(m.group(2)))
    return totals


# ------------------------------------------------------------ the runs ----

def size_call(page_size):
    """The tool call and the upstream request of one answer size."""
    return ("listPurchases", json.dumps({"page_size": page_size}), f"page_size={page_size}")


def check_preflight(label, pre):
    for name in ("call-legacy", "call-2026", "list-legacy", "list-2026"):
        p = pre[name]
        if p["status"] != 200 or "error" in p or p.get("is_error"):
            raise RuntimeError(f"preflight {name} of {label} failed: {p}")


def answer_sizes(server_port, fake_port):
    """Bytes of each size's answer: straight from the fake, and through the server (legacy era)."""
    out = {}
    for size, page in SIZES:
        _, up = http_request(fake_port, "POST", "/api/call/listPurchases",
                             {"X-DS-API-KEY": "key-1", "Content-Type": "application/x-www-form-urlencoded"}, f"page_size={page}")
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "listPurchases", "arguments": {"page_size": page}}}
        status, data = http_request(server_port, "POST", "/mcp", mcp_headers("legacy", "tools/call", "listPurchases"), json.dumps(body))
        answer = json.loads(data) if status == 200 else {}
        if status != 200 or "result" not in answer or answer["result"].get("isError"):
            raise RuntimeError(f"preflight listPurchases page_size={page} failed: {status} {data[:300]!r}")
        text = answer["result"]["content"][0].get("text", "")
        out[size] = {"page_size": page, "upstream_bytes": len(up), "server_answer_bytes": len(data),
                     "truncated": "_truncated" in text}
    return out


def server_phase(label, port, pid, fake_pid, mode, conns, secs, size, call, phases):
    r = run_wrk(port, "/mcp", mode, conns, secs, {"server": pid, "upstream": fake_pid}, call=call)
    r.update({"target": "server", "binary": label, "size": size, "rss_end_kib": proc_mem_kib(pid)[0]})
    summarize_phase(f"{label:<6} {mode:<11} {size or '':<4} c={conns}", r)
    phases.append(r)
    return r


def standard(args, result):
    secs = args.seconds
    bins = args.bins
    fake, fake_port = start_fake_upstream(args.upstream_threads)
    servers = {}
    per_bin = result["binaries"] = {}
    try:
        for label, path in bins:
            per_bin[label] = {"path": os.path.relpath(path, ROOT) if path.startswith(ROOT) else path,
                              "size_bytes": os.path.getsize(path)}
            per_bin[label]["cold_start"] = cold_start(path, fake_port, args.coldstart_runs)
            log(f"{label}: cold start median {per_bin[label]['cold_start']['median_ms']} ms of {args.coldstart_runs}")
        for label, path in bins:
            proc, port = start_server(path, fake_port, args.rust_log)
            servers[label] = (proc, port)
            time.sleep(1.0)
            idle = proc_status_kib(proc.pid)
            b = per_bin[label]
            b["rss_kib"] = {"idle_after_start": idle["VmRSS"], "idle_anon": idle.get("RssAnon"), "idle_file": idle.get("RssFile")}
            b["smaps_idle"] = smaps_summary(proc.pid)
            b["preflight"] = preflight(port)
            check_preflight(label, b["preflight"])
            b["answer_sizes"] = answer_sizes(port, fake_port)
            b["call_answer_bytes"] = b["preflight"]["call-legacy"]["bytes"]
            time.sleep(0.5)
            b["rss_kib"]["idle_after_first_requests"] = proc_mem_kib(proc.pid)[0]
        result["answer_sizes"] = {size: {"page_size": page, "upstream_bytes": per_bin[bins[-1][0]]["answer_sizes"][size]["upstream_bytes"]}
                                  for size, page in SIZES}
        samplers = {label: RssSampler(proc.pid, 0.5) for label, (proc, _) in servers.items()}
        for sampler in samplers.values():
            sampler.start()
        for label, (proc, port) in servers.items():
            # Warm-up (connection pool to the upstream, the allocator's heaps).
            run_wrk(port, "/mcp", "call-legacy", 64, args.warmup, {"server": proc.pid, "upstream": fake.pid}, call=size_call(12))
        phases = []
        for size, page in SIZES:
            call = size_call(page)
            for conns in args.conns:
                r = run_wrk(fake_port, "/api/call/listPurchases", "upstream", conns, secs, {"upstream": fake.pid}, call=call)
                r.update({"target": "upstream-direct", "size": size})
                summarize_phase(f"upstream direct        {size:<4} c={conns}", r)
                phases.append(r)
                for mode in CALL_MODES:
                    for label, (proc, port) in servers.items():
                        server_phase(label, port, proc.pid, fake.pid, mode, conns, secs, size, call, phases)
                        if not alive(proc):
                            raise RuntimeError(f"the {label} server died under load")
        for mode in LIST_MODES:
            for label, (proc, port) in servers.items():
                server_phase(label, port, proc.pid, fake.pid, mode, 64, secs, None, None, phases)
        result["phases"] = phases
        for label, (proc, port) in servers.items():
            samples = samplers[label].stop()
            per_bin[label]["rss_kib"]["peak_sampled_under_load"] = max(s[1] for s in samples)
            per_bin[label]["rss_kib"]["samples_0_5s"] = samples
        time.sleep(3.0)
        for label, (proc, port) in servers.items():
            rss, hwm = proc_mem_kib(proc.pid)
            per_bin[label]["rss_kib"]["after_load_3s"] = rss
            per_bin[label]["rss_kib"]["hwm"] = hwm
            # The cross-check last: /metrics drains the histogram buffers.
            sent = sum(p["requests"] for p in phases if p.get("binary") == label and p["mode"].startswith("call"))
            per_bin[label]["metrics_crosscheck"] = {"tool_calls_by_outcome": metrics_tool_calls(port),
                                                    "note": "includes the warm-up and preflight calls", "measured_calls": sent}
        if args.log_variant:
            result["log_levels"] = log_levels(args, servers, fake, fake_port)
    finally:
        for proc, _ in servers.values():
            stop(proc)
        stop(fake)

    if args.sandbox:
        result["sandbox"] = sandbox_phases(args)
    if args.slow:
        result["slow_upstream"] = slow_upstream(args)


def log_levels(args, servers, fake, fake_port):
    """The cost of the per-call info line: the same load on the running (info) server and on a fresh one at warn."""
    out = {}
    call = size_call(1)
    for label, (proc, port) in servers.items():
        path = dict(args.bins)[label]
        info = run_wrk(port, "/mcp", "call-legacy", 64, args.seconds, {"server": proc.pid, "upstream": fake.pid}, call=call)
        summarize_phase(f"{label:<6} info call-legacy 1kb c=64", info)
        warn_proc, warn_port = start_server(path, fake_port, "warn")
        try:
            run_wrk(warn_port, "/mcp", "call-legacy", 64, args.warmup, {"server": warn_proc.pid, "upstream": fake.pid}, call=call)
            warn = run_wrk(warn_port, "/mcp", "call-legacy", 64, args.seconds, {"server": warn_proc.pid, "upstream": fake.pid}, call=call)
            summarize_phase(f"{label:<6} warn call-legacy 1kb c=64", warn)
        finally:
            stop(warn_proc)
        out[label] = {"info": info, "warn": warn, "cost": round(1 - info["rps"] / warn["rps"], 3) if warn["rps"] else None}
    return out


def sandbox_phases(args):
    """listProducts straight to each binary's built-in sandbox (28 KB answers), and through that binary's server."""
    secs = args.seconds
    out = {}
    for label, path in args.bins:
        sandbox, sport = start_sandbox(path)
        server = None
        try:
            run_wrk(sport, "/api/call/listProducts", "upstream", 64, 1, {"upstream": sandbox.pid}, keys=1, fixed_key="sandbox-writable")
            direct = run_wrk(sport, "/api/call/listProducts", "upstream", 64, secs, {"upstream": sandbox.pid}, keys=1,
                             fixed_key="sandbox-writable")
            summarize_phase(f"{label:<6} sandbox direct c=64", direct)
            _, data = http_request(sport, "POST", "/api/call/listProducts",
                                   {"X-DS-API-KEY": "sandbox-writable", "Content-Type": "application/x-www-form-urlencoded"}, "language=en")
            server, port = start_server(path, sport)
            pids = {"server": server.pid, "upstream": sandbox.pid}
            run_wrk(port, "/mcp", "call-legacy", 64, 1, pids, keys=1, fixed_key="sandbox-writable")
            via = run_wrk(port, "/mcp", "call-legacy", 64, secs, pids, keys=1, fixed_key="sandbox-writable")
            summarize_phase(f"{label:<6} server via sandbox c=64", via)
            out[label] = {"direct_64": direct, "via_server_64": via, "answer_bytes": len(data)}
        finally:
            stop(server)
            stop(sandbox)
    return out


def slow_upstream(args):
    """The fake upstream holds every answer 500 ms; 2,000 connections keep 2,000 calls in flight."""
    conns, secs = args.slow_conns, args.slow_seconds
    fake, fake_port = start_fake_upstream(args.upstream_threads, latency_ms=500)
    out = {"latency_ms": 500, "conns": conns, "seconds": secs,
           "server_flags": "--max-concurrency 0 (the default cap of 1024 requests at once would answer 503 past it)"}
    try:
        for label, path in args.bins:
            server, port = start_server(path, fake_port, args.rust_log, extra=("--max-concurrency", "0"))
            try:
                pids = {"server": server.pid, "upstream": fake.pid}
                idle = proc_mem_kib(server.pid)[0]
                sampler = RssSampler(server.pid, 0.25)
                sampler.start()
                # Warm-up at full width: the connections both ways are open before measuring (their memory still counts).
                run_wrk(port, "/mcp", "call-legacy", conns, 2, pids)
                r = run_wrk(port, "/mcp", "call-legacy", conns, secs, pids)
                samples = sampler.stop()
                summarize_phase(f"{label:<6} slow upstream c={conns}", r)
                peak = max(s[1] for s in samples)
                _, hwm = proc_mem_kib(server.pid)
                r.update({"rss_idle_kib": idle, "rss_peak_sampled_kib": peak, "hwm_kib": hwm,
                          "kib_per_call_in_flight": round((max(peak, hwm) - idle) / conns, 2),
                          "fds_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0]})
                out[label] = r
            finally:
                stop(server)
    finally:
        stop(fake)
    return out


def soak(args, result):
    """Long run at 64 connections, RSS every 10 s; /metrics is not scraped meanwhile."""
    fake, fake_port = start_fake_upstream(args.upstream_threads)
    server = None
    try:
        server, port = start_server(args.bins[-1][1], fake_port, args.rust_log)
        time.sleep(1.0)
        idle = proc_mem_kib(server.pid)[0]
        sampler = RssSampler(server.pid, 10.0)
        sampler.start()
        scraper = Scraper(port, args.scrape_metrics) if args.scrape_metrics else None
        if scraper:
            scraper.start()
        r = run_wrk(port, "/mcp", "mix", 64, args.soak_seconds, {"server": server.pid, "upstream": fake.pid})
        samples = sampler.stop()
        scrapes = scraper.stop() if scraper else 0
        summarize_phase(f"soak mix c=64 {args.soak_seconds}s", r)
        if not alive(server):
            raise RuntimeError("the server died during the soak")
        time.sleep(5.0)
        after, hwm = proc_mem_kib(server.pid)
        totals = metrics_tool_calls(port)
        time.sleep(0.5)
        after_scrape = proc_mem_kib(server.pid)[0]
        # Growth: last third of the samples against the first third (after warm-up).
        load = [s for s in samples if s[0] >= 10]
        third = max(len(load) // 3, 1)
        early = sum(s[1] for s in load[:third]) / third
        late = sum(s[1] for s in load[-third:]) / third
        result["soak"] = {
            "seconds": args.soak_seconds,
            "mode": "mix",
            "conns": 64,
            "wrk": r,
            "rss_kib": {"idle_before": idle, "samples_10s": samples, "after_load_5s": after, "hwm": hwm,
                        "after_metrics_scrape": after_scrape,
                        "early_mean": round(early), "late_mean": round(late),
                        "growth_kib_per_min": round((late - early) / max((load[-1][0] - load[0][0]) * 2 / 3 / 60, 1e-9))
                        if len(load) >= 3 else None},
            "metrics_tool_calls_by_outcome": totals,
            "metrics_scrape_every_s": args.scrape_metrics,
            "metrics_scrapes": scrapes,
        }
    finally:
        stop(server)
        stop(fake)


# ------------------------------------------------------------- targets ----

def phase(result, target, mode, conns, size=None, binary=None):
    for p in result.get("phases", []):
        if (p["target"] == target and p["mode"] == mode and p["conns"] == conns and p.get("size") == size
                and (binary is None or p.get("binary") == binary)):
            return p
    return None


def server_cpu_us(p):
    return p["cpu"]["server"]["ms_per_req"] * 1000


def judge_binary(result, label):
    """The targets of issue 17 for one binary: a list of (target, goal, measured text, met)."""
    t = []
    sizes = result.get("answer_sizes", {})
    for size, _ in SIZES:
        up = phase(result, "upstream-direct", "upstream", 64, size)
        worse = None
        for mode in CALL_MODES:
            p = phase(result, "server", mode, 64, size, label)
            if p and (worse is None or p["rps"] < worse["rps"]):
                worse = p  # the worse of the two eras is what we claim
        if up and worse:
            goal = TARGETS["ratio_to_upstream_64"][size]
            ratio = worse["rps"] / up["rps"]
            t.append((f"tool calls/s ÷ upstream alone at 64 connections, {size}", f">= {goal:.2f}",
                      f"{ratio:.3f} ({round(worse['rps'])} / {round(up['rps'])})", ratio >= goal))
    for size, _ in SIZES:
        kib = sizes.get(size, {}).get("upstream_bytes", 0) / 1024
        worst = max((server_cpu_us(p) for m in CALL_MODES if (p := phase(result, "server", m, 64, size, label))), default=None)
        if worst is not None:
            goal = TARGETS["cpu_us_per_call"] + TARGETS["cpu_us_per_kib"] * kib
            t.append((f"server CPU per call at 64 connections, {size} ({kib:.1f} KiB)", f"<= {goal:.0f} µs",
                      f"{worst:.0f} µs", worst <= goal))
    fit = cpu_fit(result, label)
    if fit:
        t.append(("server CPU per call: fixed + per KiB (fit over the sizes, 64 connections)",
                  f"<= {TARGETS['cpu_us_per_call']:.0f} + {TARGETS['cpu_us_per_kib']:.0f}/KiB µs",
                  f"{fit[0]:.0f} + {fit[1]:.2f}/KiB µs",
                  fit[0] <= TARGETS["cpu_us_per_call"] and fit[1] <= TARGETS["cpu_us_per_kib"]))
    up1 = phase(result, "upstream-direct", "upstream", 1, "1kb")
    added = [(p["latency_us"]["p50"] - up1["latency_us"]["p50"]) / 1000
             for m in CALL_MODES if up1 and (p := phase(result, "server", m, 1, "1kb", label))]
    if added:
        t.append(("added p50 at 1 connection, 1kb (worse era)", f"<= {TARGETS['added_p50_ms_1']} ms", f"{max(added):.3f} ms",
                  max(added) <= TARGETS["added_p50_ms_1"]))
    lv = result.get("log_levels", {}).get(label)
    if lv and lv["cost"] is not None:
        t.append(("throughput lost to the info log line (vs warn), 64 connections", f"<= {TARGETS['log_cost'] * 100:.0f} %",
                  f"{lv['cost'] * 100:.1f} % ({round(lv['info']['rps'])} vs {round(lv['warn']['rps'])})", lv["cost"] <= TARGETS["log_cost"]))
    b = result.get("binaries", {}).get(label, {})
    rss = b.get("rss_kib")
    if rss:
        idle = rss["idle_after_start"] / 1024
        split = f" ({rss['idle_anon'] / 1024:.1f} anon + {rss['idle_file'] / 1024:.1f} file)" if rss.get("idle_anon") is not None else ""
        t.append(("idle RSS", f"<= {TARGETS['idle_rss_mib']:.0f} MiB", f"{idle:.1f} MiB{split}", idle <= TARGETS["idle_rss_mib"]))
    cs = b.get("cold_start")
    if cs:
        t.append(("cold start: spawn to healthy /health (median)", f"<= {TARGETS['cold_start_ms']:.0f} ms", f"{cs['median_ms']:.1f} ms",
                  cs["median_ms"] <= TARGETS["cold_start_ms"]))
    slow = result.get("slow_upstream", {}).get(label)
    if slow:
        p99 = slow["latency_us"]["p99"] / 1000
        peak = max(slow["rss_peak_sampled_kib"], slow["hwm_kib"]) / 1024
        ok = slow["errors_total"] == 0 and p99 <= TARGETS["slow_p99_ms"] and peak <= TARGETS["slow_rss_mib"]
        t.append((f"upstream at 500 ms, {slow['conns']} connections: errors, p99, peak RSS", "0, <= 600 ms, <= 64 MiB",
                  f"{slow['errors_total']}, {p99:.0f} ms, {peak:.1f} MiB ({slow['kib_per_call_in_flight']:.1f} KiB per call in flight)", ok))
    sb = result.get("sandbox", {}).get(label)
    if sb:
        rps = sb["direct_64"]["rps"]
        t.append((f"listProducts straight to the sandbox, 64 connections ({sb['answer_bytes'] / 1024:.0f} KiB)",
                  f">= {TARGETS['sandbox_rps_64']}", f"{round(rps)} req/s", rps >= TARGETS["sandbox_rps_64"]))
    return t


def cpu_fit(result, label):
    """Least squares of server CPU µs per call (worse era, 64 connections) over the answer's KiB: (fixed, per KiB)."""
    pts = []
    for size, _ in SIZES:
        kib = result.get("answer_sizes", {}).get(size, {}).get("upstream_bytes", 0) / 1024
        cpu = [server_cpu_us(p) for m in CALL_MODES if (p := phase(result, "server", m, 64, size, label))]
        if cpu and kib:
            pts.append((kib, max(cpu)))
    if len(pts) < 2:
        return None
    n = len(pts)
    mx, my = sum(x for x, _ in pts) / n, sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    slope = sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else 0.0
    return my - slope * mx, slope


def judge(result, bins):
    """Targets per binary, and the soak's (for the soak file)."""
    labels = [label for label, _ in bins]
    rows = {}
    for label in labels:
        for target, goal, measured, met in judge_binary(result, label):
            row = rows.setdefault(target, {"target": target, "goal": goal, "measured": {}, "met": {}})
            row["measured"][label] = measured
            row["met"][label] = met
    soak_r = result.get("soak")
    if soak_r:
        g = soak_r["rss_kib"]["growth_kib_per_min"]
        flat = g is not None and g < 256 and soak_r["wrk"]["errors_total"] == 0  # shrinking is fine
        rows["soak"] = {"target": f"soak {soak_r['seconds']} s at 64: RSS growth, errors", "goal": "flat, 0",
                        "measured": {labels[-1]: f"{g} KiB/min, {soak_r['wrk']['errors_total']} errors"}, "met": {labels[-1]: flat}}
    result["targets"] = list(rows.values())


# -------------------------------------------------------------- main ----

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2-second phases at 1 and 64 connections, fewer spawns (~2 min)")
    ap.add_argument("--soak", action="store_true", help="only the soak: 64 connections, --soak-seconds long")
    ap.add_argument("--soak-seconds", type=int, default=300)
    ap.add_argument("--seconds", type=int, default=None, help="length of each load phase (default 6, quick 2)")
    ap.add_argument("--conns", default=None, help="connection counts (default 1,16,64; quick 1,64)")
    ap.add_argument("--coldstart-runs", type=int, default=None)
    ap.add_argument("--scrape-metrics", type=float, default=0, metavar="SECONDS",
                    help="GET /metrics this often during the soak, as Prometheus would (default: never)")
    ap.add_argument("--warmup", type=int, default=None, help="seconds of 64-connection load before measuring (default 3, quick 1)")
    ap.add_argument("--upstream-threads", type=int, default=2)
    ap.add_argument("--rust-log", default=None, help="RUST_LOG for the server (default: its own, info)")
    ap.add_argument("--no-sandbox", dest="sandbox", action="store_false", help="skip the sandbox phases")
    ap.add_argument("--no-log-variant", dest="log_variant", action="store_false", help="skip the info vs warn comparison")
    ap.add_argument("--no-slow", dest="slow", action="store_false", help="skip the slow upstream with many connections")
    ap.add_argument("--slow-conns", type=int, default=2000)
    ap.add_argument("--slow-seconds", type=int, default=None, help="length of the slow-upstream phase (default 10, quick 4)")
    ap.add_argument("--server-bin", default=None, help="the binary measured ('after'; default target/release/digistore24-mcp)")
    ap.add_argument("--before-bin", default=None, help="a second binary measured in the same run, phase by phase ('before')")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment of the server, e.g. LD_PRELOAD=... (experiments)")
    ap.add_argument("--out", default=None, help="result file (default results/latest.json, soak: results/soak.json); "
                                                "RESULTS.md is only rewritten for the default file")
    args = ap.parse_args()
    after = os.path.abspath(args.server_bin) if args.server_bin else SERVER_BIN
    args.bins = ([("before", os.path.abspath(args.before_bin))] if args.before_bin else []) + [("after" if args.before_bin else "server", after)]
    for kv in args.server_env:
        k, _, v = kv.partition("=")
        SERVER_ENV[k] = v
    args.seconds = args.seconds or (2 if args.quick else 6)
    args.coldstart_runs = args.coldstart_runs or (5 if args.quick else 11)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.conns = [int(c) for c in (args.conns or ("1,64" if args.quick else "1,16,64")).split(",")]
    args.slow_seconds = args.slow_seconds or (4 if args.quick else 10)

    for path in [p for _, p in args.bins] + [HELPER_BIN]:
        if not os.path.exists(path):
            sys.exit(f"missing {path}: run bash bench/run.sh (it builds first)")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (bash bench/run.sh does it)")
    # 2,000 connections need ~2,000 descriptors in wrk and the fake, ~4,000 in the server; children inherit this.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 3 * args.slow_conns:
        log(f"ulimit -n is {resource.getrlimit(resource.RLIMIT_NOFILE)[0]}: too low for {args.slow_conns} connections; skipping that phase")
        args.slow = False

    os.makedirs(RESULTS, exist_ok=True)
    result = {"kind": "soak" if args.soak else ("quick" if args.quick else "standard"),
              "machine": machine_info(),
              "server": {"binaries": {label: os.path.relpath(path, ROOT) if path.startswith(ROOT) else path for label, path in args.bins},
                         "env": SERVER_ENV,
                         "argv": "serve --listen 127.0.0.1:P --api-base-url http://127.0.0.1:U/api/call --confirm off",
                         "rust_log": args.rust_log or "(default: info; stderr to /dev/null)"},
              "upstream": {"used": "bench fake upstream (ds24-bench upstream, hyper, "
                                   f"{args.upstream_threads} threads): listPurchases pages of 1, 12 and 48 purchases"},
              "load_generator": "wrk, 1 thread at 1 connection else 2, 64 keys rotated (Bearer key-N), every answer checked",
              "seconds_per_phase": args.seconds,
              "metrics_scraped_every_s": args.scrape_metrics or None}
    t0 = time.monotonic()
    ok = True
    try:
        if args.soak:
            soak(args, result)
        else:
            result["tools_list"] = tools_list_size(args.bins[-1][1])
            standard(args, result)
    except Exception as e:  # a broken run still writes what it has
        result["failure"] = str(e)
        log("FAILED:", e)
        ok = False
    result["machine"]["loadavg_after"] = loadavg()
    result["wall_seconds"] = round(time.monotonic() - t0, 1)
    judge(result, args.bins)

    errors = sum(p["errors_total"] for p in result.get("phases", []))
    for key in ("sandbox", "log_levels"):
        for per in result.get(key, {}).values():
            for r in per.values():
                if isinstance(r, dict) and "errors_total" in r:
                    errors += r["errors_total"]
    for r in result.get("slow_upstream", {}).values():
        if isinstance(r, dict) and "errors_total" in r:
            errors += r["errors_total"]
    if result.get("soak"):
        errors += result["soak"]["wrk"]["errors_total"]
    result["errors_total"] = errors

    out = args.out or os.path.join(RESULTS, "soak.json" if args.soak else ("quick.json" if args.quick else "latest.json"))
    if os.path.exists(out) and not args.quick:
        shutil.copyfile(out, out.replace(".json", ".previous.json"))
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
    log("wrote", os.path.relpath(out, ROOT))
    labels = [label for label, _ in args.bins]
    for t in result["targets"]:
        cells = "  ".join(f"{label}: {t['measured'].get(label, '—')} [{ {True: 'met', False: 'NOT met', None: '-'}[t['met'].get(label)] }]"
                          for label in labels if label in t["measured"])
        log(f"  {t['target'][:64]:<64} {t['goal']:>14}  {cells}")

    if not args.quick and not args.out and os.path.exists(os.path.join(RESULTS, "latest.json")):
        import report
        report.write()
    if not ok or errors:
        log(f"broken: {'run failed' if not ok else ''} {errors} errors")
        sys.exit(1)


if __name__ == "__main__":
    main()
