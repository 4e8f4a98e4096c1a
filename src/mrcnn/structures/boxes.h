// Box arithmetic on [N, 4] tensors of (x1, y1, x2, y2), one implementation for the whole
// library (torchvision's box_ops).
#pragma once

#include <ATen/core/Tensor.h>

#include "mrcnn/structures/image_list.h"

namespace mrcnn::structures {

at::Tensor box_area(const at::Tensor& boxes);  // [N]
// Pairwise IoU of [N, 4] and [M, 4] boxes -> [N, M].
at::Tensor box_iou(const at::Tensor& a, const at::Tensor& b);
// Boxes (any leading shape, last dimension 4) clamped to [0, width] x [0, height].
at::Tensor clip_boxes_to_image(const at::Tensor& boxes, int64_t height, int64_t width);
// [N] bool: boxes with positive sides at least min_size long (a zero-area box is no box,
// whatever min_size says).
at::Tensor large_enough(const at::Tensor& boxes, double min_size);
// Boxes from an image of size `from` to the same image at size `to` (each axis its own ratio).
at::Tensor rescale_boxes(const at::Tensor& boxes, ImageSize from, ImageSize to);

}  // namespace mrcnn::structures
