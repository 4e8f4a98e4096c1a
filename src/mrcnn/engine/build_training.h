// Turning a config into the training pieces' options (the pieces themselves never see it).
#pragma once

#include "mrcnn/config/config.h"
#include "mrcnn/data/train_loader.h"
#include "mrcnn/data/train_sample.h"
#include "mrcnn/engine/lr_schedule.h"
#include "mrcnn/engine/optimizer.h"

namespace mrcnn::engine {

// TrainReader's RandomResize / Resize, RandomFlip and NormalizeImage; label_map.
data::TrainTransformOptions train_transform_options(const config::Config& config);
// TrainReader's batch settings, worker_num and seed, for one rank of world_size.
data::TrainLoaderOptions train_loader_options(const config::Config& config, int64_t rank,
                                              int64_t world_size);
// LearningRate: milestones in epochs become iterations with batches_per_epoch.
LrSchedule lr_schedule(const config::Config& config, int64_t batches_per_epoch);
SGDOptions sgd_options(const config::Config& config);

}  // namespace mrcnn::engine
