"""mrcnn against real PaddleDetection on the same weights: detections and training losses.

PaddleDetection (release 2.7's ppdet on paddlepaddle, in .venv-paddle) builds the model of its
own recipe, configs/mask_rcnn/mask_rcnn_r50_fpn_1x_coco.yml, with calibrated random weights
(tests/cli/paddle_reference.py says how) and saves them with paddle.save. Both programs then
read one config -- PaddleDetection's recipe with the data pointed at a generated COCO-layout
set -- and the same .pdparams file:

- evaluation: PaddleDetection's Trainer(cfg, 'eval') as tools/eval.py runs it, and
  `mrcnn eval --weights model.pdparams`. The same detections: labels equal, boxes to 1e-3 px,
  scores to SCORE_TOLERANCE, each mask with IoU >= 0.99 against its counterpart; and
  pycocotools scores both result files to the same COCO tables.
- training: one training forward of each on the first image, with every anchor and RoI
  sampled (batch_size_per_im far above their number), so no random draw decides anything. Each
  of the five losses agrees to 1e-5 relative: they are float32 sums over ~10^4 anchors and
  ~10^3 RoIs taken in another order, of features that two convolution libraries computed
  (measured: 5e-7 or less, but 3e-6 for the box-head L1 loss, whose few foreground terms are
  differences of nearly equal deltas).

The images are PNG (decoders agree exactly) at the evaluation size (the resize is the identity
in both; OpenCV's fixed-point bicubic is not reproduced, see the README).

Needs the reference source (MRCNN_PADDLE_REFERENCE) and a Python with paddle
(MRCNN_PADDLE_PYTHON, set up by scripts/setup_paddle.sh); without them it skips and says so."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from pycocotools import mask as mask_util
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
REFERENCE = Path(os.environ.get(
    "MRCNN_PADDLE_REFERENCE", SOURCE.resolve().parent / "shared" / "reference" / "paddledetection"))
PADDLE_PYTHON = os.environ.get("MRCNN_PADDLE_PYTHON", str(SOURCE / ".venv-paddle" / "bin" / "python"))
PADDLE_SCRIPT = Path(__file__).with_name("paddle_reference.py")

pytestmark = pytest.mark.skipif(
    not (REFERENCE / "2.7" / "ppdet").is_dir() or not Path(PADDLE_PYTHON).exists(),
    reason=f"needs PaddleDetection's source at {REFERENCE}/2.7 and paddle at {PADDLE_PYTHON} "
           "(scripts/setup_paddle.sh)")

HEIGHT, WIDTH = 320, 448  # evaluated at target_size [320, 512]: scale 1 on both sides
NUM_IMAGES = 3
# A score is a softmax of class logits that come out of ~60 float32 layers, which the two
# convolution libraries sum in an order set by the CPU's vector units; the worst of 300
# differences was 8e-6 on one machine and 1.3e-5 on another of the same kind. A real
# difference in arithmetic (a clip, a normalisation, a decode) moves scores by 1e-3 or more.
SCORE_TOLERANCE = 5e-5


def make_dataset(root, rng):
    """COCO-layout set: smooth coloured blobs, polygon objects of a few categories (80 defined)."""
    (root / "images").mkdir(parents=True)
    images, annotations = [], []
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    for k in range(NUM_IMAGES):
        picture = np.full((HEIGHT, WIDTH, 3), 40.0)
        for _ in range(8):
            cy, cx, r = rng.uniform(0, HEIGHT), rng.uniform(0, WIDTH), rng.uniform(20, 70)
            picture += rng.uniform(0, 200, 3) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))[..., None]
        canvas = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(canvas)
        for _ in range(4):
            cx, cy = rng.uniform(60, WIDTH - 60), rng.uniform(60, HEIGHT - 60)
            angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
            radii = rng.uniform(20, 50, 7)
            points = [(float(cx + r * np.cos(a)), float(cy + r * np.sin(a))) for a, r in zip(angles, radii)]
            draw.polygon(points, fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
            flat = [c for p in points for c in p]
            xs, ys = flat[0::2], flat[1::2]
            annotations.append({"id": len(annotations) + 1, "image_id": k + 1,
                                "category_id": int(rng.integers(1, 6)), "iscrowd": 0,
                                "segmentation": [flat],
                                "area": float(mask_util.area(mask_util.frPyObjects([flat], HEIGHT, WIDTH))[0]),
                                "bbox": [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]})
        name = f"{k:04d}.png"
        canvas.save(root / "images" / name)
        images.append({"id": k + 1, "file_name": name, "height": HEIGHT, "width": WIDTH})
    categories = [{"id": i, "name": f"class{i}"} for i in range(1, 81)]
    (root / "annotations.json").write_text(json.dumps(
        {"images": images, "annotations": annotations, "categories": categories}))


def write_config(root):
    """PaddleDetection's own recipe, pointed at the generated set; read by both programs."""
    recipe = REFERENCE / "2.7" / "configs" / "mask_rcnn" / "mask_rcnn_r50_fpn_1x_coco.yml"
    dataset = f"dataset_dir: {root}\n    image_dir: images\n    anno_path: annotations.json"
    transforms = """
  - Decode: {}
  - Resize: {interp: 2, target_size: [320, 512], keep_ratio: true}
  - NormalizeImage: {is_scale: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
  - Permute: {}
  batch_transforms:
  - PadBatch: {pad_to_stride: 32}
  batch_size: 1"""
    config = root / "parity.yml"
    config.write_text(f"""_BASE_: ['{recipe}']
pretrain_weights:
use_gpu: false
worker_num: 0
TrainDataset:
    {dataset}
    data_fields: ['image', 'gt_bbox', 'gt_class', 'gt_poly', 'is_crowd']
EvalDataset:
    {dataset}
TrainReader:
  sample_transforms:{transforms}
  shuffle: false
  drop_last: false
EvalReader:
  sample_transforms:{transforms}
RPNHead:
  rpn_target_assign:
    batch_size_per_im: 1000000
BBoxAssigner:
  batch_size_per_im: 1000000
""")
    return config


