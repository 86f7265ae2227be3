"""The official conformance suite's `authorization` scenarios against `serve --oauth`.

Run by tests/clients/run.sh (group `oauth`). Registers a client by DCR with the suite's
callback (`http://127.0.0.1:PORT/callback`), starts `conformance authorization` (all
authorization-server scenarios: the metadata endpoint, then the code grant), and when the
suite prints the authorize URL and waits for a browser, does the browser's part: opens the
sign-in page, posts the sandbox key with the page's cookie and follows the redirect to the
suite's callback. One `PASS`/`FAIL conformance:authorization <scenario>` line per scenario
the suite sums up, plus one for the run itself.
"""

from __future__ import annotations

import argparse
import html
import re
import socket
import subprocess
import sys
import threading

import httpx2

CLIENT = "conformance:authorization"
KEY = "sandbox-writable"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def report(check: str, ok: bool, reason: str = "") -> None:
    print(f"PASS {CLIENT} {check}" if ok else f"FAIL {CLIENT} {check}: {' '.join(reason.split())[:400] or 'failed'}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign_in(authorize_url: str) -> str:
    """The browser's part; returns what went wrong, or an empty string."""
    with httpx2.Client(follow_redirects=False, timeout=30) as http:
        page = http.get(authorize_url)
        if page.status_code != 200:
            return f"GET /authorize answered {page.status_code}"
        match = re.search(r'name="request" value="([^"]+)"', page.text)
        cookie = page.headers.get("set-cookie", "").split(";")[0]
        if not match or not cookie:
            return "the sign-in page has no form or cookie"
        posted = http.post(authorize_url.split("?")[0], data={"request": html.unescape(match.group(1)), "api_key": KEY},
                           headers={"cookie": cookie})
        if posted.status_code != 303:
            return f"POST /authorize answered {posted.status_code}"
        http.get(posted.headers["location"])  # the suite's callback server
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--suite", required=True, help="path of the conformance suite's dist/index.js")
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    port = free_port()
    callback = f"http://127.0.0.1:{port}/callback"
    registered = httpx2.post(f"{args.issuer}/register", json={"redirect_uris": [callback], "client_name": "conformance suite",
                                                              "token_endpoint_auth_method": "none"}, timeout=30)
    if registered.status_code != 201:
        report("register", False, f"/register answered {registered.status_code}")
        return 1
    client_id = registered.json()["client_id"]
    command = [args.node, args.suite, "authorization", "--url", args.issuer, "--client-id", client_id,
               "--resource", f"{args.issuer}/mcp", "-p", str(port)]
    problems: list[str] = []
    with open(args.log, "w") as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        timer = threading.Timer(240, proc.kill)
        timer.start()
        try:
            for raw in proc.stdout:  # type: ignore[union-attr]
                line = ANSI.sub("", raw.rstrip("\n"))
                log.write(line + "\n")
                lines.append(line)
                if line.startswith(f"{args.issuer}/authorize?"):
                    problem = sign_in(line)
                    if problem:
                        problems.append(problem)
            code = proc.wait()
        finally:
            timer.cancel()
    scenarios = 0
    for line in lines:
        m = re.match(r"^\S+ ([\w-]+): (\d+) passed, (\d+) failed", line)
        if m:
            scenarios += 1
            report(m.group(1), m.group(3) == "0" and m.group(2) != "0", line)
    summary = next((l for l in lines if l.startswith("Total:")), "no summary")
    ok = code == 0 and scenarios >= 2 and not problems and summary.endswith(" 0 failed")
    report("run", ok, f"exit {code}; {summary}; {scenarios} scenarios; {'; '.join(problems)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
