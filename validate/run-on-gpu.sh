#!/usr/bin/env bash
# Builds attnsim with the CUDA backend and runs the validation on a GPU machine that has nvcc (on
# PATH or in /usr/local/cuda/bin) and CMake (>= 3.25) but none of the Debian -dev packages and no
# network.
#
#   validate/run-on-gpu.sh [--sanitize] [--sdpa] [OUTDIR]   OUTDIR defaults to $OUT, else ./gpu-out
#       Steps, in this order, each writing its report before the next begins (so a time-out keeps
#       what finished): devices; first-run check (validate --backend cuda --check: every kernel
#       once, blocking launches, a fault names its kernel); the quick suite; the quick suite
#       calibrated; the ceilings; the latency probe (validate/probes/latency.cu: chain latencies,
#       one SM's bandwidth) into latency.txt; the breakdown, scaling and holdout suites
#       (validate/suites/, 15 repeats; the unfused and split-KV cases of every suite also time each
#       launch apart, in extra runs).
#       Any failed step makes the exit status 1. --sanitize (or SANITIZE=1) adds compute-sanitizer
#       memcheck and racecheck runs on a one-case suite; --sdpa (or SDPA=1) times PyTorch SDPA's
#       FlashAttention-2 and cuDNN backends with validate/probes/sdpa_timings.py (needs python3
#       with torch and triton) into sdpa-timings.csv; both last, in the time the reports leave.
#       Last, everything is packed into OUTDIR/gpu-run.tgz.
#
# A lent machine that returns only a few files from $OUT: give an OUTDIR outside it and copy the
# archive, e.g. `validate/run-on-gpu.sh --sanitize /tmp/g; cp /tmp/g/gpu-run.tgz "$OUT"/`.
#   validate/run-on-gpu.sh --prepare-deps
#       (on a machine that has them) copies the header-only dependencies into .deps/include:
#       /usr/include/{CLI,nlohmann,fmt} and /usr/include/eigen3 (as .deps/include/eigen3).
#
# .deps/ is git-ignored, so it has to be carried to the GPU machine explicitly. When .deps/include
# exists, this script writes minimal CMake package files for fmt (header-only: FMT_HEADER_ONLY),
# nlohmann_json, CLI11 and Eigen3 under the build directory and points find_package at them, so
# the project's CMakeLists.txt needs no change. Without .deps/ the packages must be installed.
#
# The CUDA backend is the module attnsim_cuda.so, built next to the attnsim binary and opened by it
# for the CUDA commands only; the script checks that it is there and that it loads (devices step).
#
# Writes to OUTDIR: environment.txt, devices.txt, validate-cuda-check.json,
# validate-cuda-quick.json, validate-cuda-quick.txt, validate-cuda-quick-calibrated.json,
# validate-cuda-ceilings.json, latency.txt, validate-cuda-scaling.json, validate-cuda-holdout.json,
# validate-cuda-breakdown.json,
# with --sanitize validate-cuda-sanitize-{memcheck,racecheck}.json, with --sdpa sdpa-timings.csv,
# configure.log, build.log and one .log per step, then gpu-run.tgz holding all of them. The whole
# run is bounded to < 8 min.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.deps/include"

if [[ "${1:-}" == "--prepare-deps" ]]; then
  set -e
  mkdir -p "$DEPS"
  for d in CLI nlohmann fmt eigen3; do
    rm -rf "${DEPS:?}/$d"
    cp -r "/usr/include/$d" "$DEPS/$d"
  done
  du -sh "$DEPS"
  exit 0
fi

SANITIZE="${SANITIZE:-0}"
SDPA="${SDPA:-0}"
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --sanitize) SANITIZE=1 ;;
    --sdpa) SDPA=1 ;;
    *) echo "unknown option $1 (--sanitize, --sdpa, --prepare-deps)"; exit 2 ;;
  esac
  shift
done

# nvcc is often installed but not on PATH.
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="$PATH:/usr/local/cuda/bin"
fi
NVCC="$(command -v nvcc || true)"
[[ -n "$NVCC" ]] || { echo "nvcc not found on PATH or in /usr/local/cuda/bin"; exit 1; }

