// Assigning predictions (anchors, proposals) to ground truth by IoU, with torchvision's
// sentinels and its "low-quality match" rule (each ground truth keeps its best predictions
// even below the foreground threshold).
#pragma once

#include <ATen/core/Tensor.h>

#include "mrcnn/structures/instances.h"

namespace mrcnn::modeling {

class Matcher {
 public:
  static constexpr int64_t kBelowLowThreshold = -1;
  static constexpr int64_t kBetweenThresholds = -2;

  // low_quality_needs_overlap: a ground truth's best predictions count only when they overlap
  // it at all (PaddleDetection); torchvision's rule keeps them even at IoU 0.
  Matcher(double high_threshold, double low_threshold, bool allow_low_quality_matches,
          bool low_quality_needs_overlap = false)
      : high_(high_threshold),
        low_(low_threshold),
        allow_low_quality_(allow_low_quality_matches),
        needs_overlap_(low_quality_needs_overlap) {}

  // quality [G, N] (IoU of every ground truth with every prediction) -> [N] int64: the matched
  // ground-truth index, or kBelowLowThreshold / kBetweenThresholds.
  at::Tensor operator()(const at::Tensor& quality) const;

  double low_threshold() const { return low_; }

 private:
  double high_, low_;
  bool allow_low_quality_;
  bool needs_overlap_;
};

// Predictions (anchors, proposals) labelled against one image's ground truth.
struct MatchResult {
  at::Tensor labels;   // [N] int64: 1 foreground, 0 background, -1 ignored
  at::Tensor matched;  // [N] int64 index into the image's ground truth (0 where unmatched)
};

// Matches against the non-crowd ground truth only. A prediction that would be background but
// overlaps a crowd region with IoU >= crowd_ignore_iou is ignored instead: crowd regions are
// neither positives nor negatives.
MatchResult match_predictions(const Matcher& matcher, const structures::Instances& targets,
                              const at::Tensor& predictions, double crowd_ignore_iou);

}  // namespace mrcnn::modeling
