// Pasting MxM mask probabilities into the image: each mask is padded by one pixel, resized
// bilinearly to its (correspondingly enlarged) integer box and written into an image-sized
// canvas, as torchvision's paste_masks_in_image does.
#pragma once

#include <ATen/core/Tensor.h>

namespace mrcnn::ops {

// masks [D, 1, M, M], boxes [D, 4] in image coordinates -> [D, 1, height, width] probabilities.
at::Tensor paste_masks(const at::Tensor& masks, const at::Tensor& boxes, int64_t height,
                       int64_t width);

// The part of one pasted mask that can be non-zero: values [y1 - y0, x1 - x0] placed at
// (x0, y0) of a height x width image (everything else is 0). Empty when the box lies outside.
struct PastedRegion {
  at::Tensor values;
  int64_t x0 = 0, y0 = 0;
};
PastedRegion paste_mask_region(const at::Tensor& mask, const at::Tensor& box, int64_t height,
                               int64_t width);

}  // namespace mrcnn::ops
