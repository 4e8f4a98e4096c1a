// Pasting MxM mask probabilities into the image: each mask is padded by one pixel, resized
// bilinearly to its (correspondingly enlarged) integer box and written into an image-sized
// canvas, as torchvision's paste_masks_in_image does.
#pragma once

#include <ATen/core/Tensor.h>

namespace mrcnn::ops {

// masks [D, 1, M, M], boxes [D, 4] in image coordinates -> [D, 1, height, width] probabilities.
at::Tensor paste_masks(const at::Tensor& masks, const at::Tensor& boxes, int64_t height,
                       int64_t width);

// One mask, pasted: [height, width]. Used to paste and threshold one detection at a time, so
// memory stays bounded by a single image plane.
at::Tensor paste_mask(const at::Tensor& mask, const at::Tensor& box, int64_t height, int64_t width);

}  // namespace mrcnn::ops
