// `mrcnn infer` as a library call: the model over images, each drawn with its detections
// (masks, boxes, "name score"), and with save_results the COCO results json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mrcnn/build/job_output.h"
#include "mrcnn/config/config.h"

namespace mrcnn::build {

struct InferJobOptions {
  std::string device;   // explicit choice; empty: the config decides
  std::string weights;  // empty: the config's `weights`
  // One of them; neither: the images of TestDataset.dataset_dir/image_dir.
  std::string image;
  std::string image_dir;
  std::string output_dir = "output";
  double draw_threshold = 0.5;
  bool save_results = false;  // bbox.json and mask.json too (every detection, drawn or not)
};

struct InferJobResult {
  int64_t images = 0;      // done
  int64_t detections = 0;  // reported (drawn, or saved with save_results)
  // Images that could not be read (missing, corrupt, too large): each is reported in the
  // notes and skipped, and the others are done.
  std::vector<std::string> failed;
};

InferJobResult run_infer_job(const config::Config& config, const InferJobOptions& options,
                             const JobOutput& output = {});

}  // namespace mrcnn::build
