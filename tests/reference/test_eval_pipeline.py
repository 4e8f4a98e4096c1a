"""`mrcnn eval` end to end on a generated COCO-layout set, against torchvision run on the same
images with the same weights and the same conversion to COCO results."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from pycocotools import mask as mask_utils

from reference_models import pycocotools_eval, random_maskrcnn

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", ".")).resolve()


def test_eval_matches_torchvision_and_pycocotools(tmp_path):
    data = tmp_path / "shapes"
    subprocess.run([MRCNN, "make-shapes", "--out", str(data), "--train", "0", "--val", "3", "--size", "160x128",
                    "--seed", "4"], check=True, capture_output=True)
    model = random_maskrcnn(seed=3, num_classes=4, min_size=128, max_size=256, box_score_thresh=0.2)
    weights = tmp_path / "weights.pth"
    torch.save(model.state_dict(), weights)

    config = tmp_path / "shapes_torchvision.yml"
    config.write_text(f"""_BASE_: ['{SOURCE / "configs/mask_rcnn/mask_rcnn_r50_fpn_torchvision.yml"}',
          '{SOURCE / "configs/datasets/shapes_instance.yml"}']
label_map: contiguous
EvalDataset:
  dataset_dir: {data}
EvalReader:
  sample_transforms:
  - Decode: {{}}
  - Resize: {{target_size: [128, 256], interp: 1, size_rounding: floor}}
  - NormalizeImage: {{is_scale: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}
  - Permute: {{}}
TestReader:  # infer below runs on the same images with the same transform
  sample_transforms:
  - Decode: {{}}
  - Resize: {{target_size: [128, 256], interp: 1, size_rounding: floor}}
  - NormalizeImage: {{is_scale: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}
  - Permute: {{}}
BBoxPostProcess:
  nms: {{score_threshold: 0.2}}
""")
    out = tmp_path / "eval"
    run = subprocess.run([MRCNN, "eval", "-c", str(config), "--weights", str(weights), "--output_eval", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "Evaluate annotation type *bbox*" in run.stdout and "Evaluate annotation type *segm*" in run.stdout
    ours_bbox = json.loads((out / "bbox.json").read_text())
    ours_mask = json.loads((out / "mask.json").read_text())

    # torchvision on the same images, converted the same way (labels 1..3 -> category ids 1..3).
    gt_path = data / "annotations/instances_val.json"
    gt = json.loads(gt_path.read_text())
    ref_bbox, ref_mask = [], []
    for image in gt["images"]:
        pixels = np.asarray(Image.open(data / "val" / image["file_name"]).convert("RGB"))
        with torch.no_grad():
            r = model([torch.from_numpy(pixels).permute(2, 0, 1).float() / 255])[0]
        for box, score, label, mask in zip(r["boxes"], r["scores"], r["labels"], r["masks"]):
            x1, y1, x2, y2 = box.tolist()
            common = {"image_id": image["id"], "category_id": int(label), "score": float(score)}
            ref_bbox.append({**common, "bbox": [x1, y1, x2 - x1, y2 - y1]})
            rle = mask_utils.encode(np.asfortranarray((mask[0] > 0.5).numpy().astype(np.uint8)))
            ref_mask.append({**common, "segmentation": {"size": rle["size"], "counts": rle["counts"].decode()}})
    assert len(ref_bbox) > 5, "the test needs detections"
    assert len(ours_bbox) == len(ref_bbox) == len(ours_mask)
    for mine, ref in zip(ours_bbox, ref_bbox):
        assert (mine["image_id"], mine["category_id"]) == (ref["image_id"], ref["category_id"])
        assert abs(mine["score"] - ref["score"]) < 1e-5
        assert np.allclose(mine["bbox"], ref["bbox"], atol=1e-3)
    differing_pixels = 0
    for mine, ref in zip(ours_mask, ref_mask):
        a = mask_utils.decode(mine["segmentation"])
        b = mask_utils.decode(ref["segmentation"])
        differing_pixels += int((a != b).sum())
    assert differing_pixels <= 2 * len(ref_mask)

    # The printed tables are pycocotools' numbers for our files.
    for kind, path in (("bbox", out / "bbox.json"), ("segm", out / "mask.json")):
        stats = pycocotools_eval(gt_path, path, kind).stats
        line = f"Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = {stats[0]:0.3f}"
        assert line in run.stdout.split(f"*{kind}*")[1]

    # --json_eval scores the files again without the model.
    again = subprocess.run([MRCNN, "eval", "-c", str(config), "--output_eval", str(out), "--json_eval"],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert again.stdout == run.stdout

    # infer over the same images: pictures written, and the same detections saved.
    drawn = tmp_path / "drawn"
    infer = subprocess.run([MRCNN, "infer", "-c", str(config), "--weights", str(weights), "--infer_dir",
                            str(data / "val"), "--output_dir", str(drawn), "--save_results", "--draw_threshold", "0.2",
                            "-o", f"TestDataset.dataset_dir={data}"], capture_output=True, text=True, timeout=600)
    assert infer.returncode == 0, infer.stderr
    for image in gt["images"]:
        picture = Image.open(drawn / image["file_name"])
        assert picture.size == (image["width"], image["height"])
    assert json.loads((drawn / "bbox.json").read_text()) == ours_bbox
    assert json.loads((drawn / "mask.json").read_text()) == ours_mask
