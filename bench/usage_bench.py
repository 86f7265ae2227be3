#!/usr/bin/env python3
"""Usage recording benchmark (see bench/usage.sh): tool calls/s at 64
connections with usage recording off, on SQLite and on PostgreSQL, in one
run and alternating (so drift on the shared machine hits every variant
alike); rows lost per recording run (calls answered vs rows stored after a
graceful stop); then `usage_report` time for a tenant with 1,000,000 rows
(examples/usage_report.rs). Reuses bench.py's wrk, fake upstream and
process helpers. Writes bench/results/usage.json and prints a Markdown
section for bench/RESULTS.md."""
import argparse, json, os, signal, sqlite3, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (bench.py: wrk, fake upstream, process helpers)

REPORT_BIN = os.path.join(bench.ROOT, "target", "release", "examples", "usage_report")


def tool_calls(port):
    _, body = bench.http_request(port, "GET", "/metrics")
    text = body.decode()
    total, dropped, written = 0, 0, 0
    for line in text.splitlines():
        if line.startswith("ds24_mcp_tool_calls_total{"):
            total += int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("ds24_mcp_usage_rows_dropped_total"):
            dropped = int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("ds24_mcp_usage_rows_written_total"):
            written = int(float(line.rsplit(" ", 1)[1]))
    return total, dropped, written


def count_rows(variant, url, psql):
    if variant == "off":
        return 0
    if variant == "sqlite":
        path = url[len("sqlite://"):]
        with sqlite3.connect(path) as db:
            return db.execute("select count(*) from usage_calls").fetchone()[0]
    out = subprocess.check_output(psql + ["-tAc", "select count(*) from usage_calls"], text=True)
    return int(out.strip())


def run_variant(variant, url, psql, upstream_port, args):
    port = bench.free_port()
    argv = bench.server_argv(port, upstream_port) + ["--database-url", url, "--max-concurrency", "0",
                                                     "--usage-recording", "off" if variant == "off" else "on",
                                                     "--shutdown-grace-secs", "10", "--replica-name", f"bench-{variant}"]
    env = dict(os.environ)
    env.pop("RUST_LOG", None)
    proc = bench.start(argv, env=env)
    bench.wait_healthy(port, proc)
    rows_before = count_rows(variant, url, psql)
    bench.run_wrk(port, "/mcp", "call-legacy", 64, args.warmup, {"server": proc.pid})
    r = bench.run_wrk(port, "/mcp", "call-legacy", 64, args.seconds, {"server": proc.pid})
    time.sleep(1)  # calls still in flight when wrk stopped are answered (and counted) first
    calls, dropped, written = tool_calls(port)
    # A graceful stop flushes the queue; then every answered call must be a row.
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        bench.stop(proc)
    rows = count_rows(variant, url, psql) - rows_before
    lost = None if variant == "off" else calls - rows
    out = {"variant": variant, "calls_per_s": round(r["rps"]), "requests": r["requests"], "errors": r["errors_total"],
           "p50_ms": r["latency_us"]["p50"] / 1000, "p99_ms": r["latency_us"]["p99"] / 1000, "server_cores": r["cpu"]["server"]["cores"],
           "server_ms_per_call": r["cpu"]["server"]["ms_per_req"], "foreign_cores": r["machine"]["foreign_cores"],
           "tool_calls": calls, "rows_stored": rows, "rows_lost": lost, "dropped_metric": dropped, "written_metric": written}
    bench.log(json.dumps(out))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sqlite-url", required=True)
    ap.add_argument("--postgres-url", required=True)
    ap.add_argument("--psql", required=True, help="psql command line (space separated) for the Postgres database")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--report-rows", type=int, default=1_000_000)
    ap.add_argument("--reports", type=int, default=50)
    ap.add_argument("--report-sqlite-url", required=True)
    ap.add_argument("--report-postgres-url", required=True)
    args = ap.parse_args()
    psql = args.psql.split(" ")
    result = {"machine": bench.machine_info(), "load_before": bench.loadavg(), "runs": []}
    upstream, upstream_port = bench.start_fake_upstream(2)
    try:
        for _ in range(args.rounds):
            for variant, url in [("off", args.sqlite_url), ("sqlite", args.sqlite_url), ("postgres", args.postgres_url)]:
                result["runs"].append(run_variant(variant, url, psql, upstream_port, args))
    finally:
        bench.stop(upstream)
    summary = {}
    for variant in ["off", "sqlite", "postgres"]:
        runs = [r for r in result["runs"] if r["variant"] == variant]
        summary[variant] = {"calls_per_s_median": statistics.median(r["calls_per_s"] for r in runs),
                            "calls_per_s": [r["calls_per_s"] for r in runs],
                            "rows_lost": None if variant == "off" else sum(r["rows_lost"] for r in runs),
                            "errors": sum(r["errors"] for r in runs)}
    off = summary["off"]["calls_per_s_median"]
    for variant in ["sqlite", "postgres"]:
        summary[variant]["vs_off_pct"] = round(100 * (summary[variant]["calls_per_s_median"] / off - 1), 1)
    result["throughput"] = summary
    result["load_after_throughput"] = bench.loadavg()
    result["reports"] = {}
    for backend, url in [("sqlite", args.report_sqlite_url), ("postgres", args.report_postgres_url)]:
        bench.log(f"seeding {args.report_rows} rows on {backend} and timing {args.reports} reports")
        out = subprocess.check_output([REPORT_BIN, url, str(args.report_rows), str(args.reports)], text=True)
        result["reports"][backend] = json.loads(out.strip().splitlines()[-1])
        bench.log(backend, result["reports"][backend])
    result["load_after"] = bench.loadavg()
    os.makedirs(bench.RESULTS, exist_ok=True)
    with open(os.path.join(bench.RESULTS, "usage.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({"throughput": summary, "reports": result["reports"], "load": [result["load_before"], result["load_after"]]}, indent=1))


if __name__ == "__main__":
    main()
