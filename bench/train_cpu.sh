#!/usr/bin/env bash
# CPU training speed: seconds per step of `mrcnn train` vs torchvision's maskrcnn_resnet50_fpn
# training step, same images, batch and thread count.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" >/dev/null
exec "$root/.venv/bin/python" -W ignore "$root/bench/train_cpu.py" "$@"
