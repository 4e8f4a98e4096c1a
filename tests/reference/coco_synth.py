"""Random COCO ground truth and results, for comparing our evaluator with pycocotools.

Covers what COCOeval treats specially: crowd regions (polygon and RLE), images without
annotations, images without detections, categories without ground truth, detections of
categories that have no ground truth, more than 100 detections on an image, tied scores, and
objects in every area range (small < 32^2 <= medium < 96^2 <= large).
"""
import json
import math

import numpy as np
from pycocotools import mask as mask_utils


def _polygon(rng, cx, cy, radius, points):
    angles = np.sort(rng.uniform(0, 2 * math.pi, points))
    radii = radius * rng.uniform(0.6, 1.0, points)
    xy = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1)
    return [round(float(v), 2) for v in xy.reshape(-1)]


def uncompressed(bitmap):
    """COCO's uncompressed RLE counts of a mask (column-major runs, starting with zeros)."""
    flat = np.asarray(bitmap, dtype=np.uint8).flatten(order="F")
    change = np.flatnonzero(np.diff(flat)) + 1
    counts = np.diff(np.concatenate([[0], change, [flat.size]]))
    if flat.size and flat[0]:
        counts = np.concatenate([[0], counts])
    return [int(c) for c in counts]


def _rle_json(rle):
    return {"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")}


def make_ground_truth(rng, num_images, objects_per_image, size_range=(96, 360), num_categories=6):
    images, annotations = [], []
    categories = [{"id": cid, "name": f"shape{cid}", "supercategory": "shape"}
                  for cid in (1, 3, 4, 7, 9, 12)[:num_categories]]
    used_categories = [c["id"] for c in categories[:-1]]  # the last one never has ground truth
    ann_id = 1
    for i in range(num_images):
        w, h = (int(v) for v in rng.integers(size_range[0], size_range[1], 2))
        image_id = 1000 + 7 * i  # sparse, unordered-looking ids
        images.append({"id": image_id, "width": w, "height": h, "file_name": f"{image_id}.jpg"})
        if i % 11 == 3:
            continue  # an image without annotations
        for _ in range(int(rng.integers(0, 2 * objects_per_image + 1))):
            # radii spanning small, medium and large areas
            radius = float(np.exp(rng.uniform(math.log(2.0), math.log(min(w, h) * 0.8))))
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            parts = [_polygon(rng, cx, cy, radius, int(rng.integers(3, 12)))]
            if rng.uniform() < 0.15:
                parts.append(_polygon(rng, cx + radius, cy, radius / 2, int(rng.integers(3, 8))))
            crowd = int(rng.uniform() < 0.08)
            rle = mask_utils.merge(mask_utils.frPyObjects(parts, h, w))
            area = float(mask_utils.area(rle))
            if area == 0:
                continue
            bbox = [float(v) for v in mask_utils.toBbox(rle)]
            segmentation = parts
            if crowd and rng.uniform() < 0.5:
                # crowd regions as uncompressed RLE, as in COCO
                segmentation = {"size": [h, w], "counts": uncompressed(mask_utils.decode(rle))}
            annotations.append({"id": ann_id, "image_id": image_id,
                                "category_id": int(rng.choice(used_categories)),
                                "bbox": bbox, "area": area, "iscrowd": crowd,
                                "segmentation": segmentation})
            ann_id += 1
    return {"images": images, "annotations": annotations, "categories": categories}


def make_results(rng, gt, extra_per_image, with_masks, crowded_image_every=9):
    """Detections: jittered copies of ground truth (true positives at varying IoU) plus
    random boxes, on most images; some images get none, some get more than 100."""
    by_image = {}
    for ann in gt["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    category_ids = [c["id"] for c in gt["categories"]]
    results = []
    for index, image in enumerate(gt["images"]):
        if index % 13 == 5:
            continue  # an image without detections
        w, h = image["width"], image["height"]
        count = extra_per_image * (12 if index % crowded_image_every == 0 else 1)
        candidates = []
        for ann in by_image.get(image["id"], []):
            if rng.uniform() < 0.85:
                x, y, bw, bh = ann["bbox"]
                j = rng.normal(0, 0.08, 4)
                candidates.append((ann["category_id"], [x + j[0] * bw, y + j[1] * bh,
                                                        bw * (1 + j[2]), bh * (1 + j[3])]))
        for _ in range(count):
            bw, bh = rng.uniform(2, w * 0.7), rng.uniform(2, h * 0.7)
            candidates.append((int(rng.choice(category_ids)),
                               [rng.uniform(0, w - 2), rng.uniform(0, h - 2), bw, bh]))
        for category_id, box in candidates:
            box = [round(float(v), 3) for v in box]
            box[2], box[3] = max(box[2], 1.0), max(box[3], 1.0)
            # coarse scores make ties common, which tests the stable ordering
            score = round(float(rng.uniform(0.05, 1.0)), 2)
            result = {"image_id": image["id"], "category_id": category_id, "score": score}
            if with_masks:
                x, y, bw, bh = box
                polygon = _polygon(rng, x + bw / 2, y + bh / 2, max(min(bw, bh) / 2, 1.0), 8)
                rle = mask_utils.merge(mask_utils.frPyObjects([polygon], h, w))
                result["segmentation"] = _rle_json(rle)
            else:
                result["bbox"] = box
            results.append(result)
    return results


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
