#include "mrcnn/modeling/proposal_generator/anchors.h"

#include <ATen/ATen.h>

#include <cmath>

namespace mrcnn::modeling {
namespace {

// Made on the host; the copy to a GPU does not wait for its queue to drain.
at::Tensor torchvision_cell_anchors(const std::vector<double>& sizes,
                                    const std::vector<double>& aspect_ratios) {
  const at::Tensor scales = at::tensor(sizes, at::kFloat);
  const at::Tensor ratios = at::tensor(aspect_ratios, at::kFloat);
  const at::Tensor h_ratios = at::sqrt(ratios);
  const at::Tensor w_ratios = 1 / h_ratios;
  const at::Tensor ws = (w_ratios.unsqueeze(1) * scales.unsqueeze(0)).view(-1);
  const at::Tensor hs = (h_ratios.unsqueeze(1) * scales.unsqueeze(0)).view(-1);
  return (at::stack({-ws, -hs, ws, hs}, 1) / 2).round();
}

}  // namespace

AnchorGenerator::AnchorGenerator(std::vector<std::vector<double>> sizes,
                                 std::vector<double> aspect_ratios, double offset,
                                 std::vector<double> strides, Arithmetic arithmetic)
    : sizes_(std::move(sizes)),
      aspect_ratios_(std::move(aspect_ratios)),
      offset_(offset),
      strides_(std::move(strides)),
      arithmetic_(arithmetic) {}

int64_t AnchorGenerator::anchors_per_location() const {
  return static_cast<int64_t>(sizes_.front().size() * aspect_ratios_.size());
}

std::vector<int64_t> AnchorGenerator::anchors_per_level(
    const std::vector<at::Tensor>& features) const {
  std::vector<int64_t> counts;
  for (const auto& f : features) counts.push_back(f.size(-2) * f.size(-1) * anchors_per_location());
  return counts;
}

at::Tensor AnchorGenerator::grid_anchors(const std::vector<at::Tensor>& features,
                                         int64_t image_height, int64_t image_width) const {
  TORCH_CHECK(features.size() == sizes_.size(), "anchor sizes are given for ", sizes_.size(),
              " levels, but there are ", features.size(), " feature maps");
  const bool paddle = arithmetic_ == Arithmetic::kPaddle;
  TORCH_CHECK(!paddle || strides_.size() == features.size(), "anchor strides are given for ",
              strides_.size(), " levels, but there are ", features.size(), " feature maps");
  const auto device = features.front().device();
  std::vector<at::Tensor> all;
  for (std::size_t level = 0; level < features.size(); ++level) {
    // Cell anchors centred on 0: rounded to integers in torchvision's generate_anchors; exact
    // in PaddleDetection's (w = sqrt(size^2 / ratio), h = ratio * w, in double precision).
    at::Tensor base;
    if (paddle) {
      std::vector<float> cells;
      for (const double size : sizes_[level]) {
        for (const double ratio : aspect_ratios_) {
          const double w = std::sqrt(size * size / ratio), h = ratio * w;
          cells.insert(cells.end(), {static_cast<float>(-w / 2), static_cast<float>(-h / 2),
                                     static_cast<float>(w / 2), static_cast<float>(h / 2)});
        }
      }
      base = at::tensor(cells, at::kFloat).view({-1, 4}).to(device, /*non_blocking=*/true);
    } else {
      base = torchvision_cell_anchors(sizes_[level], aspect_ratios_).to(device, true);
    }

    const int64_t grid_h = features[level].size(-2), grid_w = features[level].size(-1);
    const int64_t stride_h = paddle ? static_cast<int64_t>(strides_[level]) : image_height / grid_h;
    const int64_t stride_w = paddle ? static_cast<int64_t>(strides_[level]) : image_width / grid_w;
    const auto int_options = at::TensorOptions().dtype(at::kInt).device(device);
    at::Tensor shifts_x = at::arange(0, grid_w, int_options) * stride_w;
    at::Tensor shifts_y = at::arange(0, grid_h, int_options) * stride_h;
    const auto mesh = at::meshgrid({shifts_y, shifts_x}, "ij");
    const at::Tensor shift_x = mesh[1].reshape(-1), shift_y = mesh[0].reshape(-1);
    at::Tensor shifts = at::stack({shift_x, shift_y, shift_x, shift_y}, 1);
    at::Tensor anchors = (shifts.view({-1, 1, 4}) + base.view({1, -1, 4})).reshape({-1, 4});
    if (offset_ != 0.0) {
      anchors = anchors + at::tensor({offset_ * stride_w, offset_ * stride_h, offset_ * stride_w,
                                      offset_ * stride_h},
                                     at::TensorOptions(anchors.scalar_type()))
                              .to(device, /*non_blocking=*/true);
    }
    all.push_back(anchors);
  }
  return at::cat(all, 0);
}

}  // namespace mrcnn::modeling
