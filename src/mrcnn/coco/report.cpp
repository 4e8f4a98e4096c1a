// Text and json reports of a COCO evaluation, in the layout users know from pycocotools.
#include <fmt/format.h>

#include <cmath>

#include "mrcnn/coco/report.h"
#include "mrcnn/common/error.h"
#include "mrcnn/common/file.h"
#include "mrcnn/common/json_writer.h"

namespace mrcnn::coco {

std::string EvalResult::summary() const {
  struct Line {
    bool ap;
    double iou;  // < 0: the whole .50:.95 range
    const char* area;
    std::size_t max_det_index;
  };
  static constexpr Line kLines[12] = {
      {true, -1, "all", 2},    {true, 0.5, "all", 2},    {true, 0.75, "all", 2},
      {true, -1, "small", 2},  {true, -1, "medium", 2},  {true, -1, "large", 2},
      {false, -1, "all", 0},   {false, -1, "all", 1},    {false, -1, "all", 2},
      {false, -1, "small", 2}, {false, -1, "medium", 2}, {false, -1, "large", 2}};
  std::string out;
  for (std::size_t i = 0; i < 12; ++i) {
    const Line& l = kLines[i];
    const std::string iou = l.iou < 0
                                ? fmt::format("{:0.2f}:{:0.2f}", params.iou_thresholds.front(),
                                              params.iou_thresholds.back())
                                : fmt::format("{:0.2f}", l.iou);
    out += fmt::format(" {:<18} {} @[ IoU={:<9} | area={:>6s} | maxDets={:>3d} ] = {:0.3f}\n",
                       l.ap ? "Average Precision" : "Average Recall", l.ap ? "(AP)" : "(AR)", iou,
                       l.area, params.max_detections[l.max_det_index], stats[i]);
  }
  return out;
}

std::string EvalResult::per_category_table(const Dataset& ground_truth) const {
  // Three (category, AP) pairs per row, as detectron2 and PaddleDetection print them.
  std::string out = fmt::format("Per-category {} AP:\n", iou_type_name(type));
  for (std::size_t k = 0; k < category_ids.size(); ++k) {
    const int64_t index = ground_truth.category_index(category_ids[k]);
    const std::string& name = ground_truth.categories[index].name;
    const double ap = per_category_ap[k];
    out += fmt::format("| {:<16} | {:>6} ", name,
                       std::isnan(ap) ? std::string("nan") : fmt::format("{:.3f}", ap));
    if (k % 3 == 2 || k + 1 == category_ids.size()) out += "|\n";
  }
  return out;
}

void write_stats_json(const std::string& path, const EvalResult& result,
                      const Dataset& ground_truth, bool per_category) {
  std::string text =
      fmt::format("{{\n  \"type\": \"{}\",\n  \"stats\": [", iou_type_name(result.type));
  for (std::size_t i = 0; i < result.stats.size(); ++i) {
    text += (i ? ", " : "") + json_number(result.stats[i]);
  }
  text += "]";
  if (per_category) {
    text += ",\n  \"per_category_ap\": {";
    for (std::size_t k = 0; k < result.category_ids.size(); ++k) {
      const auto& category =
          ground_truth.categories[ground_truth.category_index(result.category_ids[k])];
      text +=
          fmt::format("{}\n    \"{}\": {{\"name\": \"{}\", \"ap\": {}}}", k ? "," : "", category.id,
                      json_escape(category.name), json_number(result.per_category_ap[k]));
    }
    text += "\n  }";
  }
  text += "\n}\n";
  write_file_atomically(path, text);
}

}  // namespace mrcnn::coco
