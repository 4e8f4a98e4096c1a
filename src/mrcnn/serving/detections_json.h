// One image's answer of POST /v1/predict as JSON: the image size, its detections in COCO
// terms (the bbox, score and RLE bytes of `mrcnn infer --save_results`, plus the category's
// name), and where the time went.
#pragma once

#include <string>

#include "mrcnn/serving/batcher.h"
#include "mrcnn/serving/request_options.h"
#include "mrcnn/structures/label_map.h"

namespace mrcnn::serving {

struct ImageTimings {
  double decode_ms = 0;
  double total_ms = 0;  // from the request's arrival to this answer
};

// name: the multipart part's file or field name; empty for a single-image body (left out).
std::string image_answer_json(const std::string& name, const ImageOutcome& outcome,
                              const ImageTimings& timings, const structures::LabelMap& labels,
                              const PredictOptions& options);

}  // namespace mrcnn::serving
