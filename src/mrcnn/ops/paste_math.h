// The arithmetic of pasting one mask, shared by the CPU and CUDA kernels: the MxM mask padded
// by one zero pixel on each side is resized bilinearly (half-pixel centres, no corner
// alignment) to its integer box. The index, weight and summation order follow ATen's
// upsample_bilinear2d, which torchvision's paste_masks_in_image calls, so that the thresholded
// bits agree with it (up to rounding of values within float precision of the threshold).
#pragma once

#include <cmath>
#include <cstdint>

#include "mrcnn/ops/host_device.h"

namespace mrcnn::ops::detail {

// Where output index `dst` of a resize from `in_size` to `out_size` samples its input.
struct LinearSource {
  int64_t i0 = 0, i1 = 0;
  float w0 = 1, w1 = 0;
};

MRCNN_HOST_DEVICE inline LinearSource linear_source(int64_t dst, int64_t in_size,
                                                    int64_t out_size) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  float src = scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
  if (src < 0.f) src = 0.f;
  LinearSource s;
  s.i0 = static_cast<int64_t>(floorf(src));
  if (s.i0 > in_size - 1) s.i0 = in_size - 1;
  float w1 = src - static_cast<float>(s.i0);
  w1 = w1 < 0.f ? 0.f : (w1 > 1.f ? 1.f : w1);
  s.i1 = s.i0 + (s.i0 < in_size - 1 ? 1 : 0);
  s.w1 = w1;
  s.w0 = 1.f - w1;
  return s;
}

// Pixel (i, j) of the mask padded by one zero pixel on every side.
MRCNN_HOST_DEVICE inline float padded_mask_at(const float* mask, int64_t m, int64_t i, int64_t j) {
  return (i >= 1 && i <= m && j >= 1 && j <= m) ? mask[(i - 1) * m + (j - 1)] : 0.f;
}

// The resized padded mask at (row, column) sources (y, x).
MRCNN_HOST_DEVICE inline float pasted_value(const float* mask, int64_t m, const LinearSource& y,
                                            const LinearSource& x) {
  const float top =
      x.w0 * padded_mask_at(mask, m, y.i0, x.i0) + x.w1 * padded_mask_at(mask, m, y.i0, x.i1);
  const float bottom =
      x.w0 * padded_mask_at(mask, m, y.i1, x.i0) + x.w1 * padded_mask_at(mask, m, y.i1, x.i1);
  return y.w0 * top + y.w1 * bottom;
}

}  // namespace mrcnn::ops::detail
