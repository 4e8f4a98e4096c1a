"""`mrcnn make-shapes`: deterministic, valid COCO that pycocotools reads the same way we do,
with the special cases it promises."""
import contextlib
import hashlib
import io
import json
import os
import subprocess

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from PIL import Image

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")


def make(out, seed, train=40, val=8, size="160x120"):
    run = subprocess.run([MRCNN, "make-shapes", "--out", str(out), "--train", str(train), "--val", str(val),
                          "--seed", str(seed), "--size", size], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


def digest(folder):
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    make(tmp_path / "a", 3)
    make(tmp_path / "b", 3)
    make(tmp_path / "c", 4)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_layout_and_annotations_agree_with_pycocotools(tmp_path):
    make(tmp_path, 1, train=60)
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(tmp_path / "annotations/instances_train.json"))
    assert len(coco.getImgIds()) == 60
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["circle", "square", "triangle"]
    kinds = {"polygon": 0, "rle": 0, "crowd": 0}
    for ann in coco.dataset["annotations"]:
        image = coco.imgs[ann["image_id"]]
        assert (tmp_path / "train" / image["file_name"]).exists()
        rle = coco.annToRLE(ann)
        assert ann["area"] == mask_utils.area(rle) > 0
        assert ann["bbox"] == [float(v) for v in mask_utils.toBbox(rle)]
        if ann["iscrowd"]:
            kinds["crowd"] += 1
            assert isinstance(ann["segmentation"]["counts"], list)
        elif isinstance(ann["segmentation"], dict):
            kinds["rle"] += 1
        else:
            kinds["polygon"] += 1
    assert all(v > 0 for v in kinds.values()), kinds
    annotated = {a["image_id"] for a in coco.dataset["annotations"]}
    assert len(annotated) < 60  # some images have no objects
    image = Image.open(tmp_path / "train" / coco.imgs[1]["file_name"])
    assert image.size == (160, 120) and image.mode == "RGB"


def test_visible_pixels_carry_the_objects_colour(tmp_path):
    """Masks are exact: inside an unoccluded polygon the picture is one flat colour (up to JPEG
    noise), so masks and pixels agree."""
    make(tmp_path, 2, train=20, size="200x200")
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(tmp_path / "annotations/instances_train.json"))
    checked = 0
    for ann in coco.dataset["annotations"]:
        if ann["iscrowd"] or isinstance(ann["segmentation"], dict) or ann["area"] < 400:
            continue
        pixels = np.asarray(Image.open(tmp_path / "train" / coco.imgs[ann["image_id"]]["file_name"])).astype(float)
        mask = coco.annToMask(ann).astype(bool)
        interior = mask & np.roll(mask, 2, 0) & np.roll(mask, -2, 0) & np.roll(mask, 2, 1) & np.roll(mask, -2, 1)
        assert pixels[interior].std(axis=0).max() < 6
        checked += 1
    assert checked >= 5


def test_ground_truth_scored_as_results_is_perfect(tmp_path):
    make(tmp_path, 5, train=30)
    gt_path = tmp_path / "annotations/instances_train.json"
    gt = json.loads(gt_path.read_text())
    results = []
    for ann in gt["annotations"]:
        if ann["iscrowd"]:
            continue
        results.append({"image_id": ann["image_id"], "category_id": ann["category_id"], "bbox": ann["bbox"],
                        "score": 0.9})
    (tmp_path / "res.json").write_text(json.dumps(results))
    stats_path = tmp_path / "stats.json"
    run = subprocess.run([MRCNN, "coco-eval", "--ann", str(gt_path), "--res", str(tmp_path / "res.json"),
                          "--type", "bbox", "--stats-json", str(stats_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    ours = json.loads(stats_path.read_text())["stats"]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(gt_path))
        ev = COCOeval(coco, coco.loadRes(str(tmp_path / "res.json")), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ours[0] == ev.stats[0] == 1.0
    assert all(abs(a - b) <= 1e-12 for a, b in zip(ours, ev.stats))
