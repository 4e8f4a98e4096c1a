#!/usr/bin/env bash
# pycocotools vs mrcnn loading a train2017-sized annotation file; prints the speed ratio and
# peak memory of both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" >/dev/null
exec "$root/.venv/bin/python" -W ignore "$root/bench/coco_load.py" "$@"
