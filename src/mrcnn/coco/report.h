// Reports of a COCO evaluation in the layouts users know: the 12-line table and the
// per-category table (EvalResult::summary, per_category_table), and a stats json.
#pragma once

#include <string>

#include "mrcnn/coco/eval.h"

namespace mrcnn::coco {

// {"type": "bbox", "stats": [12 numbers], "per_category_ap": {"<id>": {"name": .., "ap": ..}}}
// Numbers are written with the shortest text that reads back to the same double.
void write_stats_json(const std::string& path, const EvalResult& result,
                      const Dataset& ground_truth, bool per_category);

}  // namespace mrcnn::coco
