"""The seed's commands on a vendor accelerator: `-o use_mlu=True use_gpu=False` with only the
backend plugin named in MRCNN_BACKEND_PLUGINS, on a simulated out-of-tree device ("mlu", the
library built from tests/plugins/sim_device). One process and two, mixed precision,
checkpoints across devices, and the errors a user meets."""
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))
from launching import environment_launch, free_port, make_shapes, overrides, wait_for_file  # noqa: E402

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
TINY = str(SOURCE / "tests/cli/configs/tiny_shapes.yml")
RECIPE = str(SOURCE / "configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.yml")
PLUGIN = os.environ.get("MRCNN_SIM_DEVICE_LIB", "build/tests/libmrcnn_sim_mlu.so")
TORCHRUN = str(Path(sys.executable).parent / "torchrun")
ON_MLU = ["use_mlu=True", "use_gpu=False"]  # the seed's flags, literally
# Every RoI sampled, so that no random draw depends on which of two near-equal proposals wins
# (the device computes RoIAlign and NMS with ATen's formulation, the CPU with our kernels).
ALL_ROIS = "BBoxAssigner.batch_size_per_im=1024"


def mrcnn(args, report=None, timeout=600, **env):
    full = dict(os.environ, **{"MRCNN_BACKEND_PLUGINS": PLUGIN, **env})
    if report is not None:
        full["MRCNN_SIM_REPORT"] = str(report)
    return subprocess.run([MRCNN, *args], capture_output=True, text=True, timeout=timeout, env=full)


def weights(save_dir, name="model_final"):
    return load_file(str(Path(save_dir) / "tiny_shapes" / f"{name}.safetensors"))


def worst_relative_difference(a, b):
    assert a.keys() == b.keys()
    worst = 0.0
    for key in a:
        scale = max(float(np.abs(a[key]).max()), 1e-3)
        worst = max(worst, float(np.abs(a[key] - b[key]).max()) / scale)
    return worst


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(MRCNN, tmp_path_factory.mktemp("shapes"), train=8, val=3, seed=5)


@pytest.fixture(scope="module")
def trained(shapes, tmp_path_factory):
    """The same 3 steps of the demo model on the CPU and on mlu:0."""
    base = tmp_path_factory.mktemp("trained")
    runs = {}
    for where, extra in [("cpu", []), ("mlu", ON_MLU)]:
        result = mrcnn(["train", "-c", TINY, "--iters", "3",
                        *overrides(shapes, base / where, ALL_ROIS, *extra)],
                       report=base / f"{where}_report.json")
        assert result.returncode == 0, result.stderr + result.stdout
        runs[where] = result
    return base, runs


def test_three_steps_on_mlu_give_the_weights_of_the_cpu(trained):
    base, runs = trained
    assert re.search(r"^training tiny_shapes on mlu:0:", runs["mlu"].stdout, re.M), runs["mlu"].stdout
    assert re.search(r"^training tiny_shapes on cpu:", runs["cpu"].stdout, re.M)
    # The training log reads the device's allocator, as it reads CUDA's.
    assert re.search(r"mlu:0 mem: \d+ MiB", runs["mlu"].stdout)
    worst = worst_relative_difference(weights(base / "cpu"), weights(base / "mlu"))
    # Not bit for bit: on the device RoIAlign is ATen's formulation (differentiated by autograd),
    # on the CPU our kernel; they agree to float rounding, which 3 SGD steps carry along
    # (measured: 7.6e-7). Every other operator runs the CPU's own kernels in both runs.
    assert worst < 1e-5, worst
    print(f"worst relative weight difference, mlu vs cpu after 3 steps: {worst:.2e}")


def test_the_model_and_its_activations_live_in_device_memory(trained):
    base, _ = trained
    report = json.loads((base / "mlu_report.json").read_text())
    device = report["devices"][0]
    parameter_bytes = sum(t.nbytes for t in weights(base / "mlu").values())
    # Parameters, their gradients and SGD's momentum: three copies at once; the activations of
    # a batch (2 images of 3 x 128 x 200 floats at the input alone) come on top.
    batch_input_bytes = 2 * 3 * 128 * 200 * 4
    assert device["peak_bytes"] > 3 * parameter_bytes + 10 * batch_input_bytes, (device, parameter_bytes)
    assert device["allocations"] > 1000
    # Everything the device held was given back by the end.
    assert device["live_bytes"] < parameter_bytes
    # The operators the backend has no kernel for ran through its CPU fallback ...
    calls = report["fallback_calls"]
    assert sum(n for name, n in calls.items() if name.startswith("aten::add")) > 0, calls
    # ... and the run on the CPU never touched the device.
    on_cpu = json.loads((base / "cpu_report.json").read_text())
    assert on_cpu["devices"][0]["allocations"] == 0 and not on_cpu["fallback_calls"]


