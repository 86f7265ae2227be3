#!/usr/bin/env python3
"""Medians of the experiment runs (bench/results/exp-r-*.json) by variant."""
import collections, glob, json, os, re, statistics

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "results")
d = collections.defaultdict(list)
meta = collections.defaultdict(lambda: {"idle": [], "peak": []})
for f in sorted(glob.glob(os.path.join(RESULTS, "exp-r-*.json"))):
    name = re.sub(r"-\d+$", "", os.path.basename(f)[len("exp-r-"):-len(".json")])
    r = json.load(open(f))
    for p in r.get("phases", []):
        if p["target"] == "server":
            d[name].append((p["mode"], p["rps"], p["cpu"]["server"]["ms_per_req"], p["machine"]["foreign_cores"]))
    meta[name]["idle"].append(r.get("rss_kib", {}).get("idle_after_start") or 0)
    meta[name]["peak"].append(r.get("rss_kib", {}).get("peak_sampled_under_load") or 0)
base = {name: statistics.median(x[2] for x in v) for name, v in d.items()}
print(f"{'variant':<10} {'n':>2} {'calls/s':>8} {'CPU ms':>8} {'legacy':>7} {'2026':>7} {'vs base':>8} {'vs bnone':>8} {'idle KiB':>9} {'other':>6}")
for name in d:
    v = d[name]
    cpu = statistics.median(x[2] for x in v)
    rel = lambda b: f"{(cpu / base[b] - 1) * 100:+.0f}%" if b in base else ""
    print(f"{name:<10} {len(v):>2} {statistics.median(x[1] for x in v):>8.0f} {cpu:>8.4f} "
          f"{statistics.median(x[1] for x in v if x[0] == 'call-legacy'):>7.0f} "
          f"{statistics.median(x[1] for x in v if x[0] == 'call-2026'):>7.0f} {rel('base'):>8} {rel('bnone'):>8} "
          f"{statistics.median(meta[name]['idle']):>9.0f} {max(x[3] for x in v):>6}")
