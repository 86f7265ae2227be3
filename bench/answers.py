#!/usr/bin/env python3
"""CPU per tool call by answer size, for the answer pass-through (issue 17).

Starts a fake Digistore24 (here, in Python: its speed does not matter, only
the server's CPU is measured) that answers `listProducts` with a page of
products of about 1, 12 or 48 KB, written either as Digistore24's PHP writes
JSON (its key order, `\\/` escapes) or already as serde_json writes it (keys
sorted, compact: the sandbox's form). The answer is chosen by the API key
the server forwards (`bench-12-php`), so one server process serves every
case. For each case it sends sequential `tools/call listProducts` calls with
the default `fields` (a projection) and with `fields: "*"` (nothing to
change), and measures the server's CPU:

  --mode proc       utime+stime from /proc/PID/stat over --calls calls (µs per call)
  --mode callgrind  the server under `valgrind --tool=callgrind`, counters zeroed
                    before and dumped after --calls calls (instructions per call;
                    steady on a shared machine)

Prints one JSON line per case and a table; --out FILE writes the JSON list.
Standard library only. Example:

  python3 bench/answers.py --server-bin target/release/digistore24-mcp --mode callgrind --calls 100
"""

import argparse
import glob
import http.client
import http.server
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

SIZES_KB = [1, 12, 48]
STYLES = ["php", "sorted"]


def product(i):
    """One product record as Digistore24 lists it (PHP key order)."""
    return {
        "id": str(635003 + i),
        "name": ["Achtsamkeits-Meditationskurs", "Yoga für Anfänger", "Zeitmanagement <kompakt>", "Kochkurs \"Italien\""][i % 4],
        "name_intern": f"course-{i}",
        "language": ["de", "en"][i % 2],
        "currency": "EUR,USD,CHF",
        "product_type_id": "2",
        "product_group_id": "33400",
        "product_group_name": "Online Courses",
        "affiliate_commission": "50.00",
        "is_active": "Y",
        "is_deleted": "N",
        "units_left": "infinite",
        "tag": "",
        "note": "",
        "created_at": "2024-10-23 22:49:27",
        "modified_at": "2025-06-24 22:49:27",
        "image_url": f"https://cdn.example/merchant_8348718/image/product/N{i:07d}.png",
    }


def body(size_kb, style):
    """A success envelope whose `data` is a product list of about `size_kb` KB."""
    products, text = [], ""
    while True:
        products.append(product(len(products)))
        data = {"products": products}
        if style == "php":
            # PHP's json_encode: insertion order, "/" escaped, non-ASCII as \\u escapes.
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")
        else:
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        if len(text.encode()) >= size_kb * 1024 - 450 or size_kb == 1 and len(products) == 2:
            break
    return ('{"api_version":"1.2","current_time":"2026-01-01 10:00:00","result":"success","data":' + text + "}").encode()


