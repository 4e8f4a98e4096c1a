#!/usr/bin/env bash
# The GPU check, one command on a machine with an NVIDIA GPU and torch (no network needed):
#   scripts/gpu_check.sh
# It uses gpu_bundle/ (made by scripts/gpu_bundle.sh on a build machine) or an existing build/.
# Steps: environment, CUDA kernels against the CPU ones (forward and backward), a few training
# steps on CUDA (fp32: finite and falling losses; --amp float16, bfloat16 and float16 with
# channels_last: finite; images preprocessed on the GPU, the default there), then the
# GPU benchmarks against torchvision. It ends with a summary block whose last line starts with
# TARGETS MET or TARGETS MISSED. MRCNN_GPU_CHECK_DEVICE=cpu runs the same steps on the CPU at
# the smallest sizes and step counts, in fp32, to check the script itself (its timings and the
# falling-loss check mean nothing there).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$(date +%s)
device="${MRCNN_GPU_CHECK_DEVICE:-cuda}"
python="${MRCNN_PYTHON:-python3}"
[[ -x .venv/bin/python && -z "${MRCNN_PYTHON:-}" ]] && python=.venv/bin/python
work="$(mktemp -d /tmp/mrcnn_gpu_check.XXXXXX)"
summary=()
failed=0
note() { summary+=("$1"); echo "== $1"; }

# Programs: the bundle's, else a local build.
if [[ -x gpu_bundle/bin/mrcnn ]]; then
  bin="$root/gpu_bundle/bin"
  torch_lib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
  site="$(dirname "$(dirname "$torch_lib")")"
  nvidia_libs="$(ls -d "$site"/nvidia/*/lib "$site"/nvidia/cu*/lib 2>/dev/null | tr '\n' ':')"
  export LD_LIBRARY_PATH="$root/gpu_bundle/lib:$torch_lib:$nvidia_libs${LD_LIBRARY_PATH:-}"
  # The machine's own torchvision is built for its Python; the bundled one is the fallback.
  if ! "$python" -c "import torchvision" >/dev/null 2>&1; then
    export PYTHONPATH="$root/gpu_bundle/python${PYTHONPATH:+:$PYTHONPATH}"
  fi
  if ! "$bin/mrcnn" --version >/dev/null 2>&1; then
    # The host's libstdc++ is older than the build machine's: use the bundled one.
    export LD_LIBRARY_PATH="$root/gpu_bundle/lib/fallback:$LD_LIBRARY_PATH"
  fi
else
  bin="$root/build/bin"
  [[ -x "$bin/mrcnn" ]] || { echo "gpu_check: no gpu_bundle/ and no build/; run scripts/gpu_bundle.sh" >&2; exit 1; }
  cp build/tests/test_ops "$bin/test_ops" 2>/dev/null || true
fi
mrcnn="$bin/mrcnn"
note "reference: $("$python" -c 'import os, torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__, "in", os.path.dirname(os.path.dirname(torchvision.__file__)))' 2>&1 | tail -n 1)"
"$mrcnn" --version || { echo "gpu_check: $mrcnn does not start" >&2; exit 1; }

step() {  # step NAME COMMAND...: runs, records PASS/FAIL with the time taken
  local name="$1"; shift
  local t0=$(date +%s)
  if "$@" > "$work/$name.log" 2>&1; then
    note "PASS $name ($(( $(date +%s) - t0 )) s)"
  else
    note "FAIL $name ($(( $(date +%s) - t0 )) s): see below"
    tail -n 30 "$work/$name.log"
    failed=1
  fi
}

"$mrcnn" env --device "$device" | tee "$work/env.log"

# 1. Every op's CUDA kernel against its CPU kernel.
if [[ "$device" == cuda* ]]; then
  step cuda_ops bash -c "'$bin/test_ops' --gtest_filter='CudaOps.*' && ! grep -q SKIPPED <('$bin/test_ops' --gtest_filter='CudaOps.*')"
fi

