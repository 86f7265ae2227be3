"""Turn one run of `@modelcontextprotocol/conformance server` into PASS/FAIL lines.

usage: conformance_report.py --version V --results DIR --expected FILE --exit-code RC --log FILE

Reads every `<results>/server-<scenario>-<timestamp>/checks.json` the suite
wrote and judges each scenario the way the suite's own --expected-failures
logic does (a scenario fails when any check is FAILURE or WARNING):

  all checks pass, none listed      PASS  conformance:<V> <scenario>
  fails only in listed checks       XFAIL conformance:<V> <scenario>: <reasons>   (not counted)
  fails in a check not listed       FAIL  conformance:<V> <scenario>: <first such check>
  a listed check passes             FAIL  ...: listed in <file> but passes now - remove the entry

Entries may name one check, `scenario:check-id`; then only that check is excused.
Every entry must carry a one-line reason as a trailing `# comment`. The suite's
exit code must agree with the verdict. Prints the suite's own totals at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

DIR_RE = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")
BAD = ("FAILURE", "WARNING")


def load_expected(path: str) -> tuple[dict[str, str], list[str]]:
    """{entry: reason} from the `server:` list of the YAML baseline, plus format problems."""
    entries: dict[str, str] = {}
    problems: list[str] = []
    section = None
    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^(\w+):\s*(\[\s*\])?\s*(#.*)?$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^\s+-\s+([^\s#]+)\s*(?:#\s*(.*))?$", line)
            if not m:
                problems.append(f"{os.path.basename(path)}:{lineno}: cannot parse {line.strip()!r}")
                continue
            if section != "server":
                continue
            name, reason = m.group(1), (m.group(2) or "").strip()
            if not reason:
                problems.append(f"{os.path.basename(path)}:{lineno}: entry {name!r} has no '# reason'")
            entries[name] = reason
    return entries, problems


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--version", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--expected", required=True)
    ap.add_argument("--exit-code", type=int, required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    client = f"conformance:{args.version}"
    expected, problems = load_expected(args.expected)
    failed_lines = 0

    def fail(check: str, reason: str) -> None:
        nonlocal failed_lines
        failed_lines += 1
        print(f"FAIL {client} {check}: {reason}")

    for problem in problems:
        fail("expected-failures-file", problem)

    scenarios: dict[str, list[dict]] = {}
    if os.path.isdir(args.results):
        for entry in sorted(os.listdir(args.results)):
            m = DIR_RE.match(entry)
            path = os.path.join(args.results, entry, "checks.json")
            if not m or not os.path.isfile(path):
                continue
            try:
                with open(path) as f:
                    scenarios[m.group("scenario")] = json.load(f)
            except ValueError as exc:
                fail(m.group("scenario"), f"unreadable checks.json: {exc}")
    if not scenarios:
        fail("suite", f"the suite produced no results (exit code {args.exit_code}); see {args.log}")
        return 1

    checks_passed = checks_failed = 0
    suite_passed = suite_failed = xfailed = 0
    for scenario, checks in sorted(scenarios.items()):
        bad = [c for c in checks if c.get("status") in BAD]
        checks_passed += sum(1 for c in checks if c.get("status") == "SUCCESS")
        checks_failed += sum(1 for c in checks if c.get("status") == "FAILURE")
        if bad:
            suite_failed += 1
        else:
            suite_passed += 1
        whole = scenario in expected
        per_check = {k.split(":", 1)[1]: v for k, v in expected.items() if k.startswith(scenario + ":")}
        if whole:
            if bad:
                xfailed += 1
                print(f"XFAIL {client} {scenario}: {expected[scenario]}")
            else:
                fail(scenario, f"listed in {os.path.basename(args.expected)} but passes now - remove the entry")
            continue
        unexcused = [c for c in bad if c.get("id") not in per_check]
        excused = [cid for cid in per_check if any(c.get("id") == cid and c.get("status") in BAD for c in checks)]
        stale = [cid for cid in per_check if cid not in excused
                 and any(c.get("id") == cid and c.get("status") == "SUCCESS" for c in checks)]
        for cid in stale:
            fail(f"{scenario}:{cid}", f"listed in {os.path.basename(args.expected)} but passes now - remove the entry")
        if unexcused:
            first = unexcused[0]
            detail = first.get("errorMessage") or (first.get("details") or {}).get("message") or first.get("description") or ""
            more = f" (+{len(unexcused) - 1} more failing checks)" if len(unexcused) > 1 else ""
            fail(scenario, f"check {first.get('id')} {first.get('status')}: {' '.join(str(detail).split())[:300]}{more}")
        elif excused:
            xfailed += 1
            print(f"XFAIL {client} {scenario}: {'; '.join(sorted({per_check[cid] for cid in excused}))}")
        elif not stale:
            print(f"PASS {client} {scenario}")

    ran = set(scenarios)
    for name in expected:
        if name.split(":", 1)[0] not in ran:
            print(f"NOTE {client}: expected-failure entry {name!r} names a scenario this run did not include", file=sys.stderr)

    if (failed_lines == 0) != (args.exit_code == 0):
        fail("suite-exit-code", f"the suite exited {args.exit_code} but the per-scenario verdict is "
                                f"{'clean' if failed_lines == 0 else 'failing'}; see {args.log}")
    print(f"INFO {client}: {suite_passed} scenarios passed, {suite_failed} failed, of which {xfailed} only in "
          f"expected-failure checks; checks: {checks_passed} passed, {checks_failed} failed")
    return 1 if failed_lines else 0


if __name__ == "__main__":
    sys.exit(main())
