#!/usr/bin/env bash
# Installs what mrcnn needs on a fresh Debian 12 machine: system packages and a project-local
# virtual environment (.venv) holding the torch wheel whose LibTorch we build against.
# Idempotent: a second run only checks, and takes seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

apt_packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev            # libFuzzer targets and sanitizers
  libturbojpeg0-dev libpng-dev        # image I/O
  libyaml-cpp-dev libsimdjson-dev libcli11-dev libfmt-dev
  libgloo-dev                         # headers for c10d's Gloo process group (multi-process)
  libcpp-httplib-dev libssl-dev       # mrcnn serve (HTTP), SHA-256 of weights
  libcurl4-openssl-dev                # weights by URL
  googletest libgtest-dev libgmock-dev libbenchmark-dev
)

missing=()
for package in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  "$python" -m venv .venv
fi

# Re-install only when the requirements change.
stamp=.venv/.mrcnn-requirements
wanted="$(sha256sum scripts/requirements.txt | cut -d' ' -f1)"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$wanted" ]]; then
  echo "setup: installing Python packages into .venv (torch is large: a few GB)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
  echo "$wanted" >"$stamp"
fi
scripts/setup_paddle.sh
echo "setup: ok"