def detections(path):
    return json.loads(Path(path).read_text())


def test_eval_on_mlu_writes_the_results_of_the_cpu(shapes, trained, tmp_path):
    base, _ = trained
    model = str(base / "cpu" / "tiny_shapes" / "model_final")
    outputs = {}
    for where, extra in [("cpu", []), ("mlu", ON_MLU)]:
        result = mrcnn(["eval", "-c", TINY, "--weights", model, "--output_eval",
                        str(tmp_path / where), *overrides(shapes, tmp_path, *extra)])
        assert result.returncode == 0, result.stderr + result.stdout
        outputs[where] = result.stdout
    # Equal but for RoIAlign's float rounding (ATen's formulation on the device, our kernel on
    # the CPU; measured: scores 1.5e-7 apart, boxes 1.5e-5 px, every mask's RLE the same).
    for name in ["bbox.json", "mask.json"]:
        cpu, mlu = detections(tmp_path / "cpu" / name), detections(tmp_path / "mlu" / name)
        assert len(cpu) == len(mlu) > 0, name
        different_masks = 0
        for a, b in zip(cpu, mlu):
            assert (a["image_id"], a["category_id"]) == (b["image_id"], b["category_id"])
            assert abs(a["score"] - b["score"]) < 1e-6
            if name == "bbox.json":
                np.testing.assert_allclose(a["bbox"], b["bbox"], atol=1e-3)
            if name == "mask.json":
                different_masks += a["segmentation"] != b["segmentation"]
        # A pixel whose probability is within rounding of the threshold may flip.
        assert different_masks <= len(cpu) // 100, different_masks


def test_checkpoints_move_between_the_device_and_the_cpu(shapes, trained, tmp_path):
    base, _ = trained
    # Written on the device, evaluated on the CPU; written on the CPU, evaluated on the device.
    for source, extra in [("mlu", []), ("cpu", ON_MLU)]:
        model = str(base / source / "tiny_shapes" / "model_final")
        result = mrcnn(["eval", "-c", TINY, "--weights", model, "--output_eval",
                        str(tmp_path / source), *overrides(shapes, tmp_path, *extra)])
        assert result.returncode == 0, result.stderr
        assert "Evaluate annotation type *segm*" in result.stdout


def test_resume_on_the_device_is_exact(shapes, tmp_path):
    common = ["train", "-c", TINY, "--iters", "4"]
    whole = mrcnn([*common, *overrides(shapes, tmp_path / "whole", "snapshot_iter=2", *ON_MLU)])
    assert whole.returncode == 0, whole.stderr
    # A run stopped after 2 steps (its checkpoint written on the device), then resumed there.
    first = mrcnn(["train", "-c", TINY, "--iters", "2",
                   *overrides(shapes, tmp_path / "parts", "snapshot_iter=2", *ON_MLU)])
    assert first.returncode == 0, first.stderr
    resumed = mrcnn([*common, "-r", str(tmp_path / "parts" / "tiny_shapes" / "last"),
                     *overrides(shapes, tmp_path / "parts", "snapshot_iter=2", *ON_MLU)])
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout
    for name in ["model_final", "model_final.state"]:
        a, b = weights(tmp_path / "whole", name), weights(tmp_path / "parts", name)
        assert a.keys() == b.keys()
        for key in a:
            assert np.array_equal(a[key], b[key]), key


def test_mixed_precision_on_the_device(shapes, tmp_path):
    bf16 = mrcnn(["train", "-c", TINY, "--amp", "--iters", "2",
                  *overrides(shapes, tmp_path / "bf16", *ON_MLU)])
    assert bf16.returncode == 0, bf16.stderr
    assert "mixed precision (BFloat16)" in bf16.stdout
    # float16 only where the backend says it has it ...
    refused = mrcnn(["train", "-c", TINY, "--amp", "--iters", "1",
                     *overrides(shapes, tmp_path / "refused", "amp_dtype=float16", *ON_MLU)])
    assert refused.returncode == 1
    assert "does not say that it computes in float16" in refused.stderr
    # ... and then with loss scaling, as on a GPU.
    fp16 = mrcnn(["train", "-c", TINY, "--amp", "--iters", "2",
                  *overrides(shapes, tmp_path / "fp16", *ON_MLU)], MRCNN_SIM_FP16="1")
    assert fp16.returncode == 0, fp16.stderr
    assert "mixed precision (Half)" in fp16.stdout
    state = weights(tmp_path / "fp16", "model_final.state")
    assert any("scale" in key for key in state), list(state)


