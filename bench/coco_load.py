"""Annotation loading: pycocotools.coco.COCO vs `mrcnn coco-eval --ann` (load + validate), on a
generated file the size of COCO's instances_train2017.json (~118k images, ~860k annotations,
~450 MB). Both run as separate processes, timed end to end, with their peak memory (max RSS)."""
import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def generate(path, images, annotations_per_image, seed):
    if path.exists():
        return
    print(f"generating {path} ...", flush=True)
    rng = np.random.default_rng(seed)
    # A pool of pre-formatted polygons keeps generation fast while every number in the file
    # still has to be parsed; polygons have COCO's typical 2-decimal coordinates.
    pool = []
    for _ in range(4096):
        k = int(rng.integers(8, 50))
        cx, cy, r = rng.uniform(50, 550), rng.uniform(50, 400), rng.uniform(5, 120)
        a = np.sort(rng.uniform(0, 2 * np.pi, k))
        xy = np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], 1).reshape(-1)
        pool.append("[[" + ",".join(f"{v:.2f}" for v in xy) + "]]")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write('{"info": {"description": "generated"}, "licenses": [], "images": [')
        f.write(",".join(f'{{"license": 1, "file_name": "{i:012d}.jpg", "coco_url": "", "height": 480, '
                         f'"width": 640, "date_captured": "2013-11-14 16:28:13", "id": {i}}}'
                         for i in range(1, images + 1)))
        f.write('], "annotations": [')
        ann_id = 1
        first = True
        picks = rng.integers(0, len(pool), images * annotations_per_image)
        boxes = rng.uniform(0, 400, (images * annotations_per_image, 4))
        for i in range(1, images + 1):
            parts = []
            for _ in range(annotations_per_image):
                b = boxes[ann_id - 1]
                parts.append(f'{{"segmentation": {pool[picks[ann_id - 1]]}, "area": {b[2] * b[3]:.4f}, '
                             f'"iscrowd": 0, "image_id": {i}, "bbox": [{b[0]:.2f},{b[1]:.2f},{b[2]:.2f},{b[3]:.2f}], '
                             f'"category_id": {1 + (ann_id * 7) % 90}, "id": {ann_id}}}')
                ann_id += 1
            f.write(("" if first else ",") + ",".join(parts))
            first = False
        f.write('], "categories": [')
        f.write(",".join(f'{{"supercategory": "thing", "id": {c}, "name": "class{c}"}}' for c in range(1, 91)))
        f.write("]}")


def measure(command):
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024  # KiB -> MiB


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=118287)
    parser.add_argument("--per-image", type=int, default=7)
    parser.add_argument("--data", default=str(ROOT / "build" / "bench_data" / "coco_load"))
    parser.add_argument("--binary", default=str(ROOT / "build" / "bin" / "mrcnn"))
    args = parser.parse_args()
    path = Path(args.data) / f"instances_{args.images}x{args.per_image}.json"
    generate(path, args.images, args.per_image, seed=2017)
    print(f"{path.name}: {path.stat().st_size / 2**20:.0f} MiB, {args.images} images, "
          f"{args.images * args.per_image} annotations")
    reference = [sys.executable, "-c", "import sys; from pycocotools.coco import COCO; COCO(sys.argv[1])", str(path)]
    ours = [args.binary, "coco-eval", "--ann", str(path)]
    ref_seconds, ref_mib = measure(reference)
    our_seconds, our_mib = measure(ours)
    print(f"pycocotools COCO(): {ref_seconds:.2f} s, peak {ref_mib:.0f} MiB")
    print(f"mrcnn coco-eval --ann (load + validate): {our_seconds:.2f} s, peak {our_mib:.0f} MiB")
    print(f"pycocotools_seconds / ours_seconds = {ref_seconds / our_seconds:.1f}x, "
          f"peak memory ours / pycocotools = {our_mib / ref_mib:.2f}")


if __name__ == "__main__":
    main()
