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

# The targets (issue 6) and the TypeScript server's figures.
TARGETS = {
    "calls_per_s_64": 16000,
    "ratio_to_upstream_64": 0.20,
    "added_p50_ms_1": 0.3,
    "idle_rss_mib": 8.0,
    "cold_start_ms": 15.0,
}
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

SERVER_MODES = ["call-legacy", "call-2026", "list-legacy", "list-2026"]


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


def start_fake_upstream(threads):
    port = free_port()
    proc = start([HELPER_BIN, "upstream", "--listen", f"127.0.0.1:{port}", "--threads", str(threads)])
    wait_until_listening(port, proc)
    return proc, port


def start_sandbox():
    port = free_port()
    proc = start([SERVER_BIN, "sandbox", "--listen", f"127.0.0.1:{port}", "--latency-ms", "0"])
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


def server_argv(port, upstream_port):
    return [SERVER_BIN, "serve", "--listen", f"127.0.0.1:{port}",
            "--api-base-url", f"http://127.0.0.1:{upstream_port}/api/call", "--confirm", "off"]


def start_server(upstream_port, rust_log=None):
    port = free_port()
    env = dict(os.environ)
    env.pop("RUST_LOG", None)
    if rust_log:
        env["RUST_LOG"] = rust_log
    env.update(SERVER_ENV)
    # Logs go to /dev/null: formatting them is still paid, as in production.
    proc = start(server_argv(port, upstream_port), env=env)
    wait_healthy(port, proc)
    return proc, port


# ------------------------------------------------------------------ wrk ----

def run_wrk(port, path, mode, conns, seconds, pids, keys=64, fixed_key=None):
    """One wrk run; returns its figures plus CPU of the given pids."""
    threads = min(conns, 2)
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--timeout", "10s", "-s", LUA,
            f"http://127.0.0.1:{port}{path}", "--", mode, str(keys)]
    if fixed_key:
        argv.append(fixed_key)
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


def tools_list_size():
    out = subprocess.run([SERVER_BIN, "tools", "--json"], capture_output=True, text=True, check=True).stdout
    tools = json.loads(out)
    compact = json.dumps(tools, separators=(",", ":"), ensure_ascii=False).encode()
    cost = subprocess.run([SERVER_BIN, "tools", "--cost"], capture_output=True, text=True, check=True).stdout
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


