#!/usr/bin/env bash
# CPU inference speed: mrcnn vs torchvision's eager Mask R-CNN with the same weights and images.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" >/dev/null
exec "$root/.venv/bin/python" -W ignore "$root/bench/infer_cpu.py" "$@"
