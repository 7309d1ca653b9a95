#!/usr/bin/env bash
# Finds where the tile engine prices a longer causal prefill below a shorter one: for each
# (device, kernel, head dim) it sweeps the sequence length in fine steps and lists every drop.
# The invariant grid (tests/sim/test_invariant_grid.cpp) checks the law at coarse lengths only;
# tests/sim/test_tile_monotone.cpp runs this fine check at the defaults below in CI. The script is
# for other ranges and steps, from the CLI. Usage:
#   scripts/monotone-sweep.sh [FROM TO STEP]   (default 256 16384 32; needs ./build)
# Prints one line per (device, kernel, head dim): steps, drops, the worst drop and where; exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/attnsim
[ -x "$bin" ] || { echo "monotone-sweep.sh: build first (scripts/build.sh)" >&2; exit 1; }
from=${1:-256} to=${2:-16384} step=${3:-32}
lengths=$(seq -s, "$from" "$step" "$to")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for combo in gb300:fa4 b200:fa4 gb200:cudnn h100:fa3 h100:fa2 a100:fa2; do
  hw=${combo%%:*} kernel=${combo##*:}
  for hd in 64 128; do
    "$bin" sweep --hw "$hw" --kernel "$kernel" --heads 32 --head-dim "$hd" --batch 4 \
      --seq-len "$lengths" --phase fwd --format csv > "$out"
    python3 - "$out" "$hw" "$kernel" "$hd" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
time_key = next(k for k in rows[0] if k.startswith("time"))
len_key = "seq_len" if "seq_len" in rows[0] else "q_len"
drops, worst, where, prev = 0, 0.0, "-", None
for row in rows:
    length, t = int(row[len_key]), float(row[time_key])
    if prev is not None and t < prev[1] * (1 - 1e-12):  # equal prices may differ in the last bit
        drops += 1
        d = (prev[1] - t) / prev[1]
        if d > worst:
            worst, where = d, f"{prev[0]} -> {length}"
    prev = (length, t)
print(f"{sys.argv[2]:8} {sys.argv[3]:6} hd {sys.argv[4]:>3}: {len(rows)} lengths, {drops} drops, "
      f"worst {worst * 100:.1f} % ({where})")
EOF
  done
done
