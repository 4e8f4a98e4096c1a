"""CPU inference: `mrcnn bench` vs torchvision's eager maskrcnn_resnet50_fpn, same weights
(torchvision's architecture with seeded random weights, saved with torch.save), same images
(resized to 800 on the short side, as at COCO evaluation), batch 1, same thread count, masks
pasted to full resolution on both sides (ours also thresholds and RLE-encodes them).
Prints images/s of both, the ratio ours / torchvision, and peak memory of both processes."""
import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def prepare(folder, count):
    import torch

    sys.path.insert(0, str(ROOT / "tests" / "reference"))
    from reference_models import random_maskrcnn

    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "maskrcnn_random.pth"
    if not weights.exists():
        torch.save(random_maskrcnn(seed=0).state_dict(), weights)
    rng = np.random.default_rng(0)
    images = []
    for k in range(count):
        path = folder / f"image{k}.jpg"
        if not path.exists():
            h, w = 480, 640
            yy, xx = np.mgrid[0:h, 0:w]
            picture = np.zeros((h, w, 3))
            for _ in range(12):
                cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(20, 120)
                picture += rng.uniform(0, 255, 3) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
            Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(path, quality=92)
        images.append(path)
    return weights, images


TORCHVISION = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np, torch, torchvision
    from PIL import Image
    sys.path.insert(0, sys.argv[1])
    from reference_models import freeze_batch_norm
    torch.set_num_threads(int(sys.argv[2]))
    repeat = int(sys.argv[3])
    model = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None,
                                                               box_score_thresh=float(sys.argv[5]))
    freeze_batch_norm(model)
    model.load_state_dict(torch.load(sys.argv[4]))
    model.eval()
    images = [torch.from_numpy(np.asarray(Image.open(p).convert("RGB"))).permute(2, 0, 1).float() / 255
              for p in sys.argv[6:]]
    detections = 0
    with torch.no_grad():
        for image in images:
            model([image])
        start = time.perf_counter()
        for _ in range(repeat):
            detections = sum(len(model([image])[0]["scores"]) for image in images)
        seconds = (time.perf_counter() - start) / (repeat * len(images))
    print(json.dumps({"seconds_per_image": seconds, "images_per_second": 1 / seconds, "detections": detections,
                      "threads": torch.get_num_threads(),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    # Random weights score every class near 1/91; a low threshold gives both models the full
    # work of a trained one (up to 100 detections, each with a pasted mask).
    parser.add_argument("--score-thresh", type=float, default=0.011)
    parser.add_argument("--data", default=str(ROOT / "build" / "bench_data" / "infer"))
    parser.add_argument("--binary", default=str(ROOT / "build" / "bin" / "mrcnn"))
    args = parser.parse_args()
    weights, images = prepare(Path(args.data), args.images)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    reference = json.loads(subprocess.run(
        [sys.executable, "-W", "ignore", "-c", TORCHVISION, str(ROOT / "tests" / "reference"), str(args.threads),
         str(args.repeat), str(weights), str(args.score_thresh), *map(str, images)], check=True, capture_output=True, text=True,
        env=env).stdout)
    ours = json.loads(subprocess.run(
        [args.binary, "bench", "-c", str(ROOT / "configs/mask_rcnn/mask_rcnn_r50_fpn_torchvision.yml"),
         "--weights", str(weights), "--repeat", str(args.repeat),
         "-o", f"BBoxPostProcess.nms.score_threshold={args.score_thresh}", "--images", *map(str, images)],
        check=True, capture_output=True, text=True, env=env).stdout)
    print(f"{len(images)} images 640x480 -> 800x1066, batch 1, {args.threads} threads, {args.repeat} timed passes")
    print(f"torchvision eager: {reference['images_per_second']:.3f} images/s, peak {reference['peak_rss_mib']:.0f} MiB,"
          f" {reference['detections']} detections")
    print(f"mrcnn:             {ours['images_per_second']:.3f} images/s, peak {ours['peak_rss_mib']:.0f} MiB,"
          f" {ours['detections']} detections")
    print(f"ours / torchvision = {ours['images_per_second'] / reference['images_per_second']:.2f}x")


if __name__ == "__main__":
    main()
