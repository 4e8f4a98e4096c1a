"""`pretrain_weights`: an ImageNet ResNet-50 goes into the backbone alone; a detector with another
number of classes loads everything but the class-specific layers."""
import os
import subprocess
from pathlib import Path

import torch
import torchvision
from safetensors.torch import load_file

from reference_models import random_maskrcnn

TOOL = os.environ.get("MRCNN_PRETRAIN_TOOL", "build/tests/pretrain_tool")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", ".")).resolve()


def write_config(folder, num_classes):
    config = folder / "config.yml"
    config.write_text(f"_BASE_: '{SOURCE / 'configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.yml'}'\n"
                      f"num_classes: {num_classes}\n")
    return config


def run(config, weights, out):
    result = subprocess.run([TOOL, str(config), str(weights), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout, load_file(str(out))


def test_imagenet_resnet_fills_the_backbone(tmp_path):
    torch.manual_seed(0)
    resnet = torchvision.models.resnet50(weights=None, norm_layer=torchvision.ops.misc.FrozenBatchNorm2d)
    state = resnet.state_dict()
    torch.save(state, tmp_path / "resnet50.pth")
    report, ours = run(write_config(tmp_path, 80), tmp_path / "resnet50.pth", tmp_path / "out.safetensors")
    body_keys = [k for k in state if not k.startswith("fc.")]
    assert report.startswith(f"{len(body_keys)} tensors loaded")
    for key in body_keys:
        assert torch.equal(ours["backbone.body." + key], state[key]), key


def test_detector_with_other_classes_skips_class_layers(tmp_path):
    torch.save(random_maskrcnn(seed=2).state_dict(), tmp_path / "coco.pth")  # 91 classes
    report, ours = run(write_config(tmp_path, 3), tmp_path / "coco.pth", tmp_path / "out.safetensors")
    assert "6 class-specific, skipped" in report
    state = torch.load(tmp_path / "coco.pth")
    assert torch.equal(ours["roi_heads.box_head.fc6.weight"], state["roi_heads.box_head.fc6.weight"])
    assert ours["roi_heads.box_predictor.cls_score.weight"].shape == (4, 1024)
