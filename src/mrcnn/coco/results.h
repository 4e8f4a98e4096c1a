// COCO results (detections) as pycocotools' COCO.loadRes makes them, from a results json
// file or from results held in memory: the same rules either way, so scores computed from
// memory equal those of the written file.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mrcnn/coco/dataset.h"
#include "mrcnn/coco/rle.h"

namespace mrcnn::coco {

enum class IouType { kBbox, kSegm };

IouType parse_iou_type(const std::string& name);  // "bbox" | "segm"; throws mrcnn::Error
const char* iou_type_name(IouType type);

// One entry of a results file: {"image_id", "category_id", "score", "bbox" and/or
// "segmentation"}.
struct Result {
  int64_t image_id = 0;
  int64_t category_id = 0;
  double score = 0;
  std::optional<std::array<double, 4>> bbox;  // absent, or given (an empty list counts as absent)
  Segmentation segmentation;
};

// One detection as loadRes leaves it: id (1-based order), area and box filled in.
struct Detection {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  double score = 0;
  std::array<double, 4> bbox{};
  double area = 0;
  Rle rle;                           // segm only
  std::array<double, 4> mask_box{};  // segm only: rle_to_bbox(rle)
};

// Reads a COCO results file (a json list) as loadRes does for the given evaluation type.
// Results for images that are not in the ground truth are an error, as in pycocotools.
std::vector<Detection> load_results(const std::string& path, const Dataset& ground_truth,
                                    IouType type);
std::vector<Detection> parse_results(std::string_view json, const std::string& name,
                                     const Dataset& ground_truth, IouType type);
// Results held in memory; `name` only feeds error messages.
std::vector<Detection> make_detections(std::vector<Result> results, const std::string& name,
                                       const Dataset& ground_truth, IouType type);

}  // namespace mrcnn::coco
