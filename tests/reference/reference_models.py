"""Reference runs shared by the tests and benchmarks: torchvision Mask R-CNN models with seeded
random weights, and pycocotools' COCOeval."""
import contextlib
import io

import torch
import torchvision
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def freeze_batch_norm(module):
    """Replace BatchNorm2d by FrozenBatchNorm2d, as in torchvision's COCO models (without
    pretrained weights torchvision builds the backbone with BatchNorm2d)."""
    for name, child in module.named_children():
        if isinstance(child, torch.nn.BatchNorm2d):
            frozen = torchvision.ops.misc.FrozenBatchNorm2d(child.num_features, eps=child.eps)
            frozen.load_state_dict({k: v for k, v in child.state_dict().items() if k != "num_batches_tracked"})
            setattr(module, name, frozen)
        else:
            freeze_batch_norm(child)


def random_maskrcnn(seed=0, **kwargs):
    """torchvision's maskrcnn_resnet50_fpn with frozen BatchNorm and seeded random weights,
    in eval mode. Random normalisation statistics keep the backbone from being an identity at
    initialisation, with scales that keep activations in a realistic range."""
    torch.manual_seed(seed)
    model = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, **kwargs)
    freeze_batch_norm(model)
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name.endswith("running_mean") or name.endswith("bias"):
                buffer.uniform_(-0.1, 0.1)
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)
            elif name.endswith("weight"):
                buffer.uniform_(0.4, 0.8)
    return model.eval()


def pycocotools_eval(gt_path, results_path, iou_type):
    """COCOeval's evaluate/accumulate/summarize, quietly; returns the evaluator."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(gt_path))
        ev = COCOeval(coco, coco.loadRes(str(results_path)), iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev
