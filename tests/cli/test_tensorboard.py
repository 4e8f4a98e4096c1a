"""The training run as a person watches it: TensorBoard event files read by the `tensorboard`
package itself (every scalar of metrics.jsonl under its tag with the same steps and values,
the AP tables, the prediction pictures, one continuous series across a kill and -r), and the
pictures of `eval --visualize`."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
TINY = str(SOURCE / "tests/cli/configs/tiny_shapes.yml")
GROUPS = {"lr": "train", "loss_scale": "train", "skipped_steps": "train", "batch_time": "time",
          "data_time": "time", "eta_seconds": "time", "host_syncs_per_step": "time"}


def run(*args, timeout=600):
    return subprocess.run([MRCNN, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp("shapes")
    made = run("make-shapes", "--out", str(out), "--train", "16", "--val", "4", "--size", "128x128", "--seed", "1")
    assert made.returncode == 0, made.stderr
    return out


def overrides(shapes, save_dir, *extra):
    return ["-o", f"TrainDataset.dataset_dir={shapes}", f"EvalDataset.dataset_dir={shapes}",
            f"TestDataset.dataset_dir={shapes}", f"save_dir={save_dir}", *extra]


def events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    files = sorted((folder / "tensorboard").glob("events.out.tfevents.*"))
    assert len(files) == 1, files  # one file per run
    accumulator = EventAccumulator(str(files[0]), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def tag_of(name):
    if name.startswith("loss"):
        return f"train/{name}"
    if name.endswith("_mib"):
        return f"memory/{name}"
    return f"{GROUPS[name]}/{name}"


def test_every_logged_scalar_the_ap_tables_and_pictures_are_in_the_event_file(shapes, tmp_path):
    result = run("train", "-c", TINY, "--eval", *overrides(shapes, tmp_path, "snapshot_epoch=2"))
    assert result.returncode == 0, result.stderr
    out = tmp_path / "tiny_shapes"
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [m for m in lines if "loss" in m]
    evaluations = [m for m in lines if "bbox_ap" in m]
    ea = events(out)
    scalars = set(ea.Tags()["scalars"])
    skip = {"iteration", "epoch"}
    for name in steps[0]:
        if name in skip:
            continue
        tag = tag_of(name)
        assert tag in scalars, tag
        logged = ea.Scalars(tag)
        assert [e.step for e in logged] == [m["iteration"] for m in steps], tag
        # Stored as float32, as TensorBoard's simple_value is.
        assert np.allclose([e.value for e in logged], np.float32([m[name] for m in steps]), rtol=1e-6, atol=0), tag
    # Each evaluation: the 12 COCO numbers of both types at its iteration, the table, pictures.
    assert len(evaluations) == 3  # epochs 2, 4 and the final one
    for kind, key in [("bbox", "bbox_ap"), ("segm", "segm_ap")]:
        for stat in ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]:
            assert f"eval/{kind}/{stat}" in scalars
        ap = ea.Scalars(f"eval/{kind}/AP")
        assert [e.step for e in ap] == [m["iteration"] for m in evaluations]
        assert np.allclose([e.value for e in ap], np.float32([m[key] for m in evaluations]), rtol=1e-6)
    table = ea.Tensors("eval/AP table")
    assert len(table) == 3 and b"| AP50 |" in table[0].tensor_proto.string_val[0]
    pictures = ea.Tags()["images"]
    assert len(pictures) == 3 and all(tag.startswith("eval/predictions/") for tag in pictures)
    for tag in pictures:
        shots = ea.Images(tag)
        assert [s.step for s in shots] == [m["iteration"] for m in evaluations]
        # Ground truth and predictions side by side: twice as wide as tall, plus caption and gap.
        assert shots[0].width > 1.8 * (shots[0].height - 22)
        assert shots[0].encoded_image_string[:4] == b"\x89PNG"


def test_the_series_continue_across_a_kill_and_resume(shapes, tmp_path):
    common = ["train", "-c", TINY]
    whole = run(*common, *overrides(shapes, tmp_path / "whole", "snapshot_iter=5", "epoch=2"))
    assert whole.returncode == 0, whole.stderr

    killed = tmp_path / "killed"
    process = subprocess.Popen([MRCNN, *common, *overrides(shapes, killed, "snapshot_iter=5", "epoch=2")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics = killed / "tiny_shapes" / "metrics.jsonl"
    deadline = time.time() + 300
    # Killed past the checkpoint at step 5 and before the next (10): steps 6 and on were logged
    # and must not appear twice once the run is resumed from 5.
    while time.time() < deadline and process.poll() is None:
        if metrics.exists() and any(json.loads(l).get("iteration", 0) >= 7 for l in metrics.read_text().splitlines()):
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    logged = [json.loads(l)["iteration"] for l in metrics.read_text().splitlines() if "loss" in l]
    assert 5 < max(logged) < 10, logged
    before = [e.step for e in events(killed / "tiny_shapes").Scalars("train/loss")]
    assert before == logged

    resumed = run(*common, "-r", str(killed / "tiny_shapes" / "last"),
                  *overrides(shapes, killed, "snapshot_iter=5", "epoch=2"))
    assert resumed.returncode == 0, resumed.stderr
    got = events(killed / "tiny_shapes")
    expected = events(tmp_path / "whole" / "tiny_shapes")
    for tag in ["train/loss", "train/loss_mask", "train/lr"]:
        a, b = got.Scalars(tag), expected.Scalars(tag)
        assert [e.step for e in a] == list(range(1, 15)), tag  # each step once, in order
        assert [e.step for e in a] == [e.step for e in b]
        assert [e.value for e in a] == [e.value for e in b], tag  # the resumed run is exact


def test_tensorboard_can_be_turned_off_and_pointed_elsewhere(shapes, tmp_path):
    off = run("train", "-c", TINY, "--no_tensorboard", "--iters", "2", *overrides(shapes, tmp_path / "off"))
    assert off.returncode == 0, off.stderr
    assert not (tmp_path / "off" / "tiny_shapes" / "tensorboard").exists()
    elsewhere = tmp_path / "tb"
    on = run("train", "-c", TINY, "--use_vdl", "--vdl_log_dir", str(elsewhere), "--iters", "2",
             *overrides(shapes, tmp_path / "on"))
    assert on.returncode == 0, on.stderr
    assert len(list(elsewhere.glob("events.out.tfevents.*"))) == 1


def test_eval_visualize_draws_pictures_and_charts(shapes, tmp_path):
    trained = run("train", "-c", TINY, "--no_tensorboard", *overrides(shapes, tmp_path))
    assert trained.returncode == 0, trained.stderr
    weights = tmp_path / "tiny_shapes" / "model_final"
    out = tmp_path / "eval"
    result = run("eval", "-c", TINY, "--weights", str(weights), "--output_eval", str(out), "--visualize", "2",
                 "--draw_threshold", "0.1", *overrides(shapes, tmp_path))
    assert result.returncode == 0, result.stderr
    folder = out / "visualize"
    pictures = sorted(p.name for p in folder.glob("0*.png"))
    assert len(pictures) == 2
    side_by_side = Image.open(folder / pictures[0])
    assert side_by_side.width > 1.8 * (side_by_side.height - 22)
    ap = np.asarray(Image.open(folder / "per_category_ap.png").convert("RGB"))
    pr = np.asarray(Image.open(folder / "precision_recall.png").convert("RGB"))
    assert ap.shape[1] == 720 and pr.shape[1] == 820
    def coloured(chart):
        return (chart.max(axis=2).astype(int) - chart.min(axis=2) > 60).sum()
    # Six bars (3 categories, bbox and segm) as long as the APs, which are near 0 for this tiny
    # model: each still shows its coloured stub at the axis. The curves are coloured lines.
    assert coloured(ap) > 6 * 5
    assert coloured(pr) > 100
    # From the results files alone, the same pictures.
    again = run("eval", "-c", TINY, "--json_eval", "--output_eval", str(out), "--visualize", "2",
                "--draw_threshold", "0.1", *overrides(shapes, tmp_path))
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in folder.glob("0*.png")) == pictures
