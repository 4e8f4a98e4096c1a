"""COCO evaluation speed: pycocotools vs `mrcnn coco-eval`, same data, same run.

Generates a val2017-sized set (5000 images, ~7 ground-truth objects and 100 detections per
image), scores it with both for bbox and segm, checks the 12 stats are identical, and prints
pycocotools_seconds / ours_seconds. Both are timed end to end (read ground truth, read results,
evaluate, accumulate, summarize)."""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reference"))
import coco_synth  # noqa: E402
from reference_models import pycocotools_eval  # noqa: E402


def generate(folder, images, seed):
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "segm.json").exists():
        return
    print(f"generating {images} images of ground truth and results in {folder} ...", flush=True)
    rng = np.random.default_rng(seed)
    gt = coco_synth.make_ground_truth(rng, images, objects_per_image=7, size_range=(360, 640),
                                      num_categories=6)
    coco_synth.write(folder / "gt.json", gt)
    for name, masks in (("bbox.json", False), ("segm.json", True)):
        results = coco_synth.make_results(rng, gt, extra_per_image=95, with_masks=masks,
                                          crowded_image_every=10**9)
        coco_synth.write(folder / name, results)


def pycocotools_run(gt, res, iou_type):
    start = time.perf_counter()
    ev = pycocotools_eval(gt, res, iou_type)
    return time.perf_counter() - start, list(ev.stats)


def ours_run(binary, gt, res, iou_type, folder):
    stats = folder / f"ours_{iou_type}.json"
    start = time.perf_counter()
    subprocess.run([binary, "coco-eval", "--ann", str(gt), "--res", str(res), "--type", iou_type,
                    "--stats-json", str(stats)], check=True, capture_output=True)
    return time.perf_counter() - start, json.loads(stats.read_text())["stats"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--data", default=str(ROOT / "build" / "bench_data" / "coco_eval"))
    parser.add_argument("--binary", default=str(ROOT / "build" / "bin" / "mrcnn"))
    args = parser.parse_args()
    folder = Path(args.data) / str(args.images)
    generate(folder, args.images, seed=2017)
    dets = len(json.loads((folder / "bbox.json").read_text()))
    gts = len(json.loads((folder / "gt.json").read_text())["annotations"])
    print(f"{args.images} images, {gts} ground-truth objects, {dets} detections; {os.cpu_count()} cores")
    ok = True
    for iou_type, res in (("bbox", folder / "bbox.json"), ("segm", folder / "segm.json")):
        ref_seconds, ref_stats = pycocotools_run(folder / "gt.json", res, iou_type)
        our_seconds, our_stats = ours_run(args.binary, folder / "gt.json", res, iou_type, folder)
        identical = all(a == b for a, b in zip(ref_stats, our_stats))
        ok &= identical
        print(f"{iou_type}: pycocotools {ref_seconds:.2f} s, ours {our_seconds:.2f} s, "
              f"pycocotools_seconds / ours_seconds = {ref_seconds / our_seconds:.1f}x, "
              f"stats {'identical' if identical else 'DIFFERENT'} (AP {our_stats[0]:.4f})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
