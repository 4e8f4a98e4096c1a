"""GPU inference latency at batch 1, both with AMP (float16 on CUDA): `mrcnn bench` (predict,
then every mask pasted, thresholded and RLE-encoded) vs torchvision's eager
maskrcnn_resnet50_fpn (predict, masks pasted at full resolution), same weights (torchvision's
architecture, seeded random weights with a low score threshold so both keep up to 100
detections), same 1333x800 images. Prints latency of both and torchvision's / ours."""
import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_common import ROOT, make_dataset, timed  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--binary", default=str(ROOT / "build" / "bin" / "mrcnn"))
    parser.add_argument("--data", default=str(ROOT / "build" / "bench_data" / "gpu"))
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--score-thresh", type=float, default=0.011)
    parser.add_argument("--tiny", action="store_true", help="small images and few passes (checks the script)")
    args = parser.parse_args()
    import torch
    import torchvision

    torch.backends.cudnn.benchmark = True  # as ours (cudnn_benchmark: true)

    sys.path.insert(0, str(ROOT / "tests" / "reference"))
    from reference_models import random_maskrcnn

    size = "160x96" if args.tiny else "1333x800"
    if args.tiny:
        args.images, args.repeat = 1, 1
    amp = args.device.startswith("cuda")  # fp32 on a CPU (the script's own check)
    annotations = make_dataset(args.binary, Path(args.data) / f"infer_{size}", args.images, size)
    images = sorted((annotations.parents[1] / "train2017").glob("*.jpg"))[: args.images]
    weights = Path(args.data) / "maskrcnn_random.pth"
    if not weights.exists():
        torch.save(random_maskrcnn(seed=0).state_dict(), weights)

    model = random_maskrcnn(seed=0, box_score_thresh=args.score_thresh).to(args.device).eval()
    inputs = [torchvision.io.decode_jpeg(torchvision.io.read_file(str(p))).float().div(255).to(args.device)
              for p in images]
    dtype = torch.float16 if args.device.startswith("cuda") else torch.bfloat16
    detections = [0]

    def run_all():
        with torch.no_grad(), torch.autocast(device_type=args.device.split(":")[0], dtype=dtype, enabled=amp):
            detections[0] = sum(len(model([x])[0]["scores"]) for x in inputs)

    reference = timed(run_all, args.device, 1, args.repeat) / len(inputs)

    def ours(*overrides):
        return json.loads(subprocess.run(
            [args.binary, "bench", "-c", str(ROOT / "configs/mask_rcnn/mask_rcnn_r50_fpn_torchvision.yml"),
             "--device", args.device, *(["--amp"] if amp else []), "--weights", str(weights),
             "--repeat", str(args.repeat),
             "-o", f"BBoxPostProcess.nms.score_threshold={args.score_thresh}", *overrides,
             "--images", *map(str, images)],
            check=True, capture_output=True, text=True).stdout)["seconds_per_image"]

    default, nhwc = ours(), ours("channels_last=true")
    print(f"inference latency, batch 1, {size}, {'AMP' if amp else 'fp32'}, {args.device}, {len(inputs)} images x {args.repeat} passes, "
          "cuDNN autotuning on both sides")
    print(f"torchvision: {reference * 1000:.1f} ms/image ({detections[0]} detections)")
    print(f"mrcnn: {default * 1000:.1f} ms/image")
    print(f"mrcnn channels_last: {nhwc * 1000:.1f} ms/image")
    print(f"torchvision / ours = {reference / default:.2f}x")


if __name__ == "__main__":
    main()
