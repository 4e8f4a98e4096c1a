// The query options of POST /v1/predict, checked: an unknown option or a bad value is the
// client's error (400), named, never ignored.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mrcnn::serving {

enum class MaskFormat { kRle, kPolygon, kNone };

struct PredictOptions {
  double score_threshold = 0;   // 0: every detection the model reports (as `infer --save_results`)
  int64_t max_detections = -1;  // -1: no limit beyond the model's own
  MaskFormat masks = MaskFormat::kRle;
  int64_t timeout_ms = 0;  // 0: no deadline
};

// `query`: every (name, value) pair of the request's query string, in order. Throws
// mrcnn::Error naming the option, the value and what is accepted.
PredictOptions parse_predict_options(const std::multimap<std::string, std::string>& query);

// The names parse_predict_options accepts, for error messages and documentation.
std::vector<std::string> predict_option_names();

}  // namespace mrcnn::serving
