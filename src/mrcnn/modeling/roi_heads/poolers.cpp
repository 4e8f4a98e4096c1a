#include "mrcnn/modeling/roi_heads/poolers.h"

#include <ATen/ATen.h>

#include <cmath>

#include "mrcnn/structures/boxes.h"

namespace mrcnn::modeling {
namespace {

// The power of two closest to feature size / image size (torchvision's _infer_scale).
double infer_scale(int64_t feature_size, int64_t image_size) {
  const double approx = double(feature_size) / double(image_size);
  return std::pow(2.0, std::round(std::log2(static_cast<float>(approx))));
}

}  // namespace

at::Tensor MultiScaleRoIAlign::operator()(
    const std::vector<at::Tensor>& features, const std::vector<at::Tensor>& boxes,
    const std::vector<std::array<int64_t, 2>>& image_sizes) const {
  int64_t max_h = 0;
  for (const auto& s : image_sizes) max_h = std::max(max_h, s[0]);
  std::vector<double> scales;
  for (const auto& f : features) scales.push_back(infer_scale(f.size(-2), max_h));
  const int64_t k_min = static_cast<int64_t>(-std::log2(static_cast<float>(scales.front())));
  const int64_t k_max = static_cast<int64_t>(-std::log2(static_cast<float>(scales.back())));

  std::vector<at::Tensor> rois_list;
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    rois_list.push_back(
        at::cat({at::full({boxes[i].size(0), 1}, double(i), boxes[i].options()), boxes[i]}, 1));
  }
  const at::Tensor rois = at::cat(rois_list, 0);
  const at::Tensor all_boxes = rois.slice(1, 1, 5);
  const int64_t channels = features.front().size(1);
  // Under mixed precision the features are fp16/bf16; RoIAlign runs in float32 (as autocast
  // does for torchvision's roi_align) and the heads cast back as they need.
  const bool reduced = !at::isFloatingType(features.front().scalar_type()) ||
                       at::elementSize(features.front().scalar_type()) < 4;
  const auto result_options =
      reduced ? features.front().options().dtype(at::kFloat) : features.front().options();
  at::Tensor result =
      at::zeros({rois.size(0), channels, output_size_, output_size_}, result_options);
  if (rois.size(0) == 0) return result;

  const at::Tensor s = at::sqrt(structures::box_area(all_boxes));
  const at::Tensor levels =
      (at::floor(4 + at::log2(s / 224) + 1e-6).clamp(k_min, k_max).to(at::kLong) - k_min);
  // The RoIs of each level, in order: one sort and one read of the level sizes, so a GPU is
  // waited for once, not once per level.
  const at::Tensor by_level = std::get<1>(levels.sort(/*stable=*/true, 0, /*descending=*/false));
  const at::Tensor sizes = at::zeros({static_cast<int64_t>(features.size())}, levels.options())
                               .scatter_add_(0, levels, at::ones_like(levels))
                               .to(at::kCPU);
  int64_t start = 0;
  for (std::size_t level = 0; level < features.size(); ++level) {
    const int64_t count = sizes.data_ptr<int64_t>()[level];
    const at::Tensor idx = by_level.narrow(0, start, count);
    start += count;
    if (count == 0) continue;
    const ops::RoIAlignOptions o{output_size_, output_size_, scales[level], sampling_ratio_,
                                 aligned_};
    result.index_put_({idx}, ops::roi_align(features[level].to(result.scalar_type()),
                                            rois.index_select(0, idx).to(result.scalar_type()), o));
  }
  return result;
}

}  // namespace mrcnn::modeling
