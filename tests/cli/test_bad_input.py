"""Bad input as a hostile or careless user gives it: every case ends with exit status 1 (never
a crash: no status >= 128, no signal), an error that names the file or record at fault, and the
outputs of an earlier run untouched. Where a bad item can be left out (one image of many), the
run does the rest and says what it left out."""
import json
import os
import pickle
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
TINY = str(SOURCE / "tests/cli/configs/tiny_shapes.yml")


def run(*args, timeout=600):
    return subprocess.run([MRCNN, *map(str, args)], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small shapes set, weights trained for one step, and the outputs of an earlier run."""
    root = tmp_path_factory.mktemp("world")
    made = run("make-shapes", "--out", root / "shapes", "--train", "6", "--val", "3", "--size", "96x96",
               "--seed", "2")
    assert made.returncode == 0, made.stderr
    trained = run("train", "-c", TINY, "--iters", "1", "-o", *overrides(root / "shapes", root / "trained"))
    assert trained.returncode == 0, trained.stderr
    return root


def overrides(shapes, save_dir):
    return [f"TrainDataset.dataset_dir={shapes}", f"EvalDataset.dataset_dir={shapes}",
            f"TestDataset.dataset_dir={shapes}", f"save_dir={save_dir}"]


def weights(world):
    return world / "trained" / "tiny_shapes" / "model_final.safetensors"


def earlier_outputs(folder):
    """What an earlier run left in `folder`; returns a check that it is still all there."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"bbox.json": b"[]", "mask.json": b"[]", "metrics.jsonl": b'{"iteration": 1}\n'}
    for name, data in files.items():
        (folder / name).write_bytes(data)

    def intact():
        for name, data in files.items():
            assert (folder / name).read_bytes() == data, name
        assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    return intact


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width, height):
    """A 1 KB PNG whose header claims width x height (a decompression bomb's header)."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b"")


def jpeg_claiming(path, width, height):
    """A real small JPEG with its frame header rewritten to claim width x height."""
    Image.fromarray(np.full((16, 16, 3), 128, np.uint8)).save(path, quality=50)
    data = bytearray(path.read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))


def safetensors_file(path, header, data):
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def dataset_with(world, name, edit):
    """A copy of the shapes set whose validation annotations went through `edit`."""
    root = world / name
    if not root.exists():
        shutil.copytree(world / "shapes", root)
        path = root / "annotations" / "instances_val.json"
        d = json.loads(path.read_text())
        edit(d, root)
        path.write_text(json.dumps(d))
    return root


def eval_with(world, name, edit):
    """`mrcnn eval` of the trained weights on a copy of the shapes set edited by `edit`."""
    root = dataset_with(world, name, edit)
    return ["eval", "-c", TINY, "--weights", weights(world), "-o", f"EvalDataset.dataset_dir={root}"]


# Each case: (name, build(world, tmp) -> (arguments, [texts the error must contain])). The
# arguments run with save_dir, --output_dir and --output_eval at a folder of earlier outputs.
def cases():
    c = {}

    def add(name):
        def register(build):
            c[name] = build
            return build
        return register

    # --- a folder where a file belongs
    @add("weights_is_a_folder_infer")
    def _(w, t):
        return ["infer", "-c", TINY, "--weights", t, "--infer_dir", w / "shapes" / "val"], [str(t), "is a directory"]

    @add("weights_is_a_folder_eval")
    def _(w, t):
        return ["eval", "-c", TINY, "--weights", t], [str(t), "is a directory"]

    @add("convert_weights_input_is_a_folder")
    def _(w, t):
        return ["convert-weights", t, t / "out.safetensors"], [str(t), "is a directory"]

    @add("pretrain_weights_is_a_folder")
    def _(w, t):
        return ["train", "-c", TINY, "-o", f"pretrain_weights={t}"], [str(t), "is a directory"]

    @add("infer_img_is_a_folder")
    def _(w, t):
        return ["infer", "-c", TINY, "--weights", weights(w), "--infer_img", t], [str(t), "is a directory"]

    @add("bench_image_is_a_folder")
    def _(w, t):
        return ["bench", "-c", TINY, "--weights", weights(w), "--images", t, "--repeat", "1"], [str(t), "is a directory"]

    for file_name in ["", "."]:
        @add(f"image_record_names_the_folder[{file_name!r}]")
        def _(w, t, file_name=file_name):
            def edit(d, root):
                d["images"][0]["file_name"] = file_name
            return (eval_with(w, f"folder_name_{len(file_name)}", edit),
                    ["image id", "is a directory", "1 of 3 images cannot be used"])

    @add("config_is_a_folder")
    def _(w, t):
        return ["train", "-c", t], [str(t), "is a directory"]

    @add("base_config_is_a_folder")
    def _(w, t):
        (t / "sub").mkdir()
        (t / "child.yml").write_text("_BASE_: [sub]\n")
        return ["train", "-c", t / "child.yml"], [str(t / "sub"), "is a directory", "child.yml:1"]

    # --- outputs that cannot be written
    @add("save_dir_is_a_file")
    def _(w, t):
        (t / "file").write_text("x")
        return ["train", "-c", TINY, "-o", f"save_dir={t / 'file'}"], [str(t / "file")]

    @add("save_dir_under_a_file")
    def _(w, t):
        (t / "file").write_text("x")
        return ["train", "-c", TINY, "-o", f"save_dir={t / 'file' / 'out'}"], [str(t / "file")]

    @add("infer_output_dir_is_a_file")
    def _(w, t):
        (t / "file").write_text("x")
        return (["infer", "-c", TINY, "--weights", weights(w), "--infer_dir", w / "shapes" / "val",
                 "--output_dir", t / "file"], [str(t / "file")])

    @add("eval_output_under_a_file")
    def _(w, t):
        (t / "file").write_text("x")
        return (["eval", "-c", TINY, "--weights", weights(w), "--output_eval", t / "file" / "eval"],
                [str(t / "file")])

    # --- hostile weights files
    @add("pth_nesting_200000_lists")
    def _(w, t):
        (t / "deep.pth").write_bytes(b"\x80\x02" + b"]" * 200000 + b"a" * 199999 + b".")
        return ["infer", "-c", TINY, "--weights", t / "deep.pth", "--infer_dir", w / "shapes" / "val"], ["deep.pth", "nests"]

    @add("pth_nesting_1000000_dicts")
    def _(w, t):
        # {"k": {"k": ...}}: each dict set as the value of the one before.
        n = 1000000
        (t / "dicts.pth").write_bytes(b"\x80\x02}" + b"X\x01\x00\x00\x00k}" * (n - 1) + b"s" * (n - 1) + b".")
        return ["eval", "-c", TINY, "--weights", t / "dicts.pth"], ["dicts.pth"]

    @add("pth_calling_os_system")
    def _(w, t):
        (t / "evil.pth").write_bytes(pickle.dumps({"w": Evil()}, protocol=2))
        return ["eval", "-c", TINY, "--weights", t / "evil.pth"], ["evil.pth", "posix.system"]

    @add("safetensors_overlapping_ranges")
    def _(w, t):
        safetensors_file(t / "overlap.safetensors", {
            "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12)
        return ["eval", "-c", TINY, "--weights", t / "overlap.safetensors"], ["overlap.safetensors", "overlaps"]

    @add("safetensors_zero_bytes")
    def _(w, t):
        (t / "zero.safetensors").write_bytes(b"")
        return ["eval", "-c", TINY, "--weights", t / "zero.safetensors"], ["zero.safetensors", "empty"]

    @add("safetensors_2_to_the_40_elements")
    def _(w, t):
        safetensors_file(t / "huge.safetensors", {"a": {"dtype": "F32", "shape": [2 ** 40], "data_offsets": [0, 4]}},
                         b"\0" * 4)
        return ["eval", "-c", TINY, "--weights", t / "huge.safetensors"], ["huge.safetensors", "larger than"]

    # --- images
    @add("png_claiming_20000x20000_in_eval")
    def _(w, t):
        def edit(d, root):
            (root / "val" / d["images"][1]["file_name"]).write_bytes(png_claiming(20000, 20000))
            d["images"][1]["width"] = d["images"][1]["height"] = 20000
        return eval_with(w, "png_bomb", edit), ["20000x20000", "over the limit", "image id"]

    @add("jpeg_claiming_30000x30000_in_infer")
    def _(w, t):
        jpeg_claiming(t / "bomb.jpg", 30000, 30000)
        return (["infer", "-c", TINY, "--weights", weights(w), "--infer_img", t / "bomb.jpg"],
                ["bomb.jpg", "30000x30000", "1 of 1 images could not be read"])

    for kind in ["zero_bytes", "truncated_jpeg", "png_bad_crc", "text_as_jpeg"]:
        @add(f"image_{kind}")
        def _(w, t, kind=kind):
            path = t / ("broken.png" if kind == "png_bad_crc" else "broken.jpg")
            source = sorted((w / "shapes" / "val").iterdir())[0]
            if kind == "zero_bytes":
                path.write_bytes(b"")
            elif kind == "truncated_jpeg":
                Image.open(source).save(t / "whole.jpg")
                path.write_bytes((t / "whole.jpg").read_bytes()[:300])
            elif kind == "png_bad_crc":
                Image.open(source).save(path)
                data = bytearray(path.read_bytes())
                data[29] ^= 0xFF  # IHDR's CRC
                path.write_bytes(bytes(data))
            else:
                path.write_text("this is not a picture")
            return (["infer", "-c", TINY, "--weights", weights(w), "--infer_img", path],
                    [str(path), "1 of 1 images could not be read"])

    # --- annotations
    @add("annotation_with_nan_coordinates")
    def _(w, t):
        def edit(d, root):
            d["annotations"][0]["bbox"][0] = float("nan")  # json.dumps writes NaN
        return eval_with(w, "nan_box", edit), ["instances_val.json", "annotations[0]", "'bbox'"]

    @add("annotation_with_infinite_coordinates")
    def _(w, t):
        def edit(d, root):
            d["annotations"][0]["segmentation"] = [[0, 0, 1e999, 0, 5, 5]]
        return eval_with(w, "inf_polygon", edit), ["instances_val.json", "annotations[0]", "'segmentation'"]

    @add("annotation_of_an_unknown_category")
    def _(w, t):
        def edit(d, root):
            d["annotations"][0]["category_id"] = 999
        return eval_with(w, "unknown_category", edit), ["instances_val.json", "annotation id", "999"]

    # --- configs
    @add("config_include_cycle")
    def _(w, t):
        (t / "a.yml").write_text("_BASE_: [b.yml]\n")
        (t / "b.yml").write_text("_BASE_: [a.yml]\n")
        return ["train", "-c", t / "a.yml"], ["include cycle", "a.yml -> b.yml -> a.yml"]

    @add("config_billion_laughs")
    def _(w, t):
        text = "TrainReader:\n  sample_transforms:\n  - RandomResize:\n      target_size: [&s [" + \
               ", ".join(["1"] * 20000) + "]" + ", *s" * 5000 + "]\n"
        (t / "laughs.yml").write_text(text)
        return ["train", "-c", t / "laughs.yml"], ["laughs.yml", "list items"]

    @add("config_duplicate_key")
    def _(w, t):
        (t / "twice.yml").write_text(f"_BASE_: [{TINY}]\nepoch: 3\nepoch: 4\n")
        return ["train", "-c", t / "twice.yml"], ["twice.yml:3", "duplicate key 'epoch'"]

    @add("config_epoch_beyond_any_run")
    def _(w, t):
        return ["train", "-c", TINY, "-o", "epoch=9223372036854775807"], ["'epoch'", "at most"]

    return c


CASES = cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_an_error_that_names_it(name, world, tmp_path):
    arguments, expected = CASES[name](world, tmp_path)
    save = tmp_path / "save"
    intact = earlier_outputs(save / "tiny_shapes")
    command, rest = arguments[0], list(arguments[1:])
    if command in ("train", "eval", "infer", "bench"):
        rest = ["-o", *overrides(world / "shapes", save), *rest]  # the case's own -o values win
    if command == "infer" and "--output_dir" not in rest:
        rest += ["--output_dir", save / "tiny_shapes"]
    if command == "eval" and "--output_eval" not in rest:
        rest += ["--output_eval", save / "tiny_shapes"]
    result = run(command, *rest)
    if os.environ.get("MRCNN_SHOW_ERRORS"):
        print(f"\n[{name}] {result.stderr.strip()[-600:]}")
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    for text in expected:
        assert text in result.stderr, (text, result.stderr[-2000:])
    intact()


def test_one_unreadable_image_costs_only_its_own_results(world, tmp_path):
    images = tmp_path / "images"
    shutil.copytree(world / "shapes" / "val", images)
    (images / "broken.jpg").write_text("not a jpeg")
    out = tmp_path / "out"
    result = run("infer", "-c", TINY, "--weights", weights(world), "--infer_dir", images, "--output_dir", out,
                 "--save_results", "--draw_threshold", "0")
    assert result.returncode == 1, result.stderr
    assert "broken.jpg" in result.stderr and "1 of 4 images could not be read" in result.stderr
    drawn = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".jpg"))
    assert drawn == sorted(p.name for p in (world / "shapes" / "val").iterdir())
    assert isinstance(json.loads((out / "bbox.json").read_text()), list)
    assert not list(out.glob("*.tmp"))


def test_training_leaves_out_unusable_images_and_says_which(world, tmp_path):
    root = tmp_path / "shapes"
    shutil.copytree(world / "shapes", root)
    d = json.loads((root / "annotations" / "instances_train.json").read_text())
    missing = d["images"][0]["file_name"]
    (root / "train" / missing).unlink()
    d["images"][1]["width"] += 3
    (root / "annotations" / "instances_train.json").write_text(json.dumps(d))
    result = run("train", "-c", TINY, "--iters", "2", "-o", *overrides(root, tmp_path / "save"))
    assert result.returncode == 0, result.stderr
    notes = result.stdout + result.stderr
    assert "train data: skipped: 2 of" in notes, notes
    assert missing in notes and f"image id {d['images'][1]['id']}" in notes


def test_an_evaluation_with_a_bad_image_fails_before_training(world, tmp_path):
    def edit(d, root):
        (root / "val" / d["images"][2]["file_name"]).unlink()
    root = dataset_with(world, "missing_val_image", edit)
    result = run("train", "-c", TINY, "--eval", "-o", *overrides(world / "shapes", tmp_path),
                 f"EvalDataset.dataset_dir={root}")
    assert result.returncode == 1
    assert "cannot open file" in result.stderr and "image id" in result.stderr
    assert "iter 1/" not in result.stdout  # not one step was spent


def test_no_proposals_left_gives_no_detections(world, tmp_path):
    result = run("infer", "-c", TINY, "--weights", weights(world), "--infer_dir", world / "shapes" / "val",
                 "--output_dir", tmp_path, "--save_results", "-o", "RPNHead.test_proposal.min_size=100000")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "bbox.json").read_text()) == []


def test_nan_weights_give_no_detections(world, tmp_path):
    from safetensors.numpy import load_file, save_file
    tensors = load_file(str(weights(world)))
    tensors = {k: np.full_like(v, np.nan) if v.dtype.kind == "f" else v for k, v in tensors.items()}
    save_file(tensors, str(tmp_path / "nan.safetensors"))
    result = run("infer", "-c", TINY, "--weights", tmp_path / "nan.safetensors", "--infer_dir",
                 world / "shapes" / "val", "--output_dir", tmp_path / "out", "--save_results")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "out" / "bbox.json").read_text()) == []


def test_a_json_file_with_a_byte_order_mark_reads(world, tmp_path):
    text = (world / "shapes" / "annotations" / "instances_val.json").read_text()
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (tmp_path / "res.json").write_bytes(b"\xef\xbb\xbf[]")
    result = run("coco-eval", "--ann", tmp_path / "bom.json", "--res", tmp_path / "res.json", "--type", "bbox")
    assert result.returncode == 0, result.stderr


def test_last_is_written_at_the_final_step(world, tmp_path):
    # Every 2 iterations, and at the end of a 3-iteration run.
    result = run("train", "-c", TINY, "--iters", "3", "-o", *overrides(world / "shapes", tmp_path), "snapshot_iter=2")
    assert result.returncode == 0, result.stderr
    from safetensors import safe_open
    with safe_open(str(tmp_path / "tiny_shapes" / "last.state.safetensors"), "np") as f:
        assert f.metadata()["mrcnn.iteration"] == "3"
