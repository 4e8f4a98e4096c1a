"""What the multi-process tests share: a free port, a generated shapes set, and the overrides
that point a tiny run at it."""
import socket
import subprocess


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_shapes(mrcnn, out, train, val, seed):
    made = subprocess.run([mrcnn, "make-shapes", "--out", str(out), "--train", str(train), "--val", str(val),
                           "--size", "128x128", "--seed", str(seed)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    return out


def overrides(shapes, save_dir, *extra):
    return ["-o", f"TrainDataset.dataset_dir={shapes}", f"EvalDataset.dataset_dir={shapes}",
            f"save_dir={save_dir}", "worker_num=1", *extra]
