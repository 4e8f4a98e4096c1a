// `mrcnn bench` as a library call: the inference speed of what eval does per image (batch 1:
// the EvalReader's preprocessing, prediction, masks pasted, thresholded and RLE-encoded).
#pragma once

#include <string>
#include <vector>

#include "mrcnn/config/config.h"

namespace mrcnn::build {

struct BenchJobOptions {
  std::string device;
  std::string weights;
  std::vector<std::string> images;
  int repeat = 3;
  int warmup = 1;
  bool amp = false;  // in the config's amp_dtype
};

struct BenchResult {
  double seconds_per_image = 0;
  int64_t detections = 0;  // in the last pass
  int threads = 0;
  double peak_rss_mib = 0;
  std::string device;  // where the model ran
};

BenchResult run_bench_job(const config::Config& config, const BenchJobOptions& options);

}  // namespace mrcnn::build
