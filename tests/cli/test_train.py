"""`mrcnn train` end to end on generated data: falling losses, evaluation and best_model, exact
resume after a kill, mixed precision, a clear stop on a diverging loss, and the real 1x recipe
at full resolution on a COCO-layout set."""
import json
import math
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
TINY = str(SOURCE / "tests/cli/configs/tiny_shapes.yml")
RECIPE = str(SOURCE / "configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.yml")


def run(*args, timeout=600):
    return subprocess.run([MRCNN, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes")
    result = run("make-shapes", "--out", str(out), "--train", "16", "--val", "4", "--size",
                 "128x128", "--seed", "1")
    assert result.returncode == 0, result.stderr
    return out


def data_overrides(shapes, save_dir):
    return ["-o", f"TrainDataset.dataset_dir={shapes}", f"EvalDataset.dataset_dir={shapes}",
            f"TestDataset.dataset_dir={shapes}", f"save_dir={save_dir}"]


def metrics(path):
    lines = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return [m for m in lines if "loss" in m], [m for m in lines if "bbox_ap" in m]


def test_losses_are_finite_and_fall_and_the_model_evaluates(shapes, tmp_path):
    result = run("train", "-c", TINY, "--eval", *data_overrides(shapes, tmp_path))
    assert result.returncode == 0, result.stderr + result.stdout
    out = tmp_path / "tiny_shapes"
    steps, evals = metrics(out / "metrics.jsonl")
    per_epoch = int(re.search(r"(\d+) batches per epoch", result.stdout).group(1))
    assert per_epoch == 7  # 14 of the 16 images have objects; batch 2
    assert len(steps) == 5 * per_epoch  # one line per step
    names = ["loss_rpn_cls", "loss_rpn_reg", "loss_bbox_cls", "loss_bbox_reg", "loss_mask"]
    for step in steps:
        assert all(math.isfinite(step[n]) for n in names + ["loss"])
        assert step["loss"] == pytest.approx(sum(step[n] for n in names), rel=1e-5)
    first = np.mean([s["loss"] for s in steps[:5]])
    last = np.mean([s["loss"] for s in steps[-5:]])
    assert last < 0.7 * first, (first, last)
    # The schedule: warmup from 0.1 x base over 5 steps, x0.1 from epoch 4.
    assert steps[0]["lr"] == pytest.approx(0.002)
    assert steps[2]["lr"] == pytest.approx(0.02 * (0.1 * 0.6 + 0.4))
    assert steps[4 * per_epoch - 1]["lr"] == pytest.approx(0.02)
    assert steps[4 * per_epoch]["lr"] == pytest.approx(0.002)
    assert len(evals) == 1 and 0 <= evals[0]["bbox_ap"] <= 1
    for name in ["model_final", "best_model"]:
        assert (out / f"{name}.safetensors").exists() and (out / f"{name}.state.safetensors").exists()
    assert (out / "training_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "bbox.json").exists() and (out / "mask.json").exists()
    # The checkpoint is an ordinary weights file for eval.
    result = run("eval", "-c", TINY, "--weights", str(out / "model_final"),
                 "--output_eval", str(tmp_path / "eval"), *data_overrides(shapes, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Evaluate annotation type *segm*" in result.stdout


def test_a_killed_run_resumes_bit_for_bit(shapes, tmp_path):
    common = ["train", "-c", TINY, "-o", "snapshot_iter=5", "epoch=3"]
    whole = run(*common, *data_overrides(shapes, tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr

    killed_dir = tmp_path / "killed"
    process = subprocess.Popen([MRCNN, *common, *data_overrides(shapes, killed_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = killed_dir / "tiny_shapes" / "last.safetensors"
    deadline = time.time() + 300
    while not last.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert last.exists()
    resumed = run(*common, "-r", str(killed_dir / "tiny_shapes" / "last"),
                  *data_overrides(shapes, killed_dir))
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout

    for suffix in ["safetensors", "state.safetensors"]:
        a = load_file(str(tmp_path / "whole" / "tiny_shapes" / f"model_final.{suffix}"))
        b = load_file(str(killed_dir / "tiny_shapes" / f"model_final.{suffix}"))
        assert a.keys() == b.keys()
        for key in a:
            assert np.array_equal(a[key], b[key]), key


def test_mixed_precision_bf16_trains_on_cpu(shapes, tmp_path):
    result = run("train", "-c", TINY, "--amp", "--iters", "6", *data_overrides(shapes, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "mixed precision (BFloat16)" in result.stdout
    steps, _ = metrics(tmp_path / "tiny_shapes" / "metrics.jsonl")
    assert len(steps) == 6 and all(math.isfinite(s["loss"]) for s in steps)


def test_channels_last_trains_like_the_default_layout_and_saves_ordinary_weights(shapes, tmp_path):
    finals, losses = [], []
    for name, extra in [("default", []), ("nhwc", ["channels_last=true"])]:
        # One step: later ones sample differently once float noise moves a proposal.
        result = run("train", "-c", TINY, "--iters", "1", *data_overrides(shapes, tmp_path / name), *extra)
        assert result.returncode == 0, result.stderr
        steps, _ = metrics(tmp_path / name / "tiny_shapes" / "metrics.jsonl")
        losses.append([s["loss"] for s in steps])
        finals.append(load_file(str(tmp_path / name / "tiny_shapes" / "model_final.safetensors")))
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)
    assert finals[0].keys() == finals[1].keys()
    for key in finals[0]:  # the same (NCHW) order in the file, whatever the layout in memory
        np.testing.assert_allclose(finals[1][key], finals[0][key], atol=1e-6, err_msg=key)


def test_preprocessing_on_the_training_device_trains_bit_for_bit_like_the_workers(shapes, tmp_path):
    finals = []
    for where in ["workers", "device"]:
        result = run("train", "-c", TINY, "--iters", "3", *data_overrides(shapes, tmp_path / where),
                     f"train_preprocess={where}")
        assert result.returncode == 0, result.stderr
        finals.append(load_file(str(tmp_path / where / "tiny_shapes" / "model_final.safetensors")))
    for key in finals[0]:
        assert np.array_equal(finals[0][key], finals[1][key]), key


def test_a_diverging_loss_stops_with_the_iteration_and_image_ids(shapes, tmp_path):
    result = run("train", "-c", TINY, "--iters", "40", "-o", "LearningRate.base_lr=100000",
                 "OptimizerBuilder.clip_grad_by_norm=0", *data_overrides(shapes, tmp_path))
    assert result.returncode == 1
    assert "non-finite loss at iteration" in result.stderr
    assert "image ids in the batch" in result.stderr


def test_the_1x_recipe_runs_at_full_resolution_on_a_coco_layout_set(tmp_path):
    coco = tmp_path / "dataset" / "coco"
    made = run("make-shapes", "--out", str(coco), "--train", "4", "--val", "2", "--coco-layout")
    assert made.returncode == 0, made.stderr
    assert (coco / "annotations" / "instances_train2017.json").exists()
    # From random weights: the recipe's ImageNet backbone is a download (tests run offline).
    result = run("train", "-c", RECIPE, "--iters", "2", "-o", f"TrainDataset.dataset_dir={coco}",
                 f"save_dir={tmp_path / 'output'}", "log_iter=1", "worker_num=1", "pretrain_weights=")
    assert result.returncode == 0, result.stderr + result.stdout
    out = tmp_path / "output" / "mask_rcnn_r50_fpn_1x_coco"
    steps, _ = metrics(out / "metrics.jsonl")
    assert len(steps) == 2 and all(math.isfinite(s["loss"]) for s in steps)
    weights = load_file(str(out / "model_final.safetensors"))
    assert weights["roi_heads.box_predictor.cls_score.weight"].shape == (81, 1024)
    assert "backbone.body.layer4.2.conv3.weight" in weights


def test_print_params_lists_the_parameters_and_their_totals(shapes, tmp_path):
    result = run("train", "-c", TINY, "--iters", "1", *data_overrides(shapes, tmp_path), "print_params=true")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^backbone\.body\.conv1\.weight \[8, 3, 7, 7\] trainable$", result.stdout, re.M)
    totals = re.search(r"^parameters: (\d+) in all, (\d+) trainable$", result.stdout, re.M)
    assert totals and int(totals[1]) >= int(totals[2]) > 0


def test_trainable_sync_bn_in_several_processes_is_refused_before_the_rendezvous(shapes, tmp_path):
    env = dict(os.environ, RANK="0", WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT="1")
    result = subprocess.run([MRCNN, "train", "-c", TINY, "--iters", "1", *data_overrides(shapes, tmp_path),
                             "ResNet.norm_type=sync_bn", "ResNet.freeze_norm=false"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1
    assert "sync_bn" in result.stderr and "freeze_norm" in result.stderr
    # In one process sync_bn is BatchNorm, and trains.
    alone = run("train", "-c", TINY, "--iters", "1", *data_overrides(shapes, tmp_path / "alone"),
                "ResNet.norm_type=sync_bn", "ResNet.freeze_norm=false")
    assert alone.returncode == 0, alone.stderr

