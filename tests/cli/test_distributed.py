"""Data-parallel training and evaluation on c10d (Gloo, CPU): two ranks equal one process with
their total batch, torchrun and plain-environment launches, a killed rank, and distributed
evaluation equal to single-process evaluation."""
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

import launching
from launching import free_port, make_shapes, overrides, wait_for_file

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
TINY = str(SOURCE / "tests/cli/configs/tiny_shapes.yml")
TORCHRUN = str(Path(sys.executable).parent / "torchrun")
# Every RoI sampled (500 proposals and the ground truth per image), so that no random draw
# depends on the order of proposals whose scores differ only in the last bits between runs
# (a draw that then picks other RoIs changes the run by far more than rounding).
ALL_ROIS = "BBoxAssigner.batch_size_per_im=1024"


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(MRCNN, tmp_path_factory.mktemp("shapes"), train=16, val=6, seed=2)


def environment_launch(args, world, port, extra_env=None):
    return launching.environment_launch(MRCNN, args, world, port, extra_env)


def weights(save_dir):
    return load_file(str(Path(save_dir) / "tiny_shapes" / "model_final.safetensors"))


@pytest.fixture(scope="module")
def runs(shapes, tmp_path_factory):
    """The same 3 steps: one process with batch 2, and 2 ranks with batch 1 via torchrun."""
    base = tmp_path_factory.mktemp("runs")
    single = subprocess.run([MRCNN, "train", "-c", TINY, "--iters", "3",
                             *overrides(shapes, base / "single", "TrainReader.batch_size=2", ALL_ROIS)],
                            capture_output=True, text=True, timeout=600)
    assert single.returncode == 0, single.stderr
    launched = subprocess.run(
        [TORCHRUN, "--standalone", "--nproc_per_node=2", "--no-python", MRCNN, "train", "-c", TINY,
         "--iters", "3", *overrides(shapes, base / "torchrun", "TrainReader.batch_size=1", ALL_ROIS)],
        capture_output=True, text=True, timeout=600, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert launched.returncode == 0, launched.stderr + launched.stdout
    assert "x 2 ranks" in launched.stdout
    return base, launched


def test_two_ranks_with_batch_1_match_one_process_with_batch_2(runs):
    base, _ = runs
    one, two = weights(base / "single"), weights(base / "torchrun")
    assert one.keys() == two.keys()
    worst = 0.0
    for key in one:
        scale = max(np.abs(one[key]).max(), 1e-3)
        worst = max(worst, float(np.abs(one[key] - two[key]).max() / scale))
    # Same images, padding, samples and loss normalisers: equal up to float summation order.
    assert worst < 5e-4, worst


def test_plain_environment_launch_gives_the_torchrun_result(shapes, runs, tmp_path):
    base, _ = runs
    processes = environment_launch(
        ["train", "-c", TINY, "--iters", "3", *overrides(shapes, tmp_path, "TrainReader.batch_size=1", ALL_ROIS)],
        2, free_port())
    for p in processes:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err + out
    expected, got = weights(base / "torchrun"), weights(tmp_path)
    for key in expected:
        assert np.array_equal(expected[key], got[key]), key
    # Only rank 0 wrote the output folder's files: one metrics line per step.
    lines = (tmp_path / "tiny_shapes" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3


def test_two_ranks_in_channels_last_match_the_default_layout(shapes, runs, tmp_path):
    base, _ = runs
    processes = environment_launch(
        ["train", "-c", TINY, "--iters", "3",
         *overrides(shapes, tmp_path, "TrainReader.batch_size=1", "channels_last=true", ALL_ROIS)],
        2, free_port())
    for p in processes:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err + out
    expected, got = weights(base / "torchrun"), weights(tmp_path)
    worst = max(float(np.abs(expected[k] - got[k]).max() / max(np.abs(expected[k]).max(), 1e-3))
                for k in expected)
    assert worst < 5e-4, worst  # NHWC gradients averaged in memory order, put back correctly


def test_a_killed_rank_stops_the_other_with_a_message_naming_it(shapes, tmp_path):
    args = ["train", "-c", TINY, "--iters", "400",
            *overrides(shapes, tmp_path, "TrainReader.batch_size=1", "snapshot_iter=2", "dist_timeout=60")]
    processes = environment_launch(args, 2, free_port())
    last = tmp_path / "tiny_shapes" / "last.safetensors"
    assert wait_for_file(last, processes[0])
    processes[1].send_signal(signal.SIGKILL)
    processes[1].wait()
    killed_at = time.time()
    out, err = processes[0].communicate(timeout=120)
    assert processes[0].returncode == 1
    assert time.time() - killed_at < 60
    assert re.search(r"Rank 1 did not answer", err), err
    # The checkpoint written before stays usable.
    evaluated = subprocess.run([MRCNN, "eval", "-c", TINY, "--weights", str(last),
                                "--output_eval", str(tmp_path / "eval"), *overrides(shapes, tmp_path)],
                               capture_output=True, text=True, timeout=300)
    assert evaluated.returncode == 0, evaluated.stderr


def test_distributed_evaluation_equals_single_process(shapes, runs, tmp_path):
    base, _ = runs
    model = str(base / "single" / "tiny_shapes" / "model_final")
    # One thread, as each rank has: convolutions split over threads may differ in the last bit.
    single = subprocess.run([MRCNN, "eval", "-c", TINY, "--weights", model, "--output_eval",
                             str(tmp_path / "one"), *overrides(shapes, tmp_path)],
                            capture_output=True, text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert single.returncode == 0, single.stderr
    processes = environment_launch(["eval", "-c", TINY, "--weights", model, "--output_eval",
                                    str(tmp_path / "two"), *overrides(shapes, tmp_path)], 2, free_port())
    outputs = [p.communicate(timeout=300) for p in processes]
    for p, (out, err) in zip(processes, outputs):
        assert p.returncode == 0, err
    assert outputs[0][0] == single.stdout  # rank 0 prints the same tables
    assert outputs[1][0] == ""             # rank 1 prints nothing
    for name in ["bbox.json", "mask.json"]:
        assert (tmp_path / "one" / name).read_text() == (tmp_path / "two" / name).read_text()
