// Pasting MxM mask probabilities by sampling them at the image's pixel centres (bilinear, zero
// outside the mask: grid_sample without corner alignment), as PaddleDetection and detectron2
// paste. Unlike torchvision's paste (paste_masks.h) the mask is never resized to an integer
// box, so a box's fractional position moves the mask by a fraction of a pixel too.
#pragma once

#include <ATen/core/Tensor.h>

#include "mrcnn/ops/paste_masks.h"

namespace mrcnn::ops {

// masks [D, 1, M, M] probabilities and boxes [D, 4] (non-empty) in image coordinates, on any
// device; a pixel is in where the sampled probability is >= threshold. Each region is the
// box widened by half a mask cell (beyond that, every sample is zero), cut to the image.
BinaryMasks paste_binary_masks_sampled(const at::Tensor& masks, const at::Tensor& boxes,
                                       int64_t height, int64_t width, double threshold);

}  // namespace mrcnn::ops
