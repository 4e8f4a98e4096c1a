"""The GPU check's preparation, tested where there is no GPU: the bundle holds what a bare
GPU machine lacks, and scripts/gpu_check.sh runs every one of its steps (on the CPU, tiny
sizes) through to its summary."""
import os
import subprocess
from pathlib import Path

SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))


def test_bundle_and_dry_run_on_the_cpu():
    # Time limits are safety nets for a hung step, far above the few minutes these take.
    bundle = subprocess.run(["scripts/gpu_bundle.sh"], cwd=SOURCE, capture_output=True, text=True, timeout=3600)
    assert bundle.returncode == 0, bundle.stderr + bundle.stdout
    folder = SOURCE / "gpu_bundle"
    for name in ["bin/mrcnn", "libexec/mrcnn/mrcnn-main", "bin/test_ops", "python/torchvision/__init__.py",
                 "COMMIT"]:
        assert (folder / name).exists(), name
    libraries = {p.name.split(".so")[0] for p in (folder / "lib").iterdir() if p.is_file()}
    assert {"libturbojpeg", "libpng16", "libyaml-cpp", "libsimdjson"} <= libraries
    # Nothing of torch or CUDA: those come with the GPU machine's torch.
    foreign = [name for name in libraries if any(part in name for part in ["torch", "cuda", "nccl", "c10"])]
    assert not foreign, foreign

    check = subprocess.run(["scripts/gpu_check.sh"], cwd=SOURCE, capture_output=True, text=True, timeout=3600,
                           env=dict(os.environ, MRCNN_GPU_CHECK_DEVICE="cpu"))
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    lines = check.stdout.strip().splitlines()
    summary = lines[lines.index("================ mrcnn GPU check summary ================"):]
    for step in ["train_fp32", "train_amp_fp16", "train_amp_bf16", "train_amp_fp16_channels_last"]:
        assert any(line.startswith(f"PASS {step}") for line in summary), summary
    assert any(line.startswith("bench train: torchvision:") for line in summary)
    assert any(line.startswith("bench infer: torchvision:") for line in summary)
    assert lines[-1].startswith("TARGETS MET") or lines[-1].startswith("TARGETS MISSED")
    assert "checks passed" in lines[-1]
