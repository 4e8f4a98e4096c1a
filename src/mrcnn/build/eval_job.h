// `mrcnn eval` as a library call: the model over EvalDataset, bbox.json and mask.json written,
// both scored (or, with json_eval, results written earlier scored again).
#pragma once

#include <string>

#include "mrcnn/build/job_output.h"
#include "mrcnn/coco/eval.h"
#include "mrcnn/config/config.h"

namespace mrcnn::build {

struct EvalJobOptions {
  std::string device;      // explicit choice; empty: the config decides
  std::string weights;     // empty: the config's `weights`
  std::string output_dir;  // for bbox.json and mask.json; empty: <save_dir>/<config name>
  bool classwise = false;  // per-category AP tables too
  bool json_eval = false;  // score bbox.json / mask.json already in output_dir
  // Pictures of this many images (ground truth beside predictions scoring at least
  // draw_threshold), the per-category AP chart and the precision-recall curves, in
  // <output_dir>/visualize. 0: none.
  int64_t visualize = 0;
  double draw_threshold = 0.5;
};

struct EvalJobResult {
  bool scored = false;  // false on ranks other than 0 of a sharded evaluation
  coco::EvalResult bbox, segm;
};

// Prints the tables to output.out (rank 0).
EvalJobResult run_eval_job(const config::Config& config, const EvalJobOptions& options,
                           const JobOutput& output = {});

}  // namespace mrcnn::build