def cold_start(upstream_port, runs):
    argv = [HELPER_BIN, "coldstart", "--runs", str(runs), "--", SERVER_BIN, "serve", "--listen", "127.0.0.1:{port}",
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

def standard(args, result):
    secs = args.seconds
    fake, fake_port = start_fake_upstream(args.upstream_threads)
    server = None
    try:
        result["cold_start"] = cold_start(fake_port, args.coldstart_runs)
        log(f"cold start: median {result['cold_start']['median_ms']} ms of {args.coldstart_runs}")

        server, port = start_server(fake_port, args.rust_log)
        time.sleep(1.0)
        idle = proc_status_kib(server.pid)
        result["rss_kib"] = {"idle_after_start": idle["VmRSS"], "idle_anon": idle.get("RssAnon"), "idle_file": idle.get("RssFile")}
        result["preflight"] = preflight(port)
        for name in ("call-legacy", "call-2026", "list-legacy", "list-2026"):
            p = result["preflight"][name]
            if p["status"] != 200 or "error" in p or p.get("is_error"):
                raise RuntimeError(f"preflight {name} failed: {p}")
        result["tools_list"]["http_bytes_legacy"] = result["preflight"]["list-legacy"]["bytes"]
        result["tools_list"]["http_bytes_2026"] = result["preflight"]["list-2026"]["bytes"]
        result["call_answer_bytes"] = result["preflight"]["call-legacy"]["bytes"]
        time.sleep(0.5)
        result["rss_kib"]["idle_after_first_requests"] = proc_mem_kib(server.pid)[0]

        sampler = RssSampler(server.pid, 0.5)
        sampler.start()
        scraper = None
        if args.scrape_metrics:
            scraper = Scraper(port, args.scrape_metrics)
            scraper.start()
        pids_up = {"upstream": fake.pid}
        pids_srv = {"server": server.pid, "upstream": fake.pid}
        # Warm-up (connection pool to the upstream, the allocator's heaps).
        run_wrk(port, "/mcp", "call-legacy", 64, args.warmup, pids_srv)
        phases = []
        for conns in args.conns:
            r = run_wrk(fake_port, "/api/call/listProducts", "upstream", conns, secs, pids_up)
            r["target"] = "upstream-direct"
            summarize_phase(f"upstream direct      c={conns}", r)
            phases.append(r)
            for mode in args.modes:
                r = run_wrk(port, "/mcp", mode, conns, secs, pids_srv)
                r["target"] = "server"
                r["rss_end_kib"] = proc_mem_kib(server.pid)[0]
                summarize_phase(f"server {mode:<13} c={conns}", r)
                phases.append(r)
                if not alive(server):
                    raise RuntimeError("the server died under load")
        samples = sampler.stop()
        if scraper:
            result["metrics_scrapes"] = scraper.stop()
        result["phases"] = phases
        result["rss_kib"]["peak_sampled_under_load"] = max(s[1] for s in samples)
        time.sleep(3.0)
        rss, hwm = proc_mem_kib(server.pid)
        result["rss_kib"]["after_load_3s"] = rss
        result["rss_kib"]["hwm"] = hwm
        result["rss_kib"]["samples_0_5s"] = samples
        # The cross-check last: /metrics drains the histogram buffers.
        sent = sum(p["requests"] for p in phases if p["target"] == "server" and p["mode"].startswith("call"))
        totals = metrics_tool_calls(port)
        result["metrics_crosscheck"] = {"tool_calls_by_outcome": totals,
                                        "note": "includes the warm-up and preflight calls",
                                        "measured_calls": sent}
    finally:
        stop(server)
        stop(fake)

    if args.sandbox:
        result["sandbox_comparison"] = sandbox_comparison(args)
    if args.log_off_variant:
        result["variant_rust_log_warn"] = log_off_variant(args)


def sandbox_comparison(args):
    """The built-in sandbox as the upstream: is it fast enough? (It is not the one used.)"""
    secs = max(2, args.seconds // 2)
    sandbox, sport = start_sandbox()
    server = None
    out = {}
    try:
        r = run_wrk(sport, "/api/call/listProducts", "upstream", 64, secs, {"upstream": sandbox.pid}, keys=1,
                    fixed_key="sandbox-writable")
        summarize_phase("sandbox direct       c=64", r)
        status, data = http_request(sport, "POST", "/api/call/listProducts",
                                    {"X-DS-API-KEY": "sandbox-writable", "Content-Type": "application/x-www-form-urlencoded"},
                                    "language=en")
        out["sandbox_direct_64"] = r
        out["sandbox_answer_bytes"] = len(data)
        server, port = start_server(sport)
        run_wrk(port, "/mcp", "call-legacy", 64, 1, {"server": server.pid, "upstream": sandbox.pid}, keys=1,
                fixed_key="sandbox-writable")
        r = run_wrk(port, "/mcp", "call-legacy", 64, secs, {"server": server.pid, "upstream": sandbox.pid}, keys=1,
                    fixed_key="sandbox-writable")
        summarize_phase("server via sandbox   c=64", r)
        out["server_via_sandbox_64"] = r
    finally:
        stop(server)
        stop(sandbox)
    return out


def log_off_variant(args):
    """Same tool-call load with RUST_LOG=warn: what the two info lines per call cost."""
    fake, fake_port = start_fake_upstream(args.upstream_threads)
    server = None
    try:
        server, port = start_server(fake_port, "warn")
        pids = {"server": server.pid, "upstream": fake.pid}
        run_wrk(port, "/mcp", "call-legacy", 64, 1, pids)
        r = run_wrk(port, "/mcp", "call-legacy", 64, args.seconds, pids)
        summarize_phase("server RUST_LOG=warn c=64", r)
        r1 = run_wrk(port, "/mcp", "call-legacy", 1, args.seconds, pids)
        summarize_phase("server RUST_LOG=warn c=1", r1)
        return {"call-legacy-64": r, "call-legacy-1": r1}
    finally:
        stop(server)
        stop(fake)


def soak(args, result):
    """Long run at 64 connections, RSS every 10 s; /metrics is not scraped meanwhile."""
    fake, fake_port = start_fake_upstream(args.upstream_threads)
    server = None
    try:
        server, port = start_server(fake_port, args.rust_log)
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

def phase(result, target, mode, conns):
    for p in result.get("phases", []):
        if p["target"] == target and p["mode"] == mode and p["conns"] == conns:
            return p
    return None


def judge(result):
    t = []
    best64 = None
    for mode in ("call-legacy", "call-2026"):
        p = phase(result, "server", mode, 64)
        if p and (best64 is None or p["rps"] < best64["rps"]):
            best64 = p  # the worse of the two eras is what we claim
    up64 = phase(result, "upstream-direct", "upstream", 64)
    if best64:
        t.append({"target": "tool calls/s at 64 connections (worse era)", "goal": f">= {TARGETS['calls_per_s_64']}",
                  "measured": round(best64["rps"]), "met": best64["rps"] >= TARGETS["calls_per_s_64"]})
    if best64 and up64:
        ratio = best64["rps"] / up64["rps"]
        t.append({"target": "share of the fake upstream's own rate at 64 connections", "goal": ">= 20 %",
                  "measured": f"{ratio * 100:.1f} % ({round(best64['rps'])} / {round(up64['rps'])})",
                  "met": ratio >= TARGETS["ratio_to_upstream_64"]})
    up1 = phase(result, "upstream-direct", "upstream", 1)
    worst_added = None
    for mode in ("call-legacy", "call-2026"):
        p = phase(result, "server", mode, 1)
        if p and up1:
            added = (p["latency_us"]["p50"] - up1["latency_us"]["p50"]) / 1000
            worst_added = added if worst_added is None else max(worst_added, added)
    if worst_added is not None:
        t.append({"target": "added p50 latency at 1 connection (worse era)", "goal": "<= 0.3 ms",
                  "measured": f"{worst_added:.3f} ms", "met": worst_added <= TARGETS["added_p50_ms_1"]})
    rss = result.get("rss_kib", {})
    if rss:
        idle = rss["idle_after_start"] / 1024
        split = ""
        if rss.get("idle_anon") is not None:
            split = f" ({rss['idle_anon'] / 1024:.1f} anonymous + {rss['idle_file'] / 1024:.1f} file-backed code)"
        t.append({"target": "idle RSS", "goal": "<= 8 MiB", "measured": f"{idle:.1f} MiB{split}", "met": idle <= TARGETS["idle_rss_mib"]})
        t.append({"target": "RSS under load (peak sampled / after load)", "goal": "flat",
                  "measured": f"{rss['peak_sampled_under_load'] / 1024:.1f} / {rss['after_load_3s'] / 1024:.1f} MiB",
                  "met": None})
    soak_r = result.get("soak")
    if soak_r:
        g = soak_r["rss_kib"]["growth_kib_per_min"]
        flat = g is not None and g < 256 and soak_r["wrk"]["errors_total"] == 0  # shrinking is fine
        t.append({"target": f"soak {soak_r['seconds']} s at 64: RSS growth, errors", "goal": "flat, 0",
                  "measured": f"{g} KiB/min, {soak_r['wrk']['errors_total']} errors", "met": flat})
    cs = result.get("cold_start")
    if cs:
        t.append({"target": "spawn to healthy /health (median)", "goal": "<= 15 ms", "measured": f"{cs['median_ms']:.1f} ms",
                  "met": cs["median_ms"] <= TARGETS["cold_start_ms"]})
    result["targets"] = t


# -------------------------------------------------------------- main ----

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2-second phases, fewer spawns (a smoke test)")
    ap.add_argument("--soak", action="store_true", help="only the soak: 64 connections, --soak-seconds long")
    ap.add_argument("--soak-seconds", type=int, default=300)
    ap.add_argument("--seconds", type=int, default=None, help="length of each load phase (default 8, quick 2)")
    ap.add_argument("--conns", default="1,16,64")
    ap.add_argument("--coldstart-runs", type=int, default=None)
    ap.add_argument("--scrape-metrics", type=float, default=0, metavar="SECONDS",
                    help="GET /metrics this often during the load, as Prometheus would (default: never, "
                         "which shows what an unscraped server does)")
    ap.add_argument("--warmup", type=int, default=None, help="seconds of 64-connection load before measuring (default 3, quick 1)")
    ap.add_argument("--upstream-threads", type=int, default=2)
    ap.add_argument("--rust-log", default=None, help="RUST_LOG for the server (default: its own, info)")
    ap.add_argument("--no-sandbox", dest="sandbox", action="store_false", help="skip the sandbox-as-upstream comparison")
    ap.add_argument("--no-log-variant", dest="log_off_variant", action="store_false",
                    help="skip the tool-call load with RUST_LOG=warn (the cost of logging; on by default, off in --quick)")
    ap.add_argument("--modes", default=",".join(SERVER_MODES), help="server phases (default: all four)")
    ap.add_argument("--server-bin", default=None, help="benchmark another build of the server (experiments)")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment of the server, e.g. LD_PRELOAD=... (experiments)")
    ap.add_argument("--out", default=None, help="result file (default results/latest.json, soak: results/soak.json); "
                                                "RESULTS.md is only rewritten for the default file")
    args = ap.parse_args()
    args.modes = [m for m in args.modes.split(",") if m]
    global SERVER_BIN
    if args.server_bin:
        SERVER_BIN = os.path.abspath(args.server_bin)
    for kv in args.server_env:
        k, _, v = kv.partition("=")
        SERVER_ENV[k] = v
    args.seconds = args.seconds or (2 if args.quick else 8)
    args.coldstart_runs = args.coldstart_runs or (5 if args.quick else 11)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.conns = [int(c) for c in args.conns.split(",")]
    if args.quick:
        args.log_off_variant = False

    for path in (SERVER_BIN, HELPER_BIN):
        if not os.path.exists(path):
            sys.exit(f"missing {path}: run bash bench/run.sh (it builds first)")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (bash bench/run.sh does it)")

    os.makedirs(RESULTS, exist_ok=True)
    result = {"kind": "soak" if args.soak else ("quick" if args.quick else "standard"),
              "machine": machine_info(),
              "server": {"binary": os.path.relpath(SERVER_BIN, ROOT), "env": SERVER_ENV,
                         "argv": "serve --listen 127.0.0.1:P --api-base-url http://127.0.0.1:U/api/call --confirm off",
                         "rust_log": args.rust_log or "(default: info; stderr to /dev/null)"},
              "upstream": {"used": "bench fake upstream (ds24-bench upstream, hyper, "
                                   f"{args.upstream_threads} threads, 2 products ~0.9 KB)"},
              "load_generator": "wrk, 1 thread at 1 connection else 2, 64 keys rotated (Bearer key-N), every answer checked",
              "seconds_per_phase": args.seconds,
              "metrics_scraped_every_s": args.scrape_metrics or None}
    t0 = time.monotonic()
    ok = True
    try:
        if args.soak:
            soak(args, result)
        else:
            result["tools_list"] = tools_list_size()
            standard(args, result)
    except Exception as e:  # a broken run still writes what it has
        result["failure"] = str(e)
        log("FAILED:", e)
        ok = False
    result["machine"]["loadavg_after"] = loadavg()
    result["wall_seconds"] = round(time.monotonic() - t0, 1)
    judge(result)

    errors = sum(p["errors_total"] for p in result.get("phases", []))
    for key in ("sandbox_comparison", "variant_rust_log_warn"):
        for r in result.get(key, {}).values():
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
    for t in result["targets"]:
        mark = {True: "met", False: "NOT met", None: "-"}[t["met"]]
        log(f"  {t['target']:<58} {t['goal']:>10}  {str(t['measured']):>28}  {mark}")

    if not args.quick and not args.out and os.path.exists(os.path.join(RESULTS, "latest.json")):
        import report
        report.write()
    if not ok or errors:
        log(f"broken: {'run failed' if not ok else ''} {errors} errors")
        sys.exit(1)


if __name__ == "__main__":
    main()