class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies = {}

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        answer = self.bodies.get(self.headers.get("x-ds-api-key", ""), b'{"result":"error","code":2,"message":"unknown key"}')
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Caller:
    """Sequential tool calls over one keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, key, arguments):
        payload = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                              "params": {"name": "listProducts", "arguments": arguments}})
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
                   "mcp-protocol-version": "2025-06-18", "authorization": f"Bearer {key}"}
        self.conn.request("POST", "/mcp", payload, headers)
        response = self.conn.getresponse()
        text = response.read()
        if response.status != 200 or b'"isError":false' not in text:
            raise SystemExit(f"broken answer for {key} {arguments}: {response.status} {text[:300]!r}")
        return len(text)

    def health(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request("GET", "/health")
        conn.getresponse().read()
        conn.close()


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def callgrind(command, pid, caller):
    """Runs callgrind_control COMMAND on PID, poking the server with /health
    until it is done (callgrind takes commands only while the program runs)."""
    process = subprocess.Popen(["callgrind_control", command, str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None:
        caller.health()
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-bin", default="target/release/digistore24-mcp")
    parser.add_argument("--mode", choices=["proc", "callgrind"], default="proc")
    parser.add_argument("--calls", type=int, default=0, help="calls per case (default 2000 proc, 100 callgrind)")
    parser.add_argument("--server-arg", action="append", default=[], help="extra server flag, e.g. --max-result-tokens=100000")
    parser.add_argument("--label", default="")
    parser.add_argument("--out")
    parser.add_argument("--sizes", default="1,12,48", help="answer sizes in KB, e.g. 1 or 1,48")
    parser.add_argument("--keep", help="callgrind: copy each case's dump to this folder (for callgrind_annotate)")
    args = parser.parse_args()
    calls = args.calls or (2000 if args.mode == "proc" else 100)

    Upstream.bodies = {f"bench-{kb}-{style}": body(kb, style) for kb in SIZES_KB for style in STYLES}
    up_port = free_port()
    upstream = ThreadingServer(("127.0.0.1", up_port), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()

    port = free_port()
    server = [args.server_bin, "serve", "--listen", f"127.0.0.1:{port}", "--api-base-url", f"http://127.0.0.1:{up_port}/api/call",
              "--confirm", "off", *args.server_arg]
    tmp = tempfile.mkdtemp(prefix="answers-cg-")
    if args.mode == "callgrind":
        server = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", *server]
    env = dict(os.environ, RUST_LOG=os.environ.get("RUST_LOG", "warn"))
    process = subprocess.Popen(server, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    results = []
    try:
        caller = Caller(port)
        for _ in range(600):
            try:
                caller.health()
                break
            except OSError:
                time.sleep(0.1)
        for kb in [int(size) for size in args.sizes.split(",")]:
            for style in STYLES:
                key = f"bench-{kb}-{style}"
                for fields in ["default", "*"]:
                    arguments = {} if fields == "default" else {"fields": "*"}
                    answer_bytes = caller.call(key, arguments)
                    for _ in range(5 if args.mode == "callgrind" else 50):
                        caller.call(key, arguments)
                    if args.mode == "proc":
                        before, started = cpu_ticks(process.pid), time.time()
                        for _ in range(calls):
                            caller.call(key, arguments)
                        ticks = cpu_ticks(process.pid) - before
                        per_call = ticks / os.sysconf("SC_CLK_TCK") / calls * 1e6
                        figure = {"cpu_us_per_call": round(per_call, 1), "wall_s": round(time.time() - started, 2)}
                    else:
                        callgrind("-z", process.pid, caller)
                        for _ in range(calls):
                            caller.call(key, arguments)
                        dumps = set(glob.glob(f"{tmp}/cg.out*"))
                        callgrind("-d", process.pid, caller)
                        new = sorted(set(glob.glob(f"{tmp}/cg.out*")) - dumps or dumps, key=os.path.getmtime)[-1]
                        if args.keep:
                            os.makedirs(args.keep, exist_ok=True)
                            shutil.copy(new, os.path.join(args.keep, f"cg-{kb}kb-{style}-{'all' if fields == '*' else 'default'}.out"))
                        totals = 0
                        with open(new) as f:
                            for line in f:
                                if line.startswith(("summary:", "totals:")):
                                    totals = int(line.split()[1])
                        figure = {"instructions_per_call": round(totals / calls)}
                    row = {"label": args.label, "upstream_kb": round(len(Upstream.bodies[key]) / 1024, 1), "style": style,
                           "fields": fields, "answer_bytes": answer_bytes, "calls": calls, **figure}
                    print(json.dumps(row), flush=True)
                    results.append(row)
    finally:
        process.terminate()
        process.wait(timeout=60)
        upstream.shutdown()
        for f in glob.glob(f"{tmp}/*"):
            os.remove(f)
        os.rmdir(tmp)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    key = "cpu_us_per_call" if args.mode == "proc" else "instructions_per_call"
    print(f"\n{'upstream KB':>11} {'style':>7} {'fields':>8} {'answer B':>9} {key:>22}", file=sys.stderr)
    for r in results:
        print(f"{r['upstream_kb']:>11} {r['style']:>7} {r['fields']:>8} {r['answer_bytes']:>9} {r[key]:>22}", file=sys.stderr)


if __name__ == "__main__":
    main()
