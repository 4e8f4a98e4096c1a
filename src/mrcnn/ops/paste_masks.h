// Pasting MxM mask probabilities into the image: each mask is padded by one pixel, resized
// bilinearly to its (correspondingly enlarged) integer box and written into an image-sized
// canvas, as torchvision's paste_masks_in_image does.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace mrcnn::ops {

// masks [D, 1, M, M], boxes [D, 4] in image coordinates -> [D, 1, height, width] probabilities.
at::Tensor paste_masks(const at::Tensor& masks, const at::Tensor& boxes, int64_t height,
                       int64_t width);

// One detection's pasted mask: the resized mask covers [box_x0, box_x0 + box_w) x
// [box_y0, box_y0 + box_h) of the image; only its part inside the image, [x0, x0 + w) x
// [y0, y0 + h), is computed (w and h are 0 when the box lies outside).
struct MaskRegion {
  int64_t box_x0 = 0, box_y0 = 0, box_w = 1, box_h = 1;
  int64_t x0 = 0, y0 = 0, w = 0, h = 0;
  int64_t offset = 0;  // of the region's first pixel in BinaryMasks::bits
};

// Thresholded pasted masks: each region's rows, one byte per pixel (1 where the probability
// exceeds the threshold), one region after another, on the CPU.
struct BinaryMasks {
  at::Tensor bits;  // uint8 [sum of region areas]
  std::vector<MaskRegion> regions;
  const uint8_t* region_bits(std::size_t i) const;
};

// masks [D, 1, M, M] probabilities and boxes [D, 4] in image coordinates, on any device. Only
// the box regions are computed, in passes of at most `chunk_bytes` of output (a larger region
// alone), so device memory stays bounded whatever the detection count and image size. The
// bits agree with thresholding paste_masks() (but for values within rounding of the threshold).
BinaryMasks paste_binary_masks(const at::Tensor& masks, const at::Tensor& boxes, int64_t height,
                               int64_t width, double threshold, int64_t chunk_bytes = 64 << 20);

}  // namespace mrcnn::ops
