#!/usr/bin/env bash
# The main job on the built-in default data. Today it sets up, builds and reports the
# environment; training on the synthetic shapes set is not implemented yet.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
scripts/build.sh
build/bin/mrcnn env
echo
echo "demo: training on the synthetic shapes set is not implemented yet;"
echo "      the commands available today are listed by: build/bin/mrcnn --help"
