"""Our decoder under paddle arithmetic against OpenCV's, which PaddleDetection's Decode uses
(cv2.imdecode(data, 1), then BGR -> RGB), on the files where decoders disagree: JPEGs whose
EXIF orientation says how to turn them, and PNGs with transparency.

OpenCV is the one in .venv-paddle (MRCNN_PADDLE_PYTHON, scripts/setup_paddle.sh); without it the
test skips and says so."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

IMAGE_TOOL = os.environ.get("MRCNN_IMAGE_TOOL", "build/tests/image_tool")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
PADDLE_PYTHON = os.environ.get("MRCNN_PADDLE_PYTHON", str(SOURCE / ".venv-paddle" / "bin" / "python"))

pytestmark = pytest.mark.skipif(not Path(PADDLE_PYTHON).exists(),
                                reason=f"needs OpenCV from {PADDLE_PYTHON} (scripts/setup_paddle.sh)")

OPENCV_DECODE = """
import sys, numpy as np, cv2
image = cv2.imdecode(np.fromfile(sys.argv[1], dtype=np.uint8), 1)
np.save(sys.argv[2], cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
"""


def opencv(path, tmp_path):
    out = tmp_path / "opencv.npy"
    done = subprocess.run([PADDLE_PYTHON, "-c", OPENCV_DECODE, str(path), str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return np.load(out)


def ours(path, tmp_path):
    out = tmp_path / "ours.png"
    done = subprocess.run([IMAGE_TOOL, "--paddle", str(path), str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    header = tuple(int(v) for v in done.stdout.split())
    return np.asarray(Image.open(out)), header


@pytest.fixture
def pixels():
    rng = np.random.default_rng(11)
    smooth = np.linspace(0, 255, 40 * 64 * 3).reshape(40, 64, 3)
    return (smooth * 0.7 + rng.uniform(0, 60, smooth.shape)).astype(np.uint8)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_jpeg_exif_orientation_is_applied_as_opencv_does(tmp_path, pixels, orientation):
    path = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(pixels).save(path, quality=95, exif=exif.tobytes())
    expected = opencv(path, tmp_path)
    decoded, header = ours(path, tmp_path)
    assert decoded.shape == expected.shape, (orientation, decoded.shape, expected.shape)
    assert header == expected.shape[:2]  # the header reports the upright size
    # Both are libjpeg-turbo's accurate integer IDCT; the builds may still differ by a level.
    assert np.abs(decoded.astype(int) - expected).max() <= 2


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_png_alpha_is_dropped_as_opencv_does(tmp_path, pixels, mode):
    alpha = np.where(np.arange(64)[None, :] < 32, 255, 0).astype(np.uint8).repeat(40, 0)
    if mode == "P":
        image = Image.fromarray(pixels).quantize(64)
        image.info["transparency"] = 0  # palette entry 0 transparent
    else:
        image = Image.fromarray(np.dstack([pixels, alpha]), "RGBA").convert(mode)
    path = tmp_path / "transparent.png"
    image.save(path)
    expected = opencv(path, tmp_path)
    decoded, header = ours(path, tmp_path)
    np.testing.assert_array_equal(decoded, expected)
    assert header == expected.shape[:2]
