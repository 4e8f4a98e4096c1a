"""CPU training: a step of `mrcnn train` (its real loader, model and optimiser) vs a step of
torchvision's maskrcnn_resnet50_fpn (forward with losses, backward, SGD), on the same images
(640x480 shapes, resized to 800x1066 with no flip on both sides), batch 2, the same thread
count, and the same model settings: ResNet-50 with frozen BatchNorm, stem and layer1 frozen
(torchvision's fine-tuning set-up), 2000 train proposals, 512 sampled RoIs, torchvision's RoIAlign.
torchvision resizes inside its timed step, as it does in training; ours resizes in loader
threads ahead of the step, and its step time includes any wait for data.
Prints seconds per step of both and the ratio torchvision / ours (> 1: we are faster)."""
import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TORCHVISION = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np, torch, torchvision
    from PIL import Image
    from pycocotools.coco import COCO
    sys.path.insert(0, sys.argv[1])
    from reference_models import freeze_batch_norm
    torch.set_num_threads(int(sys.argv[2]))
    warmup, steps, root = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    torch.manual_seed(0)
    model = torchvision.models.detection.maskrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, num_classes=4, trainable_backbone_layers=3)
    freeze_batch_norm(model)
    model.train()
    coco = COCO(root + "/annotations/instances_train2017.json")
    samples = []
    for image_id in sorted(coco.getImgIds()):
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=image_id)) if not a["iscrowd"]]
        if not anns:
            continue
        info = coco.loadImgs(image_id)[0]
        image = torch.from_numpy(np.asarray(Image.open(root + "/train2017/" + info["file_name"]).convert("RGB")))
        boxes = torch.tensor([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                              for a in anns], dtype=torch.float32)
        masks = torch.from_numpy(np.stack([coco.annToMask(a) for a in anns]))
        labels = torch.tensor([a["category_id"] for a in anns])
        samples.append((image.permute(2, 0, 1).float() / 255, {"boxes": boxes, "labels": labels, "masks": masks}))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=0.001, momentum=0.9, weight_decay=1e-4)
    def step(k):
        batch = [samples[(2 * k) % len(samples)], samples[(2 * k + 1) % len(samples)]]
        losses = model([b[0] for b in batch], [b[1] for b in batch])
        loss = sum(losses.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return float(loss)
    for k in range(warmup):
        step(k)
    start = time.perf_counter()
    for k in range(warmup, warmup + steps):
        step(k)
    seconds = (time.perf_counter() - start) / steps
    print(json.dumps({"seconds_per_step": seconds, "threads": torch.get_num_threads(),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")

OUR_READER = ("TrainReader.sample_transforms=[{Decode: {}}, {Resize: {target_size: [800, 1333], interp: 1}}, "
              "{NormalizeImage: {is_scale: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}, "
              "{Permute: {}}]")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--data", default=str(ROOT / "build" / "bench_data" / "train"))
    parser.add_argument("--binary", default=str(ROOT / "build" / "bin" / "mrcnn"))
    args = parser.parse_args()
    data = Path(args.data)
    if not (data / "annotations" / "instances_train2017.json").exists():
        subprocess.run([args.binary, "make-shapes", "--out", str(data), "--train", "16", "--val", "0",
                        "--size", "640x480", "--coco-layout", "--seed", "3"], check=True, capture_output=True)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    # pycocotools prints progress to stdout; the result is the last line.
    reference = json.loads(subprocess.run(
        [sys.executable, "-W", "ignore", "-c", TORCHVISION, str(ROOT / "tests" / "reference"), str(args.threads),
         str(args.warmup), str(args.steps), str(data)], check=True, capture_output=True, text=True,
        env=env).stdout.strip().splitlines()[-1])

    save_dir = data / "output"
    total = args.warmup + args.steps
    subprocess.run(
        [args.binary, "train", "-c", str(ROOT / "configs/mask_rcnn/mask_rcnn_r50_fpn_torchvision.yml"),
         "--iters", str(total), "-o", f"TrainDataset.dataset_dir={data}", f"save_dir={save_dir}", "log_iter=1",
         "num_classes=3", "label_map=contiguous", "TrainReader.batch_size=2", "worker_num=1",
         "LearningRate.base_lr=0.001", OUR_READER],
        check=True, capture_output=True, text=True, env=env)
    metrics_file = save_dir / "mask_rcnn_r50_fpn_torchvision" / "metrics.jsonl"
    steps = [json.loads(line) for line in metrics_file.read_text().splitlines()]
    timed = [s["batch_time"] for s in steps if s.get("iteration", 0) > args.warmup]
    ours = sum(timed) / len(timed)
    metrics_file.unlink()
    print(f"batch 2 of 640x480 images -> 800x1066, {args.threads} threads, {args.steps} timed steps after "
          f"{args.warmup} warm-up steps")
    print(f"torchvision: {reference['seconds_per_step']:.3f} s/step, peak {reference['peak_rss_mib']:.0f} MiB")
    print(f"mrcnn:       {ours:.3f} s/step, peak {steps[-1]['host_peak_mib']:.0f} MiB")
    print(f"torchvision / ours = {reference['seconds_per_step'] / ours:.2f}x")


if __name__ == "__main__":
    main()
