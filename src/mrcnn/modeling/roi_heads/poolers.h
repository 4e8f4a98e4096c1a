// Multi-scale RoIAlign: each box is pooled from the FPN level matching its size,
// level = floor(4 + log2(sqrt(area) / 224) + 1e-6), clamped to the levels present.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <vector>

#include "mrcnn/ops/roi_align.h"

namespace mrcnn::modeling {

class MultiScaleRoIAlign {
 public:
  MultiScaleRoIAlign(int64_t output_size, int64_t sampling_ratio, bool aligned)
      : output_size_(output_size), sampling_ratio_(sampling_ratio), aligned_(aligned) {}

  // features: P2..P5; boxes: per image; image_sizes: resized (unpadded) sizes.
  at::Tensor operator()(const std::vector<at::Tensor>& features,
                        const std::vector<at::Tensor>& boxes,
                        const std::vector<std::array<int64_t, 2>>& image_sizes) const;

 private:
  int64_t output_size_;
  int64_t sampling_ratio_;
  bool aligned_;
};

}  // namespace mrcnn::modeling