def run_paddle(*args):
    env = dict(os.environ, FLAGS_set_to_1d="False", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([PADDLE_PYTHON, str(PADDLE_SCRIPT), str(REFERENCE / "2.7"), *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    make_dataset(root, np.random.default_rng(3))
    config = write_config(root)
    weights = root / "model.pdparams"
    run_paddle("build", config, weights)
    return root, config, weights


@pytest.fixture(scope="module")
def results(setup):
    root, config, weights = setup
    run_paddle("eval", config, weights, root / "paddle")
    ours = subprocess.run([MRCNN, "eval", "-c", str(config), "--weights", str(weights), "--output_eval",
                           str(root / "ours")], capture_output=True, text=True, timeout=900)
    assert ours.returncode == 0, ours.stderr[-4000:]
    return root, {side: {kind: json.loads((root / side / f"{kind}.json").read_text()) for kind in ("bbox", "mask")}
                  for side in ("paddle", "ours")}


def paired(theirs, ours):
    """Each of their detections with ours of the same image, category and (to 1e-3) box."""
    remaining = list(ours)
    pairs = []
    for t in sorted(theirs, key=lambda d: -d["score"]):
        candidates = [o for o in remaining if o["image_id"] == t["image_id"] and o["category_id"] == t["category_id"]
                      and np.abs(np.subtract(o["bbox"], t["bbox"])).max() <= 1e-3]
        assert candidates, f"no detection of ours matches theirs: {t}"
        best = min(candidates, key=lambda o: abs(o["score"] - t["score"]))
        remaining.remove(best)
        pairs.append((t, best))
    assert not remaining, f"{len(remaining)} detections of ours have no counterpart, e.g. {remaining[0]}"
    return pairs


def test_detections_equal_paddledetections(results):
    _, found = results
    theirs, ours = found["paddle"]["bbox"], found["ours"]["bbox"]
    assert len(theirs) >= 10 * NUM_IMAGES, "too few detections for a meaningful comparison"
    assert len(ours) == len(theirs)
    worst = max(paired(theirs, ours), key=lambda pair: abs(pair[0]["score"] - pair[1]["score"]))
    assert abs(worst[0]["score"] - worst[1]["score"]) <= SCORE_TOLERANCE, worst


def test_masks_equal_paddledetections(results):
    _, found = results
    theirs, ours = found["paddle"]["mask"], found["ours"]["mask"]
    assert len(ours) == len(theirs)
    by_key = {}
    for o in ours:
        by_key.setdefault((o["image_id"], o["category_id"]), []).append(o)
    worst = 1.0
    for t in theirs:
        # The mask of the same detection: same image, category and score.
        o = min(by_key[(t["image_id"], t["category_id"])], key=lambda m: abs(m["score"] - t["score"]))
        assert abs(o["score"] - t["score"]) <= SCORE_TOLERANCE, (t["image_id"], t["score"], o["score"])
        iou = mask_util.iou([o["segmentation"]], [t["segmentation"]], [0])[0][0]
        area = mask_util.area(t["segmentation"])
        if area > 0 or mask_util.area(o["segmentation"]) > 0:
            worst = min(worst, iou)
    assert worst >= 0.99, f"worst mask IoU {worst}"


def coco_stats(annotations, detections, kind):
    gt = COCO(str(annotations))
    evaluation = COCOeval(gt, gt.loadRes(detections), kind)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return np.array(evaluation.stats)


def test_coco_tables_equal(results):
    root, found = results
    for kind, iou_type in (("bbox", "bbox"), ("mask", "segm")):
        theirs = coco_stats(root / "annotations.json", found["paddle"][kind], iou_type)
        ours = coco_stats(root / "annotations.json", found["ours"][kind], iou_type)
        np.testing.assert_allclose(ours, theirs, atol=1e-4, err_msg=kind)


def test_training_losses_equal_paddledetections(setup, tmp_path):
    root, config, weights = setup
    run_paddle("losses", config, weights, tmp_path / "paddle_losses.json")
    theirs = json.loads((tmp_path / "paddle_losses.json").read_text())
    # The first iteration's losses, logged before the optimizer's step.
    done = subprocess.run([MRCNN, "train", "-c", str(config), "--iters", "1", "-o", f"pretrain_weights={weights}",
                           f"save_dir={tmp_path / 'out'}", "log_iter=1"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    ours = json.loads((tmp_path / "out" / "parity" / "metrics.jsonl").read_text().splitlines()[0])
    for name in ("loss_rpn_cls", "loss_rpn_reg", "loss_bbox_cls", "loss_bbox_reg", "loss_mask"):
        assert ours[name] == pytest.approx(theirs[name], rel=1e-5), (name, ours[name], theirs[name])
