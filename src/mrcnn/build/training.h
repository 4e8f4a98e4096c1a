// The config's training sections as the training pieces' options (the pieces never see it).
#pragma once

#include <c10/core/Device.h>

#include "mrcnn/coco/training_view.h"
#include "mrcnn/config/config.h"
#include "mrcnn/data/train_loader.h"
#include "mrcnn/solver/lr_schedule.h"
#include "mrcnn/solver/optimizer.h"

namespace mrcnn::build {

// TrainDataset's data_fields, allow_empty and empty_ratio, and the seed.
coco::TrainingViewOptions training_view_options(const config::Config& config);
// TrainReader's batch settings, worker_num, seed and train_preprocess, for one rank of
// world_size training on `device`.
data::TrainLoaderOptions train_loader_options(const config::Config& config,
                                              const c10::Device& device, int64_t rank,
                                              int64_t world_size);
// LearningRate: milestones in epochs become iterations with batches_per_epoch.
solver::LrSchedule lr_schedule(const config::Config& config, int64_t batches_per_epoch);
solver::SGDOptions sgd_options(const config::Config& config);

}  // namespace mrcnn::build
