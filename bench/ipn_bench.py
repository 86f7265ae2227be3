#!/usr/bin/env python3
"""IPN receiver benchmark (see bench/ipn.sh): commits per second with none
lost, and the latency from an IPN to the events_wait it wakes.

Against a running `serve --sandbox --ipn-secret SECRET`: derives the
sandbox vendor's URL token and passphrase exactly as src/ipn/mod.rs does,
signs distinct IPNs as src/ipn/signature.rs checks them, drives them with
wrk, then counts the stored rows."""
import argparse, hashlib, hmac, http.client, json, os, statistics, subprocess, tempfile, threading, time
from urllib.parse import urlencode

def derive(secret, purpose, tenant):
    mac = hmac.new(secret.encode(), purpose.encode() + b"\0" + tenant.encode(), hashlib.sha256)
    return mac.hexdigest()[:32]

def sign(fields, passphrase):
    data = "".join(f"{k}={v}{passphrase}" for k, v in sorted(fields.items(), key=lambda kv: kv[0].encode()) if v != "")
    return hashlib.sha512(data.encode()).hexdigest().upper()

def body(order, passphrase, event="on_payment"):
    fields = {"event": event, "order_id": order, "product_id": "42", "amount": "47.00", "currency": "EUR",
              "buyer_email": "bench@example.com", "api_mode": "test", "transaction_id": order}
    fields["sha_sign"] = sign(fields, passphrase)
    return urlencode(fields)

def mcp(host, port, name, arguments, timeout=60):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    payload = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}})
    conn.request("POST", "/mcp", payload, {"content-type": "application/json", "accept": "application/json, text/event-stream",
                                            "mcp-protocol-version": "2025-06-18"})
    answer = json.loads(conn.getresponse().read())
    return answer["result"]["structuredContent"]

WRK_LUA = r"""
local bodies, n = {}, 0
counter, errors, oks = 0, 0, 0  -- globals: done() reads them with thread:get
local file = io.open(os.getenv("IPN_BODIES"))
for line in file:lines() do n = n + 1; bodies[n] = line end
local threads, id = {}, 0
function setup(thread) id = id + 1; thread:set("tid", id); table.insert(threads, thread) end
function init(args) stride = tonumber(os.getenv("IPN_THREADS")) end
function request()
  counter = counter + 1
  local i = (counter - 1) * stride + tid
  if i > n then i = n end  -- out of bodies: the rest are duplicates (reported)
  return wrk.format("POST", os.getenv("IPN_PATH"), {["Content-Type"] = "application/x-www-form-urlencoded"}, bodies[i])
end
function response(status, headers, body) if status == 200 and body == "OK" then oks = oks + 1 else errors = errors + 1 end end
function done(summary, latency, requests)
  local sent, failed, ok = 0, 0, 0
  for _, t in ipairs(threads) do sent = sent + t:get("counter"); failed = failed + t:get("errors"); ok = ok + t:get("oks") end
  io.write(string.format("IPNBENCH sent=%d ok=%d failed=%d p99_ms=%.2f\n", sent, ok, failed, latency:percentile(99) / 1000))
end
"""

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bodies", type=int, default=200_000)
    ap.add_argument("--wakeups", type=int, default=100)
    ap.add_argument("--count-rows", required=True, help="shell command printing the number of stored rows")
    args = ap.parse_args()
    host = "127.0.0.1"
    tenant = mcp(host, args.port, "getUserInfo", {})["user_id"]
    token, passphrase = f"{tenant}-{derive(args.secret, 'ipn-url', tenant)}", derive(args.secret, "ipn-passphrase", tenant)
    path = f"/ipn/{token}"
    rows_before = int(subprocess.check_output(args.count_rows, shell=True).strip() or 0)

    # Wake-up latency first (idle server): IPN → the waiting events_wait answers.
    latencies = []
    for i in range(args.wakeups):
        woke = {}
        def waiter():
            mcp(host, args.port, "events_wait", {"event": "on_refund", "timeout": 10})
            woke["at"] = time.perf_counter()
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.05)
        sent = time.perf_counter()
        conn = http.client.HTTPConnection(host, args.port, timeout=10)
        conn.request("POST", path, body(f"W{os.getpid()}-{i}", passphrase, "on_refund"), {"content-type": "application/x-www-form-urlencoded"})
        assert conn.getresponse().read() == b"OK"
        t.join()
        latencies.append((woke["at"] - sent) * 1000)
    latencies.sort()

    with tempfile.TemporaryDirectory() as tmp:
        bodies = os.path.join(tmp, "bodies.txt")
        with open(bodies, "w") as f:
            for i in range(args.bodies):
                f.write(body(f"B{os.getpid()}-{i}", passphrase) + "\n")
        lua = os.path.join(tmp, "ipn.lua")
        with open(lua, "w") as f:
            f.write(WRK_LUA)
        env = dict(os.environ, IPN_BODIES=bodies, IPN_PATH=path, IPN_THREADS=str(args.threads))
        out = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.conns}", f"-d{args.seconds}s", "-s", lua, f"http://{host}:{args.port}"],
                             env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"wrk failed: {out.stdout}{out.stderr}")
        out = out.stdout
    line = next(l for l in out.splitlines() if l.startswith("IPNBENCH"))
    stats = dict(kv.split("=") for kv in line.split()[1:])
    sent, ok, failed = int(stats["sent"]), int(stats["ok"]), int(stats["failed"])
    rows = int(subprocess.check_output(args.count_rows, shell=True).strip()) - rows_before - args.wakeups
    if sent > args.bodies:
        print(f"note: {sent - args.bodies} requests repeated the last body (raise --bodies)")
    # Lost = answered OK but not stored. Requests still in flight when wrk
    # stops got no answer: Digistore24 would retry them.
    print(json.dumps({
        "ipns_sent": sent, "answered_ok": ok, "answered_not_ok": failed, "rows_committed": rows, "lost": max(0, ok - rows),
        "commits_per_second": round(rows / args.seconds), "receiver_p99_ms": float(stats["p99_ms"]),
        "wake_p50_ms": round(statistics.median(latencies), 2), "wake_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
        "conns": args.conns, "seconds": args.seconds,
    }))

if __name__ == "__main__":
    main()
