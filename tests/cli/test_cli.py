"""The `mrcnn` program as a user meets it: exit codes, messages, device and config handling."""
import os
import subprocess
from pathlib import Path

import pytest

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
RECIPE = str(SOURCE / "configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.yml")


def run(*args, env=None):
    merged = dict(os.environ)
    merged.update(env or {})
    return subprocess.run([MRCNN, *args], capture_output=True, text=True, env=merged, timeout=120)


def test_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("mrcnn 0.")


def test_env_reports_versions_devices_and_build():
    result = run("env")
    assert result.returncode == 0, result.stderr
    import torch  # the reference for the LibTorch version we run against

    assert f"LibTorch     {torch.__version__.split('+')[0]}" in result.stdout
    assert "devices      cpu" in result.stdout
    assert "threads" in result.stdout
    assert "CUDA kernels" in result.stdout


def test_env_with_cpu_device():
    result = run("env", "--device", "cpu")
    assert result.returncode == 0
    assert "selected     cpu" in result.stdout


def test_make_shapes_rejects_a_bad_size(tmp_path):
    result = run("make-shapes", "--out", str(tmp_path), "--size", "big")
    assert result.returncode == 1
    assert "--size" in result.stderr


def test_coco_eval_with_a_missing_file_names_it(tmp_path):
    result = run("coco-eval", "--ann", str(tmp_path / "gt.json"), "--res", "r.json", "--type", "bbox")
    assert result.returncode == 1
    assert "gt.json" in result.stderr


def test_print_config_shows_merged_values():
    result = run("train", "-c", RECIPE, "--print-config", "-o", "TrainReader.batch_size=2",
                 "LearningRate.base_lr=0.02")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "batch_size: 2" in text
    assert "base_lr: 0.02" in text
    assert "!PiecewiseDecay" in text
    assert "weights: output/mask_rcnn_r50_fpn_1x_coco/model_final" in text


def test_missing_cuda_device_is_a_clear_error():
    result = run("train", "-c", RECIPE, "--device", "cuda:7")
    assert result.returncode == 1
    assert "cuda:7" in result.stderr
    assert "Segmentation" not in result.stderr


def test_use_gpu_maps_to_cuda():
    result = run("eval", "-c", RECIPE, "-o", "use_gpu=true")
    # With a GPU this gets as far as "not implemented"; without one it must say why.
    if result.returncode == 1:
        assert "device 'cuda'" in result.stderr
    else:
        assert result.returncode == 2


def test_vendor_device_without_plugin_is_a_clear_error():
    result = run("train", "-c", RECIPE, "-o", "use_mlu=True", "use_gpu=False")
    assert result.returncode == 1
    assert "unknown device 'mlu'" in result.stderr
    assert "MRCNN_BACKEND_PLUGINS" in result.stderr


def test_unloadable_backend_plugin_is_named():
    result = run("env", env={"MRCNN_BACKEND_PLUGINS": "/nonexistent/libvendor.so"})
    assert result.returncode == 1
    assert "/nonexistent/libvendor.so" in result.stderr


def test_config_errors_name_file_and_key(tmp_path):
    config = tmp_path / "bad.yml"
    config.write_text("epoch: 2\nTrainReader:\n  batchsize: 2\n")
    result = run("train", "-c", str(config))
    assert result.returncode == 1
    assert f"{config}:3:3" in result.stderr
    assert "did you mean 'batch_size'?" in result.stderr


def test_missing_config_file():
    result = run("train", "-c", "does/not/exist.yml")
    assert result.returncode == 1
    assert "does/not/exist.yml" in result.stderr


def test_unknown_subcommand_and_missing_config_are_usage_errors():
    assert run("frobnicate").returncode != 0
    result = run("train")
    assert result.returncode != 0
    assert "--config" in result.stderr


def test_eval_and_infer_without_weights_say_so(tmp_path):
    for command in (["eval"], ["infer", "--infer_dir", str(tmp_path)]):
        result = run(*command, "-c", RECIPE, "-o", "weights=" + str(tmp_path / "none"),
                     "EvalDataset.dataset_dir=" + str(tmp_path))
        assert result.returncode == 1
        assert "error:" in result.stderr
