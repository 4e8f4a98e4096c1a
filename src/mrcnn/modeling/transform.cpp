#include "mrcnn/modeling/transform.h"

#include <ATen/ATen.h>

#include <cmath>

namespace mrcnn::modeling {

std::array<int64_t, 2> Transform::resized_size(int64_t height, int64_t width) const {
  // In float32, as torchvision computes the scale with float32 tensors.
  const float min_side = static_cast<float>(std::min(height, width));
  const float max_side = static_cast<float>(std::max(height, width));
  const float scale = std::min(static_cast<float>(options_.min_size) / min_side,
                               static_cast<float>(options_.max_size) / max_side);
  return {static_cast<int64_t>(std::floor(double(height) * double(scale))),
          static_cast<int64_t>(std::floor(double(width) * double(scale)))};
}

ImageBatch Transform::operator()(const std::vector<at::Tensor>& images) const {
  TORCH_CHECK(!images.empty(), "no images");
  ImageBatch batch;
  std::vector<at::Tensor> resized;
  for (const auto& image : images) {
    TORCH_CHECK(image.dim() == 3 && image.size(0) == 3, "expected [3, H, W] images, got ",
                image.sizes());
    batch.original_sizes.push_back({image.size(1), image.size(2)});
    // Made on the host and sent without waiting for a GPU's queue to drain.
    const auto host = at::TensorOptions(image.scalar_type());
    const at::Tensor mean =
        at::tensor(std::vector<double>(options_.mean.begin(), options_.mean.end()), host)
            .view({3, 1, 1})
            .to(image.device(), /*non_blocking=*/true);
    const at::Tensor std =
        at::tensor(std::vector<double>(options_.std.begin(), options_.std.end()), host)
            .view({3, 1, 1})
            .to(image.device(), /*non_blocking=*/true);
    const at::Tensor normalised = (image - mean) / std;
    const auto size = resized_size(image.size(1), image.size(2));
    resized.push_back(
        at::upsample_bilinear2d(normalised.unsqueeze(0), {size[0], size[1]}, false)[0]);
    batch.image_sizes.push_back(size);
  }
  int64_t max_h = 0, max_w = 0;
  for (const auto& s : batch.image_sizes) {
    max_h = std::max(max_h, s[0]);
    max_w = std::max(max_w, s[1]);
  }
  const int64_t d = options_.size_divisible;
  max_h = (max_h + d - 1) / d * d;
  max_w = (max_w + d - 1) / d * d;
  batch.tensors =
      at::zeros({static_cast<int64_t>(images.size()), 3, max_h, max_w}, resized.front().options());
  for (std::size_t i = 0; i < resized.size(); ++i) {
    batch.tensors[i]
        .slice(1, 0, resized[i].size(1))
        .slice(2, 0, resized[i].size(2))
        .copy_(resized[i]);
  }
  return batch;
}

at::Tensor Transform::resize_boxes(const at::Tensor& boxes, const std::array<int64_t, 2>& from,
                                   const std::array<int64_t, 2>& to) {
  const float ratio_h = static_cast<float>(to[0]) / static_cast<float>(from[0]);
  const float ratio_w = static_cast<float>(to[1]) / static_cast<float>(from[1]);
  return at::stack({boxes.select(1, 0) * ratio_w, boxes.select(1, 1) * ratio_h,
                    boxes.select(1, 2) * ratio_w, boxes.select(1, 3) * ratio_h},
                   1);
}

}  // namespace mrcnn::modeling
