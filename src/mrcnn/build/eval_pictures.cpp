#include "mrcnn/build/eval_pictures.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <unordered_set>

#include "mrcnn/visualization/draw.h"
#include "mrcnn/visualization/plot.h"

namespace mrcnn::build {
namespace {

// Index into EvalResult::precision [T][R][K][A][M].
std::size_t precision_index(const coco::EvalResult& r, std::size_t t, std::size_t recall,
                            std::size_t k, std::size_t area, std::size_t max_dets) {
  const std::size_t R = r.params.recall_thresholds.size(), K = r.category_ids.size();
  const std::size_t A = r.params.area_ranges.size(), M = r.params.max_detections.size();
  return (((t * R + recall) * K + k) * A + area) * M + max_dets;
}

// The IoU threshold's index, or -1.
int64_t threshold_index(const coco::EvalResult& r, double iou) {
  for (std::size_t t = 0; t < r.params.iou_thresholds.size(); ++t) {
    if (std::abs(r.params.iou_thresholds[t] - iou) < 1e-9) return static_cast<int64_t>(t);
  }
  return -1;
}

visualization::Panel pr_panel(const coco::EvalResult& r, const std::string& kind) {
  visualization::Panel panel{
      .title = kind + ": precision against recall (area all, 100 detections)",
      .x_label = "recall",
      .y_label = "precision",
      .y_range = std::make_pair(0.0, 1.0),
      .x_range = std::make_pair(0.0, 1.0)};
  const std::size_t M = r.params.max_detections.size();
  for (double iou : {0.5, 0.75}) {
    const int64_t t = threshold_index(r, iou);
    if (t < 0 || r.precision.empty()) continue;
    visualization::Series series{.name = fmt::format("IoU {:.2f}", iou)};
    for (std::size_t recall = 0; recall < r.params.recall_thresholds.size(); ++recall) {
      double sum = 0;
      int64_t counted = 0;
      for (std::size_t k = 0; k < r.category_ids.size(); ++k) {
        const double p =
            r.precision[precision_index(r, static_cast<std::size_t>(t), recall, k, 0, M - 1)];
        if (p > -1) sum += p, ++counted;  // -1: no ground truth for the category
      }
      if (counted == 0) continue;
      series.x.push_back(r.params.recall_thresholds[recall]);
      series.y.push_back(sum / static_cast<double>(counted));
    }
    panel.series.push_back(std::move(series));
  }
  return panel;
}

}  // namespace

PredictImage model_predictions(modeling::MaskRCNN& model, const data::TransformOptions& transform,
                               const c10::Device& device, double min_score) {
  return [&model, transform, device, min_score](const coco::Image&, const at::Tensor& pixels) {
    return model->detect(data::preprocess_images({pixels}, transform, device), min_score)[0];
  };
}

PredictImage results_predictions(const std::vector<coco::Detection>& detections,
                                 const structures::LabelMap& labels) {
  return [&detections, &labels](const coco::Image& image, const at::Tensor& pixels) {
    std::vector<float> boxes, scores;
    std::vector<int64_t> classes;
    structures::Instances found;
    found.image_size = {pixels.size(0), pixels.size(1)};
    for (const coco::Detection& d : detections) {
      const int64_t label = labels.label_of(d.category_id);
      if (d.image_id != image.id || label < 0) continue;
      for (double v : {d.bbox[0], d.bbox[1], d.bbox[0] + d.bbox[2], d.bbox[1] + d.bbox[3]}) {
        boxes.push_back(static_cast<float>(v));
      }
      scores.push_back(static_cast<float>(d.score));
      classes.push_back(label);
      found.mask_rles.push_back(d.rle);
    }
    const auto n = static_cast<int64_t>(scores.size());
    found.boxes = at::tensor(boxes, at::kFloat).reshape({n, 4});
    found.scores = at::tensor(scores, at::kFloat);
    found.labels = at::tensor(classes, at::kLong);
    return found;
  };
}

std::vector<std::pair<std::string, at::Tensor>> truth_beside_predictions(
    const coco::Dataset& dataset, const structures::LabelMap& labels,
    const data::ImageFolder& images, const PredictImage& predict, int64_t count, double min_score) {
  // Images with objects first (in file order), then the others: a picture shows more when
  // there is something to find.
  std::vector<const coco::Image*> chosen;
  std::unordered_set<int64_t> with_objects;
  for (const coco::Annotation& a : dataset.annotations) {
    if (!a.iscrowd) with_objects.insert(a.image_id);
  }
  for (const bool objects : {true, false}) {
    for (const coco::Image& image : dataset.images) {
      if ((with_objects.count(image.id) > 0) == objects) chosen.push_back(&image);
    }
  }
  std::vector<std::pair<std::string, at::Tensor>> pictures;
  for (const coco::Image* chosen_image : chosen) {
    if (static_cast<int64_t>(pictures.size()) >= count) break;
    const coco::Image& image = *chosen_image;
    const at::Tensor pixels = data::read_dataset_image(images, image);
    std::vector<visualization::TruthObject> truth;
    for (const coco::Annotation& a : dataset.annotations) {
      if (a.image_id != image.id || a.iscrowd) continue;
      truth.push_back(
          {.box_xyxy = {a.bbox[0], a.bbox[1], a.bbox[0] + a.bbox[2], a.bbox[1] + a.bbox[3]},
           .category_id = a.category_id,
           .mask = dataset.annotation_rle(a)});
    }
    pictures.emplace_back(image.file_name,
                          visualization::draw_truth_beside_predictions(
                              pixels, truth, predict(image, pixels), labels, min_score));
  }
  return pictures;
}

at::Tensor per_category_ap_chart(const coco::EvalResult& bbox, const coco::EvalResult& segm,
                                 const coco::Dataset& dataset) {
  const auto chart = [&](const coco::EvalResult& r, const std::string& kind) {
    std::vector<visualization::Bar> bars;
    for (std::size_t k = 0; k < r.category_ids.size(); ++k) {
      const int64_t index = dataset.category_index(r.category_ids[k]);
      const std::string name = index >= 0 ? dataset.categories[static_cast<std::size_t>(index)].name
                                          : fmt::format("category {}", r.category_ids[k]);
      bars.push_back({name, k < r.per_category_ap.size() ? r.per_category_ap[k] : NAN});
    }
    return visualization::plot_bars(
        fmt::format("{} AP per category (IoU .50:.95, area all): mean {:.3f}", kind, r.stats[0]),
        bars, 720, 1.0);
  };
  return at::cat({chart(bbox, "bbox"), chart(segm, "segm")}, 0);
}

at::Tensor precision_recall_chart(const coco::EvalResult& bbox, const coco::EvalResult& segm) {
  return visualization::plot_panels({pr_panel(bbox, "bbox"), pr_panel(segm, "segm")}, 820, 380);
}

}  // namespace mrcnn::build
