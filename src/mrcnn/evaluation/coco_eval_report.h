// Writing evaluation results as json.
#pragma once

#include <string>
#include <string_view>

#include "mrcnn/evaluation/coco_eval.h"

namespace mrcnn::evaluation {

// {"type": "bbox", "stats": [12 numbers], "per_category_ap": {"<id>": {"name": .., "ap": ..}}}
// Numbers are written with the shortest text that reads back to the same double.
void write_stats_json(const std::string& path, const EvalResult& result,
                      const data::CocoDataset& ground_truth, bool per_category);

std::string json_number(double value);  // NaN -> null
std::string json_escape(std::string_view text);

}  // namespace mrcnn::evaluation
