"""Our image decoder against Pillow on every pixel layout users bring."""
import os
import subprocess

import numpy as np
import pytest
from PIL import Image

IMAGE_TOOL = os.environ.get("MRCNN_IMAGE_TOOL", "build/tests/image_tool")


def decode_with_ours(path, tmp_path):
    out = tmp_path / "decoded.png"
    run = subprocess.run([IMAGE_TOOL, str(path), str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return np.asarray(Image.open(out))


@pytest.fixture
def pixels():
    rng = np.random.default_rng(7)
    smooth = np.linspace(0, 255, 48 * 40 * 3).reshape(40, 48, 3)
    return (smooth * 0.7 + rng.uniform(0, 60, smooth.shape)).astype(np.uint8)


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "LA", "I;16"])
def test_png_modes_match_pillow_exactly(tmp_path, pixels, mode):
    image = Image.fromarray(pixels)
    if mode == "I;16":
        image = Image.fromarray(pixels[..., 0].astype(np.uint16) * 257)
        expected = np.repeat(pixels[..., :1], 3, axis=2)  # 16-bit values scaled to 8 bits
    else:
        image = image.convert(mode)
        expected = np.asarray(image.convert("RGB"))
    path = tmp_path / "in.png"
    image.save(path)
    np.testing.assert_array_equal(decode_with_ours(path, tmp_path), expected)


def test_png_alpha_is_composited_on_black(tmp_path, pixels):
    alpha = np.where(np.arange(48)[None, :] < 24, 255, 0).astype(np.uint8).repeat(40, 0)
    rgba = np.dstack([pixels, alpha])
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba, "RGBA").save(path)
    expected = pixels * (alpha[..., None] // 255)
    np.testing.assert_array_equal(decode_with_ours(path, tmp_path), expected)


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_jpeg_modes_match_pillow(tmp_path, pixels, mode):
    image = Image.fromarray(pixels).convert(mode)
    path = tmp_path / "in.jpg"
    image.save(path, quality=95)
    expected = np.asarray(Image.open(path).convert("RGB")).astype(int)
    ours = decode_with_ours(path, tmp_path).astype(int)
    assert ours.shape == expected.shape
    # Both use libjpeg-turbo; the IDCT variant and CMYK conversion may differ by a few levels.
    assert np.abs(ours - expected).max() <= (8 if mode == "CMYK" else 3)
    assert np.abs(ours - expected).mean() < 1.0


def test_truncated_jpeg_is_an_error_naming_the_file(tmp_path, pixels):
    path = tmp_path / "cut.jpg"
    Image.fromarray(pixels).save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    run = subprocess.run([IMAGE_TOOL, str(path), str(tmp_path / "o.png")], capture_output=True, text=True)
    assert run.returncode == 1
    assert str(path) in run.stderr
