// Text and json reports of a COCO evaluation, in the layout users know from pycocotools.
#include <fmt/format.h>

#include <cmath>
#include <fstream>

#include "mrcnn/common/error.h"
#include "mrcnn/evaluation/coco_eval.h"
#include "mrcnn/evaluation/coco_eval_report.h"

namespace mrcnn::evaluation {

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

std::string EvalResult::per_category_table(const data::CocoDataset& ground_truth) const {
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

std::string json_number(double value) {
  if (std::isnan(value)) return "null";
  if (std::isinf(value)) return value > 0 ? "1e999" : "-1e999";
  return fmt::format("{}", value);  // shortest text that reads back to the same double
}

void write_stats_json(const std::string& path, const EvalResult& result,
                      const data::CocoDataset& ground_truth, bool per_category) {
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
  std::ofstream file(path, std::ios::binary);
  if (!(file << text) || !file.flush())
    throw Error(ErrorLocation{.file = path}, "cannot write stats json");
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace mrcnn::evaluation
