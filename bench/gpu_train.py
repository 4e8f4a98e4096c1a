"""GPU training step, both sides with AMP (float16 + loss scaling): `mrcnn train` (its real
loader, model and optimiser) vs torchvision's maskrcnn_resnet50_fpn (forward with losses,
scaled backward, SGD), same device, same batch of 2 images of 1333x800 (no resize, no flip),
same model settings (frozen BatchNorm, stem and layer1 frozen, torchvision's RoIAlign and
2000 train proposals). Prints images/s of both and torchvision's step time / ours."""
import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_common import ROOT, frozen_bn_maskrcnn, make_dataset, reference_samples, timed  # noqa: E402

READER = ("TrainReader.sample_transforms=[{{Decode: {{}}}}, {{Resize: {{target_size: [{short}, {long}], interp: 1}}}}, "
          "{{NormalizeImage: {{is_scale: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}}}, "
          "{{Permute: {{}}}}]")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--binary", default=str(ROOT / "build" / "bin" / "mrcnn"))
    parser.add_argument("--data", default=str(ROOT / "build" / "bench_data" / "gpu"))
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--tiny", action="store_true", help="small images and few steps (checks the script)")
    args = parser.parse_args()
    import torch

    torch.backends.cudnn.benchmark = True  # as ours (cudnn_benchmark: true)
    size, short, long = ("160x96", 96, 160) if args.tiny else ("1333x800", 800, 1333)
    if args.tiny:
        args.warmup, args.steps = 1, 1
    # Mixed precision on GPUs; a CPU run (the script's own check) stays in fp32, which is fast there.
    amp = args.device.startswith("cuda")
    annotations = make_dataset(args.binary, Path(args.data) / f"train_{size}", 12, size)
    samples = reference_samples(annotations, args.device)

    model = frozen_bn_maskrcnn(4, args.device, min_size=short, max_size=long)
    model.train()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.001, momentum=0.9,
                                weight_decay=1e-4)
    scaler = torch.amp.GradScaler(enabled=args.device.startswith("cuda"))
    dtype = torch.float16 if args.device.startswith("cuda") else torch.bfloat16
    counter = iter(range(10 ** 9))

    def step():
        k = next(counter)
        batch = [samples[(2 * k) % len(samples)], samples[(2 * k + 1) % len(samples)]]
        with torch.autocast(device_type=args.device.split(":")[0], dtype=dtype, enabled=amp):
            losses = model([b[0] for b in batch], [b[1] for b in batch])
            loss = sum(losses.values())
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    reference = timed(step, args.device, args.warmup, args.steps)

    def ours(*overrides):
        save_dir = Path(args.data) / "output"
        subprocess.run(
            [args.binary, "train", "-c", str(ROOT / "configs/mask_rcnn/mask_rcnn_r50_fpn_torchvision.yml"),
             "--device", args.device, *(["--amp"] if amp else []), "--iters", str(args.warmup + args.steps),
             "-o", f"TrainDataset.dataset_dir={annotations.parents[1]}", f"save_dir={save_dir}", "log_iter=1",
             "num_classes=3", "label_map=contiguous", "TrainReader.batch_size=2", "worker_num=4",
             "LearningRate.base_lr=0.001", READER.format(short=short, long=long), *overrides],
            check=True, capture_output=True, text=True)
        metrics = save_dir / "mask_rcnn_r50_fpn_torchvision" / "metrics.jsonl"
        steps = [json.loads(line) for line in metrics.read_text().splitlines()]
        timed_steps = [s["batch_time"] for s in steps if s.get("iteration", 0) > args.warmup]
        metrics.unlink()
        return sum(timed_steps) / len(timed_steps)

    default, nhwc = ours(), ours("channels_last=true")
    print(f"training step, batch 2 of {size}, {'AMP' if amp else 'fp32'}, {args.device}, {args.steps} timed steps after {args.warmup}, "
          "cuDNN autotuning on both sides")
    print(f"torchvision: {2 / reference:.2f} images/s ({reference * 1000:.0f} ms/step)")
    print(f"mrcnn: {2 / default:.2f} images/s ({default * 1000:.0f} ms/step)")
    print(f"mrcnn channels_last: {2 / nhwc:.2f} images/s ({nhwc * 1000:.0f} ms/step)")
    print(f"torchvision / ours = {reference / default:.2f}x")


if __name__ == "__main__":
    main()
