"""`mrcnn serve` under load from a load generator of ours (threads on keep-alive connections,
each posting a JPEG and waiting for its answer, as a client of a service does). The server
runs the demo config (configs/shapes) with weights from the demo's run when there are some,
else from a short training made here, on 320x320 shapes images. For each setting -- batching
on (--max_batch 4 --max_wait_ms 5) and off (--max_batch 1 --max_wait_ms 0) -- and each client
count, it prints images/s and p50/p99 latency, then the ratio of batched to unbatched
throughput at the highest client count."""
import argparse
import http.client
import re
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MRCNN = ROOT / "build" / "bin" / "mrcnn"
CONFIG = ROOT / "configs" / "shapes" / "mask_rcnn_r18_fpn_shapes.yml"


def prepare(work):
    shapes = work / "shapes"
    if not (shapes / "annotations" / "instances_val.json").exists():
        subprocess.run([MRCNN, "make-shapes", "--out", shapes, "--train", "32", "--val", "16", "--size",
                        "320x320", "--seed", "5"], check=True, capture_output=True)
    demo = ROOT / "output" / "mask_rcnn_r18_fpn_shapes" / "model_final.safetensors"
    if demo.exists():
        return shapes, demo
    weights = work / "mask_rcnn_r18_fpn_shapes" / "model_final.safetensors"
    if not weights.exists():
        subprocess.run([MRCNN, "train", "-c", CONFIG, "-o", f"TrainDataset.dataset_dir={shapes}",
                        f"EvalDataset.dataset_dir={shapes}", f"save_dir={work}", "epoch=2", "snapshot_epoch=2"],
                       check=True, capture_output=True)
    return shapes, weights


class Server:
    def __init__(self, weights, shapes, options):
        self.process = subprocess.Popen(
            [MRCNN, "serve", "-c", CONFIG, "--weights", weights, "--port", "0", *options, "-o",
             f"TestDataset.dataset_dir={shapes}"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(re.search(r":(\d+)$", self.process.stdout.readline().strip()).group(1))
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", self.port)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                break
            time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=60)


def load(port, images, clients, seconds):
    """Each client posts images (its own rotation) for `seconds`; returns (answers/s, latencies)."""
    latencies, lock = [], threading.Lock()
    start = time.monotonic()
    stop_at = start + seconds

    def client(k):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, i = [], k
        while time.monotonic() < stop_at:
            sent = time.monotonic()
            connection.request("POST", "/v1/predict?masks=rle", images[i % len(images)],
                               {"Content-Type": "image/jpeg"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            mine.append(time.monotonic() - sent)
            i += clients
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return len(latencies) / (time.monotonic() - start), np.array(latencies) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="load time per measurement")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--work", default=str(ROOT / "build" / "bench_serve"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    shapes, weights = prepare(work)
    images = [p.read_bytes() for p in sorted((shapes / "val").iterdir())]
    counts = [int(c) for c in args.clients.split(",")]
    settings = {"batching on": ["--max_batch", "4", "--max_wait_ms", "5"],
                "batching off": ["--max_batch", "1", "--max_wait_ms", "0"]}
    print(f"mrcnn serve, demo config, weights {weights.relative_to(ROOT) if weights.is_relative_to(ROOT) else weights}, "
          f"{len(images)} images of 320x320, {args.seconds:.0f} s per row")
    print(f"{'setting':<14}{'clients':>8}{'images/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    throughput = {}
    for name, options in settings.items():
        server = Server(weights, shapes, options)
        try:
            load(server.port, images, 1, 1.0)  # the first answers after warm-up
            for clients in counts:
                rate, latency = load(server.port, images, clients, args.seconds)
                throughput[name, clients] = rate
                print(f"{name:<14}{clients:>8}{rate:>10.1f}{np.percentile(latency, 50):>9.1f}"
                      f"{np.percentile(latency, 99):>9.1f}", flush=True)
        finally:
            server.stop()
    most = max(counts)
    ratio = throughput["batching on", most] / throughput["batching off", most]
    print(f"RATIO batching speed-up (images/s, batching on / off, {most} clients): {ratio:.2f}")


if __name__ == "__main__":
    main()
