"""PaddleDetection's own Mask R-CNN weights, and our configs in PaddleDetection.

A model that real PaddleDetection (release 2.7's ppdet on paddlepaddle, in .venv-paddle) builds
from its recipe configs and saves with paddle.save loads into mrcnn's model with every tensor
placed -- none missing, none unused, none mis-shaped -- and each tensor arrives as
PaddleDetection's layout rule says: Linear weights transposed, the classifier's background
moved from last to first, zero background rows added to the box deltas and mask logits. And
our shipped configs load in ppdet's own config loader (our recipe building the model its
recipe builds).

Needs the reference source (MRCNN_PADDLE_REFERENCE) and a Python with paddle
(MRCNN_PADDLE_PYTHON, set up by scripts/setup_paddle.sh); without them it skips and says so."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import load_file

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
PRETRAIN_TOOL = os.environ.get("MRCNN_PRETRAIN_TOOL", "build/tests/pretrain_tool")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
REFERENCE = Path(os.environ.get(
    "MRCNN_PADDLE_REFERENCE", SOURCE.resolve().parent / "shared" / "reference" / "paddledetection"))
PADDLE_PYTHON = os.environ.get("MRCNN_PADDLE_PYTHON", str(SOURCE / ".venv-paddle" / "bin" / "python"))

pytestmark = pytest.mark.skipif(
    not (REFERENCE / "2.7" / "ppdet").is_dir() or not Path(PADDLE_PYTHON).exists(),
    reason=f"needs PaddleDetection's source at {REFERENCE}/2.7 and paddle at {PADDLE_PYTHON} "
           "(scripts/setup_paddle.sh)")

# Builds the model of a config with ppdet, as tools/train.py does, saves its (randomly
# initialised) state with paddle.save and every array as numpy for the comparison.
BUILD_WITH_PPDET = """
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np, paddle
from ppdet.core.workspace import load_config, create
paddle.seed(0)
cfg = load_config(sys.argv[2])
model = create(cfg.architecture)
state = model.state_dict()
paddle.save(state, sys.argv[3])
np.savez(sys.argv[4], **{k: v.numpy() for k, v in state.items()})
# The backbone alone, named as PaddleDetection's ImageNet files are (no "backbone." prefix).
paddle.save(model.backbone.state_dict(), sys.argv[5])
"""


def paddle_model(config, tmp_path):
    weights, arrays = tmp_path / "model.pdparams", tmp_path / "model.npz"
    env = dict(os.environ, FLAGS_set_to_1d="False", CUDA_VISIBLE_DEVICES="")
    made = subprocess.run([PADDLE_PYTHON, "-c", BUILD_WITH_PPDET, str(REFERENCE / "2.7"), str(config),
                           str(weights), str(arrays), str(tmp_path / "backbone.pdparams")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert made.returncode == 0, made.stderr[-3000:]
    return weights, dict(np.load(arrays))


def expected_layout(name, array):
    """Our tensor for Paddle's, by PaddleDetection's documented layouts."""
    if name.endswith(("fc6.weight", "fc7.weight")):
        return array.T  # Paddle's Linear stores [in, out]
    if "bbox_score" in name:  # [in, C+1] / [C+1], background last
        classes_first = array.T if array.ndim == 2 else array
        return np.concatenate([classes_first[-1:], classes_first[:-1]])
    if "bbox_delta" in name:  # [in, 4C] / [4C], no background
        rows = array.T if array.ndim == 2 else array
        return np.concatenate([np.zeros((4,) + rows.shape[1:], rows.dtype), rows])
    if "mask_fcn_logits" in name:  # [C, ...], no background
        return np.concatenate([np.zeros((1,) + array.shape[1:], array.dtype), array])
    return array


@pytest.mark.parametrize("config", ["mask_rcnn_r50_fpn_1x_coco", "mask_rcnn_r50_vd_fpn_1x_coco"])
def test_paddledetection_weights_load_with_every_tensor_placed(config, tmp_path):
    path = REFERENCE / "2.7" / "configs" / "mask_rcnn" / f"{config}.yml"
    weights, arrays = paddle_model(path, tmp_path)

    out = tmp_path / "model.safetensors"
    converted = subprocess.run([MRCNN, "convert-weights", str(weights), str(out)], capture_output=True, text=True)
    assert converted.returncode == 0, converted.stderr
    assert "not known" not in converted.stdout, converted.stdout  # every Paddle name mapped
    ours = load_file(str(out))
    assert len(ours) == len(arrays)
    # Each tensor is somewhere in ours with the expected layout: match them by value.
    by_shape = {}
    for key, value in ours.items():
        by_shape.setdefault(value.shape, []).append((key, value))
    for name, array in arrays.items():
        expected = expected_layout(name, array)
        candidates = [key for key, value in by_shape.get(expected.shape, []) if np.array_equal(value, expected)]
        assert candidates, f"{name}: no tensor of ours holds it as {expected.shape}"

    # The class-order-sensitive heads, by name.
    named = {"bbox_head.bbox_score.weight": "roi_heads.box_predictor.cls_score.weight",
             "bbox_head.bbox_score.bias": "roi_heads.box_predictor.cls_score.bias",
             "bbox_head.bbox_delta.weight": "roi_heads.box_predictor.bbox_pred.weight",
             "bbox_head.head.fc6.weight": "roi_heads.box_head.fc6.weight",
             "mask_head.mask_fcn_logits.weight": "roi_heads.mask_predictor.mask_fcn_logits.weight",
             "rpn_head.rpn_rois_delta.weight": "rpn.head.bbox_pred.weight",
             "neck.fpn_inner_res5_sum.weight": "backbone.fpn.inner_blocks.3.0.weight",
             "backbone.res4.res4f.branch2c.norm._variance": "backbone.body.layer3.5.bn3.running_var"}
    for paddle_name, our_name in named.items():
        assert np.array_equal(ours[our_name], expected_layout(paddle_name, arrays[paddle_name])), paddle_name

    # Strict loading: eval, infer and train load weights only when every tensor fits.
    image = tmp_path / "image.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(image)
    for weights_file in [weights, out]:
        inferred = subprocess.run([MRCNN, "infer", "-c", str(path), "--weights", str(weights_file), "--infer_img",
                                   str(image), "--output_dir", str(tmp_path / "infer"), "-o",
                                   f"TestDataset.dataset_dir={tmp_path}", "use_gpu=false"], capture_output=True, text=True,
                                  timeout=600)
        assert inferred.returncode == 0, inferred.stderr
        assert "tensors loaded" in inferred.stderr and "missing" not in inferred.stderr, inferred.stderr

    # The backbone alone, as pretrain_weights: it fills our backbone's body.
    loaded = subprocess.run([PRETRAIN_TOOL, str(path), str(tmp_path / "backbone.pdparams"),
                             str(tmp_path / "pretrained.safetensors")], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    pretrained = load_file(str(tmp_path / "pretrained.safetensors"))
    backbone = {k: v for k, v in arrays.items() if k.startswith("backbone.")}
    body = {k: v for k, v in ours.items() if k.startswith("backbone.body.")}
    assert len(backbone) == len(body)
    for key, value in body.items():
        assert np.array_equal(pretrained[key], value), key


LOAD_WITH_PPDET = """
import sys
sys.path.insert(0, sys.argv[1])
from ppdet.core.workspace import load_config, create
cfg = load_config(sys.argv[2])
if sys.argv[3] == "build":
    model = create(cfg.architecture)
    print(cfg.num_classes, sum(int(v.size) for v in model.state_dict().values()))