def test_infer_and_bench_run_on_the_device(shapes, trained, tmp_path):
    base, _ = trained
    model = str(base / "cpu" / "tiny_shapes" / "model_final")
    image = sorted((Path(shapes) / "val").iterdir())[0]
    outputs = {}
    for where, extra in [("cpu", []), ("mlu", ON_MLU)]:
        infer = mrcnn(["infer", "-c", TINY, "--weights", model, "--infer_img", str(image),
                       "--output_dir", str(tmp_path / where), "--save_results",
                       *(["-o", *extra] if extra else [])])
        assert infer.returncode == 0, infer.stderr
        outputs[where] = detections(tmp_path / where / "bbox.json")
    assert len(outputs["mlu"]) == len(outputs["cpu"])
    for a, b in zip(outputs["cpu"], outputs["mlu"]):
        assert a["category_id"] == b["category_id"] and abs(a["score"] - b["score"]) < 1e-5
    bench = mrcnn(["bench", "-c", TINY, "--weights", model, "--images", str(image),
                   "--repeat", "1", "-o", *ON_MLU])
    assert bench.returncode == 0, bench.stderr
    assert json.loads(bench.stdout)["device"] == "mlu", bench.stdout


def test_the_recipe_runs_a_step_at_full_resolution_on_the_device(tmp_path):
    coco = tmp_path / "dataset" / "coco"
    made = mrcnn(["make-shapes", "--out", str(coco), "--train", "2", "--val", "1", "--coco-layout"])
    assert made.returncode == 0, made.stderr
    result = mrcnn(["train", "-c", RECIPE, "--iters", "1", "-o", f"TrainDataset.dataset_dir={coco}",
                    f"save_dir={tmp_path / 'output'}", "log_iter=1", "worker_num=1",
                    "pretrain_weights=", *ON_MLU], timeout=900)
    assert result.returncode == 0, result.stderr + result.stdout
    assert re.search(r"^training mask_rcnn_r50_fpn_1x_coco on mlu:0:", result.stdout, re.M)
    out = tmp_path / "output" / "mask_rcnn_r50_fpn_1x_coco"
    steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len([s for s in steps if "loss" in s]) == 1
    assert np.isfinite(steps[0]["loss"])


# ---- several processes ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def distributed(shapes, tmp_path_factory):
    base = tmp_path_factory.mktemp("distributed")
    env = dict(MRCNN_SIM_DEVICES="2", OMP_NUM_THREADS="1")
    # The one-process run keeps two threads. With one thread and two images a batch, one of
    # ATen's CPU kernels takes another vector path for the fallback's host copies, and these 3
    # steps of the demo model carry that rounding far: measured 8.9e-2 by the metric below, the
    # same as a CPU run with ATEN_CPU_CAPABILITY=default against the vectorised CPU run. With
    # two threads the device run equals the CPU run to 2e-6; each rank of the launch (one image)
    # equals it with one thread.
    single = mrcnn(["train", "-c", TINY, "--iters", "3",
                    *overrides(shapes, base / "single", "TrainReader.batch_size=2", ALL_ROIS, *ON_MLU)],
                   report=base / "single_report.json", **dict(env, OMP_NUM_THREADS="2"))
    assert single.returncode == 0, single.stderr
    launched = subprocess.run(
        [TORCHRUN, "--standalone", "--nproc_per_node=2", "--no-python", MRCNN, "train", "-c", TINY,
         "--iters", "3", *overrides(shapes, base / "two", "TrainReader.batch_size=1", ALL_ROIS, *ON_MLU)],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, MRCNN_BACKEND_PLUGINS=PLUGIN, MRCNN_SIM_REPORT=str(base / "report_{rank}.json"),
                 **env))
    assert launched.returncode == 0, launched.stderr + launched.stdout
    return base, launched


def test_two_processes_on_mlu0_and_mlu1_equal_one_with_twice_the_batch(distributed):
    base, launched = distributed
    assert "x 2 ranks" in launched.stdout
    # Gloo reads host memory only: the device's gradients go through it, and the log says so.
    log = launched.stdout + launched.stderr
    assert log.count("backend gloo via host memory") == 1, log
    # Each rank on its own device: rank r allocated on mlu:r only.
    for rank in range(2):
        devices = json.loads((base / f"report_{rank}.json").read_text())["devices"]
        assert devices[rank]["allocations"] > 1000 and devices[1 - rank]["allocations"] == 0, devices
    worst = worst_relative_difference(weights(base / "single"), weights(base / "two"))
    assert worst < 5e-4, worst  # the CPU's two-rank test allows the same


