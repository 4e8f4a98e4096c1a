"""Our Mask R-CNN against torchvision's maskrcnn_resnet50_fpn with the same (seeded random)
weights, loaded from a `torch.save(model.state_dict())` file, stage by stage.

Tolerances: FPN features equal to 2e-5 of their scale (in practice bit-equal); proposals the
same boxes to 1e-3 px (order may differ only among exactly tied objectness); detections the
same labels, scores to 1e-6 and boxes to 1e-3 px, in the same order except exact ties; mask
probabilities (28x28 and pasted) to 1e-6; thresholded pasted masks agree on > 99.9% of pixels."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reference_models import random_maskrcnn

MODEL_TOOL = os.environ.get("MRCNN_MODEL_TOOL", "build/tests/model_tool")
MIN_SIZE, MAX_SIZE, SCORE_THRESH = 320, 512, 0.012


def read_outputs(folder):
    out = {}
    for line in (folder / "manifest.txt").read_text().splitlines():
        name, dtype, *shape = line.split()
        array = np.fromfile(folder / f"{name}.bin", dtype=np.int64 if dtype == "int64" else np.float32)
        out[name] = array.reshape([int(s) for s in shape])
    return out


def make_images(folder, rng):
    paths = []
    for k, (h, w) in enumerate([(240, 320), (300, 220)]):
        # smooth blobs, so features and detections are not pure noise
        yy, xx = np.mgrid[0:h, 0:w]
        image = np.zeros((h, w, 3))
        for _ in range(6):
            cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(15, 60)
            image += rng.uniform(0, 255, 3) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
        path = folder / f"image{k}.png"
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


_ROOT = None


def comparison_root():
    return _ROOT


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    model = random_maskrcnn(seed=0, min_size=MIN_SIZE, max_size=MAX_SIZE, box_score_thresh=SCORE_THRESH)
    checkpoint = folder / "maskrcnn.pth"
    torch.save(model.state_dict(), checkpoint)
    paths = make_images(folder, np.random.default_rng(1))
    images = [torch.from_numpy(np.asarray(Image.open(p))).permute(2, 0, 1).float() / 255 for p in paths]

    captured = {}
    model.backbone.register_forward_hook(lambda m, i, o: captured.__setitem__("features", list(o.values())))
    model.rpn.register_forward_hook(lambda m, i, o: captured.__setitem__("proposals", o[0]))
    # postprocess rescales the RoI heads' result dicts in place: keep copies.
    model.roi_heads.register_forward_hook(
        lambda m, i, o: captured.__setitem__("detections", [{k: v.clone() for k, v in d.items()} for d in o[0]]))
    with torch.no_grad():
        final = model(images)

    run = subprocess.run([MODEL_TOOL, str(checkpoint), str(folder), str(MIN_SIZE), str(MAX_SIZE), str(SCORE_THRESH),
                          *map(str, paths)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    global _ROOT
    _ROOT = folder
    return captured, final, read_outputs(folder)


def test_backbone_and_fpn_features(comparison):
    captured, _, ours = comparison
    assert len(captured["features"]) == 5
    for i, reference in enumerate(captured["features"]):
        # Convolutions may pick different (equally valid) float32 summation orders: agree to
        # 2e-5 of the feature scale.
        scale = float(reference.abs().max())
        np.testing.assert_allclose(ours[f"feature_{i}"], reference.numpy(), rtol=0, atol=2e-5 * scale)


def match_in_order(ours_boxes, ours_scores, ours_labels, ref_boxes, ref_scores, ref_labels, box_tol, score_tol):
    """Every detection pairs with one of the other side (same label, boxes within box_tol,
    scores within score_tol); where positions differ, the scores tie within float noise.
    Returns, for each of ours, the position of its counterpart."""
    assert len(ours_scores) == len(ref_scores)
    used, pairs = set(), []
    for i in range(len(ours_scores)):
        candidates = [j for j in range(len(ref_scores)) if j not in used and ref_labels[j] == ours_labels[i]
                      and abs(ref_scores[j] - ours_scores[i]) <= score_tol
                      and np.abs(ref_boxes[j] - ours_boxes[i]).max() <= box_tol]
        assert candidates, f"detection {i} (label {ours_labels[i]}, score {ours_scores[i]}) has no counterpart"
        j = min(candidates, key=lambda c: abs(c - i))
        used.add(j)
        pairs.append(j)
        if j != i:  # only near-ties may change places
            assert abs(ref_scores[i] - ref_scores[j]) <= 2 * score_tol, (i, j)
    return pairs


def test_proposals(comparison):
    captured, _, ours = comparison
    for k, reference in enumerate(captured["proposals"]):
        mine, ref = ours[f"proposals_{k}"], reference.numpy()
        assert mine.shape == ref.shape and len(ref) > 100
        # The same boxes; proposals with exactly equal objectness may come in another order
        # (torchvision sorts them with an unstable sort).
        distance = np.abs(mine[:, None, :] - ref[None, :, :]).max(axis=2)
        assert (distance.min(axis=1) <= 1e-3).all()
        assert (distance.min(axis=0) <= 1e-3).all()


def test_detections_same_and_in_the_same_order(comparison):
    captured, final, ours = comparison
    for k, reference in enumerate(captured["detections"]):
        assert len(reference["labels"]) > 10, "the test needs detections"
        match_in_order(ours[f"boxes_{k}"], ours[f"scores_{k}"], ours[f"labels_{k}"], reference["boxes"].numpy(),
                       reference["scores"].numpy(), reference["labels"].numpy(), box_tol=1e-3, score_tol=1e-6)
        match_in_order(ours[f"final_boxes_{k}"], ours[f"scores_{k}"], ours[f"labels_{k}"], final[k]["boxes"].numpy(),
                       final[k]["scores"].numpy(), final[k]["labels"].numpy(), box_tol=1e-3, score_tol=1e-6)


def test_mask_probabilities(comparison):
    captured, _, ours = comparison
    for k, reference in enumerate(captured["detections"]):
        mine, ref = ours[f"masks_{k}"], reference["masks"].numpy()
        same = (ours[f"labels_{k}"] == reference["labels"].numpy())
        np.testing.assert_allclose(mine[same], ref[same], atol=1e-6)


def test_pasted_masks(comparison):
    _, final, ours = comparison
    for k, result in enumerate(final):
        pasted = ours[f"pasted_{k}"]
        reference = result["masks"].numpy()
        assert pasted.shape == reference.shape
        same = ours[f"labels_{k}"] == result["labels"].numpy()
        # Probabilities agree closely; thresholded at 0.5 nearly every pixel agrees (a box edge
        # that rounds to another integer can move a one-pixel strip).
        np.testing.assert_allclose(pasted[same], reference[same], atol=1e-6)
        agree = ((pasted[same] > 0.5) == (reference[same] > 0.5)).mean()
        assert agree > 0.999, agree


def old_key(key):
    """torchvision's key names before its convs were wrapped in Conv2dNormActivation."""
    import re

    key = re.sub(r"^(backbone\.fpn\.(inner|layer)_blocks\.\d+)\.0\.", r"\1.", key)
    key = re.sub(r"^rpn\.head\.conv\.0\.0\.", "rpn.head.conv.", key)
    return re.sub(r"^roi_heads\.mask_head\.(\d)\.0\.", lambda m: f"roi_heads.mask_head.mask_fcn{int(m[1]) + 1}.", key)


