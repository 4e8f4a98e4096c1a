// Anchors: per FPN level, boxes of one size and several aspect ratios centred on every
// feature-map cell, in torchvision's order (cell-major, then ratio, then size). Under paddle
// arithmetic the cell anchors keep their exact sizes and the strides are the configured ones;
// under torchvision's they are rounded and the strides follow from the padded batch size.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "mrcnn/modeling/arithmetic.h"

namespace mrcnn::modeling {

class AnchorGenerator {
 public:
  AnchorGenerator(std::vector<std::vector<double>> sizes, std::vector<double> aspect_ratios,
                  double offset = 0.0, std::vector<double> strides = {4, 8, 16, 32, 64},
                  Arithmetic arithmetic = Arithmetic::kTorchvision);

  int64_t anchors_per_location() const;
  // One [sum over levels of H*W*A, 4] tensor, the same for every image of the batch.
  // image_height/width: the padded batch size (torchvision's strides follow from it and the
  // feature sizes).
  at::Tensor grid_anchors(const std::vector<at::Tensor>& features, int64_t image_height,
                          int64_t image_width) const;
  // Anchors per level (H*W*A) for these features.
  std::vector<int64_t> anchors_per_level(const std::vector<at::Tensor>& features) const;

 private:
  std::vector<std::vector<double>> sizes_;
  std::vector<double> aspect_ratios_;
  double offset_;
  std::vector<double> strides_;
  Arithmetic arithmetic_;
};

}  // namespace mrcnn::modeling
