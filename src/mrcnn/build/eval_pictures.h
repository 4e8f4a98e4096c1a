// What a person looks at after an evaluation: the model's predictions beside the ground truth
// on a dataset's first images, and the COCO evaluator's numbers as charts (per-category AP,
// precision-recall curves). For the event file at every training evaluation and for
// `eval --visualize`.
#pragma once

#include <c10/core/Device.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mrcnn/coco/dataset.h"
#include "mrcnn/coco/eval.h"
#include "mrcnn/data/dataset_image.h"
#include "mrcnn/data/transforms.h"
#include "mrcnn/modeling/mask_rcnn.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::build {

// An image's final detections (boxes in the image, encoded masks), however they are made.
using PredictImage =
    std::function<structures::Instances(const coco::Image& image, const at::Tensor& pixels)>;
// From a model (in eval mode), detections below min_score dropped before pasting.
PredictImage model_predictions(modeling::MaskRCNN& model, const data::TransformOptions& transform,
                               const c10::Device& device, double min_score);
// From the detections of a results file (loaded for segm: each with its mask).
PredictImage results_predictions(const std::vector<coco::Detection>& detections,
                                 const structures::LabelMap& labels);

// (file name, picture) for `count` images of the dataset, those with objects first, each group
// in file order: ground truth (crowd regions left out) on the left, predictions scoring at
// least min_score on the right.
std::vector<std::pair<std::string, at::Tensor>> truth_beside_predictions(
    const coco::Dataset& dataset, const structures::LabelMap& labels,
    const data::ImageFolder& images, const PredictImage& predict, int64_t count, double min_score);

// AP per category (area all, 100 detections), one bar each, for bbox and segm stacked.
at::Tensor per_category_ap_chart(const coco::EvalResult& bbox, const coco::EvalResult& segm,
                                 const coco::Dataset& dataset);
// Precision against recall (area all, 100 detections, mean over the categories that have
// ground truth) at IoU 0.50 and 0.75: one panel for bbox, one for segm.
at::Tensor precision_recall_chart(const coco::EvalResult& bbox, const coco::EvalResult& segm);

}  // namespace mrcnn::build
