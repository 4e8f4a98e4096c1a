#include "mrcnn/modeling/matcher.h"

#include <ATen/ATen.h>

#include "mrcnn/structures/boxes.h"

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
    // A mask rather than a list of indices: no wait for a GPU to learn the list's length.
    at::Tensor ties = quality == best.unsqueeze(1);
    if (needs_overlap_) ties = ties.logical_and(quality > 0);
    ties = ties.any(0);
    return at::where(ties, all_matches, matches);
  }
  return matches;
}

MatchResult match_predictions(const Matcher& matcher, const structures::Instances& targets,
                              const at::Tensor& predictions, double crowd_ignore_iou) {
  const at::Tensor regular = structures::regular_indices(targets);
  const at::Tensor matches = matcher(structures::box_iou(
      targets.boxes.index_select(0, regular).to(predictions.scalar_type()), predictions));
  MatchResult result;
  result.labels = at::zeros_like(matches);
  result.labels.masked_fill_(matches >= 0, 1);
  result.labels.masked_fill_(matches == Matcher::kBetweenThresholds, -1);
  result.matched =
      regular.numel() > 0 ? regular.index_select(0, matches.clamp_min(0)) : at::zeros_like(matches);
  const at::Tensor crowd_index = structures::crowd_indices(targets);
  if (crowd_index.numel() > 0) {
    const at::Tensor crowd_iou = std::get<0>(
        structures::box_iou(
            targets.boxes.index_select(0, crowd_index).to(predictions.scalar_type()), predictions)
            .max(0));
    result.labels.masked_fill_((result.labels == 0).logical_and(crowd_iou >= crowd_ignore_iou), -1);
  }
  return result;
}

}  // namespace mrcnn::modeling
