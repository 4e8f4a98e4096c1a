// Input and output transforms: scale each image so its short side is min_size (long side at
// most max_size), normalise, and pad the batch to a multiple of size_divisible; afterwards map
// boxes back to the original image and paste masks. Same arithmetic as torchvision's
// GeneralizedRCNNTransform.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <vector>

#include "mrcnn/modeling/roi_heads.h"

namespace mrcnn::modeling {

struct TransformOptions {
  int64_t min_size = 800;
  int64_t max_size = 1333;
  std::array<double, 3> mean = {0.485, 0.456, 0.406};  // on images scaled to 0..1
  std::array<double, 3> std = {0.229, 0.224, 0.225};
  int64_t size_divisible = 32;
};

struct ImageBatch {
  at::Tensor tensors;                                  // [N, 3, H, W], padded
  std::vector<std::array<int64_t, 2>> image_sizes;     // after resizing, before padding
  std::vector<std::array<int64_t, 2>> original_sizes;  // as given
};

class Transform {
 public:
  explicit Transform(TransformOptions options) : options_(options) {}

  // images: float [3, H, W] in 0..1, any device.
  ImageBatch operator()(const std::vector<at::Tensor>& images) const;
  // The size an image of this size is resized to.
  std::array<int64_t, 2> resized_size(int64_t height, int64_t width) const;

  // Boxes from resized to original image coordinates.
  static at::Tensor resize_boxes(const at::Tensor& boxes, const std::array<int64_t, 2>& from,
                                 const std::array<int64_t, 2>& to);

  const TransformOptions& options() const { return options_; }

 private:
  TransformOptions options_;
};

}  // namespace mrcnn::modeling
