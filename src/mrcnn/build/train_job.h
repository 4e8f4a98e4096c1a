// `mrcnn train` as a library call: data, model, loader, trainer and hooks from a config, in
// one process or as one rank of a launcher's group.
#pragma once

#include <cstdint>
#include <string>

#include "mrcnn/build/job_output.h"
#include "mrcnn/build/paths.h"
#include "mrcnn/config/config.h"
#include "mrcnn/engine/trainer.h"

namespace mrcnn::build {

struct TrainJobOptions {
  std::string device;     // explicit choice; empty: the config decides (build/device.h)
  bool evaluate = false;  // --eval: evaluate every snapshot on EvalDataset, keep best_model
  std::string resume;     // checkpoint to continue from
  // --auto_resume: continue from the newest consistent checkpoint in the output folder if there
  // is one, else start afresh. Implied when torchrun restarts the workers.
  bool auto_resume = false;
  bool amp = false;            // mixed precision in the config's amp_dtype
  int64_t max_iterations = 0;  // stop after this many steps in all (0: the schedule)
  // TensorBoard events: every logged scalar, each evaluation's AP table and pictures of
  // predictions, in tensorboard_dir (empty: <output folder>/tensorboard).
  bool tensorboard = true;
  std::string tensorboard_dir;
};

// Output goes to <save_dir>/<config name>/. Only rank 0 reports. With several ranks, an error
// of one rank's input stops every rank with that rank's message (and a torchrun restart stops
// at once), while a crash or a lost rank leaves the restart to the launcher.
engine::TrainSummary run_train_job(const config::Config& config, const TrainJobOptions& options,
                                   const JobOutput& output = {});

}  // namespace mrcnn::build
