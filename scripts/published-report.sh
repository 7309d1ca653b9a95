#!/usr/bin/env bash
# Regenerates the published-timings validation report (validate/results/DATE-published-timings.*)
# from every file of validate/data/measured/ except ceilings.csv, in the order the README table
# lists them. Usage: scripts/published-report.sh [DATE] (default: today, UTC). Needs ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
date=${1:-$(date -u +%F)}
bin=build/attnsim
[ -x "$bin" ] || { echo "published-report.sh: build first (scripts/build.sh)" >&2; exit 1; }
files=(fa2_a100_fwd_bwd fa3_h100_fwd flash_decoding_a100 ascend_910b_torch_npu gb200_cudnn_fa2
  fa3_h100_bwd_independent b200_fa2_fa4 nsa_repo_flash_gqa gla_h200_chunk ascend_910b_pto_dsl
  flashmla_h20_decode b200_fa4_cudnn_fwd lightning_gb200_fla nsa_triton_selected
  nsa_triton_compressed ascend_910b_pto_isa_jit gb300_fa4_cudnn_fwd hopper_cudnn_fa
  lightning_gb300_fla fa3_h20_paged_decode flashinfer_h20_decode flashinfer_tc_decode
  natten_profiler)
args=()
for f in "${files[@]}"; do args+=(--measurements "validate/data/measured/$f.csv"); done
for f in validate/data/measured/*.csv; do
  name=$(basename "$f" .csv)
  [ "$name" = ceilings ] && continue
  [[ " ${files[*]} " == *" $name "* ]] || { echo "published-report.sh: $f is not listed" >&2; exit 1; }
done
out=validate/results/$date-published-timings
"$bin" validate "${args[@]}" > "$out.txt"
"$bin" validate "${args[@]}" --format json -o "$out.json"
"$bin" validate "${args[@]}" --calibrate > "$out-calibrated.txt"
echo "wrote $out.txt, $out.json, $out-calibrated.txt"
