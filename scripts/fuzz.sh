#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan and UBSan) into ${BUILD_DIR:-build-fuzz} and
# runs each for a bounded time. Seeds are the corpora kept in fuzz/corpus/<target>/ (real profiles,
# measurement CSVs, suites, HF configs and command lines); inputs found during a run go to
# BUILD_DIR/corpus/<target>/, crashes to BUILD_DIR/artifacts/<target>/. Any crash, hang (an input
# running past TIMEOUT seconds), leak or sanitizer report fails the script.
#
# Usage: scripts/fuzz.sh [target...]      (default: every target)
# Environment:
#   FUZZ_SECONDS   total time for all the targets together (default 60), split evenly
#   TIMEOUT        seconds one input may run before it counts as a hang (default 10)
#   UPDATE_CORPUS  1: merge the new inputs of this run into fuzz/corpus/<target>/ (minimised)
#   JOBS           build jobs (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-fuzz}
# Absolute: the targets change into a scratch directory, and libFuzzer reads corpus files lazily.
mkdir -p "$BUILD_DIR" && BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
root=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TIMEOUT=${TIMEOUT:-10}
all_targets=(profile measurements suite hf_config sweep_spec cli)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang)" >&2; exit 1; }
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DCMAKE_CXX_COMPILER=clang++ -DATTNSIM_FUZZ=ON -DATTNSIM_CUDA=OFF \
  -DATTNSIM_BUILD_TESTS=OFF -DATTNSIM_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"${JOBS:-2}" --target "${targets[@]/#/fuzz_}"

seconds=$(( FUZZ_SECONDS / ${#targets[@]} ))
[ "$seconds" -lt 1 ] && seconds=1
failed=()
for t in "${targets[@]}"; do
  work="$BUILD_DIR/corpus/$t" artifacts="$BUILD_DIR/artifacts/$t"
  seeds="$root/fuzz/corpus/$t"
  mkdir -p "$work" "$artifacts" "$seeds"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="$root/fuzz/$t.dict")
  echo "fuzz: $t for ${seconds}s"
  # -close_fd_mask=3: the target's own stdout/stderr (attnsim's tables and error lines) are
  # silenced; libFuzzer and the sanitizers still report on a copy of stderr.
  if ! ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
      "$BUILD_DIR/fuzz/fuzz_$t" "$work" "$seeds" "${dict[@]}" \
      -max_total_time="$seconds" -timeout="$TIMEOUT" -rss_limit_mb=4096 -max_len=8192 \
      -close_fd_mask=3 -print_final_stats=0 -artifact_prefix="$artifacts/" 2>"$BUILD_DIR/$t.log"; then
    failed+=("$t")
    echo "fuzz: $t FAILED; log: $BUILD_DIR/$t.log, inputs: $artifacts/" >&2
    grep -E "ERROR|SUMMARY|runtime error|Test unit written|deadly|timeout" "$BUILD_DIR/$t.log" | head -20 >&2
  else
    tail -n 2 "$BUILD_DIR/$t.log" | head -n 1
  fi
  if [ "${UPDATE_CORPUS:-0}" = 1 ]; then
    "$BUILD_DIR/fuzz/fuzz_$t" -merge=1 -close_fd_mask=3 "${dict[@]}" "$seeds" "$work" \
      2>>"$BUILD_DIR/$t.log"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no findings"
