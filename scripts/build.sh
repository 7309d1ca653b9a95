#!/usr/bin/env bash
# Installs dependencies, configures and builds attnsim into ${BUILD_DIR:-build} (Release, -j2).
# Extra arguments go to the CMake configure step, e.g. -DATTNSIM_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"${JOBS:-2}"
