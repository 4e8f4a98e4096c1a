"""Training steps of the shapes demo config on the CPU and on the simulated `mlu` device
(tests/plugins/sim_device), same data, threads and steps. The simulated device runs the CPU's
kernels on host copies, so the difference is what the dispatch to a plugin and its CPU
fallback cost. Prints seconds per step of both and the ratio mlu / cpu (1: no cost)."""
import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def seconds_per_step(mrcnn, config, shapes, out, steps, warmup, env, extra):
    result = subprocess.run(
        [mrcnn, "train", "-c", config, "--iters", str(warmup + steps), "-o",
         f"TrainDataset.dataset_dir={shapes}", f"EvalDataset.dataset_dir={shapes}",
         f"save_dir={out}", "log_iter=1", *extra],
        capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    lines = [json.loads(line) for line in next(Path(out).rglob("metrics.jsonl")).read_text().splitlines()]
    times = [m["batch_time"] for m in lines if "loss" in m]
    timed = times[warmup:]
    return sum(timed) / len(timed)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--config", default=str(ROOT / "configs/shapes/mask_rcnn_r18_fpn_shapes.yml"))
    args = parser.parse_args()
    build = Path(os.environ.get("MRCNN_BUILD_DIR", ROOT / "build"))
    mrcnn = str(build / "bin/mrcnn")
    plugin = str(build / "tests/libmrcnn_sim_mlu.so")
    env = dict(os.environ, MRCNN_BACKEND_PLUGINS=plugin)
    with tempfile.TemporaryDirectory() as tmp:
        shapes = Path(tmp) / "shapes"
        subprocess.run([mrcnn, "make-shapes", "--out", str(shapes), "--train", "16", "--val", "2"],
                       check=True, capture_output=True)
        cpu = seconds_per_step(mrcnn, args.config, shapes, Path(tmp) / "cpu", args.steps,
                               args.warmup, env, [])
        mlu = seconds_per_step(mrcnn, args.config, shapes, Path(tmp) / "mlu", args.steps,
                               args.warmup, env, ["use_mlu=True", "use_gpu=False"])
    print(f"shapes demo training step: cpu {cpu:.3f} s, simulated mlu {mlu:.3f} s")
    print(f"fallback cost ratio (mlu / cpu): {mlu / cpu:.2f}")


if __name__ == "__main__":
    main()
