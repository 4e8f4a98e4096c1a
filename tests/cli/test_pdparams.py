"""Paddle's .pdparams weights: what `paddle.save(layer.state_dict(), path)` writes -- one pickle
(protocol 4 by default, 2 and 3 allowed) of a dict of numpy arrays plus Paddle's
"StructuredToParameterName@@" name table -- read by our own unpickler, every array exactly."""
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")


def paddle_like_state_dict():
    # Names of no PaddleDetection model, so that they come back as they are: the mapping of
    # PaddleDetection's names is tested in test_paddle_weights.py and test_paddle_names.cpp.
    rng = np.random.default_rng(0)
    arrays = {
        "layer.conv.weight": rng.standard_normal((8, 4, 1, 1)).astype(np.float32),
        "layer.norm._mean": rng.standard_normal(8).astype(np.float32),
        "head.fc6.weight": rng.standard_normal((12, 5)).astype(np.float32),  # [in, out]
        "fortran_ordered": np.asfortranarray(rng.standard_normal((3, 4, 2))),
        "float16": rng.standard_normal(6).astype(np.float16),
        "int64": np.arange(-3, 4, dtype=np.int64),
        "int32": np.arange(5, dtype=np.int32),
        "uint8": np.arange(250, 256, dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "scalar": np.array(2.5),
        "empty": np.zeros((0, 3), np.float32),
    }
    names = {key: f"param_{k}" for k, key in enumerate(arrays)}
    return arrays, {**arrays, "StructuredToParameterName@@": names}


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_a_pdparams_file_reads_into_the_same_arrays(protocol, tmp_path):
    arrays, saved = paddle_like_state_dict()
    path = tmp_path / "model.pdparams"
    with open(path, "wb") as f:
        pickle.dump(saved, f, protocol=protocol)
    out = tmp_path / "model.safetensors"
    result = subprocess.run([MRCNN, "convert-weights", str(path), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(arrays)} tensors" in result.stdout  # the name table is no tensor
    converted = load_file(str(out))
    assert sorted(converted) == sorted(arrays)
    for key, expected in arrays.items():
        got = converted[key]
        assert got.dtype == expected.dtype and got.shape == expected.shape, key
        assert np.array_equal(got, expected), key


def test_a_damaged_pdparams_file_is_an_error_naming_it(tmp_path):
    arrays, saved = paddle_like_state_dict()
    whole = pickle.dumps(saved, protocol=4)
    for name, data in [("truncated", whole[: len(whole) // 2]),
                       ("short_data", whole.replace(arrays["int32"].tobytes(), arrays["int32"].tobytes()[:-4]))]:
        path = tmp_path / f"{name}.pdparams"
        path.write_bytes(data)
        result = subprocess.run([MRCNN, "convert-weights", str(path), str(tmp_path / "out.safetensors")],
                                capture_output=True, text=True)
        assert result.returncode == 1, (name, result.stdout)
        assert str(path) in result.stderr, result.stderr


PADDLE_PYTHON = os.environ.get(
    "MRCNN_PADDLE_PYTHON", str(Path(os.environ.get("MRCNN_SOURCE_DIR", ".")) / ".venv-paddle" / "bin" / "python"))

WRITE_WITH_PADDLE = """
import sys, numpy as np, paddle
paddle.seed(0)
class Net(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv = paddle.nn.Conv2D(3, 4, 3)
        self.norm = paddle.nn.BatchNorm2D(4)
        self.fc = paddle.nn.Linear(5, 6)
state = Net().state_dict()
paddle.save(state, sys.argv[1])
np.savez(sys.argv[2], **{k: v.numpy() for k, v in state.items()})
"""


@pytest.mark.skipif(not Path(PADDLE_PYTHON).exists(),
                    reason=f"needs a Python with paddlepaddle at {PADDLE_PYTHON} (scripts/setup_paddle.sh)")
def test_a_file_written_by_paddle_itself_reads_exactly(tmp_path):
    made = subprocess.run([PADDLE_PYTHON, "-c", WRITE_WITH_PADDLE, str(tmp_path / "net.pdparams"),
                           str(tmp_path / "net.npz")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    out = tmp_path / "net.safetensors"
    result = subprocess.run([MRCNN, "convert-weights", str(tmp_path / "net.pdparams"), str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    converted, expected = load_file(str(out)), np.load(tmp_path / "net.npz")
    assert sorted(converted) == sorted(expected.files)  # conv, norm (_mean, _variance), fc
    for key in expected.files:
        assert converted[key].dtype == expected[key].dtype and np.array_equal(converted[key], expected[key]), key