def run_tool(checkpoint, folder, images):
    folder.mkdir(exist_ok=True)
    return subprocess.run([MODEL_TOOL, str(checkpoint), str(folder), str(MIN_SIZE), str(MAX_SIZE), str(SCORE_THRESH),
                           *map(str, images)], capture_output=True, text=True, timeout=600)


def test_legacy_format_and_old_key_names_load_the_same_weights(comparison, tmp_path):
    _, _, ours = comparison
    root = comparison_root()
    state = torch.load(root / "maskrcnn.pth")
    legacy = tmp_path / "legacy_old_keys.pth"
    torch.save({old_key(k): v for k, v in state.items()}, legacy, _use_new_zipfile_serialization=False)
    assert legacy.read_bytes()[:2] != b"PK"  # really the pre-1.6 format
    run = run_tool(legacy, tmp_path / "out", sorted(root.glob("image*.png")))
    assert run.returncode == 0, run.stderr
    again = read_outputs(tmp_path / "out")
    for name, array in ours.items():
        np.testing.assert_array_equal(again[name], array, err_msg=name)


def test_mismatched_weights_are_listed(comparison, tmp_path):
    root = comparison_root()
    state = torch.load(root / "maskrcnn.pth")
    state["roi_heads.box_predictor.cls_score.weight"] = torch.zeros(5, 1024)
    state["extra.weight"] = torch.zeros(1)
    del state["backbone.fpn.layer_blocks.2.0.bias"]
    broken = tmp_path / "broken.pth"
    torch.save(state, broken)
    run = run_tool(broken, tmp_path / "out", sorted(root.glob("image*.png")))
    assert run.returncode == 1
    assert "missing from the file: backbone.fpn.layer_blocks.2.0.bias" in run.stderr
    assert "not used by the model: extra.weight" in run.stderr
    assert "roi_heads.box_predictor.cls_score.weight: file [5, 1024] vs model [91, 1024]" in run.stderr


def test_weights_round_trip_through_safetensors(comparison, tmp_path):
    """convert-weights writes our format; Python's safetensors reads it back exactly, and the
    model loaded from it gives the same results."""
    from safetensors.torch import load_file

    _, _, ours = comparison
    root = comparison_root()
    converted = tmp_path / "maskrcnn.safetensors"
    mrcnn = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
    run = subprocess.run([mrcnn, "convert-weights", str(root / "maskrcnn.pth"), str(converted)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    original = torch.load(root / "maskrcnn.pth")
    loaded = load_file(str(converted))
    assert set(loaded) == set(original)
    for key, tensor in original.items():
        assert torch.equal(loaded[key], tensor), key
    run = run_tool(converted, tmp_path / "out", sorted(root.glob("image*.png")))
    assert run.returncode == 0, run.stderr
    again = read_outputs(tmp_path / "out")
    for name, array in ours.items():
        np.testing.assert_array_equal(again[name], array, err_msg=name)
