"""Images of COCO's common sizes, enlarged to an 800 px short side as nearly every COCO image is,
and a shrunk one: our resized sizes are each reference's, and with torchvision's (seeded random)
weights our detections and training losses are torchvision's.

Tolerances as in test_model.py for detections; losses to 1e-5 relative (float32 sums over
every labelled anchor and RoI, in whatever order each library adds them)."""
import json
import os
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image
from pycocotools.coco import COCO
from safetensors.torch import load_file

from reference_models import random_maskrcnn
from test_model import match_in_order, read_outputs

MODEL_TOOL = os.environ.get("MRCNN_MODEL_TOOL", "build/tests/model_tool")
LOSSES_TOOL = os.environ.get("MRCNN_LOSSES_TOOL", "build/tests/losses_tool")
IMAGE_TOOL = os.environ.get("MRCNN_IMAGE_TOOL", "build/tests/image_tool")
SHORT, LONG, SCORE_THRESH = 800, 1333, 0.012

# (height, width): COCO's most common sizes, all enlarged; a shrunk one.
COCO_SIZES = [(480, 640), (640, 480), (427, 640), (640, 427), (375, 500), (612, 612), (1000, 1500)]
# Sizes an exact scale maps to exact sizes, and the small images of the other tests.
OTHER_SIZES = [(400, 600), (240, 320), (300, 220)]


