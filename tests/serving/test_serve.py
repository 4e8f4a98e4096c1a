"""`mrcnn serve` over real HTTP on 127.0.0.1, against a tiny model trained on generated shapes:
answers equal to `mrcnn infer --save_results`, the query options, the probes and metrics,
every kind of bad input (after which the server still answers correctly), a full queue, a
deadline, a soak of 16 clients, and SIGTERM under load."""
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
TINY = str(SOURCE / "tests/cli/configs/tiny_shapes.yml")
SOAK_SECONDS = float(os.environ.get("MRCNN_SERVE_SOAK_SECONDS", "60"))


def run(*args, timeout=600):
    return subprocess.run([MRCNN, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A tiny model trained for a few seconds (it finds shapes), its data and its weights."""
    root = tmp_path_factory.mktemp("serve")
    shapes = root / "shapes"
    made = run("make-shapes", "--out", str(shapes), "--train", "16", "--val", "4", "--size", "128x128",
               "--seed", "1")
    assert made.returncode == 0, made.stderr
    overrides = ["-o", f"TrainDataset.dataset_dir={shapes}", f"EvalDataset.dataset_dir={shapes}",
                 f"TestDataset.dataset_dir={shapes}", f"save_dir={root}"]
    trained = run("train", "-c", TINY, *overrides)
    assert trained.returncode == 0, trained.stderr
    images = sorted((shapes / "val").iterdir()) + sorted((shapes / "train").iterdir())
    return {"root": root, "shapes": shapes, "weights": root / "tiny_shapes" / "model_final.safetensors",
            "overrides": [f"TestDataset.dataset_dir={shapes}"], "images": images}


class Server:
    """`mrcnn serve` on a free port, ready when constructed."""

    def __init__(self, model, *options):
        self.process = subprocess.Popen(
            [MRCNN, "serve", "-c", TINY, "--weights", str(model["weights"]), "--port", "0", *options,
             "-o", *model["overrides"]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.match(r"listening on http://127\.0\.0\.1:(\d+)", line)
        assert match, line + self.process.stderr.read()
        self.port = int(match.group(1))
        for _ in range(600):
            if self.get("/readyz")[0] == 200:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the server never became ready")

    def request(self, method, path, body=None, headers=None, timeout=60):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            connection.close()

    def get(self, path):
        return self.request("GET", path)

    def predict(self, image_bytes, query="", content_type="image/jpeg", **kwargs):
        return self.request("POST", "/v1/predict" + query, image_bytes, {"Content-Type": content_type}, **kwargs)

    def predict_json(self, image_bytes, query=""):
        status, body, _ = self.predict(image_bytes, query)
        assert status == 200, body
        return json.loads(body)

    def rss_kib(self):
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))

    def stop(self, timeout=30):
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def multipart(parts):
    boundary = uuid.uuid4().hex
    body = b""
    for field, filename, data in parts:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
                 f"Content-Type: image/jpeg\r\n\r\n").encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_answers_equal_infer_save_results_byte_for_byte(model, tmp_path):
    out = tmp_path / "infer"
    inferred = run("infer", "-c", TINY, "--weights", str(model["weights"]), "--infer_dir",
                   str(model["shapes"] / "val"), "--save_results", "--output_dir", str(out),
                   "-o", *model["overrides"])
    assert inferred.returncode == 0, inferred.stderr
    masks = json.loads((out / "mask.json").read_text())
    boxes = json.loads((out / "bbox.json").read_text())
    ids = {i["file_name"]: i["id"] for i in
           json.loads((model["shapes"] / "annotations/instances_val.json").read_text())["images"]}
    compared = 0
    with Server(model) as server:
        for path in sorted((model["shapes"] / "val").iterdir()):
            answer = server.predict_json(path.read_bytes())
            assert (answer["width"], answer["height"]) == Image.open(path).size
            expected_masks = [m for m in masks if m["image_id"] == ids[path.name]]
            expected_boxes = [b for b in boxes if b["image_id"] == ids[path.name]]
            got = answer["detections"]
            assert len(got) == len(expected_masks) == len(expected_boxes) > 0
            for d, m, b in zip(got, expected_masks, expected_boxes):
                # Parsed floats compare exactly, and the RLE strings are the same bytes.
                assert d["bbox"] == b["bbox"] and d["score"] == b["score"] == m["score"]
                assert d["category_id"] == m["category_id"] == b["category_id"]
                assert d["segmentation"] == m["segmentation"]
                assert d["category_name"] in {"circle", "square", "triangle"}
                compared += 1
        assert server.stop()[0] == 0
    assert compared >= 4


def test_query_options_filter_the_full_answer_and_masks_come_as_asked(model):
    image = model["images"][0].read_bytes()
    with Server(model) as server:
        full = server.predict_json(image)["detections"]
        assert len(full) >= 3
        threshold = full[2]["score"]
        kept = server.predict_json(image, f"?score_threshold={threshold!r}")["detections"]
        assert kept == [d for d in full if d["score"] >= threshold]
        assert server.predict_json(image, "?max_detections=2")["detections"] == full[:2]
        assert server.predict_json(image, "?max_detections=0")["detections"] == []
        bare = server.predict_json(image, "?masks=none")["detections"]
        assert all("segmentation" not in d for d in bare)
        assert [{k: v for k, v in d.items() if k != "segmentation"} for d in full] == bare

        # Polygons trace the RLE's pixels: rasterised by pycocotools they give exactly the mask
        # with its holes filled (COCO polygons cannot carry holes).
        shaped = server.predict_json(image, "?masks=polygon")["detections"]
        outlined = 0
        for d, p in zip(full, shaped):
            h, w = d["segmentation"]["size"]
            mask = mask_utils.decode({"size": [h, w], "counts": d["segmentation"]["counts"].encode()})
            polygons = p["segmentation"]
            if not mask.any():  # no pixel reached the threshold: no outline
                assert polygons == []
                continue
            assert polygons and all(len(poly) % 2 == 0 and len(poly) >= 8 for poly in polygons)
            drawn = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygons, h, w)))
            assert np.array_equal(drawn, holes_filled(mask))
            outlined += 1
        assert outlined >= 3
        assert server.stop()[0] == 0


def holes_filled(mask):
    """The mask plus every background pixel the border's background cannot reach. The
    outlines keep parts that touch only at a corner apart, so background flows through such
    corners: it is flooded 8-connected."""
    h, w = mask.shape
    outside = np.zeros_like(mask, dtype=bool)
    todo = [(y, x) for y in range(h) for x in (0, w - 1)] + [(y, x) for x in range(w) for y in (0, h - 1)]
    while todo:
        y, x = todo.pop()
        if 0 <= y < h and 0 <= x < w and not mask[y, x] and not outside[y, x]:
            outside[y, x] = True
            todo += [(y + dy, x + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    return (~outside).astype(mask.dtype)


def test_multipart_images_are_answered_in_order_with_their_names(model):
    first, second = model["images"][0], model["images"][1]
    with Server(model) as server:
        alone = [server.predict_json(p.read_bytes())["detections"] for p in (first, second)]
        body, content_type = multipart([("image", "a.jpg", first.read_bytes()),
                                        ("image", "b.jpg", second.read_bytes())])
        status, raw, _ = server.predict(body, content_type=content_type)
        assert status == 200, raw
        answer = json.loads(raw)
        assert [i["name"] for i in answer["images"]] == ["a.jpg", "b.jpg"]
        # Both in one batch: numerics may move in the last bits, so compare with a tolerance.
        for got, expected in zip(answer["images"], alone):
            assert_same_detections(got["detections"], expected)
        assert answer["images"][0]["batch_size"] == 2
        assert server.stop()[0] == 0


def test_probes_model_report_and_metrics(model):
    image = model["images"][0].read_bytes()
    with Server(model, "--max_batch", "3") as server:
        assert server.get("/healthz")[0] == 200
        status, body, _ = server.get("/readyz")
        assert status == 200 and json.loads(body)["ready"] is True
        report = json.loads(server.get("/v1/model")[1])
        assert report["config"] == "tiny_shapes"
        assert report["device"] == "cpu"
        assert [c["name"] for c in report["classes"]] == ["circle", "square", "triangle"]
        assert report["weights_sha256"] == hashlib.sha256(model["weights"].read_bytes()).hexdigest()
        assert report["max_batch"] == 3
        for _ in range(3):
            server.predict_json(image)
        assert server.predict(b"not an image")[0] == 400
        status, text, headers = server.get("/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        metrics = parse_prometheus(text.decode())
        assert metrics['mrcnn_http_requests_total{path="/v1/predict",status="200"}'] == 3
        assert metrics['mrcnn_http_requests_total{path="/v1/predict",status="400"}'] == 1
        assert metrics["mrcnn_predict_duration_seconds_count"] == 4
        # Three single-image batches (the warm-up runs outside the served numbers).
        assert metrics["mrcnn_batch_size_count"] == 3
        assert metrics['mrcnn_batch_size_bucket{le="1"}'] == 3
        assert metrics['mrcnn_batch_size_bucket{le="2"}'] == 3
        assert metrics['mrcnn_batch_size_bucket{le="3"}'] == 3
        assert metrics["mrcnn_images_total"] == 3
        assert metrics["mrcnn_queue_depth"] == 0 and metrics["mrcnn_ready"] == 1
        assert metrics["mrcnn_images_per_second"] > 0
        assert server.stop()[0] == 0


def parse_prometheus(text):
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def png_chunk(kind, data):
    import struct
    import zlib
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bad_inputs(model, tmp_path):
    """(what, method, path, body, headers, expected status, words of the error)."""
    import struct
    import zlib
    jpeg = model["images"][0].read_bytes()
    Image.open(model["images"][0]).save(tmp_path / "whole.png")
    png = bytearray((tmp_path / "whole.png").read_bytes())
    png[40] ^= 0xFF  # inside the first data chunk: its CRC no longer matches
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(tmp_path / "small.jpg", quality=50)
    bomb = bytearray((tmp_path / "small.jpg").read_bytes())
    sof = bomb.index(b"\xff\xc0")
    bomb[sof + 5:sof + 9] = struct.pack(">HH", 30000, 30000)
    png_bomb = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0))
                + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b""))
    jpeg_type = {"Content-Type": "image/jpeg"}
    empty_part, empty_type = multipart([("image", "good.jpg", jpeg), ("image", "empty.jpg", b"")])
    text_part, text_type = multipart([("image", "notes.txt", b"hello")])
    return [
        ("not an image", "POST", "/v1/predict", b"hello, world", jpeg_type, 400, "not a JPEG or PNG"),
        ("truncated JPEG", "POST", "/v1/predict", jpeg[:300], jpeg_type, 400, "JPEG"),
        ("corrupt PNG", "POST", "/v1/predict", bytes(png), {"Content-Type": "image/png"}, 400, "PNG"),
        ("zero bytes", "POST", "/v1/predict", b"", jpeg_type, 400, "empty"),
        ("body over --max_body_mb", "POST", "/v1/predict", b"\xff" * (3 << 20), jpeg_type, 413, "too large"),
        ("JPEG claiming 30000x30000", "POST", "/v1/predict", bytes(bomb), jpeg_type, 413, "30000x30000"),
        ("PNG claiming 20000x20000", "POST", "/v1/predict", png_bomb, {"Content-Type": "image/png"}, 413,
         "20000x20000"),
        ("unknown query option", "POST", "/v1/predict?treshold=0.5", jpeg, jpeg_type, 400, "treshold"),
        ("bad option value", "POST", "/v1/predict?masks=bitmap", jpeg, jpeg_type, 400, "rle, polygon or none"),
        ("text content type", "POST", "/v1/predict", jpeg, {"Content-Type": "text/plain"}, 415, "text/plain"),
        ("no content type", "POST", "/v1/predict", jpeg, {}, 415, "not an image"),
        ("multipart with an empty part", "POST", "/v1/predict", empty_part, {"Content-Type": empty_type}, 400,
         "empty.jpg"),
        ("multipart with a text part", "POST", "/v1/predict", text_part, {"Content-Type": text_type}, 400,
         "notes.txt"),
        ("GET on predict", "GET", "/v1/predict", None, {}, 405, "use POST"),
        ("PUT on predict", "PUT", "/v1/predict", jpeg, jpeg_type, 405, "use POST"),
        ("DELETE on a probe", "DELETE", "/healthz", None, {}, 405, "use GET"),
        ("unknown path", "GET", "/v2/predict", None, {}, 404, "no such path"),
        ("unknown path, POST", "POST", "/predict", jpeg, jpeg_type, 404, "no such path"),
    ]


def test_bad_input_gets_a_json_error_and_the_server_keeps_answering(model, tmp_path):
    image = model["images"][0].read_bytes()
    with Server(model, "--max_body_mb", "2") as server:
        before = server.predict_json(image)
        for what, method, path, body, headers, status, words in bad_inputs(model, tmp_path):
            got, raw, reply_headers = server.request(method, path, body, headers)
            assert got == status, (what, got, raw)
            assert reply_headers["Content-Type"] == "application/json", what
            error = json.loads(raw)
            assert error["status"] == status and words in error["error"], (what, error)
        # Broken HTTP on a raw socket: garbage, and a body cut short by a closed connection.
        for garbage in [b"NOT HTTP AT ALL\r\n\r\n", b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n" + image[:500]]:
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw_socket:
                raw_socket.sendall(garbage)
                raw_socket.shutdown(socket.SHUT_WR)
                raw_socket.recv(65536)
        assert server.get("/healthz")[0] == 200
        assert server.predict_json(image)["detections"] == before["detections"]
        assert server.process.poll() is None
        assert server.stop()[0] == 0


def test_a_full_queue_answers_503_with_retry_after_and_a_deadline_504(model):
    images = [p.read_bytes() for p in model["images"][:12]]
    with Server(model, "--queue", "2", "--max_batch", "1", "--max_wait_ms", "0") as server:
        expected = [server.predict_json(i)["detections"] for i in images]
        statuses = []
        lock = threading.Lock()

        def client(k):
            for _ in range(3):
                status, body, headers = server.predict(images[k])
                with lock:
                    statuses.append(status)
                if status == 200:
                    assert_same_detections(json.loads(body)["detections"], expected[k])
                else:
                    assert status == 503 and headers["Retry-After"] == "1", (status, body)
                    assert "queue is full" in json.loads(body)["error"]

        threads = [threading.Thread(target=client, args=(k,)) for k in range(12)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert statuses.count(200) > 0 and statuses.count(503) > 0, statuses
        assert server.stop()[0] == 0

    with Server(model, "--max_batch", "4", "--max_wait_ms", "1500") as server:
        status, body, _ = server.predict(images[0], "?timeout_ms=100")
        assert status == 504 and "timeout_ms=100" in json.loads(body)["error"]
        assert server.predict_json(images[0])["detections"] == expected[0]  # still answers
        assert server.stop()[0] == 0


def assert_same_detections(got, expected):
    """The same detections, allowing the last bits that batching with other images may move:
    detections whose scores are that close may also trade places."""
    assert len(got) == len(expected)
    remaining = list(got)
    for position, e in enumerate(expected):
        same = [g for g in remaining if g["category_id"] == e["category_id"] and abs(g["score"] - e["score"]) < 1e-5
                and np.allclose(g["bbox"], e["bbox"], atol=1e-3)]
        assert same, f"no detection like {e}"
        g = min(same, key=lambda d: abs(d["score"] - e["score"]))
        assert abs(got.index(g) - position) <= 3  # a swap among near ties only
        remaining.remove(g)
        if "segmentation" in e and g["segmentation"] != e["segmentation"]:
            h, w = e["segmentation"]["size"]
            a = {"size": [h, w], "counts": g["segmentation"]["counts"].encode()}
            b = {"size": [h, w], "counts": e["segmentation"]["counts"].encode()}
            assert mask_utils.iou([a], [b], [0])[0][0] >= 0.99


def test_soak_16_clients_get_their_own_answers_and_memory_stays_bounded(model):
    images = [p.read_bytes() for p in model["images"][:16]]
    with Server(model, "--max_batch", "4", "--queue", "64") as server:
        expected = [server.predict_json(i)["detections"] for i in images]
        assert sum(len(e) for e in expected) > 0
        stop_at = time.monotonic() + SOAK_SECONDS
        counts = {"ok": 0, "busy": 0}
        failures = []
        lock = threading.Lock()

        def client(k):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            while time.monotonic() < stop_at and not failures:
                try:
                    connection.request("POST", "/v1/predict", images[k], {"Content-Type": "image/jpeg"})
                    response = connection.getresponse()
                    body = response.read()
                except (ConnectionError, http.client.HTTPException):
                    # A kept-alive connection the server closed between requests: reconnect.
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
                    continue
                try:
                    if response.status == 200:
                        assert_same_detections(json.loads(body)["detections"], expected[k])
                        with lock:
                            counts["ok"] += 1
                    else:
                        assert response.status == 503, (response.status, body)
                        with lock:
                            counts["busy"] += 1
                except AssertionError as e:
                    failures.append(f"client {k}: {e}")
            connection.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
        [t.start() for t in threads]
        time.sleep(min(10.0, SOAK_SECONDS / 4))
        warm_rss = server.rss_kib()
        [t.join() for t in threads]
        final_rss = server.rss_kib()
        assert not failures, failures[:3]
        assert counts["ok"] > 16, counts
        # Bounded: after the first seconds of load, at most 64 MiB more by the end.
        assert final_rss - warm_rss < 64 * 1024, (warm_rss, final_rss)
        metrics = parse_prometheus(server.get("/metrics")[1].decode())
        answered = metrics['mrcnn_http_requests_total{path="/v1/predict",status="200"}']
        assert answered == counts["ok"] + 16  # none lost: every 200 the clients saw, and no other
        assert metrics["mrcnn_batch_size_sum"] > metrics["mrcnn_batch_size_count"]  # batches formed
        print(f"soak: {counts['ok']} answers, {counts['busy']} 503s in {SOAK_SECONDS:.0f} s; "
              f"RSS {warm_rss // 1024} -> {final_rss // 1024} MiB")
        assert server.stop()[0] == 0


def test_sigterm_under_load_answers_the_requests_in_flight_and_exits_0(model):
    images = [p.read_bytes() for p in model["images"][:6]]
    # A long max_wait keeps the six requests queued while SIGTERM arrives.
    with Server(model, "--max_batch", "8", "--max_wait_ms", "1500") as server:
        results = [None] * len(images)

        def client(k):
            results[k] = server.predict(images[k], timeout=30)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(len(images))]
        [t.start() for t in threads]
        time.sleep(0.5)
        sent = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        [t.join() for t in threads]
        code = server.process.wait(timeout=30)
        took = time.monotonic() - sent
        err = server.process.stderr.read()
        assert code == 0, err
        assert [r[0] for r in results] == [200] * len(images), [r[:2] for r in results]
        assert all(json.loads(r[1])["batch_size"] == len(images) for r in results)
        assert "stopped by SIGTERM" in err
        print(f"exit {took:.2f} s after SIGTERM")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=5)


def test_start_errors_exit_1_naming_the_cause(model, tmp_path):
    missing = run("serve", "-c", TINY, "--weights", str(tmp_path / "nothing.safetensors"), "--port", "0")
    assert missing.returncode == 1 and "nothing.safetensors" in missing.stderr
    with Server(model) as server:
        taken = run("serve", "-c", TINY, "--weights", str(model["weights"]), "--port", str(server.port),
                    "-o", *model["overrides"])
        assert taken.returncode == 1 and f"cannot listen on 127.0.0.1:{server.port}" in taken.stderr
        assert server.stop()[0] == 0
    bad = run("serve", "-c", TINY, "--weights", str(model["weights"]), "--max_batch", "0")
    assert bad.returncode == 1 and "--max_batch" in bad.stderr
