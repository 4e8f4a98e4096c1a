// The ops written in plain ATen operations: they run on any device whose backend implements
// ATen (vendor accelerators plug in this way) and are differentiable through autograd. Slower
// than the dedicated kernels; on the CPU they are tested against them.
#pragma once

#include <ATen/core/Tensor.h>

#include "mrcnn/ops/roi_align.h"

namespace mrcnn::ops::aten {

at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois,
                     const RoIAlignOptions& options);
at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold);

}  // namespace mrcnn::ops::aten