# 2. Training steps on the device.
"$mrcnn" make-shapes --out "$work/shapes" --train 32 --val 8 --size 192x192 --seed 4 >/dev/null
data=(-o "TrainDataset.dataset_dir=$work/shapes" "EvalDataset.dataset_dir=$work/shapes" "save_dir=$work/out" log_iter=1 worker_num=2)
check_losses() {  # check_losses METRICS MUST_FALL
  "$python" - "$1" "$2" <<'PY'
import json, math, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l]
losses = [s["loss"] for s in steps]
assert losses and all(math.isfinite(x) for x in losses), losses
if sys.argv[2] == "1":
    k = max(len(losses) // 4, 1)
    first, last = sum(losses[:k]) / k, sum(losses[-k:]) / k
    assert last < 0.8 * first, (first, last)
print("losses", ["%.3f" % x for x in losses[:3]], "...", ["%.3f" % x for x in losses[-3:]])
syncs = sorted(s["host_syncs_per_step"] for s in steps[1:] if "host_syncs_per_step" in s)
if syncs:  # counted on CUDA; the first step (cuDNN autotuning, first allocations) left out
    print("host syncs per step: median %.1f, range %.1f-%.1f" % (syncs[len(syncs) // 2], syncs[0], syncs[-1]))
PY
}
train() {  # train NAME MUST_FALL ARGS...
  local name="$1" fall="$2"; shift 2
  rm -rf "$work/out"
  "$mrcnn" train -c tests/cli/configs/tiny_shapes.yml --device "$device" "${data[@]}" "$@" &&
    check_losses "$work/out/tiny_shapes/metrics.jsonl" "$fall"
}
if [[ "$device" == cpu ]]; then long=3 short=2 fall=0; else long=60 short=20 fall=1; fi
step train_fp32 train fp32 "$fall" --iters "$long"
step train_amp_fp16 train fp16 0 --iters "$short" --amp -o amp_dtype=float16
step train_amp_bf16 train bf16 0 --iters "$short" --amp -o amp_dtype=bfloat16
step train_amp_fp16_channels_last train nhwc 0 --iters "$short" --amp -o amp_dtype=float16 channels_last=true
for name in train_fp32 train_amp_fp16; do
  syncs="$(grep -h '^host syncs per step' "$work/$name.log" 2>/dev/null)"
  [[ -n "$syncs" ]] && note "$name: $syncs"
done

# 3. Benchmarks against torchvision on the same device.
bench_args=(--device "$device" --binary "$mrcnn" --data "$work/bench")
[[ "$device" == cpu ]] && bench_args+=(--tiny)
"$python" -W ignore bench/gpu_train.py "${bench_args[@]}" | tee "$work/train_bench.log"
train_ratio=$(awk '/^torchvision \/ ours/ {print $NF}' "$work/train_bench.log" | tr -d x)
"$python" -W ignore bench/gpu_infer.py "${bench_args[@]}" | tee "$work/infer_bench.log"
infer_ratio=$(awk '/^torchvision \/ ours/ {print $NF}' "$work/infer_bench.log" | tr -d x)
[[ -n "$train_ratio" ]] && note "bench train: $(grep -E '^(torchvision|mrcnn)[ :]' "$work/train_bench.log" | tr '\n' ' ')" || { note "FAIL bench train"; failed=1; }
[[ -n "$infer_ratio" ]] && note "bench infer: $(grep -E '^(torchvision|mrcnn)[ :]' "$work/infer_bench.log" | tr '\n' ' ')" || { note "FAIL bench infer"; failed=1; }

echo
echo "================ mrcnn GPU check summary ================"
echo "device: $(grep -m1 -E 'selected|CUDA runtime' "$work/env.log" | sed 's/  */ /g')"
echo "commit: $(cat gpu_bundle/COMMIT 2>/dev/null || git rev-parse HEAD 2>/dev/null || echo unknown)"
for line in "${summary[@]}"; do echo "$line"; done
echo "time: $(( $(date +%s) - start )) s"
met=$("$python" -c "print(int($failed == 0 and float('${train_ratio:-0}') >= 1.5 and float('${infer_ratio:-0}') >= 2.0))")
verdict=$([[ "$met" == 1 ]] && echo "TARGETS MET" || echo "TARGETS MISSED")
echo "$verdict: training ${train_ratio:-n/a}x torchvision (target 1.5x), inference ${infer_ratio:-n/a}x (target 2x), AMP, checks $([[ $failed == 0 ]] && echo passed || echo FAILED)"
rm -rf "$work"
[[ $failed == 0 ]]