def make_image(folder, size, rng):
    """Smooth blobs at the scale of the image, over faint noise: no two regions look alike, so
    detections seldom tie exactly (in a flat region, shifted boxes score the same)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    image = rng.uniform(0, 12, (h, w, 3))
    for _ in range(24):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.03, 0.12) * max(h, w)
        image += rng.uniform(0, 255, 3) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
    path = folder / "image.png"
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(path)
    return path


def our_resized_size(size, rounding):
    run = subprocess.run([IMAGE_TOOL, "size", str(size[0]), str(size[1]), str(SHORT), str(LONG), rounding],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return tuple(map(int, run.stdout.split()))


@pytest.mark.parametrize("size", COCO_SIZES + OTHER_SIZES)
def test_images_are_resized_to_torchvisions_sizes(size):
    from torchvision.models.detection.transform import GeneralizedRCNNTransform

    transform = GeneralizedRCNNTransform(SHORT, LONG, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).eval()
    expected = transform([torch.zeros(3, *size)])[0].image_sizes[0]
    assert our_resized_size(size, "floor") == tuple(expected)


@pytest.mark.parametrize("size", COCO_SIZES + OTHER_SIZES)
def test_images_are_resized_to_paddledetections_sizes(size):
    # PaddleDetection 2.7's Resize with keep_ratio: the scale in double, each side
    # int(scale * side + 0.5); cv2.resize then gets that size back from fx = new / old.
    scale = min(SHORT / min(size), LONG / max(size))
    expected = tuple(int(scale * float(side) + 0.5) for side in size)
    assert our_resized_size(size, "nearest") == expected


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("weights") / "maskrcnn.pth"
    torch.save(random_maskrcnn(seed=0).state_dict(), path)
    return path


def load_rgb(path):
    return torch.from_numpy(np.asarray(Image.open(path).convert("RGB"))).permute(2, 0, 1).float() / 255


@pytest.mark.parametrize("size", COCO_SIZES)
def test_detections_are_torchvisions(size, checkpoint, tmp_path):
    model = random_maskrcnn(seed=0, min_size=SHORT, max_size=LONG, box_score_thresh=SCORE_THRESH)
    model.load_state_dict(torch.load(checkpoint))
    path = make_image(tmp_path, size, np.random.default_rng(3))
    with torch.no_grad():
        final = model([load_rgb(path)])[0]
    run = subprocess.run([MODEL_TOOL, str(checkpoint), str(tmp_path), str(SHORT), str(LONG), str(SCORE_THRESH),
                          str(path)], capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr
    ours = read_outputs(tmp_path)
    resized = our_resized_size(size, "floor")
    assert ours["batch"].shape[2:] == tuple(-(-s // 32) * 32 for s in resized)
    assert len(final["labels"]) > 10, "the test needs detections"
    pairs = match_in_order(ours["final_boxes_0"], ours["scores_0"], ours["labels_0"], final["boxes"].numpy(),
                           final["scores"].numpy(), final["labels"].numpy(), box_tol=1e-3, score_tol=1e-6)
    # Each mask against its detection's (exactly tied detections may have changed places).
    np.testing.assert_allclose(ours["pasted_0"], final["masks"].numpy()[pairs], atol=1e-6)


def write_dataset(folder, size, rng):
    """One image of `size` with six polygon instances of three categories, inside the image."""
    path = make_image(folder, size, rng)
    h, w = size
    annotations = []
    for k in range(6):
        cx, cy = rng.uniform(0.2 * w, 0.8 * w), rng.uniform(0.2 * h, 0.8 * h)
        radius = rng.uniform(0.05, 0.18) * min(h, w)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
        xs, ys = cx + radius * np.cos(angles), cy + radius * np.sin(angles)
        polygon = [round(float(v), 2) for xy in zip(xs, ys) for v in xy]
        x0, y0 = min(polygon[0::2]), min(polygon[1::2])
        bbox = [x0, y0, max(polygon[0::2]) - x0, max(polygon[1::2]) - y0]
        annotations.append({"id": k + 1, "image_id": 1, "category_id": [1, 18, 44][k % 3], "iscrowd": 0,
                            "segmentation": [polygon], "bbox": bbox, "area": bbox[2] * bbox[3]})
    dataset = {"images": [{"id": 1, "file_name": path.name, "height": h, "width": w}],
               "annotations": annotations,
               "categories": [{"id": i, "name": f"category {i}"} for i in (1, 18, 44)]}
    (folder / "instances.json").write_text(json.dumps(dataset))
    return path, folder / "instances.json"


@pytest.mark.parametrize("size", COCO_SIZES)
def test_training_losses_are_torchvisions(size, checkpoint, tmp_path):
    path, annotations = write_dataset(tmp_path, size, np.random.default_rng(5))
    coco = COCO(str(annotations))
    anns = coco.loadAnns(coco.getAnnIds(imgIds=1))
    target = {"boxes": torch.tensor([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                                      a["bbox"][1] + a["bbox"][3]] for a in anns], dtype=torch.float32),
              "labels": torch.tensor([a["category_id"] for a in anns]),
              "masks": torch.from_numpy(np.stack([coco.annToMask(a) for a in anns]))}
    # Unlimited sampling budgets: every labelled anchor and RoI counts, no random draw.
    unlimited = 2 ** 31 - 1
    model = random_maskrcnn(seed=0, min_size=SHORT, max_size=LONG, rpn_batch_size_per_image=unlimited,
                            box_batch_size_per_image=unlimited)
    model.load_state_dict(torch.load(checkpoint))
    model.train()
    with torch.no_grad():
        expected = model([load_rgb(path)], [target])

    out = tmp_path / "losses.safetensors"
    run = subprocess.run([LOSSES_TOOL, str(checkpoint), str(annotations), str(tmp_path), str(SHORT), str(LONG),
                          str(out)], capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr
    ours = load_file(str(out))
    assert tuple(ours["image_size"].tolist()) == our_resized_size(size, "floor")
    names = {"loss_rpn_cls": "loss_objectness", "loss_rpn_reg": "loss_rpn_box_reg",
             "loss_bbox_cls": "loss_classifier", "loss_bbox_reg": "loss_box_reg", "loss_mask": "loss_mask"}
    for mine, theirs in names.items():
        assert float(expected[theirs]) > 0, theirs
        np.testing.assert_allclose(float(ours[mine]), float(expected[theirs]), rtol=1e-5, err_msg=mine)
