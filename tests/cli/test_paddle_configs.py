"""PaddleDetection's own Mask R-CNN configs (releases 2.5, 2.6, 2.7 and develop, as upstream
wrote them) load as written, or fail naming the key of what mrcnn does not offer; the ones
that load train a step on a COCO-layout generated set.

The configs are reference inputs kept beside the project (MRCNN_PADDLE_REFERENCE, by default
../shared/reference/paddledetection); without them these tests skip and say so."""
import os
import subprocess
from pathlib import Path

import pytest

MRCNN = os.environ.get("MRCNN_BIN", "build/bin/mrcnn")
SOURCE = Path(os.environ.get("MRCNN_SOURCE_DIR", "."))
REFERENCE = Path(os.environ.get(
    "MRCNN_PADDLE_REFERENCE", SOURCE.resolve().parent / "shared" / "reference" / "paddledetection"))
RELEASES = ["2.5", "2.6", "2.7", "develop"]
CONFIGS = sorted(REFERENCE.glob("*/configs/mask_rcnn/*.yml"))

needs_reference = pytest.mark.skipif(
    not CONFIGS, reason=f"PaddleDetection's configs are not at {REFERENCE} (set MRCNN_PADDLE_REFERENCE)")

# What is not offered, and the key each such config's error must name.
UNSUPPORTED = {
    "mask_rcnn_r50_1x_coco": ["BBoxHead.with_pool", "ResNet.num_stages"],  # the C4 model
    "mask_rcnn_r50_2x_coco": ["BBoxHead.with_pool", "ResNet.num_stages"],
    "mask_rcnn_x101_vd_64x4d_fpn_1x_coco": ["ResNet.groups", "ResNet.base_width"],  # ResNeXt
    "mask_rcnn_x101_vd_64x4d_fpn_2x_coco": ["ResNet.groups", "ResNet.base_width"],
}


def name_of(path):
    return f"{path.parts[-4]}/{path.stem}"


@needs_reference
def test_every_release_is_there():
    assert sorted({p.parts[-4] for p in CONFIGS}) == RELEASES
    assert len(CONFIGS) == 48


@needs_reference
@pytest.mark.parametrize("config", CONFIGS, ids=name_of)
def test_a_paddledetection_config_loads_as_written_or_names_what_is_missing(config):
    result = subprocess.run([MRCNN, "train", "-c", str(config), "--print-config"],
                            capture_output=True, text=True, timeout=60)
    if config.stem in UNSUPPORTED:
        assert result.returncode == 1, result.stdout
        for key in UNSUPPORTED[config.stem]:
            assert f"'{key}'" in result.stderr, result.stderr
        return
    assert result.returncode == 0, result.stderr
    printed = result.stdout
    # Read as upstream wrote it: the dataset class whichever way it is spelled, the export
    # section, the backbone variant and its learning-rate factors.
    assert "TrainDataset: !COCODataSet" in printed and "TestDataset: !ImageFolder" in printed
    assert "export:" in printed
    if "_vd_" in config.stem:
        assert "variant: d" in printed
    if "ssld" in config.stem:
        assert "lr_mult_list: [0.05, 0.05, 0.1, 0.15]" in printed
    assert "pretrain_weights: https://paddledet.bj.bcebos.com/models/pretrained/" in printed


@pytest.fixture(scope="module")
def coco_layout(tmp_path_factory):
    """A generated set laid out as COCO 2017 is: annotations/instances_train2017.json, train2017/."""
    coco = tmp_path_factory.mktemp("coco")
    result = subprocess.run([MRCNN, "make-shapes", "--out", str(coco), "--train", "3", "--val", "2",
                             "--size", "96x96", "--seed", "4", "--coco-layout"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return coco


@needs_reference
@pytest.mark.parametrize("name", ["mask_rcnn_r50_vd_fpn_ssld_1x_coco", "mask_rcnn_r101_vd_fpn_1x_coco"])
def test_a_paddledetection_config_trains_a_step(name, coco_layout, tmp_path):
    config = REFERENCE / "2.7" / "configs" / "mask_rcnn" / f"{name}.yml"
    # On this machine: no GPU, and no network for the ImageNet backbone the config names.
    result = subprocess.run(
        [MRCNN, "train", "-c", str(config), "--iters", "1", "-o", f"TrainDataset.dataset_dir={coco_layout}",
         f"save_dir={tmp_path}", "use_gpu=false", "pretrain_weights=", "worker_num=0"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "iter 1/1" in result.stdout
    assert (tmp_path / name / "model_final.safetensors").exists()


@needs_reference
def test_the_recipes_weights_url_is_fetched_into_the_cache_or_named_when_offline(coco_layout, tmp_path):
    config = REFERENCE / "2.7" / "configs" / "mask_rcnn" / "mask_rcnn_r50_fpn_1x_coco.yml"
    home = tmp_path / "home"
    result = subprocess.run(
        [MRCNN, "train", "-c", str(config), "--iters", "1", "-o", f"TrainDataset.dataset_dir={coco_layout}",
         f"save_dir={tmp_path}", "use_gpu=false"], capture_output=True, text=True, timeout=1800,
        env=dict(os.environ, MRCNN_HOME=str(home)))
    cached = home / "weights" / "ResNet50_cos_pretrained.pdparams"
    if result.returncode == 0:  # a machine that reaches PaddleDetection's server
        assert cached.exists() and "pretrain_weights:" in result.stderr
    else:  # offline, as CI is: the URL and where the file may be put by hand are named
        assert result.returncode == 1
        assert "https://paddledet.bj.bcebos.com/models/pretrained/ResNet50_cos_pretrained.pdparams" in result.stderr
        assert "cannot download" in result.stderr and str(cached) in result.stderr, result.stderr
        assert not cached.exists()