def test_the_backends_own_collective_library_is_taken_when_it_registers_one(shapes, distributed, tmp_path):
    base, _ = distributed
    env = dict(os.environ, MRCNN_BACKEND_PLUGINS=PLUGIN, MRCNN_SIM_DEVICES="2", OMP_NUM_THREADS="1",
               MRCNN_SIM_COLLECTIVES="simccl")
    launched = subprocess.run(
        [TORCHRUN, "--standalone", "--nproc_per_node=2", "--no-python", MRCNN, "train", "-c", TINY,
         "--iters", "3", *overrides(shapes, tmp_path, "TrainReader.batch_size=1", ALL_ROIS, *ON_MLU)],
        capture_output=True, text=True, timeout=600, env=env)
    assert launched.returncode == 0, launched.stderr + launched.stdout
    log = launched.stdout + launched.stderr
    assert "backend simccl" in log and "via host memory" not in log, log
    worst = worst_relative_difference(weights(base / "single"), weights(tmp_path))
    assert worst < 5e-4, worst
    # A name nobody registered: the error lists what is.
    env.update(RANK="0", WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(free_port()))
    unknown = subprocess.run([MRCNN, "train", "-c", TINY, "--iters", "1",
                              *overrides(shapes, tmp_path / "unknown", "dist_backend=cncl", *ON_MLU)],
                             capture_output=True, text=True, timeout=120, env=env)
    assert unknown.returncode == 1
    assert "dist_backend 'cncl'" in unknown.stderr and "gloo" in unknown.stderr
    assert "simccl" in unknown.stderr, unknown.stderr


def test_a_killed_rank_on_the_device_stops_the_other_naming_it(shapes, tmp_path):
    args = ["train", "-c", TINY, "--iters", "400",
            *overrides(shapes, tmp_path, "TrainReader.batch_size=1", "snapshot_iter=2",
                       "dist_timeout=60", *ON_MLU)]
    processes = environment_launch(MRCNN, args, 2, free_port(),
                                   {"MRCNN_BACKEND_PLUGINS": PLUGIN, "MRCNN_SIM_DEVICES": "2"})
    assert wait_for_file(tmp_path / "tiny_shapes" / "last.safetensors", processes[0])
    processes[1].send_signal(signal.SIGKILL)
    processes[1].wait()
    _, err = processes[0].communicate(timeout=120)
    assert processes[0].returncode == 1
    assert re.search(r"Rank 1 did not answer", err), err


# ---- errors -----------------------------------------------------------------------------------

def test_errors_are_clear_and_leave_nothing_half_written(shapes, tmp_path):
    train = ["train", "-c", TINY, "--iters", "1"]

    def refused(result, *needles):
        assert result.returncode == 1, result.stdout + result.stderr
        for needle in needles:
            assert needle in result.stderr, result.stderr
        assert not (tmp_path / "out" / "tiny_shapes" / "model_final.safetensors").exists()

    missing = str(tmp_path / "no_such_backend.so")
    refused(mrcnn([*train, *overrides(shapes, tmp_path / "out", *ON_MLU)],
                  MRCNN_BACKEND_PLUGINS=missing), missing)
    # A library that loads but is no backend (here: the C library).
    refused(mrcnn([*train, *overrides(shapes, tmp_path / "out", *ON_MLU)],
                  MRCNN_BACKEND_PLUGINS="libm.so.6"), "libm.so.6", "registered no device backend")
    refused(mrcnn([*train, *overrides(shapes, tmp_path / "out", "device=mlu:5")],
                  MRCNN_SIM_DEVICES="2"), "mlu:5", "2 mlu device(s)")
    without = subprocess.run([MRCNN, *train, *overrides(shapes, tmp_path / "out", *ON_MLU)],
                             capture_output=True, text=True, timeout=120,
                             env={k: v for k, v in os.environ.items() if k != "MRCNN_BACKEND_PLUGINS"})
    refused(without, "'mlu'", "MRCNN_BACKEND_PLUGINS")
    refused(mrcnn([*train, *overrides(shapes, tmp_path / "out", *ON_MLU)],
                  MRCNN_SIM_UNSUPPORTED="aten::topk"), "aten::topk", "mlu")


def test_env_lists_the_backends_devices():
    result = mrcnn(["env"], MRCNN_SIM_DEVICES="2")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^devices .*cpu.*, mlu:0, mlu:1$", result.stdout, re.M), result.stdout
