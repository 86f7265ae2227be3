#!/usr/bin/env python3
"""Driver of the replica test (tests/replicas/run.sh). Python 3 standard library only.

Subcommands:
  ports N                  print N free loopback TCP ports (one line, spaces)
  wait-tcp PORT...         wait until each 127.0.0.1:PORT accepts connections
  wait-http URL...         wait until each URL answers 200
  nginx-conf ...           write the test's nginx config (template + deploy/nginx.conf)
  run ...                  the checks; prints "PASS <check>" / "FAIL <check>: reason"
  ipn-kill ...             (e) IPNs to a replica SIGKILLed mid-flight, resent like Digistore24

Only 127.0.0.1 is ever contacted.
"""

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

LOOPBACK = "127.0.0.1"


def log(message):
    print(f"  {message}", flush=True)


# ---------------------------------------------------------------- helpers


def cmd_ports(args):
    socks, ports = [], []
    for _ in range(args.n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((LOOPBACK, 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    print(" ".join(str(p) for p in ports))


def dead_process(pids):
    """The first of `pids` (run.sh's children) that has exited, if any."""
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return pid
        except OSError:
            return pid
    return None


def cmd_wait_tcp(args):
    deadline = time.monotonic() + args.timeout
    for port in args.ports:
        while True:
            if dead_process(args.pids):
                print(f"process {dead_process(args.pids)} exited before port {port} opened", file=sys.stderr)
                return 1
            try:
                socket.create_connection((LOOPBACK, int(port)), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    print(f"port {port} did not open within {args.timeout} s", file=sys.stderr)
                    return 1
                time.sleep(0.05)
    return 0


def cmd_wait_http(args):
    deadline = time.monotonic() + args.timeout
    for url in args.urls:
        assert url.startswith(f"http://{LOOPBACK}:"), url
        while True:
            if dead_process(args.pids):
                print(f"process {dead_process(args.pids)} exited before {url} answered", file=sys.stderr)
                return 1
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                print(f"{url} did not answer 200 within {args.timeout} s", file=sys.stderr)
                return 1
            time.sleep(0.05)
    return 0


def cmd_nginx_conf(args):
    """The test's nginx.conf: the template (process settings, temp paths,
    logs) with the site from deploy/nginx.conf included, its upstream servers
    replaced by the test's replicas and its `listen` by a loopback port."""
    with open(args.site) as f:
        site = f.read()
    # The test's replicas replace the deploy file's servers, with the same parameters.
    first = re.search(r"upstream\s+digistore24_mcp\s*\{[^}]*?^\s*server\s+[^\s;]+([^;\n]*);", site, flags=re.M)
    params = first.group(1) if first else ""
    servers = [f"    server {LOOPBACK}:{p}{params};" for p in args.upstream_ports]
    out, inside, found = [], False, False
    for line in site.splitlines():
        if re.match(r"\s*upstream\s+digistore24_mcp\s*\{", line):
            inside = found = True
            out.append(line)
            out.extend(servers)
            continue
        if inside and re.match(r"\s*\}", line):
            inside = False
        elif inside and re.match(r"\s*server\s", line):
            continue
        out.append(line)
    if not found:
        sys.exit("deploy/nginx.conf: no `upstream digistore24_mcp {` block found")
    listens = [i for i, line in enumerate(out) if re.match(r"\s*listen\s", line)]
    if len(listens) != 1:
        sys.exit(f"deploy/nginx.conf: {len(listens)} `listen` directives; the test expects exactly one")
    out[listens[0]] = re.sub(r"listen\s+[^;]+;", f"listen {LOOPBACK}:{args.port};", out[listens[0]])
    site = "\n".join(out) + "\n"
    with open(args.template) as f:
        conf = f.read()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = conf.replace("@PREFIX@", args.prefix).replace("@USER@", user)
    with open(os.path.join(args.prefix, "site.conf"), "w") as f:
        f.write(site)
    with open(os.path.join(args.prefix, "nginx.conf"), "w") as f:
        f.write(conf)


# ---------------------------------------------------------------- MCP calls


class Result:
    __slots__ = ("t0", "t1", "tenant", "tool", "status", "kind", "upstream", "detail", "data", "text")

    def __init__(self, t0, tenant, tool):
        self.t0, self.t1, self.tenant, self.tool = t0, None, tenant, tool
        self.status, self.kind, self.upstream, self.detail = None, None, "", ""
        self.data, self.text = None, ""


class Caller:
    """One keep-alive connection to nginx; never retries a call."""

    def __init__(self, port, host_header, timeout=20):
        self.port, self.host_header, self.timeout = port, host_header, timeout
        self.conn = None
        self.ids = 0

    def call(self, key, tool, arguments=None, t_origin=0.0):
        self.ids += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.ids, "method": "tools/call",
                           "params": {"name": tool, "arguments": arguments or {}}})
        headers = {
            "Host": self.host_header,
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
            "Authorization": f"Bearer {key}",
            "X-Request-Id": f"replicas-{os.getpid()}-{threading.get_ident()}-{self.ids}",
        }
        r = Result(time.monotonic() - t_origin, key, tool)
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=self.timeout)
            self.conn.request("POST", "/mcp", body=body, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
            r.status = resp.status
            r.upstream = resp.getheader("X-Upstream-Addr", "")
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            classify(r, resp.getheader("Content-Type", ""), raw)
        except (OSError, http.client.HTTPException) as e:
            r.kind, r.detail = "no_answer", f"{type(e).__name__}: {e}"
            self.close()
        r.t1 = time.monotonic() - t_origin
        return r

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def classify(r, content_type, raw):
    text = raw.decode("utf-8", "replace")
    if r.status != 200:
        r.kind, r.detail = "http_error", f"HTTP {r.status}: {' '.join(text.split())[:160]}"
        return
    if "text/event-stream" in content_type:
        datas = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
        text = next((d for d in datas if d), "")
    try:
        message = json.loads(text)
    except ValueError:
        r.kind, r.detail = "bad_body", f"not JSON: {text[:160]!r}"
        return
    if "error" in message:
        r.kind, r.detail = "rpc_error", json.dumps(message["error"])[:200]
        return
    result = message.get("result") or {}
    r.text = " ".join(c.get("text", "") for c in result.get("content", []) if isinstance(c, dict))
    if result.get("isError"):
        r.kind, r.detail = "tool_error", r.text[:200]
        return
    r.data = result.get("structuredContent")
    if r.data is None:
        try:
            r.data = json.loads(r.text)
        except ValueError:
            r.kind, r.detail = "bad_body", f"no structured content: {r.text[:160]!r}"
            return
    r.kind = "ok"


# ---------------------------------------------------------------- the checks


class Report:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, reason=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {reason}", flush=True)
        return ok


def addrs(upstream_addr):
    """The replicas named by nginx's $upstream_addr ("a:1, b:2" when retried)."""
    return re.findall(r"\d+\.\d+\.\d+\.\d+:\d+", upstream_addr or "")


def tenant_keys(n):
    return [f"sandbox-tenant-{i:02d}" for i in range(1, n + 1)]


def label_of(key):
    return key[len("sandbox-"):]


def baseline(args, report):
    """What each tenant sees before anything is killed."""
    caller = Caller(args.nginx_port, args.host)
    seen = {}
    problems = []
    for key in tenant_keys(args.tenants):
        for tool in ("getUserInfo", "listProducts"):
            r = caller.call(key, tool)
            if r.kind != "ok":
                problems.append(f"{key} {tool}: {r.kind} {r.detail}")
                continue
            seen[(key, tool)] = r.data
    caller.close()
    if problems:
        report.check("baseline: every tenant answers through nginx", False, "; ".join(problems[:4]))
        return None
    users = {key: seen[(key, "getUserInfo")] for key in tenant_keys(args.tenants)}
    ids = {json.dumps(u.get("user_id")) for u in users.values()}
    names = {json.dumps(u.get("user_name")) for u in users.values()}
    products = {json.dumps(seen[(k, "listProducts")], sort_keys=True) for k in tenant_keys(args.tenants)}
    distinct = len(ids) == len(names) == len(products) == args.tenants
    labelled = sum(1 for k, u in users.items() if label_of(k).replace("-", "_") in json.dumps(u)
                   or label_of(k) in json.dumps(u))
    log(f"baseline: {args.tenants} tenants, {len(ids)} distinct user ids, {len(products)} distinct product lists, "
        f"{labelled} identities name their tenant")
    report.check("baseline: each tenant key has its own account", distinct,
                 f"{len(ids)} distinct user ids, {len(names)} user names, {len(products)} product lists for {args.tenants} keys")
    return seen if distinct else None


def rate_limit_check(args, report):
    """Many calls at once with one key through the rate-limited nginx/replica set."""
    n, results, lock = args.rl_calls, [], threading.Lock()
    barrier = threading.Barrier(n)

    def fire():
        caller = Caller(args.rl_nginx_port, args.host)
        barrier.wait()
        r = caller.call(args.rl_key, "getUserInfo")
        caller.close()
        with lock:
            results.append(r)

    threads = [threading.Thread(target=fire) for _ in range(n)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    allowed = [r for r in results if r.kind == "ok"]
    limited = [r for r in results if r.kind == "tool_error" and "retry after" in r.text.lower()]
    other = [r for r in results if r not in allowed and r not in limited]
    upstreams = {a for r in results for a in addrs(r.upstream)}
    # Tokens that can have refilled while the calls ran, plus one for rounding.
    upper = int(args.rl_burst + args.rl_rps * elapsed) + 1
    log(f"rate limit: {n} calls in {elapsed:.2f} s -> {len(allowed)} allowed, {len(limited)} limited, "
        f"{len(other)} other; answered by {len(upstreams)} replicas ({', '.join(sorted(upstreams))})")
    if limited:
        log(f"rate limit: a refusal reads: {limited[0].text[:140]!r}")
    problems = []
    if other:
        problems.append(f"{len(other)} calls neither allowed nor rate limited, e.g. {other[0].kind} {other[0].detail}")
    if not args.rl_burst <= len(allowed) <= upper:
        problems.append(f"{len(allowed)} calls allowed, expected {int(args.rl_burst)}..{upper} "
                        f"(burst {args.rl_burst:g} shared by all replicas; {int(args.rl_burst) * args.replicas} would mean per-replica buckets)")
    if len(upstreams) < 2:
        problems.append(f"calls reached only {len(upstreams)} replica(s) ({', '.join(upstreams) or 'no X-Upstream-Addr'}); cannot tell shared from per-replica")
    report.check("(d) rate limit is shared by the replicas (Redis)", not problems, "; ".join(problems))


def load_check(args, report, seen):
    keys = tenant_keys(args.tenants)
    by_answer = {}
    for (key, tool), data in seen.items():
        by_answer.setdefault((tool, json.dumps(data, sort_keys=True)), key)
    results, lock = [], threading.Lock()
    origin = time.monotonic()
    stop_at = args.duration
    events = {}
    ready_during_drain = []

    def worker(i):
        caller = Caller(args.nginx_port, args.host)
        rng = random.Random(i)
        mine = []
        while time.monotonic() - origin < stop_at:
            key = rng.choice(keys)
            tool = rng.choice(("getUserInfo", "listProducts"))
            r = caller.call(key, tool, t_origin=origin)
            if r.kind == "ok":
                expected = seen[(key, tool)]
                if r.data != expected:
                    owner = by_answer.get((tool, json.dumps(r.data, sort_keys=True)))
                    if owner and owner != key:
                        r.kind, r.detail = "cross_tenant", f"{key} got the answer of {owner}"
                    else:
                        r.kind, r.detail = "wrong_answer", f"{key} {tool} differs from its baseline: {json.dumps(r.data)[:160]}"
            mine.append(r)
        caller.close()
        with lock:
            results.extend(mine)

    def killer():
        time.sleep(max(0.0, args.term_at - (time.monotonic() - origin)))
        events["term"] = time.monotonic() - origin
        os.kill(args.term_pid, signal.SIGTERM)
        # The draining replica, asked directly: /ready must say 503, /health 200,
        # and its answers carry Connection: close.
        time.sleep(0.2)
        for path in ("/ready", "/health"):
            try:
                c = http.client.HTTPConnection(LOOPBACK, args.term_port, timeout=3)
                c.request("GET", path)
                resp = c.getresponse()
                ready_during_drain.append((path, resp.status, resp.getheader("Connection", ""), resp.read()[:80]))
                c.close()
            except (OSError, http.client.HTTPException) as e:
                ready_during_drain.append((path, None, "", str(e)))
        time.sleep(max(0.0, args.kill_at - (time.monotonic() - origin)))
        events["kill"] = time.monotonic() - origin
        os.kill(args.kill_pid, signal.SIGKILL)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
    k = threading.Thread(target=killer)
    for t in threads:
        t.start()
    k.start()
    k.join()
    for t in threads:
        t.join()

    t_term, t_kill = events["term"], events["kill"]
    term_addr, kill_addr = f"{LOOPBACK}:{args.term_port}", f"{LOOPBACK}:{args.kill_port}"
    per_upstream = {}
    for r in results:
        for addr in addrs(r.upstream):
            per_upstream[addr] = per_upstream.get(addr, 0) + 1
    counts = {}
    for r in results:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    after_kill = sum(1 for r in results if r.t0 > t_kill + 1.0 and r.kind == "ok")
    log(f"load: {len(results)} calls in {args.duration:g} s by {args.concurrency} clients; SIGTERM replica 1 at "
        f"{t_term:.2f} s, SIGKILL replica 2 at {t_kill:.2f} s; outcomes {counts}")
    log(f"load: answered via {dict(sorted(per_upstream.items()))}; {after_kill} successful calls started >1 s after the SIGKILL")

    # (a) every call got an answer; failures only in flight on the SIGKILLed replica.
    unanswered = [r for r in results if r.kind == "no_answer"]
    report.check("(a) every call got an HTTP answer through nginx", not unanswered and after_kill > 0,
                 f"{len(unanswered)} calls got no answer, e.g. at {unanswered[0].t0:.2f} s: {unanswered[0].detail}"
                 if unanswered else "no successful call after the SIGKILL (did the last replica serve?)")
    failures = [r for r in results if r.kind not in ("ok", "cross_tenant", "no_answer")]
    excused, bad = [], []
    for r in failures:
        in_window = t_kill - 0.05 <= r.t1 and r.t0 <= t_kill + 1.0
        clear = r.kind == "http_error" and r.status in (502, 503, 504)
        on_killed = kill_addr in addrs(r.upstream)
        (excused if (in_window and clear and on_killed) else bad).append(r)
    for r in excused[:3]:
        log(f"failed in flight on the killed replica: {r.t0:.3f}..{r.t1:.3f} s, {r.detail[:100]}, upstream {r.upstream}")
    reason = []
    if bad:
        reason.append(f"{len(bad)} failures not explained by the SIGKILL, e.g. " + "; ".join(
            f"[{r.t0:.2f}..{r.t1:.2f} s {r.tenant} {r.tool} via {r.upstream or '?'}] {r.kind} {r.detail[:120]}" for r in bad[:3]))
    if len(excused) > args.concurrency:
        reason.append(f"{len(excused)} failures at the SIGKILL, more than the {args.concurrency} calls that can be in flight")
    report.check("(a) only calls in flight on the SIGKILLed replica failed, with a clear 502", not reason, "; ".join(reason))

    # (b) no answer carries another tenant's data.
    crossed = [r for r in results if r.kind == "cross_tenant"]
    report.check("(b) no answer carries another tenant's identity or products", not crossed,
                 f"{len(crossed)} answers, e.g. " + "; ".join(f"{r.t0:.2f} s via {r.upstream}: {r.detail}" for r in crossed[:3]))

    # (c, first half) the SIGTERMed replica drained: not ready, still alive, closing connections.
    ready = {p: (s, c) for p, s, c, _ in ready_during_drain}
    term_failures = [r for r in failures if term_addr in addrs(r.upstream) and r not in excused]
    ok = ready.get("/ready", (None, ""))[0] == 503 and ready.get("/health", (None, ""))[0] == 200 \
        and ready.get("/ready", (None, ""))[1].lower() == "close" and not term_failures
    detail = f"during the delay /ready -> {ready.get('/ready')}, /health -> {ready.get('/health')} (want 503 and 200 with Connection: close)"
    if term_failures:
        detail += f"; {len(term_failures)} calls failed on the draining replica: " + "; ".join(
            f"sent {r.t0 - t_term:.2f} s after SIGTERM (listener closes at {args.shutdown_delay:g} s): {r.detail[:60]}"
            for r in term_failures[:3])
    log(f"drain: {detail}")
    report.check("(c) SIGTERMed replica drained: /ready 503, Connection: close, no call lost", ok, detail)


def cmd_run(args):
    report = Report()
    seen = baseline(args, report)
    rate_limit_check(args, report)
    if seen is None:
        report.check("(a,b,c) load through nginx while replicas die", False, "skipped: no usable baseline")
    else:
        load_check(args, report, seen)
    return 1 if report.failed else 0


# ---------------------------------------------------------------- (e) IPN


def ipn_derive(secret, purpose, tenant):
    """A tenant's URL token MAC / passphrase, exactly as src/ipn/mod.rs derives them."""
    return hmac.new(secret.encode(), purpose.encode() + b"\0" + tenant.encode(), hashlib.sha256).hexdigest()[:32]


def ipn_body(order, passphrase):
    """A signed on_payment IPN as Digistore24 sends it (sha_sign as src/ipn/signature.rs checks it)."""
    fields = {"event": "on_payment", "order_id": order, "transaction_id": f"T{order}", "product_id": "42",
              "amount": "47.00", "currency": "EUR", "buyer_email": "replicas@example.com", "api_mode": "live"}
    data = "".join(f"{k}={v}{passphrase}" for k, v in sorted(fields.items(), key=lambda kv: kv[0].encode()) if v != "")
    fields["sha_sign"] = hashlib.sha512(data.encode()).hexdigest().upper()
    return urlencode(fields)


def ipn_post(port, path, body, timeout=10):
    """(status, text) of one IPN, or (None, error) when no answer came."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as e:
        return None, f"{type(e).__name__}: {e}"
    finally:
        conn.close()


def rows_by_order(psql, tenant):
    """{order_id: rows} of the tenant's stored IPNs, read with psql."""
    sql = f"SELECT order_id, count(*) FROM ipn_events WHERE tenant = '{tenant}' GROUP BY order_id"
    out = subprocess.run(shlex.split(psql) + [sql], capture_output=True, text=True, check=True).stdout
    return {order: int(n) for order, n in (line.split("|") for line in out.split())}


def cmd_ipn_kill(args):
    """Distinct signed IPNs to replica A, which is SIGKILLed while they are in
    flight; then, like Digistore24, every IPN that did not get OK (and a few
    that did) is sent again to replica B, until OK. Each must end as exactly
    one row in the shared Postgres: none lost, none doubled."""
    report = Report()
    token = f"{args.tenant}-{ipn_derive(args.secret, 'ipn-url', args.tenant)}"
    passphrase = ipn_derive(args.secret, "ipn-passphrase", args.tenant)
    path = f"/ipn/{token}"
    orders = [f"KILL{i:04d}" for i in range(args.count)]
    bodies = {o: ipn_body(o, passphrase) for o in orders}
    answers, lock, queue = {}, threading.Lock(), list(reversed(orders))
    killed = threading.Event()
    in_flight_at_kill = [0]
    sending = [0]

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                order = queue.pop()
                sending[0] += 1
            answer = ipn_post(args.a_port, path, bodies[order])
            with lock:
                sending[0] -= 1
                answers[order] = answer

    def killer():
        # Once a quarter is answered, the rest is in flight or queued.
        while len(answers) < args.count // 4:
            time.sleep(0.001)
        with lock:
            in_flight_at_kill[0] = sending[0]
        os.kill(args.a_pid, signal.SIGKILL)
        killed.set()

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)] + [threading.Thread(target=killer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok_on_a = [o for o in orders if answers[o] == (200, "OK")]
    not_ok = [o for o in orders if o not in ok_on_a]
    before = rows_by_order(args.psql, args.tenant)
    stored_unanswered = [o for o in not_ok if before.get(o, 0) == 1]
    log(f"IPN kill: {args.count} IPNs to replica A, SIGKILL with {in_flight_at_kill[0]} in flight: "
        f"{len(ok_on_a)} answered OK, {len(not_ok)} not ({len(stored_unanswered)} of them already committed)")
    report.check("(e) replica SIGKILLed mid-IPN: every OK is stored, anything else is one row or none",
                 killed.is_set() and not_ok and all(before.get(o) == 1 for o in ok_on_a) and all(before.get(o, 0) <= 1 for o in not_ok),
                 f"killed={killed.is_set()}, not OK={len(not_ok)}, OK but not stored={[o for o in ok_on_a if before.get(o) != 1][:5]}, "
                 f"doubled={[o for o, n in before.items() if n > 1][:5]}")

    # Digistore24 retries what got no OK (429/503 included) and re-sends some that did.
    resend = not_ok + ok_on_a[: args.resend_ok]
    pending, rounds = list(resend), 0
    while pending and rounds < 20:
        rounds += 1
        pending = [o for o in pending if ipn_post(args.b_port, path, bodies[o]) != (200, "OK")]
        if pending:
            time.sleep(0.5)
    after = rows_by_order(args.psql, args.tenant)
    lost = [o for o in orders if after.get(o, 0) == 0]
    doubled = [o for o in orders if after.get(o, 0) > 1]
    log(f"IPN kill: {len(resend)} resent to replica B in {rounds} round(s); {sum(after.values())} rows for {args.count} IPNs")
    report.check("(e) after Digistore24's retries on replica B each IPN is exactly one row",
                 not pending and not lost and not doubled and sum(after.values()) == args.count,
                 f"still not OK={len(pending)}, lost={lost[:5]}, doubled={doubled[:5]}, rows={sum(after.values())}")
    return 1 if report.failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("ports")
    s.add_argument("n", type=int)
    s.set_defaults(fn=cmd_ports)
    s = sub.add_parser("wait-tcp")
    s.add_argument("ports", nargs="+")
    s.add_argument("--timeout", type=float, default=30)
    s.add_argument("--pids", type=int, nargs="*", default=[], help="give up early when one of these exits")
    s.set_defaults(fn=cmd_wait_tcp)
    s = sub.add_parser("wait-http")
    s.add_argument("urls", nargs="+")
    s.add_argument("--timeout", type=float, default=30)
    s.add_argument("--pids", type=int, nargs="*", default=[], help="give up early when one of these exits")
    s.set_defaults(fn=cmd_wait_http)
    s = sub.add_parser("nginx-conf")
    s.add_argument("--site", required=True, help="deploy/nginx.conf")
    s.add_argument("--template", required=True)
    s.add_argument("--prefix", required=True, help="nginx prefix directory (written into)")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--upstream-ports", type=int, nargs="+", required=True)
    s.set_defaults(fn=cmd_nginx_conf)
    s = sub.add_parser("run")
    s.add_argument("--nginx-port", type=int, required=True)
    s.add_argument("--rl-nginx-port", type=int, required=True)
    s.add_argument("--host", required=True, help="Host header clients send (the public name)")
    s.add_argument("--tenants", type=int, default=16)
    s.add_argument("--replicas", type=int, default=3)
    s.add_argument("--concurrency", type=int, default=16)
    s.add_argument("--duration", type=float, default=6.0)
    s.add_argument("--term-at", type=float, default=2.0)
    s.add_argument("--kill-at", type=float, default=3.5)
    s.add_argument("--term-pid", type=int, required=True)
    s.add_argument("--term-port", type=int, required=True)
    s.add_argument("--shutdown-delay", type=float, default=1.0, help="the replicas' --shutdown-delay-secs")
    s.add_argument("--kill-pid", type=int, required=True)
    s.add_argument("--kill-port", type=int, required=True)
    s.add_argument("--rl-key", default="sandbox-ratelimit")
    s.add_argument("--rl-rps", type=float, default=5)
    s.add_argument("--rl-burst", type=float, default=5)
    s.add_argument("--rl-calls", type=int, default=30)
    s.set_defaults(fn=cmd_run)
    s = sub.add_parser("ipn-kill")
    s.add_argument("--a-port", type=int, required=True, help="replica A: gets the IPNs, then SIGKILL")
    s.add_argument("--a-pid", type=int, required=True)
    s.add_argument("--b-port", type=int, required=True, help="replica B: gets the resends")
    s.add_argument("--secret", required=True, help="the replicas' --ipn-secret")
    s.add_argument("--tenant", default="replicakill")
    s.add_argument("--count", type=int, default=200)
    s.add_argument("--concurrency", type=int, default=32)
    s.add_argument("--resend-ok", type=int, default=20, help="IPNs answered OK that are re-sent anyway")
    s.add_argument("--psql", required=True, help="psql command line taking the SQL as its last argument")
    s.set_defaults(fn=cmd_ipn_kill)
    args = p.parse_args()
    sys.exit(args.fn(args) or 0)


if __name__ == "__main__":
    main()
