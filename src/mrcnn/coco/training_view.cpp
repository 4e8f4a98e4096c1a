#include "mrcnn/coco/training_view.h"

#include <algorithm>
#include <random>

namespace mrcnn::coco {

std::string TrainingViewReport::summary() const {
  std::string out = std::to_string(images_total) +
                    " images: " + std::to_string(images_without_annotations) +
                    " without usable annotations";
  if (empty_images_kept > 0) out += " (" + std::to_string(empty_images_kept) + " of them kept)";
  out += ", " + std::to_string(boxes_clipped) + " boxes clipped to the image, " +
         std::to_string(boxes_dropped_degenerate) + " degenerate boxes dropped, " +
         std::to_string(annotations_dropped_without_mask) + " annotations without a mask dropped";
  if (crowd_annotations_dropped > 0) {
    out += ", " + std::to_string(crowd_annotations_dropped) + " crowd annotations left out";
  }
  return out;
}

namespace {

// PaddleDetection's _sample_empty: with empty_ratio r in [0, 1), keep empty images so that
// they make up about r of all kept images; otherwise keep them all. The choice depends on
// the seed only, and the kept ones stay in file order.
std::vector<std::size_t> sample_empty(std::size_t empty, std::size_t others, double ratio,
                                      uint64_t seed) {
  std::vector<std::size_t> chosen(empty);
  for (std::size_t i = 0; i < empty; ++i) chosen[i] = i;
  if (ratio < 0.0 || ratio >= 1.0) return chosen;
  const auto wanted = std::min<std::size_t>(
      static_cast<std::size_t>(static_cast<double>(others) * ratio / (1.0 - ratio)), empty);
  std::mt19937_64 rng(seed ^ 0xE3D7F00DULL);
  for (std::size_t i = 0; i < wanted; ++i) {  // partial Fisher-Yates with our own index draw
    const std::size_t j = i + static_cast<std::size_t>(rng() % (empty - i));
    std::swap(chosen[i], chosen[j]);
  }
  chosen.resize(wanted);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace

std::vector<TrainingRecord> training_view(const Dataset& dataset,
                                          const TrainingViewOptions& options,
                                          TrainingViewReport* report) {
  TrainingViewReport counts;
  counts.images_total = static_cast<int64_t>(dataset.images.size());
  std::vector<TrainingRecord> records(dataset.images.size());
  for (std::size_t i = 0; i < records.size(); ++i) records[i].image_index = static_cast<int64_t>(i);

  for (std::size_t a = 0; a < dataset.annotations.size(); ++a) {
    const Annotation& ann = dataset.annotations[a];
    const int64_t image_index = dataset.image_index(ann.image_id);
    const Image& image = dataset.images[image_index];
    if (ann.iscrowd && !options.keep_crowd) {
      ++counts.crowd_annotations_dropped;
      continue;
    }
    const auto kind = ann.segmentation.kind;
    const bool no_mask =
        kind == Segmentation::Kind::kNone ||
        (kind == Segmentation::Kind::kPolygons && ann.segmentation.polygons.empty());
    if (options.require_masks && no_mask && !ann.iscrowd) {
      ++counts.annotations_dropped_without_mask;
      continue;
    }
    const auto& b = ann.bbox;
    const double x1 = std::clamp(b[0], 0.0, double(image.width));
    const double y1 = std::clamp(b[1], 0.0, double(image.height));
    const double x2 = std::clamp(b[0] + std::max(b[2], 0.0), 0.0, double(image.width));
    const double y2 = std::clamp(b[1] + std::max(b[3], 0.0), 0.0, double(image.height));
    // Boxes thinner than a thousandth of a pixel carry no signal and make the box
    // regression targets (log of the width ratio) blow up.
    if (x2 - x1 < 1e-3 || y2 - y1 < 1e-3) {
      ++counts.boxes_dropped_degenerate;
      continue;
    }
    if (x1 != b[0] || y1 != b[1] || x2 != b[0] + b[2] || y2 != b[1] + b[3]) ++counts.boxes_clipped;
    records[image_index].annotation_indices.push_back(static_cast<int64_t>(a));
    records[image_index].boxes_xyxy.push_back({x1, y1, x2, y2});
  }

  std::vector<TrainingRecord> kept, empty;
  kept.reserve(records.size());
  for (auto& record : records) {
    const bool has_positive =
        std::any_of(record.annotation_indices.begin(), record.annotation_indices.end(),
                    [&](int64_t a) { return !dataset.annotations[a].iscrowd; });
    if (has_positive) {
      kept.push_back(std::move(record));
    } else {
      ++counts.images_without_annotations;
      if (options.keep_empty_images) empty.push_back(std::move(record));
    }
  }
  if (!empty.empty()) {
    // Back in file order among the others, as if they had never been set apart.
    for (std::size_t i :
         sample_empty(empty.size(), kept.size(), options.empty_ratio, options.seed)) {
      kept.push_back(std::move(empty[i]));
      ++counts.empty_images_kept;
    }
    std::sort(kept.begin(), kept.end(), [](const TrainingRecord& a, const TrainingRecord& b) {
      return a.image_index < b.image_index;
    });
  }
  if (report != nullptr) *report = counts;
  return kept;
}

}  // namespace mrcnn::coco
