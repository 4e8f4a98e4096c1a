#!/usr/bin/env bash
# What a vendor backend's CPU fallback costs: seconds per training step of the shapes demo on
# the simulated `mlu` device (every operator without a device kernel runs on host copies)
# vs the same steps on the CPU.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" >/dev/null
exec "$root/.venv/bin/python" -W ignore "$root/bench/vendor_fallback.py" "$@"
