#!/usr/bin/env bash
# Serving: throughput and latency of `mrcnn serve` on the demo model at 1, 4 and 16 concurrent
# clients, with dynamic batching on and off, and the batching speed-up measured in the same run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build.sh" >/dev/null
exec "$root/.venv/bin/python" -W ignore "$root/bench/serve_load.py" "$@"
