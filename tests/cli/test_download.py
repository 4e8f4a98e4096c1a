"""Weights by URL, against a local HTTP server on 127.0.0.1 serving a generated weights file:
fetched once into the cache ($MRCNN_HOME/weights) and then reused, an interrupted transfer
resumed where it stopped, a file whose SHA-256 does not match its name's prefix rejected and
deleted, a 404 and an unreachable server named."""
import hashlib
import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")


class Handler(BaseHTTPRequestHandler):
    """/whole/NAME serves the file, /cut/NAME sends half of it on the first request and then
    closes the connection, /bad/NAME serves it with one byte changed, anything else is 404.
    Range requests (bytes=N-) get 206 and the rest."""
    payload = b""
    requests = []  # (path, Range header or None)
    cut_done = set()

    def log_message(self, *args):
        pass

    def do_GET(self):
        kind = self.path.split("/")[1]
        Handler.requests.append((self.path, self.headers.get("Range")))
        if kind not in ("whole", "cut", "bad"):
            self.send_error(404)
            return
        body = Handler.payload
        if kind == "bad":
            body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
        start = 0
        ranged = self.headers.get("Range")
        if ranged and ranged.startswith("bytes="):
            start = int(ranged[len("bytes="):].split("-")[0])
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()
        if kind == "cut" and self.path not in Handler.cut_done:
            Handler.cut_done.add(self.path)
            self.wfile.write(body[start:start + len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # the transfer breaks off
            return
        self.wfile.write(body[start:])


@pytest.fixture
def server(tmp_path):
    rng = np.random.default_rng(0)
    weights = {"backbone.body.conv1.weight": rng.standard_normal((8, 3, 7, 7)).astype(np.float32),
               "roi_heads.box_head.fc6.bias": rng.standard_normal(4096).astype(np.float32)}
    save_file(weights, str(tmp_path / "source.safetensors"))
    Handler.payload = (tmp_path / "source.safetensors").read_bytes()
    Handler.requests, Handler.cut_done = [], set()
    name = f"tiny-{hashlib.sha256(Handler.payload).hexdigest()[:8]}.safetensors"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", name, weights
    httpd.shutdown()


def convert(url, out, home):
    return subprocess.run([MRCNN, "convert-weights", url, str(out)], capture_output=True, text=True,
                          env=dict(os.environ, MRCNN_HOME=str(home)), timeout=120)


def test_an_interrupted_download_resumes_and_the_cache_serves_the_next_run(server, tmp_path):
    base, name, weights = server
    result = convert(f"{base}/cut/{name}", tmp_path / "out.safetensors", tmp_path / "home")
    assert result.returncode == 0, result.stderr
    cached = tmp_path / "home" / "weights" / name
    assert cached.read_bytes() == Handler.payload
    assert not (tmp_path / "home" / "weights" / f"{name}.part").exists()
    ranges = [r for _, r in Handler.requests]
    assert ranges[0] is None and ranges[1] == f"bytes={len(Handler.payload) // 2}-", ranges
    converted = load_file(str(tmp_path / "out.safetensors"))
    for key, value in weights.items():
        assert np.array_equal(converted[key], value)

    asked = len(Handler.requests)
    again = convert(f"{base}/cut/{name}", tmp_path / "again.safetensors", tmp_path / "home")
    assert again.returncode == 0, again.stderr
    assert len(Handler.requests) == asked  # from the cache, no new request


def test_weights_by_url_serve_infer_like_the_local_file(tmp_path):
    """--weights URL: a trained model's weights, fetched, give infer the local file's results."""
    source = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
    tiny = str(source / "tests/cli/configs/tiny_shapes.yml")
    shapes = tmp_path / "shapes"
    assert subprocess.run([MRCNN, "make-shapes", "--out", str(shapes), "--train", "8", "--val", "2", "--size",
                           "128x128"], capture_output=True).returncode == 0
    data = ["-o", f"TrainDataset.dataset_dir={shapes}", f"TestDataset.dataset_dir={shapes}", f"save_dir={tmp_path}"]
    trained = subprocess.run([MRCNN, "train", "-c", tiny, "--iters", "3", "--no_tensorboard", *data],
                             capture_output=True, text=True)
    assert trained.returncode == 0, trained.stderr
    local = tmp_path / "tiny_shapes" / "model_final.safetensors"
    Handler.payload, Handler.requests, Handler.cut_done = local.read_bytes(), [], set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/whole/model_final.safetensors"
        results = {}
        for name, weights in [("local", str(local)), ("url", url)]:
            done = subprocess.run([MRCNN, "infer", "-c", tiny, "--weights", weights, "--infer_dir", str(shapes / "val"),
                                   "--save_results", "--output_dir", str(tmp_path / name), *data],
                                  capture_output=True, text=True, env=dict(os.environ, MRCNN_HOME=str(tmp_path / "home")))
            assert done.returncode == 0, done.stderr
            results[name] = (tmp_path / name / "mask.json").read_text()
        assert results["url"] == results["local"]
        assert (tmp_path / "home" / "weights" / "model_final.safetensors").read_bytes() == local.read_bytes()
    finally:
        httpd.shutdown()


def test_a_download_whose_checksum_does_not_match_its_name_is_rejected_and_deleted(server, tmp_path):
    base, name, _ = server
    result = convert(f"{base}/bad/{name}", tmp_path / "out.safetensors", tmp_path / "home")
    assert result.returncode == 1
    assert f"{base}/bad/{name}" in result.stderr and "SHA-256" in result.stderr and name[5:13] in result.stderr
    left = [p.name for p in (tmp_path / "home" / "weights").iterdir() if not p.name.endswith(".lock")]
    assert left == []
    assert not (tmp_path / "out.safetensors").exists()


def test_a_missing_file_and_an_unreachable_server_are_named(server, tmp_path):
    base, name, _ = server
    missing = convert(f"{base}/nowhere/{name}", tmp_path / "out.safetensors", tmp_path / "home")
    assert missing.returncode == 1
    assert f"{base}/nowhere/{name}" in missing.stderr and "HTTP 404" in missing.stderr
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    offline = convert(f"http://127.0.0.1:{closed}/whole/{name}", tmp_path / "out.safetensors", tmp_path / "home")
    assert offline.returncode == 1
    assert "cannot download" in offline.stderr and "no network?" in offline.stderr, offline.stderr
