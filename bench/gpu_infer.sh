#!/usr/bin/env bash
# gpu_infer: see bench/gpu_infer.py. Run on a machine with a GPU (scripts/gpu_check.sh calls it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${MRCNN_PYTHON:-python3}"
[[ -x "$root/.venv/bin/python" && -z "${MRCNN_PYTHON:-}" ]] && python="$root/.venv/bin/python"
exec "$python" -W ignore "$root/bench/gpu_infer.py" "$@"
