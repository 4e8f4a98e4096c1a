"""`mrcnn coco-eval` against pycocotools' COCOeval on generated data: every one of the 12
stats and every per-category AP must agree within 1e-9."""
import json
import math
import os
import subprocess

import numpy as np
import pytest

import coco_synth
from reference_models import pycocotools_eval

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")


def reference(gt_path, res_path, iou_type):
    ev = pycocotools_eval(gt_path, res_path, iou_type)
    per_category = {}
    precision = ev.eval["precision"]
    for k, category_id in enumerate(ev.params.catIds):
        p = precision[:, :, k, 0, -1]
        p = p[p > -1]
        per_category[category_id] = float(np.mean(p)) if p.size else float("nan")
    return list(ev.stats), per_category


def ours(gt_path, res_path, iou_type, tmp_path, threads):
    stats_path = tmp_path / f"stats_{iou_type}_{threads}.json"
    run = subprocess.run([MRCNN, "coco-eval", "--ann", gt_path, "--res", res_path, "--type", iou_type,
                          "--classwise", "--stats-json", str(stats_path), "--threads", str(threads)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ]" in run.stdout
    stats = json.loads(stats_path.read_text())
    per_category = {int(k): (math.nan if v["ap"] is None else v["ap"])
                    for k, v in stats["per_category_ap"].items()}
    return stats["stats"], per_category, run.stdout


def assert_same(expected, actual):
    stats_ref, per_cat_ref = expected
    stats, per_cat, _ = actual
    assert len(stats) == 12
    for i, (a, b) in enumerate(zip(stats, stats_ref)):
        assert abs(a - b) <= 1e-9, f"stat {i}: ours {a!r} pycocotools {b!r}"
    assert set(per_cat) == set(per_cat_ref)
    for category_id, ap in per_cat_ref.items():
        if math.isnan(ap):
            assert math.isnan(per_cat[category_id]), category_id
        else:
            assert abs(per_cat[category_id] - ap) <= 1e-9, (category_id, per_cat[category_id], ap)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco_eval")
    rng = np.random.default_rng(20261127)
    gt = coco_synth.make_ground_truth(rng, num_images=60, objects_per_image=4)
    coco_synth.write(root / "gt.json", gt)
    coco_synth.write(root / "bbox.json", coco_synth.make_results(rng, gt, extra_per_image=12, with_masks=False))
    coco_synth.write(root / "segm.json", coco_synth.make_results(rng, gt, extra_per_image=12, with_masks=True))
    return root, gt


def test_dataset_covers_the_special_cases(dataset):
    root, gt = dataset
    annotations = gt["annotations"]
    assert any(a["iscrowd"] and isinstance(a["segmentation"], dict) for a in annotations)
    assert any(a["iscrowd"] and isinstance(a["segmentation"], list) for a in annotations)
    areas = [a["area"] for a in annotations]
    assert min(areas) < 32 ** 2 and max(areas) > 96 ** 2
    assert any(32 ** 2 <= a < 96 ** 2 for a in areas)
    annotated = {a["image_id"] for a in annotations}
    assert any(image["id"] not in annotated for image in gt["images"])
    results = json.loads((root / "bbox.json").read_text())
    per_image = {}
    for r in results:
        per_image[r["image_id"]] = per_image.get(r["image_id"], 0) + 1
    assert max(per_image.values()) > 100
    assert any(image["id"] not in per_image for image in gt["images"])


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_stats_equal_pycocotools(dataset, tmp_path, iou_type):
    root, _ = dataset
    res = str(root / ("bbox.json" if iou_type == "bbox" else "segm.json"))
    expected = reference(str(root / "gt.json"), res, iou_type)
    actual = ours(str(root / "gt.json"), res, iou_type, tmp_path, threads=3)
    assert_same(expected, actual)


def test_box_results_evaluated_as_segm_use_boxes_as_masks(dataset, tmp_path):
    """loadRes turns a box-only result into a box-shaped mask; segm eval must do the same."""
    root, _ = dataset
    expected = reference(str(root / "gt.json"), str(root / "bbox.json"), "segm")
    actual = ours(str(root / "gt.json"), str(root / "bbox.json"), "segm", tmp_path, threads=1)
    assert_same(expected, actual)


def test_thread_count_does_not_change_results(dataset, tmp_path):
    root, _ = dataset
    one = ours(str(root / "gt.json"), str(root / "segm.json"), "segm", tmp_path, threads=1)
    many = ours(str(root / "gt.json"), str(root / "segm.json"), "segm", tmp_path, threads=4)
    assert one[0] == many[0]


def test_results_for_unknown_images_are_an_error(dataset, tmp_path):
    root, _ = dataset
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"image_id": 999999, "category_id": 1, "bbox": [0, 0, 5, 5], "score": 0.5}]))
    run = subprocess.run([MRCNN, "coco-eval", "--ann", str(root / "gt.json"), "--res", str(bad), "--type", "bbox"],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "image id 999999" in run.stderr and "results[0]" in run.stderr


def test_empty_results_score_zero_like_pycocotools(dataset, tmp_path):
    """pycocotools refuses an empty list outright; ours scores it (all zeros where GT exists)."""
    root, _ = dataset
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    stats_path = tmp_path / "stats.json"
    run = subprocess.run([MRCNN, "coco-eval", "--ann", str(root / "gt.json"), "--res", str(empty),
                          "--type", "bbox", "--stats-json", str(stats_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    stats = json.loads(stats_path.read_text())["stats"]
    assert all(s == 0.0 for s in stats)
