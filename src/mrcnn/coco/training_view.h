// What training takes from a COCO dataset, after the documented clean-up:
//  - boxes are clipped to the image; boxes thinner than 1e-3 px after clipping (including
//    zero-area and fully out-of-image boxes) are dropped and counted;
//  - crowd annotations are kept and flagged (never positives, never negatives), or dropped
//    when the dataset does not ask for crowd flags;
//  - with masks required, annotations without a usable segmentation (none, or an empty
//    polygon list) are dropped and counted;
//  - images left without a non-crowd annotation are counted, and skipped unless kept.
// It needs no tensors, so `mrcnn coco-eval --ann` can report it too.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "mrcnn/coco/dataset.h"

namespace mrcnn::coco {

struct TrainingRecord {
  int64_t image_index = 0;
  std::vector<int64_t> annotation_indices;
  std::vector<std::array<double, 4>> boxes_xyxy;  // clipped, same order as annotation_indices
};

struct TrainingViewOptions {
  bool require_masks = true;
  bool keep_crowd = true;  // false: crowd annotations are left out entirely
  // Images without a non-crowd annotation: kept (PaddleDetection's allow_empty) in the
  // proportion empty_ratio of all kept images (< 0 or >= 1: all of them), chosen by `seed`.
  bool keep_empty_images = false;
  double empty_ratio = 1.0;
  uint64_t seed = 0;
};

struct TrainingViewReport {
  int64_t images_total = 0;
  int64_t images_without_annotations = 0;  // skipped unless kept
  int64_t empty_images_kept = 0;
  int64_t boxes_clipped = 0;
  int64_t boxes_dropped_degenerate = 0;
  int64_t annotations_dropped_without_mask = 0;
  int64_t crowd_annotations_dropped = 0;
  std::string summary() const;
};

std::vector<TrainingRecord> training_view(const Dataset& dataset,
                                          const TrainingViewOptions& options,
                                          TrainingViewReport* report);

}  // namespace mrcnn::coco