else:
    print(cfg.num_classes)
"""


def load_in_ppdet(config, build):
    env = dict(os.environ, FLAGS_set_to_1d="False", CUDA_VISIBLE_DEVICES="")
    loaded = subprocess.run([PADDLE_PYTHON, "-c", LOAD_WITH_PPDET, str(REFERENCE / "2.7"), str(config),
                             "build" if build else "read"], capture_output=True, text=True, env=env, timeout=600)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    return [int(word) for word in loaded.stdout.split()[-2 if build else -1:]]


@pytest.mark.parametrize("config, build, classes", [
    ("configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.yml", True, 80),
    ("configs/mask_rcnn/mask_rcnn_r50_fpn_torchvision.yml", True, 90),
    # The demo's ResNet-18 at half width is ours (ResNet.base_channels): ppdet reads the file
    # but has no such model to build.
    ("configs/shapes/mask_rcnn_r18_fpn_shapes.yml", False, 3),
])
def test_our_shipped_configs_load_in_paddledetection(config, build, classes):
    got = load_in_ppdet(SOURCE / config, build)
    assert got[0] == classes
    if config.endswith("_1x_coco.yml"):
        # Our recipe builds in ppdet the very model its own recipe builds (tensor for tensor).
        theirs = load_in_ppdet(REFERENCE / "2.7" / "configs" / "mask_rcnn" / "mask_rcnn_r50_fpn_1x_coco.yml", True)
        assert got == theirs
