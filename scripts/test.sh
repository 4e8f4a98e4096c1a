#!/usr/bin/env bash
# The test command: set up the machine if needed, build, run every test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
scripts/build.sh
cd "${MRCNN_BUILD_DIR:-build}"
ctest --output-on-failure --parallel "$(nproc)"
