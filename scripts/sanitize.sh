#!/usr/bin/env bash
# Builds attnsim with clang's AddressSanitizer and UndefinedBehaviorSanitizer (plus
# float-cast-overflow and float-divide-by-zero, which the `undefined` group leaves out in GCC and
# partly in clang; -O1 -g, -O0 -g1 when bounded) into ${BUILD_DIR:-build-asan}, without CUDA and
# without benches, and runs tests under it. Any sanitizer report fails the run, even one from an
# attnsim child process whose exit code a test expected: reports go to files under the build
# folder, and the script fails when one exists.
#
#   scripts/sanitize.sh [cmake args...]            the whole test suite (ctest), sanitized
#   scripts/sanitize.sh --bounded [cmake args...]  what CI runs (.ci/run): only the libraries, the
#       attnsim executable and the fuzz-corpus replays are built sanitized (not the test program,
#       about 60% of the build); then the corpora are replayed through the parsers and the command
#       line, and the ordinary build's CLI tests (RELEASE_BUILD_DIR, default build, built first by
#       scripts/test.sh) run against the sanitized attnsim. Library unit tests run sanitized only in
#       the full mode.
#
# Environment: BUILD_DIR (default build-asan), JOBS (build and test jobs, default 2), CTEST_ARGS
# (extra ctest arguments in the full mode, e.g. "-R hf" for a subset).
set -euo pipefail
cd "$(dirname "$0")/.."
bounded=0
if [ "${1:-}" = "--bounded" ]; then
  bounded=1
  shift
fi
# clang (Debian's clang 14 with its sanitizer runtime): the sanitized build compiles in about half
# the CPU time GCC 12 takes (cli/cmd_models.cpp at -O0 with ASan and UBSan: 12 s against 20 s).
# SANITIZE_CXX picks another compiler (e.g. SANITIZE_CXX=g++); without clang, and where it cannot
# be installed, the build falls back to g++ with a note.
SANITIZE_CXX=${SANITIZE_CXX:-clang++}
if [ "$SANITIZE_CXX" = clang++ ]; then
  bash scripts/install-deps.sh clang libclang-rt-dev ||
    bash scripts/install-deps.sh
  if ! command -v clang++ >/dev/null; then
    echo "sanitize: clang++ not available, building with g++ (slower)" >&2
    SANITIZE_CXX=g++
  fi
else
  bash scripts/install-deps.sh
fi
BUILD_DIR=${BUILD_DIR:-build-asan}
RELEASE_BUILD_DIR=${RELEASE_BUILD_DIR:-build}
JOBS=${JOBS:-2}
sanitizers="-fsanitize=address,undefined,float-cast-overflow,float-divide-by-zero"
# The bounded mode compiles at -O0 with line tables only (-g1: reports still give file:line), which
# compiles in about half the time of -O1 -g (hwprofiles/profile_loader.cpp: 14 s against 26 s);
# the full mode keeps -O1 -g.
optimise="-O1 -g"
[ "$bounded" = 1 ] && optimise="-O0 -g1"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$SANITIZE_CXX" \
  -DCMAKE_CXX_FLAGS_DEBUG="$optimise -fno-omit-frame-pointer $sanitizers -fno-sanitize-recover=all" \
  -DCMAKE_EXE_LINKER_FLAGS="$sanitizers" \
  -DATTNSIM_CUDA=OFF -DATTNSIM_BUILD_BENCH=OFF -DATTNSIM_BUILD_TESTS=ON "$@" >/dev/null
fuzz_replays=(fuzz_profile fuzz_measurements fuzz_suite fuzz_hf_config fuzz_sweep_spec fuzz_cli)
if [ "$bounded" = 1 ]; then
  cmake --build "$BUILD_DIR" -j"$JOBS" --target attnsim "${fuzz_replays[@]}"
else
  cmake --build "$BUILD_DIR" -j"$JOBS"
fi

reports="$(cd "$BUILD_DIR" && pwd)/sanitizer-reports"
rm -rf "$reports" && mkdir -p "$reports"
# Distinct exit codes so that a report is never mistaken for attnsim's own exit 1 or 2.
export ASAN_OPTIONS="log_path=$reports/asan:exitcode=86:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:exitcode=87:halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="exitcode=86"
status=0
if [ "$bounded" = 1 ]; then
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" -R '^fuzz_corpus_' || status=$?
  export ATTNSIM_TEST_BINARY="$(cd "$BUILD_DIR" && pwd)/attnsim"
  tests="$RELEASE_BUILD_DIR/tests/attnsim_tests"
  if [ "$JOBS" -ge 2 ]; then
    # Two processes side by side (the validate CLI tests, and the rest): one runs every test case
    # in turn, each starting the sanitized attnsim.
    half="$BUILD_DIR/cli-tests-validate.log"
    "$tests" '[cli][validate]' >"$half" 2>&1 &
    pid=$!
    "$tests" '[cli]~[validate]' || status=$?
    wait "$pid" || status=$?
    cat "$half"
  else
    "$tests" '[cli]' || status=$?
  fi
else
  # shellcheck disable=SC2086
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" ${CTEST_ARGS:-} || status=$?
fi
# UBSan, linked in with ASan, ignores log_path and reports on stderr (seen on GCC 12): ctest keeps
# every test's output in LastTest.log, so its reports are found there too.
if grep -q "runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer" \
  "$BUILD_DIR/Testing/Temporary/LastTest.log" 2>/dev/null; then
  echo "sanitize: sanitizer reports in $BUILD_DIR/Testing/Temporary/LastTest.log:" >&2
  grep -A3 "runtime error:\|ERROR: AddressSanitizer\|ERROR: LeakSanitizer" \
    "$BUILD_DIR/Testing/Temporary/LastTest.log" >&2
  exit 1
fi
if compgen -G "$reports/*" >/dev/null; then
  echo "sanitize: sanitizer reports:" >&2
  for f in "$reports"/*; do echo "--- $f" >&2; cat "$f" >&2; done
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "sanitize: tests failed (exit $status)" >&2
  exit "$status"
fi
echo "sanitize: no sanitizer reports, all tests passed"
