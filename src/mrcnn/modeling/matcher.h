// Assigning predictions (anchors, proposals) to ground truth by IoU, with torchvision's
// sentinels and its "low-quality match" rule (each ground truth keeps its best predictions
// even below the foreground threshold).
#pragma once

#include <ATen/core/Tensor.h>

namespace mrcnn::modeling {

class Matcher {
 public:
  static constexpr int64_t kBelowLowThreshold = -1;
  static constexpr int64_t kBetweenThresholds = -2;

  Matcher(double high_threshold, double low_threshold, bool allow_low_quality_matches)
      : high_(high_threshold), low_(low_threshold), allow_low_quality_(allow_low_quality_matches) {}

  // quality [G, N] (IoU of every ground truth with every prediction) -> [N] int64: the matched
  // ground-truth index, or kBelowLowThreshold / kBetweenThresholds.
  at::Tensor operator()(const at::Tensor& quality) const;

 private:
  double high_, low_;
  bool allow_low_quality_;
};

// Pairwise IoU of [N, 4] and [M, 4] boxes (x1, y1, x2, y2) -> [N, M].
at::Tensor box_iou(const at::Tensor& a, const at::Tensor& b);

}  // namespace mrcnn::modeling
