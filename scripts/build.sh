#!/usr/bin/env bash
# Configures (once) and builds mrcnn in build/. Extra arguments go to the CMake configure step.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build_dir="${MRCNN_BUILD_DIR:-build}"
if [[ ! -f $build_dir/build.ninja || $# -gt 0 ]]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRCNN_WARNINGS_AS_ERRORS=ON "$@"
fi
cmake --build "$build_dir" --parallel "$(nproc)"
