#include "mrcnn/modeling/proposal_generator/anchors.h"

#include <ATen/ATen.h>

namespace mrcnn::modeling {

AnchorGenerator::AnchorGenerator(std::vector<std::vector<double>> sizes,
                                 std::vector<double> aspect_ratios, double offset)
    : sizes_(std::move(sizes)), aspect_ratios_(std::move(aspect_ratios)), offset_(offset) {}

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
  const auto device = features.front().device();
  std::vector<at::Tensor> all;
  for (std::size_t level = 0; level < features.size(); ++level) {
    // Cell anchors centred on 0, rounded to integers (torchvision's generate_anchors).
    const at::Tensor scales = at::tensor(sizes_[level], at::kFloat);
    const at::Tensor ratios = at::tensor(aspect_ratios_, at::kFloat);
    const at::Tensor h_ratios = at::sqrt(ratios);
    const at::Tensor w_ratios = 1 / h_ratios;
    const at::Tensor ws = (w_ratios.unsqueeze(1) * scales.unsqueeze(0)).view(-1);
    const at::Tensor hs = (h_ratios.unsqueeze(1) * scales.unsqueeze(0)).view(-1);
    // Made on the host; the copy to a GPU does not wait for its queue to drain.
    const at::Tensor base =
        (at::stack({-ws, -hs, ws, hs}, 1) / 2).round().to(device, /*non_blocking=*/true);

    const int64_t grid_h = features[level].size(-2), grid_w = features[level].size(-1);
    const int64_t stride_h = image_height / grid_h, stride_w = image_width / grid_w;
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
