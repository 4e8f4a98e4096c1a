"""The matcher and the training losses against torchvision's own implementations on the same
tensors (Matcher, RegionProposalNetwork.compute_loss, fastrcnn_loss, maskrcnn_loss)."""
import os
import subprocess

import pytest
import torch
from safetensors.torch import load_file, save_file
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.roi_heads import fastrcnn_loss, maskrcnn_loss
from torchvision.models.detection.rpn import RegionProposalNetwork
from torchvision.ops import box_iou

TOOL = os.environ.get("MRCNN_TRAINING_TOOL", "build/tests/training_tool")


def run(op, tensors, tmp_path):
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp_path / "in.safetensors"))
    result = subprocess.run([TOOL, op, str(tmp_path / "in.safetensors"), str(tmp_path / "out.safetensors")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return load_file(str(tmp_path / "out.safetensors"))


@pytest.mark.parametrize("low_quality", [True, False])
def test_matcher_and_box_iou(tmp_path, low_quality):
    torch.manual_seed(1)
    a = torch.rand(7, 2) * 50
    a = torch.cat([a, a + torch.rand(7, 2) * 40 + 1], 1)
    b = torch.rand(300, 2) * 60
    b = torch.cat([b, b + torch.rand(300, 2) * 40 + 1], 1)
    quality = box_iou(a, b)
    quality[:, 5] = quality[:, 9]  # a tie for the best prediction of some ground truth
    out = run("matcher", {"quality": quality, "a": a, "b": b,
                          "thresholds": torch.tensor([0.7, 0.3, float(low_quality)], dtype=torch.float64)}, tmp_path)
    expected = det_utils.Matcher(0.7, 0.3, allow_low_quality_matches=low_quality)(quality)
    assert torch.equal(out["matches"], expected)
    assert torch.allclose(out["iou"], box_iou(a, b), atol=1e-7)


def test_rpn_loss(tmp_path):
    torch.manual_seed(2)
    a = 500
    objectness = torch.randn(a, 1)
    deltas = torch.randn(a, 4)
    labels = torch.randint(-1, 2, (a,)).float()
    targets = torch.randn(a, 4)
    positive = torch.where(labels == 1)[0][:40]
    negative = torch.where(labels == 0)[0][:200]
    rpn = RegionProposalNetwork(None, None, 0.7, 0.3, 256, 0.5, {"training": 1, "testing": 1},
                                {"training": 1, "testing": 1}, 0.7)
    pos_mask = torch.zeros(a, dtype=torch.uint8)
    neg_mask = torch.zeros(a, dtype=torch.uint8)
    pos_mask[positive] = 1
    neg_mask[negative] = 1
    rpn.fg_bg_sampler = lambda _labels: ([pos_mask], [neg_mask])
    expected = rpn.compute_loss(objectness, deltas, [labels], [targets])
    out = run("rpn_loss", {"objectness": objectness, "deltas": deltas, "labels": labels, "targets": targets,
                           "positive": positive, "negative": negative}, tmp_path)
    assert torch.allclose(out["objectness"], expected[0], rtol=1e-6)
    assert torch.allclose(out["box"], expected[1], rtol=1e-6)


def test_fast_rcnn_loss(tmp_path):
    torch.manual_seed(3)
    r, k = 512, 81
    class_logits = torch.randn(r, k)
    box_regression = torch.randn(r, 4 * k)
    labels = torch.where(torch.rand(r) < 0.25, torch.randint(1, k, (r,)), torch.zeros(r, dtype=torch.long))
    targets = torch.randn(r, 4)
    expected = fastrcnn_loss(class_logits, box_regression, [labels], [targets])
    out = run("fast_rcnn_loss", {"class_logits": class_logits, "box_regression": box_regression, "labels": labels,
                                 "targets": targets}, tmp_path)
    assert torch.allclose(out["classification"], expected[0], rtol=1e-6)
    assert torch.allclose(out["box"], expected[1], rtol=1e-6)


def test_mask_rcnn_loss(tmp_path):
    torch.manual_seed(4)
    tensors, proposals, masks, labels, matched = {}, [], [], [], []
    for i, (g, p) in enumerate([(3, 20), (5, 31)]):
        masks.append((torch.rand(g, 60, 80) > 0.5).float())
        xy = torch.rand(p, 2) * 50
        proposals.append(torch.cat([xy, xy + torch.rand(p, 2) * 30 + 1], 1))
        matched.append(torch.randint(0, g, (p,)))
        labels.append(torch.randint(1, 5, (g,)))
        tensors.update({f"proposals_{i}": proposals[-1], f"masks_{i}": masks[-1], f"labels_{i}": labels[-1],
                        f"matched_{i}": matched[-1]})
    mask_logits = torch.randn(51, 5, 28, 28)
    tensors["mask_logits"] = mask_logits
    expected = maskrcnn_loss(mask_logits, proposals, masks, labels, matched)
    out = run("mask_rcnn_loss", tensors, tmp_path)
    assert torch.allclose(out["loss"], expected, rtol=1e-5)
