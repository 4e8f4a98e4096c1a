// Non-maximum suppression.
#pragma once

#include <ATen/core/Tensor.h>

namespace mrcnn::ops {

// boxes [N, 4] (x1, y1, x2, y2), scores [N] -> int64 indices of the kept boxes, by descending
// score (ties in input order).
at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold);

// NMS within each group (class) independently: boxes of different groups never suppress
// each other. Result in descending score order.
at::Tensor batched_nms(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& groups,
                       double iou_threshold);

}  // namespace mrcnn::ops
