"""Beyond one machine: two torchrun agents as two nodes (c10d rendezvous and a static master),
a worker group restarted by torchrun that resumes by itself, --auto_resume, and a rank whose
data is bad stopping every rank with its message instead of wasting restarts."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import load_file

from launching import free_port, make_shapes, overrides

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
TINY = str(SOURCE / "tests/cli/configs/tiny_shapes.yml")
TORCHRUN = str(Path(sys.executable).parent / "torchrun")
PRELOAD = os.environ.get("MRCNN_KILL_AT_STEP_LIB", "build/tests/libkill_at_step.so")
ENV = dict(os.environ, OMP_NUM_THREADS="1")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return make_shapes(MRCNN, tmp_path_factory.mktemp("shapes"), train=16, val=4, seed=3)


def train_args(shapes, save_dir, iters, *extra):
    return ["train", "-c", TINY, "--iters", str(iters), *overrides(shapes, save_dir, *extra)]


def final_weights(save_dir):
    return load_file(str(Path(save_dir) / "tiny_shapes" / "model_final.safetensors"))


def metrics(save_dir):
    lines = (Path(save_dir) / "tiny_shapes" / "metrics.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def worst_relative_difference(a, b):
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max() / max(np.abs(a[k]).max(), 1e-3)) for k in a)


def assert_bit_identical(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert np.array_equal(a[key], b[key]), key


def wait_for(path, process, seconds=300):
    deadline = time.time() + seconds
    while not path.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert path.exists(), f"{path} never appeared"


def worker_pids(rank, restart):
    """mrcnn processes that torchrun started as `rank` of attempt `restart`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = dict(item.split("=", 1) for item in
                           (entry / "environ").read_bytes().decode(errors="replace").split("\0") if "=" in item)
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if (command.endswith(b"mrcnn") and environ.get("RANK") == str(rank)
                and environ.get("TORCHELASTIC_RESTART_COUNT") == str(restart)):
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def one_process(shapes, tmp_path_factory):
    """3 steps of one process with batch 2: what two nodes with batch 1 each must give."""
    out = tmp_path_factory.mktemp("one")
    result = subprocess.run([MRCNN, *train_args(shapes, out, 3, "TrainReader.batch_size=2")],
                            capture_output=True, text=True, timeout=600, env=ENV)
    assert result.returncode == 0, result.stderr
    return final_weights(out)


