"""A checkpoint save killed (SIGKILL) at each of its filesystem steps -- every file created,
flushed, linked, renamed or removed -- always leaves a loadable, consistent pair: the one before
the save or the new one, never weights of one save beside the state of another. A second save
killed after the first keeps the newest pair either crash left. Then `mrcnn train` killed while
saving resumes with `-r last`."""
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from test_train import MRCNN, TINY, data_overrides, metrics, run, shapes  # noqa: F401 (fixture)

TOOL = os.environ.get("MRCNN_CHECKPOINT_TOOL", "build/tests/checkpoint_tool")
PRELOAD = os.environ.get("MRCNN_KILL_AT_STEP_LIB", "build/tests/libkill_at_step.so")


def tool(*args, kill_at=0, folder=None, log=None):
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(PRELOAD), MRCNN_KILL_AT_STEP=str(kill_at),
               MRCNN_STEP_FILTER=str(folder) if folder else "")
    if log:
        env["MRCNN_STEP_LOG"] = str(log)
    return subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def steps_of_a_save(folder, stem, iteration):
    log = folder.parent / f"steps_{iteration}.log"
    result = tool("save", stem, iteration, folder=folder, log=log)
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def loaded(stem):
    result = tool("load", stem)
    assert result.returncode == 0, result.stderr
    iteration, weight, state = (float(v) for v in result.stdout.split())
    assert iteration == weight == state, result.stdout  # one save's weights and state
    return int(iteration)


def test_a_save_killed_at_any_step_leaves_a_consistent_checkpoint(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    stem = base / "last"
    assert tool("save", stem, 1).returncode == 0
    probe = tmp_path / "probe"
    shutil.copytree(base, probe)
    steps = steps_of_a_save(probe, probe / "last", 2)
    calls = {line.split()[1] for line in steps}
    assert {"create", "fsync", "link", "rename", "remove"} <= calls, steps
    assert len(steps) >= 15, steps

    for n in range(1, len(steps) + 1):
        folder = tmp_path / f"kill_{n}"
        shutil.copytree(base, folder)
        killed = tool("save", folder / "last", 2, kill_at=n, folder=folder)
        assert killed.returncode == -signal.SIGKILL, (n, steps[n - 1], killed.stderr)
        after_first = loaded(folder / "last")
        assert after_first in (1, 2), (n, steps[n - 1])
        # The run resumes from what it found and saves again, and is killed at the same step.
        killed = tool("save", folder / "last", 3, kill_at=n, folder=folder)
        assert killed.returncode == -signal.SIGKILL, (n, killed.stderr)
        assert loaded(folder / "last") >= after_first, (n, steps[n - 1])
        # An uninterrupted save then leaves only the new pair.
        assert tool("save", folder / "last", 4).returncode == 0
        assert loaded(folder / "last") == 4
        left = sorted(p.name for p in folder.iterdir())
        assert left == ["last.safetensors", "last.state.safetensors"], (n, left)
        shutil.rmtree(folder)


def test_training_killed_while_saving_resumes_from_last(shapes, tmp_path):  # noqa: F811
    # The first iteration's checkpoint is written, then the run is killed while it writes the
    # second one (at its rename of the new state over last's); -r last then finishes the run.
    out = tmp_path / "tiny_shapes"
    overrides = [*data_overrides(shapes, tmp_path), "snapshot_iter=1", "epoch=1"]
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(PRELOAD), MRCNN_STEP_FILTER=str(out / "last"),
               MRCNN_STEP_LOG=str(tmp_path / "steps.log"))
    probe = subprocess.run([MRCNN, "train", "-c", TINY, "--iters", "2", *overrides],
                           capture_output=True, text=True, env=env, timeout=900)
    assert probe.returncode == 0, probe.stderr
    steps = (tmp_path / "steps.log").read_text().splitlines()
    second_save = [i + 1 for i, line in enumerate(steps) if " rename " in line and line.endswith("last.state.safetensors")]
    assert len(second_save) >= 2, steps
    shutil.rmtree(out)
    env.pop("MRCNN_STEP_LOG")
    env["MRCNN_KILL_AT_STEP"] = str(second_save[1])
    killed = subprocess.run([MRCNN, "train", "-c", TINY, *overrides],
                            capture_output=True, text=True, env=env, timeout=900)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = run("train", "-c", TINY, "-r", str(out / "last"), *overrides, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in (resumed.stdout + resumed.stderr).lower()
    steps_logged, _ = metrics(out / "metrics.jsonl")
    iterations = [s["iteration"] for s in steps_logged]
    assert iterations == sorted(set(iterations)), iterations  # each iteration once
    assert (out / "model_final.safetensors").exists()
