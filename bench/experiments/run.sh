#!/usr/bin/env bash
# The experiments behind bench/NOTES.md "What I would change". Not part of the
# standard run. Needs two extra builds of the server:
#   LTO:     a copy of the tree built with
#            CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 cargo build --release
#   PATCHED: a copy of the tree with toggles.patch applied (each change behind an
#            environment variable: EXP_URL, EXP_ANSWER, EXP_ONELOG), cargo build --release
# and Debian's libmimalloc2.0 (apt-get install libmimalloc2.0).
# Usage: LTO=/path/to/lto/digistore24-mcp PATCHED=/path/to/patched/digistore24-mcp bash bench/experiments/run.sh
# Then: python3 bench/experiments/summary.py
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
: "${LTO:?path of the LTO build}" "${PATCHED:?path of the patched build}"
MI=LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
COMMON=(--conns 64 --modes call-legacy,call-2026,call-legacy,call-2026 --no-sandbox --seconds 6 --coldstart-runs 3)
run() { name=$1; shift; echo "== $name $(cat /proc/loadavg)"; python3 bench/bench.py "${COMMON[@]}" --out "bench/results/exp-r-$name.json" "$@" 2>&1 | grep -E "server call|FAILED" || true; }
for round in 1 2; do
  run base-$round
  run lto-$round --server-bin "$LTO"
  run mimalloc-$round --server-env "$MI"
  run nocolor-$round --server-env NO_COLOR=1
  run logwarn-$round --rust-log warn
  run bnone-$round --server-bin "$PATCHED"
  run burl-$round --server-bin "$PATCHED" --server-env EXP_URL=1
  run banswer-$round --server-bin "$PATCHED" --server-env EXP_ANSWER=1
  run bonelog-$round --server-bin "$PATCHED" --server-env EXP_ONELOG=1
  run ball-$round --server-bin "$PATCHED" --server-env EXP_URL=1 --server-env EXP_ANSWER=1 --server-env EXP_ONELOG=1 --server-env NO_COLOR=1
  run ballmi-$round --server-bin "$PATCHED" --server-env EXP_URL=1 --server-env EXP_ANSWER=1 --server-env EXP_ONELOG=1 --server-env NO_COLOR=1 --server-env "$MI"
done
