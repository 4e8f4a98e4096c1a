"""Real PaddleDetection as the parity tests' reference, run by the Python of .venv-paddle.

  paddle_reference.py PPDET_ROOT build CONFIG OUT.pdparams
      the config's model as ppdet builds it, with calibrated random weights (below)
  paddle_reference.py PPDET_ROOT eval CONFIG WEIGHTS OUTPUT_DIR
      tools/eval.py's evaluation: bbox.json and mask.json in OUTPUT_DIR
  paddle_reference.py PPDET_ROOT losses CONFIG WEIGHTS OUT.json
      one training forward on the first training image, in eval-mode BatchNorm (frozen, as the
      recipe's), the five losses written as json

Calibration: ppdet's own initialisation would give a network whose detections all fall under
the score threshold (its classifier starts at std 0.01) and whose mask probabilities all sit
at 0.5. Every frozen BatchNorm is given the statistics of its input on the calibration image
(so activations stay at unit scale through the 50 layers), and each head's last layer is
scaled so that its outputs spread: objectness and class logits over a few units, masks well
away from the threshold. The result is random but behaves like a model: scores spread over
(0, 1), a few dozen detections per image, masks with real shapes."""
import json
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])

import paddle  # noqa: E402
from ppdet.core.workspace import create, load_config  # noqa: E402

paddle.set_device("cpu")

# Output spread wanted of each head's last layer (std over outputs, before the bias).
# The scale of each residual branch's last norm: small, as in trained ResNets, so that blocks
# stay close to their shortcuts. Fully random blocks amplify float32 rounding: two runs of our
# own model with different convolution algorithms then differ by 3e-3 px and 1e-4 in score;
# with these settings by under 3e-4 px and about 1e-5 in score, so the tolerances of the tests
# check arithmetic, not the rounding of convolutions.
RESIDUAL_SCALE = 0.1
HEAD_SPREAD = {
    "rpn_head.rpn_rois_score": 2.0,
    "rpn_head.rpn_rois_delta": 0.2,
    "bbox_head.bbox_score": 1.5,
    "bbox_head.bbox_delta": 0.5,
    "mask_head.mask_fcn_logits": 4.0,
}


def first_batch(cfg, mode):
    loader = create(f"{mode}Reader")(create(f"{mode}Dataset")(), cfg.worker_num)
    return next(iter(loader))


def calibrate(model, batch):
    layers = dict(model.named_sublayers())
    hooks, seen = [], {}

    def set_statistics(layer, inputs):
        x = inputs[0]
        layer._mean.set_value(x.mean(axis=[0, 2, 3]))
        layer._variance.set_value(x.var(axis=[0, 2, 3]))
        if layer in residual_ends:
            layer.weight.set_value(paddle.full_like(layer.weight, RESIDUAL_SCALE))

    def keep_input(name):
        def hook(layer, inputs):
            seen.setdefault(name, inputs[0])
        return hook

    residual_ends = [layer for name, layer in layers.items() if name.endswith("branch2c.norm")]
    for name, layer in layers.items():
        if isinstance(layer, paddle.nn.BatchNorm2D):
            hooks.append(layer.register_forward_pre_hook(set_statistics))
    for name in HEAD_SPREAD:
        hooks.append(layers[name].register_forward_pre_hook(keep_input(name)))
    model.eval()
    with paddle.no_grad():
        model(batch)
        for name, spread in HEAD_SPREAD.items():
            layer = layers[name]
            out = layer(seen[name]) - layer.bias.reshape([1, -1] + [1] * (seen[name].ndim - 2))
            layer.weight.set_value(layer.weight * (spread / float(out.std())))
    for hook in hooks:
        hook.remove()


def build(config, out):
    cfg = load_config(config)
    paddle.seed(0)
    model = create(cfg.architecture)
    calibrate(model, first_batch(cfg, "Eval"))
    paddle.save(model.state_dict(), out)


def evaluate(config, weights, output_dir):
    from ppdet.engine import Trainer
    cfg = load_config(config)
    cfg["output_eval"] = output_dir
    cfg["use_gpu"] = False
    trainer = Trainer(cfg, mode="eval")
    trainer.load_weights(weights)
    trainer.evaluate()


def losses(config, weights, out):
    cfg = load_config(config)
    model = create(cfg.architecture)
    model.set_state_dict(paddle.load(weights))
    batch = first_batch(cfg, "Train")
    model.train()
    # Frozen BatchNorm as in the recipe: statistics are the loaded ones, never the batch's.
    for layer in model.sublayers():
        if isinstance(layer, paddle.nn.BatchNorm2D):
            layer.eval()
    result = model(batch)
    json.dump({k: float(v) for k, v in result.items()}, open(out, "w"))


if __name__ == "__main__":
    command, args = sys.argv[2], sys.argv[3:]
    {"build": build, "eval": evaluate, "losses": losses}[command](*args)
