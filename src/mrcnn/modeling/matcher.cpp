#include "mrcnn/modeling/matcher.h"

#include <ATen/ATen.h>

#include "mrcnn/modeling/box_coder.h"

namespace mrcnn::modeling {

at::Tensor Matcher::operator()(const at::Tensor& quality) const {
  TORCH_CHECK(quality.dim() == 2, "matcher: quality must be [G, N]");
  if (quality.size(0) == 0) {
    // No ground truth: every prediction is background.
    return at::full({quality.size(1)}, kBelowLowThreshold, quality.options().dtype(at::kLong));
  }
  auto [values, matches] = quality.max(0);
  const at::Tensor all_matches = matches.clone();
  matches.masked_fill_(values < low_, kBelowLowThreshold);
  matches.masked_fill_((values >= low_).logical_and(values < high_), kBetweenThresholds);
  if (allow_low_quality_) {
    // Every prediction that ties for a ground truth's best quality keeps its match.
    const at::Tensor best = std::get<0>(quality.max(1));
    const at::Tensor predictions = at::where(quality == best.unsqueeze(1))[1];
    matches.index_put_({predictions}, all_matches.index_select(0, predictions));
  }
  return matches;
}

at::Tensor box_iou(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor area_a = box_area(a), area_b = box_area(b);
  const at::Tensor lt = at::max(a.slice(1, 0, 2).unsqueeze(1), b.slice(1, 0, 2).unsqueeze(0));
  const at::Tensor rb = at::min(a.slice(1, 2, 4).unsqueeze(1), b.slice(1, 2, 4).unsqueeze(0));
  const at::Tensor wh = (rb - lt).clamp_min(0);
  const at::Tensor inter = wh.select(2, 0) * wh.select(2, 1);
  return inter / (area_a.unsqueeze(1) + area_b.unsqueeze(0) - inter);
}

}  // namespace mrcnn::modeling
