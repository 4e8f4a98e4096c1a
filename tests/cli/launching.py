"""What the multi-process tests share: a free port, a generated shapes set, the overrides
that point a tiny run at it, a launch through plain environment variables, and a wait for a
checkpoint."""
import os
import socket
import subprocess
import time


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


def environment_launch(mrcnn, args, world, port, extra_env=None):
    processes = []
    for rank in range(world):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1",
                   **(extra_env or {}))
        processes.append(subprocess.Popen([mrcnn, *args], env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
    return processes


def wait_for_file(path, process, seconds=300):
    """Until `path` exists, `process` ends or `seconds` pass; whether it exists."""
    deadline = time.time() + seconds
    while not path.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    return path.exists()
