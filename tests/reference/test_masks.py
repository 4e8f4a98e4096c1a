"""Our COCO mask code against pycocotools: RLE strings, areas and boxes byte-identical,
rasterised polygons identical pixel for pixel, IoUs (with crowd rules) and merges identical."""
import json
import math
import os
import subprocess

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from coco_synth import uncompressed

MASK_TOOL = os.environ.get("MRCNN_MASK_TOOL", "build/tests/mask_tool")


def awkward_polygons(rng, h, w):
    """Polygons of every kind the rasteriser has branches for."""
    polys = []
    for _ in range(40):  # random star-shaped polygons of all sizes, partly outside the image
        k = int(rng.integers(3, 30))
        cx, cy = rng.uniform(-0.2 * w, 1.2 * w), rng.uniform(-0.2 * h, 1.2 * h)
        r = float(np.exp(rng.uniform(np.log(0.3), np.log(max(h, w)))))
        a = np.sort(rng.uniform(0, 2 * np.pi, k))
        rr = r * rng.uniform(0.3, 1.0, k)
        polys.append([[float(v) for v in np.stack([cx + rr * np.cos(a), cy + rr * np.sin(a)], 1).reshape(-1)]])
    for _ in range(20):  # self-intersecting, arbitrary vertex order
        k = int(rng.integers(3, 10))
        xy = np.stack([rng.uniform(-5, w + 5, k), rng.uniform(-5, h + 5, k)], 1)
        polys.append([[float(v) for v in xy.reshape(-1)]])
    polys.append([[0.0, 0.0, float(w), 0.0, float(w), float(h), 0.0, float(h)]])  # whole image
    polys.append([[2.0, 2.0, 2.0, 2.0, 2.0, 2.0]])  # a single point
    polys.append([[1.0, 1.0, 9.0, 1.0, 5.0, 1.0]])  # collinear
    polys.append([[3.25, 4.75, 10.5, 4.75, 10.5, 12.1, 3.25, 12.1]])  # axis-aligned, fractional
    polys.append([[-30.0, -30.0, -10.0, -30.0, -10.0, -10.0]])  # fully outside
    polys.append([[3.0, 3.0, 3.0, 3.0, 8.0, 3.0, 8.0, 8.0]])  # a repeated vertex (0/0 slope)
    polys.append([[4.0, 1.0, 4.0, 9.0, 4.0, 9.0, 4.0, 1.0]])  # a zero-width box
    polys.append([[1.5, 1.5, 6.0, 2.0, 3.0, 7.0], [20.0, 20.0, 30.0, 20.0, 25.0, 29.0]])  # two parts
    polys.append([[x for i in range(200) for x in (w / 2 + (w / 3) * math.cos(i * 0.0314),
                                                   h / 2 + (h / 3) * math.sin(i * 0.0314))]])
    return polys


@pytest.fixture(scope="module", params=[(37, 53, 1), (120, 80, 2), (1, 7, 3)])
def case(request, tmp_path_factory):
    h, w, seed = request.param
    rng = np.random.default_rng(seed)
    polys = awkward_polygons(rng, h, w)
    annotations, references, crowd = [], [], []
    for i, parts in enumerate(polys):
        rle = mask_utils.merge(mask_utils.frPyObjects(parts, h, w))
        is_crowd = int(i % 5 == 0)
        segmentation = parts
        if i % 7 == 3:  # as uncompressed RLE
            segmentation = {"size": [h, w], "counts": uncompressed(mask_utils.decode(rle))}
        elif i % 7 == 5:  # as compressed RLE
            segmentation = {"size": [h, w], "counts": rle["counts"].decode("ascii")}
        references.append(rle)
        crowd.append(is_crowd)
        annotations.append({"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": is_crowd,
                            "bbox": [float(v) for v in mask_utils.toBbox(rle)],
                            "area": float(mask_utils.area(rle)), "segmentation": segmentation})
    gt = {"images": [{"id": 1, "width": w, "height": h, "file_name": "x.jpg"}],
          "categories": [{"id": 1, "name": "thing"}], "annotations": annotations}
    root = tmp_path_factory.mktemp(f"masks_{h}x{w}")
    (root / "gt.json").write_text(json.dumps(gt))
    run = subprocess.run([MASK_TOOL, str(root / "gt.json"), str(root / "out.json"), str(root / "bitmaps.bin")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    ours = json.loads((root / "out.json").read_text())
    bitmaps = np.fromfile(root / "bitmaps.bin", dtype=np.uint8).reshape(len(polys), h, w)
    return h, w, references, crowd, annotations, ours, bitmaps


def test_rle_strings_areas_and_boxes_identical(case):
    _, _, references, _, _, ours, _ = case
    for i, (ref, mine) in enumerate(zip(references, ours["masks"])):
        assert mine["counts"] == ref["counts"].decode("ascii"), i
        assert mine["area"] == int(mask_utils.area(ref)), i
        assert mine["bbox"] == [float(v) for v in mask_utils.toBbox(ref)], i
        assert mine["roundtrip"], i


def test_rasterisation_identical_pixel_for_pixel(case):
    _, _, references, _, _, _, bitmaps = case
    for i, ref in enumerate(references):
        np.testing.assert_array_equal(bitmaps[i], mask_utils.decode(ref), err_msg=f"mask {i}")


def test_mask_iou_with_crowd_rules_identical(case):
    _, _, references, crowd, _, ours, _ = case
    expected = mask_utils.iou(references, references, crowd)
    assert np.array_equal(np.array(ours["iou"]), expected)


def test_box_iou_with_crowd_rules_identical(case):
    _, _, _, crowd, annotations, ours, _ = case
    boxes = [a["bbox"] for a in annotations]
    expected = mask_utils.iou(boxes, boxes, crowd)
    assert np.array_equal(np.array(ours["box_iou"]), expected)


def test_merges_identical(case):
    _, _, references, _, _, ours, _ = case
    assert ours["union"] == mask_utils.merge(references)["counts"].decode("ascii")
    assert ours["intersection"] == mask_utils.merge(references, intersect=1)["counts"].decode("ascii")
