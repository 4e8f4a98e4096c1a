#!/usr/bin/env bash
# The PaddleDetection reference for the parity tests: .venv-paddle with paddlepaddle, when
# PaddleDetection's own source is beside the project (MRCNN_PADDLE_REFERENCE, by default
# ../shared/reference/paddledetection, holding 2.7/ppdet). Without that source there is
# nothing to compare against, and the tests that need it say so and skip.
# Idempotent: reinstalls only when scripts/requirements-paddle.txt changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
reference="${MRCNN_PADDLE_REFERENCE:-$root/../shared/reference/paddledetection}"
if [[ ! -d $reference/2.7/ppdet ]]; then
  echo "setup: no PaddleDetection source at $reference/2.7/ppdet: the Paddle parity tests will skip"
  exit 0
fi
python="${PYTHON:-python3}"
if [[ ! -x .venv-paddle/bin/python ]]; then
  echo "setup: creating .venv-paddle (PaddleDetection reference for the tests)"
  "$python" -m venv .venv-paddle
fi
stamp=.venv-paddle/.mrcnn-requirements
wanted="$(sha256sum scripts/requirements-paddle.txt | cut -d' ' -f1)"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$wanted" ]]; then
  echo "setup: installing paddlepaddle and PaddleDetection's requirements into .venv-paddle"
  .venv-paddle/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-paddle.txt
  echo "$wanted" >"$stamp"
fi
