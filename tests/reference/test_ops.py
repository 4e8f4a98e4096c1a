"""Our RoIAlign and NMS against torchvision.ops: torchvision's Mask R-CNN settings
(aligned=False, sampling_ratio=2) and PaddleDetection's (aligned=True, adaptive sampling)."""
import os
import subprocess

import numpy as np
import pytest
import torch
import torchvision

OPS_TOOL = os.environ.get("MRCNN_OPS_TOOL", "build/tests/ops_tool")


def random_rois(rng, k, n, h, w, scale):
    x1 = rng.uniform(-8, w / scale, k)
    y1 = rng.uniform(-8, h / scale, k)
    bw = np.exp(rng.uniform(np.log(0.2), np.log(w / scale), k))
    bh = np.exp(rng.uniform(np.log(0.2), np.log(h / scale), k))
    rois = np.stack([rng.integers(0, n, k), x1, y1, x1 + bw, y1 + bh], 1).astype(np.float32)
    rois[:3, 3:] = rois[:3, 1:3] - 1  # a few degenerate boxes (x2 < x1)
    return rois


@pytest.mark.parametrize("aligned,sampling,scale,pooled", [(False, 2, 0.25, 7), (True, 0, 0.25, 7),
                                                           (True, 0, 0.125, 14), (False, 0, 1.0, 5),
                                                           (True, 3, 0.5, 4)])
def test_roi_align_matches_torchvision(tmp_path, aligned, sampling, scale, pooled):
    rng = np.random.default_rng(int(scale * 1000) + sampling + int(aligned))
    n, c, h, w, k = 2, 3, 19, 23, 40
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    rois = random_rois(rng, k, n, h, w, scale)
    grad = rng.standard_normal((k, c, pooled, pooled)).astype(np.float32)
    for name, array in (("x", x), ("rois", rois), ("grad", grad)):
        array.tofile(tmp_path / f"{name}.f32")
    run = subprocess.run([OPS_TOOL, "roi_align", str(tmp_path / "x.f32"), str(n), str(c), str(h), str(w),
                          str(tmp_path / "rois.f32"), str(k), str(pooled), str(pooled), repr(scale), str(sampling),
                          str(int(aligned)), str(tmp_path / "grad.f32"), str(tmp_path / "out.f32"),
                          str(tmp_path / "gin.f32")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    ours = np.fromfile(tmp_path / "out.f32", dtype=np.float32).reshape(k, c, pooled, pooled)
    ours_grad = np.fromfile(tmp_path / "gin.f32", dtype=np.float32).reshape(n, c, h, w)

    xt = torch.from_numpy(x).requires_grad_(True)
    ref = torchvision.ops.roi_align(xt, torch.from_numpy(rois), (pooled, pooled), scale, sampling, aligned)
    ref.backward(torch.from_numpy(grad))
    # Same samples, weights and summation order: equal to float rounding.
    np.testing.assert_allclose(ours, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_nms_matches_torchvision(tmp_path):
    rng = np.random.default_rng(3)
    n = 500
    xy = rng.uniform(0, 200, (n, 2))
    wh = rng.uniform(1, 60, (n, 2))
    boxes = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    scores = np.round(rng.uniform(0, 1, n), 3).astype(np.float32)  # some ties
    boxes.tofile(tmp_path / "boxes.f32")
    scores.tofile(tmp_path / "scores.f32")
    for iou in (0.3, 0.5, 0.7):
        out = tmp_path / f"keep_{iou}.i64"
        run = subprocess.run([OPS_TOOL, "nms", str(tmp_path / "boxes.f32"), str(n), str(tmp_path / "scores.f32"),
                              repr(iou), str(out)], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        ours = np.fromfile(out, dtype=np.int64)
        ref = torchvision.ops.nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou).numpy()
        # torchvision's CPU sort is not stable for ties; compare as sets and by score order.
        assert set(ours.tolist()) == set(ref.tolist())
        assert np.all(np.diff(scores[ours]) <= 0)