OUTDIR="${1:-${OUT:-./gpu-out}}"
mkdir -p "$OUTDIR"
OUTDIR="$(cd "$OUTDIR" && pwd)"
# A reused OUTDIR: this run's outputs only (a step skipped for time leaves no older report behind).
rm -f "$OUTDIR"/validate-cuda-*.json "$OUTDIR"/validate-cuda-*.txt "$OUTDIR"/*.log \
  "$OUTDIR"/latency.txt "$OUTDIR"/devices.txt "$OUTDIR"/sdpa-timings.csv "$OUTDIR"/gpu-run.tgz
BUILD="${BUILD_DIR:-$ROOT/build-gpu}"
ARCHS="${CUDA_ARCHS:-90}"  # H100/H200; use "80;90" for a fat binary
START=$SECONDS
DEADLINE=$((START + 470))  # leaves margin under 8 minutes

left() { echo $((DEADLINE - SECONDS)); }
step() { echo "== $* ($((SECONDS - START)) s)"; }

# Runs "$@" under the remaining time budget (at most $1 seconds), logging to OUTDIR/$2.log.
bounded() {
  local cap=$1 log=$2
  shift 2
  local t
  t=$(left)
  ((t > cap)) && t=$cap
  if ((t < 5)); then
    echo "skipped (time budget spent): $*" | tee "$OUTDIR/$log.log"
    return 124
  fi
  timeout --kill-after=5 "$t" "$@" >"$OUTDIR/$log.log" 2>&1
  local rc=$?
  echo "   rc=$rc ($log.log)"
  return $rc
}

write_pkg() {  # name version body
  local dir="$BUILD/deps-cmake/$1"
  mkdir -p "$dir"
  printf '%s\n' "$3" >"$dir/$1Config.cmake"
  cat >"$dir/$1ConfigVersion.cmake" <<VER
set(PACKAGE_VERSION "$2")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
endif()
VER
  CMAKE_DEPS+=("-D$1_DIR=$dir")
}

CMAKE_DEPS=()
if [[ -d "$DEPS" ]]; then
  step "header-only dependencies from $DEPS"
  write_pkg fmt 9.1.0 "if(NOT TARGET fmt::fmt)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES INTERFACE_INCLUDE_DIRECTORIES \"$DEPS\"
                        INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
endif()"
  write_pkg nlohmann_json 3.11.2 "if(NOT TARGET nlohmann_json::nlohmann_json)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
                        INTERFACE_INCLUDE_DIRECTORIES \"$DEPS\")
endif()"
  write_pkg CLI11 2.1.2 "if(NOT TARGET CLI11::CLI11)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES \"$DEPS\")
endif()"
  write_pkg Eigen3 3.4.0 "if(NOT TARGET Eigen3::Eigen)
  add_library(Eigen3::Eigen INTERFACE IMPORTED)
  set_target_properties(Eigen3::Eigen PROPERTIES INTERFACE_INCLUDE_DIRECTORIES \"$DEPS/eigen3\")
endif()"
fi

{
  echo "host: $(hostname)  date: $(date -u +%FT%TZ)"
  # Driver, clocks (current and maximum) and power limit, beside the reports.
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=index,name,driver_version,memory.total,\
clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.limit,power.max_limit --format=csv
  "$NVCC" --version | tail -1
  cmake --version | head -1
} >"$OUTDIR/environment.txt" 2>&1

step "configure ($BUILD, CUDA archs $ARCHS)"
bounded 120 configure cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DATTNSIM_CUDA=ON \
  -DATTNSIM_BUILD_TESTS=OFF -DATTNSIM_BUILD_BENCH=OFF "-DCMAKE_CUDA_ARCHITECTURES=$ARCHS" \
  "-DCMAKE_CUDA_COMPILER=$NVCC" ${CMAKE_DEPS[@]+"${CMAKE_DEPS[@]}"} || { tail -30 "$OUTDIR/configure.log"; exit 1; }

step "build"
bounded 300 build cmake --build "$BUILD" -j16 || { tail -40 "$OUTDIR/build.log"; exit 1; }
ATTNSIM="$(find "$BUILD" -maxdepth 3 -type f -name attnsim -perm -u+x | head -1)"
[[ -x "$ATTNSIM" ]] || { echo "attnsim binary not found under $BUILD"; exit 1; }
# attnsim opens the CUDA module next to itself; an inherited override would test another build.
MODULE="$(dirname "$ATTNSIM")/attnsim_cuda.so"
[[ -f "$MODULE" ]] || { echo "CUDA module not found next to $ATTNSIM (expected $MODULE)"; exit 1; }
unset ATTNSIM_CUDA_MODULE

status=0
step "devices"
bounded 30 devices "$ATTNSIM" validate --devices || status=1
cp "$OUTDIR/devices.log" "$OUTDIR/devices.txt"
if grep -q "CUDA backend unavailable" "$OUTDIR/devices.txt"; then
  grep "CUDA backend unavailable" "$OUTDIR/devices.txt"
  status=1
fi

step "first-run check (every kernel once, blocking launches)"
# A failed check (a wrong result or a fault, named in check.log) fails the run; the timed steps
# still run, each in a fresh process, so the other kernels are measured.
if ! bounded 90 check "$ATTNSIM" validate --backend cuda --check --format json \
  -o "$OUTDIR/validate-cuda-check.json"; then
  tail -5 "$OUTDIR/check.log"
  status=1
fi

step "quick suite (json)"
bounded 120 quick-json "$ATTNSIM" validate --backend cuda --suite quick --ceilings no \
  --format json -o "$OUTDIR/validate-cuda-quick.json" || status=1
step "quick suite (table)"
bounded 90 quick-table "$ATTNSIM" validate --backend cuda --suite quick --ceilings no \
  -o "$OUTDIR/validate-cuda-quick.txt" || status=1
step "quick suite calibrated (json)"
bounded 120 quick-calibrate "$ATTNSIM" validate --backend cuda --suite quick --ceilings no \
  --calibrate --format json -o "$OUTDIR/validate-cuda-quick-calibrated.json" || status=1
step "ceilings (with the check suite)"
bounded 90 ceilings "$ATTNSIM" validate --backend cuda --check --ceilings yes --format json \
  -o "$OUTDIR/validate-cuda-ceilings.json" || status=1
step "latency probe (validate/probes/latency.cu)"
# Built for the GPU present (-arch=native), whatever CUDA_ARCHS the project was built for.
rm -f "$OUTDIR/latency.log" "$OUTDIR/latency.txt" "$BUILD/latency-probe"
if bounded 60 latency-build "$NVCC" -O3 -std=c++17 -arch=native -o "$BUILD/latency-probe" \
  "$ROOT/validate/probes/latency.cu" && bounded 30 latency "$BUILD/latency-probe"; then
  cp "$OUTDIR/latency.log" "$OUTDIR/latency.txt"
else
  status=1
fi

# breakdown first: it is the suite shaped for the launches timed apart, whose extra runs lengthen
# every suite with unfused or split-KV cases, so a time-out would cut the others first.
for suite in breakdown scaling holdout; do
  step "$suite suite (json, 15 repeats)"
  bounded 60 "$suite" "$ATTNSIM" validate --backend cuda --suite "$ROOT/validate/suites/$suite.json" \
    --repeats 15 --ceilings no --format json -o "$OUTDIR/validate-cuda-$suite.json" || status=1
done
# Last, so that a slow sanitizer or probe cannot take the time the reports need.
if [[ "$SANITIZE" == 1 ]]; then
  SANITIZER="$(command -v compute-sanitizer || true)"
  # One small case: the flash kernel with GQA, a causal mask and a length off the tile grid.
  cat >"$OUTDIR/sanitize-suite.json" <<'JSON'
{"name": "sanitize", "cases": [{"name": "flash-gqa-causal-130-d64", "kernel": "flash",
  "batch": 1, "heads": 4, "kv_heads": 2, "head_dim": 64, "q_len": 130, "kv_len": 130}]}
JSON
  for tool in memcheck racecheck; do
    step "compute-sanitizer $tool (one case)"
    if [[ -z "$SANITIZER" ]]; then
      echo "   compute-sanitizer not found; skipped"
      continue
    fi
    bounded 90 "sanitize-$tool" "$SANITIZER" --tool "$tool" --error-exitcode 3 "$ATTNSIM" \
      validate --backend cuda --check --suite "$OUTDIR/sanitize-suite.json" --format json \
      -o "$OUTDIR/validate-cuda-sanitize-$tool.json" || status=1
  done
fi

if [[ "$SDPA" == 1 ]]; then
  step "PyTorch SDPA timings (validate/probes/sdpa_timings.py)"
  export PYTHONUNBUFFERED=1
  bounded 150 sdpa python3 "$ROOT/validate/probes/sdpa_timings.py" \
    "$OUTDIR/sdpa-timings.csv" || status=1
fi

step "done, status $status"
if ! tar czf "$OUTDIR/gpu-run.tgz" -C "$OUTDIR" --exclude gpu-run.tgz .; then
  echo "could not pack $OUTDIR into gpu-run.tgz"
  status=1
fi
exit $status
