#include "mrcnn/serving/request_options.h"

#include <cmath>
#include <cstdlib>

#include "mrcnn/common/error.h"
#include "mrcnn/common/strings.h"

namespace mrcnn::serving {
namespace {

[[noreturn]] void bad(const std::string& name, const std::string& value,
                      const std::string& wanted) {
  throw Error("query option " + name + "=" + value + ": expected " + wanted);
}

double parse_number(const std::string& name, const std::string& value, const std::string& wanted) {
  char* end = nullptr;
  const double number = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(number)) {
    bad(name, value, wanted);
  }
  return number;
}

int64_t parse_count(const std::string& name, const std::string& value, const std::string& wanted) {
  const double number = parse_number(name, value, wanted);
  if (number != std::floor(number) || number < 0 || number > 1e12) bad(name, value, wanted);
  return static_cast<int64_t>(number);
}

}  // namespace

std::vector<std::string> predict_option_names() {
  return {"score_threshold", "max_detections", "masks", "timeout_ms"};
}

PredictOptions parse_predict_options(const std::multimap<std::string, std::string>& query) {
  PredictOptions options;
  std::string previous;
  for (const auto& [name, value] : query) {
    if (name == previous) throw Error("query option " + name + " is given more than once");
    previous = name;
    if (name == "score_threshold") {
      const std::string wanted = "a number from 0 to 1";
      options.score_threshold = parse_number(name, value, wanted);
      if (options.score_threshold < 0 || options.score_threshold > 1) bad(name, value, wanted);
    } else if (name == "max_detections") {
      options.max_detections = parse_count(name, value, "a whole number >= 0");
    } else if (name == "masks") {
      if (value == "rle") {
        options.masks = MaskFormat::kRle;
      } else if (value == "polygon") {
        options.masks = MaskFormat::kPolygon;
      } else if (value == "none") {
        options.masks = MaskFormat::kNone;
      } else {
        bad(name, value, "rle, polygon or none");
      }
    } else if (name == "timeout_ms") {
      options.timeout_ms = parse_count(name, value, "a whole number of milliseconds >= 0");
    } else {
      throw Error("unknown query option '" + name +
                  "' (known: " + join(predict_option_names(), ", ") + ")");
    }
  }
  return options;
}

}  // namespace mrcnn::serving
