#!/usr/bin/env bash
# pycocotools vs mrcnn coco-eval on a generated val2017-sized set; prints the speed ratio.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" >/dev/null
exec "$root/.venv/bin/python" -W ignore "$root/bench/coco_eval.py" "$@"