@pytest.mark.parametrize("rendezvous", ["c10d", "static"])
def test_two_nodes_of_one_process_equal_one_process_with_their_batch(shapes, one_process, rendezvous,
                                                                     tmp_path):
    port = free_port()
    agents = []
    for node in range(2):
        if rendezvous == "c10d":
            where = ["--rdzv_backend=c10d", f"--rdzv_endpoint=127.0.0.1:{port}", "--rdzv_id=two-nodes"]
        else:
            where = [f"--node_rank={node}", "--master_addr=127.0.0.1", f"--master_port={port}"]
        agents.append(subprocess.Popen(
            [TORCHRUN, "--nnodes=2", "--nproc_per_node=1", *where, "--no-python", MRCNN,
             *train_args(shapes, tmp_path, 3, "TrainReader.batch_size=1")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV))
    outputs = [agent.communicate(timeout=600) for agent in agents]
    for agent, (out, err) in zip(agents, outputs):
        assert agent.returncode == 0, err + out
    assert any("x 2 ranks" in out for out, _ in outputs)
    # Same images, samples and loss normalisers: equal up to float summation order.
    assert worst_relative_difference(one_process, final_weights(tmp_path)) < 5e-4


def test_a_restarted_worker_group_resumes_and_ends_as_an_uninterrupted_run(shapes, tmp_path):
    args = lambda out: train_args(shapes, out, 10, "TrainReader.batch_size=1", "snapshot_iter=2")  # noqa: E731
    uninterrupted = subprocess.run(
        [TORCHRUN, "--standalone", "--nproc_per_node=2", "--no-python", MRCNN, *args(tmp_path / "whole")],
        capture_output=True, text=True, timeout=600, env=ENV)
    assert uninterrupted.returncode == 0, uninterrupted.stderr

    run = subprocess.Popen(
        [TORCHRUN, "--standalone", "--nproc_per_node=2", "--max-restarts=1", "--no-python", MRCNN,
         *args(tmp_path / "killed")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    wait_for(tmp_path / "killed" / "tiny_shapes" / "last.safetensors", run)
    victims = worker_pids(rank=1, restart=0)
    assert len(victims) == 1
    os.kill(victims[0], signal.SIGKILL)
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err + out
    assert "(torchrun restart 1)" in out, out
    # Bit-identical: the restarted ranks continue exactly where the checkpoint stopped.
    assert_bit_identical(final_weights(tmp_path / "whole"), final_weights(tmp_path / "killed"))
    lines = metrics(tmp_path / "killed")
    resumes = [m for m in lines if m.get("event") == "resumed"]
    assert len(resumes) == 1 and resumes[0]["reason"] == "torchrun restart 1"
    assert resumes[0]["iteration"] >= 2 and resumes[0]["from"].endswith("last")
    steps = [m["iteration"] for m in lines if "loss" in m]
    assert steps == list(range(1, 11))  # every step once: the re-run ones replaced


def test_auto_resume_continues_after_a_kill_and_starts_fresh_without_a_checkpoint(shapes, tmp_path):
    args = lambda out: train_args(shapes, out, 12, "snapshot_iter=2")  # noqa: E731
    fresh = subprocess.run([MRCNN, *args(tmp_path / "whole"), "--auto_resume"],
                           capture_output=True, text=True, timeout=600, env=ENV)
    assert fresh.returncode == 0, fresh.stderr
    assert "--auto_resume: no checkpoint in" in fresh.stderr + fresh.stdout
    assert "starting from the beginning" in fresh.stderr + fresh.stdout

    # Killed at the 30th filesystem step of its saves of `last` (within the second or third of
    # six): wherever that is, a consistent checkpoint is left.
    killer = dict(ENV, LD_PRELOAD=os.path.abspath(PRELOAD), MRCNN_KILL_AT_STEP="30",
                  MRCNN_STEP_FILTER=str(tmp_path / "killed" / "tiny_shapes" / "last"))
    first = subprocess.run([MRCNN, *args(tmp_path / "killed")], capture_output=True, env=killer,
                           timeout=600)
    assert first.returncode == -signal.SIGKILL  # stopped before the end
    second = subprocess.run([MRCNN, *args(tmp_path / "killed"), "--auto_resume"],
                            capture_output=True, text=True, timeout=600, env=ENV)
    assert second.returncode == 0, second.stderr
    assert "(--auto_resume)" in second.stdout
    assert_bit_identical(final_weights(tmp_path / "whole"), final_weights(tmp_path / "killed"))
    # Once finished, another --auto_resume has nothing left to do and changes nothing.
    again = subprocess.run([MRCNN, *args(tmp_path / "killed"), "--auto_resume"],
                           capture_output=True, text=True, timeout=600, env=ENV)
    assert again.returncode == 0, again.stderr
    assert "nothing left to train" in again.stdout
    assert_bit_identical(final_weights(tmp_path / "whole"), final_weights(tmp_path / "killed"))

    both = subprocess.run([MRCNN, *args(tmp_path / "killed"), "--auto_resume", "-r", "x"],
                          capture_output=True, text=True, timeout=60)
    assert 0 < both.returncode < 128 and "excludes" in both.stderr


def png_with_broken_pixels(path, source):
    """A PNG with `source`'s size whose header reads fine but whose pixel data fails its CRC."""
    Image.open(source).save(path, format="PNG")
    data = bytearray(path.read_bytes())
    idat = data.index(b"IDAT")
    data[idat + 20] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def bad_shapes(shapes, tmp_path_factory):
    """The shapes set with one training image that only fails when it is decoded."""
    out = tmp_path_factory.mktemp("bad_shapes")
    for item in shapes.iterdir():
        (out / item.name).symlink_to(item)
    (out / "train").unlink()
    (out / "train").mkdir()
    images = sorted((shapes / "train").iterdir())
    for image in images:
        (out / "train" / image.name).symlink_to(image)
    broken = out / "train" / images[5].name
    broken.unlink()
    png_with_broken_pixels(broken, images[5])
    return out, broken


def stop_lines(text):
    return [line for line in text.splitlines() if "stopped the run" in line]


def test_bad_data_on_one_rank_stops_every_rank_with_its_message(bad_shapes, tmp_path):
    shapes, broken = bad_shapes
    port = free_port()
    processes = []
    for rank in range(2):
        env = dict(ENV, RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port))
        processes.append(subprocess.Popen(
            [MRCNN, *train_args(shapes, tmp_path, 8, "TrainReader.batch_size=1")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    errors = []
    for p in processes:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 1, err + out
        errors.append(stop_lines(err))
    assert len(errors[0]) == 1 and errors[0] == errors[1], errors
    assert broken.name in errors[0][0] and "a restart will not help" in errors[0][0]


def test_a_restart_after_bad_data_stops_at_once(bad_shapes, tmp_path):
    shapes, broken = bad_shapes
    logs = tmp_path / "logs"
    run = subprocess.run(
        [TORCHRUN, "--standalone", "--nproc_per_node=2", "--max-restarts=1", "--redirects=3",
         f"--log-dir={logs}", "--no-python", MRCNN,
         *train_args(shapes, tmp_path, 8, "TrainReader.batch_size=1")],
        capture_output=True, text=True, timeout=600, env=ENV)
    assert run.returncode != 0

    def stderr_of(attempt, rank):
        [path] = logs.glob(f"*/attempt_{attempt}/{rank}/stderr.log")
        return path.read_text()

    first = [stop_lines(stderr_of(0, rank)) for rank in range(2)]
    assert len(first[0]) == 1 and first[0] == first[1], first
    assert broken.name in first[0][0]
    for rank in range(2):
        again = stderr_of(1, rank)
        assert "the attempt before this restart stopped on it: stopping at once" in again, again
        assert first[0][0].split("error: ", 1)[-1][:80] in again
        stdout = next(logs.glob(f"*/attempt_1/{rank}/stdout.log")).read_text()
        assert "Epoch:" not in stdout  # the restart trained nothing
