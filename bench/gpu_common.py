"""Shared by the GPU benchmarks: a generated data set both sides read, and timing helpers.
Needs only torch and torchvision (no numpy, Pillow or pycocotools), as on a bare GPU machine."""
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_dataset(binary, folder, images, size):
    """`mrcnn make-shapes` images in COCO 2017 layout, with every mask replaced by its box (a
    rectangle polygon) so the reference side needs no mask rasteriser; crowd regions dropped.
    Returns the annotation file."""
    folder = Path(folder)
    annotations = folder / "annotations" / "instances_train2017.json"
    if not annotations.exists():
        subprocess.run([binary, "make-shapes", "--out", str(folder), "--train", str(images), "--val", "0",
                        "--size", size, "--coco-layout", "--seed", "5"], check=True, capture_output=True)
        data = json.loads(annotations.read_text())
        kept = []
        for a in data["annotations"]:
            if a["iscrowd"]:
                continue
            x, y, w, h = a["bbox"]
            a["segmentation"] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
            kept.append(a)
        data["annotations"] = kept
        annotations.write_text(json.dumps(data))
    return annotations


def reference_samples(annotations, device):
    """(image float [3, H, W] in 0..1, torchvision target) per image with objects, on device."""
    import torch
    import torchvision

    data = json.loads(Path(annotations).read_text())
    by_image = {}
    for a in data["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a)
    samples = []
    for info in sorted(data["images"], key=lambda i: i["id"]):
        anns = by_image.get(info["id"], [])
        if not anns:
            continue
        path = Path(annotations).parents[1] / "train2017" / info["file_name"]
        image = torchvision.io.decode_jpeg(torchvision.io.read_file(str(path))).float().div(255)
        boxes = torch.tensor([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                              for a in anns])
        masks = torch.zeros((len(anns), info["height"], info["width"]), dtype=torch.uint8)
        for k, (x1, y1, x2, y2) in enumerate(boxes.round().int().tolist()):
            masks[k, y1:y2, x1:x2] = 1
        target = {"boxes": boxes.to(device), "labels": torch.tensor([a["category_id"] for a in anns]).to(device),
                  "masks": masks.to(device)}
        samples.append((image.to(device), target))
    return samples


def frozen_bn_maskrcnn(num_classes, device, **kwargs):
    """torchvision's maskrcnn_resnet50_fpn as fine-tuned from ImageNet: frozen BatchNorm, stem
    and layer1 frozen."""
    import torch
    import torchvision

    sys.path.insert(0, str(ROOT / "tests" / "reference"))
    from reference_models import freeze_batch_norm

    torch.manual_seed(0)
    model = torchvision.models.detection.maskrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, num_classes=num_classes, trainable_backbone_layers=3, **kwargs)
    freeze_batch_norm(model)
    return model.to(device)


def synchronize(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def timed(function, device, warmup, repeat):
    """Mean seconds per call after warm-up calls."""
    for _ in range(warmup):
        function()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(repeat):
        function()
    synchronize(device)
    return (time.perf_counter() - start) / repeat
