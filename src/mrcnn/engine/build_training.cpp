#include "mrcnn/engine/build_training.h"

#include <variant>

namespace mrcnn::engine {

data::TrainTransformOptions train_transform_options(const config::Config& c) {
  data::TrainTransformOptions o;
  o.flip_probability = 0;
  for (const auto& t : c.train_reader.sample_transforms) {
    if (const auto* resize = std::get_if<config::RandomResizeOp>(&t)) {
      o.short_sides.clear();
      for (const auto& size : resize->target_size) o.short_sides.push_back(size[0]);
      o.max_size = resize->target_size.front()[1];
      o.bicubic = resize->interp == 2;
    } else if (const auto* fixed = std::get_if<config::ResizeOp>(&t)) {
      o.short_sides = {fixed->target_size[0]};
      o.max_size = fixed->target_size[1];
      o.bicubic = fixed->interp == 2;
    } else if (const auto* flip = std::get_if<config::RandomFlipOp>(&t)) {
      o.flip_probability = flip->prob;
    } else if (const auto* normalize = std::get_if<config::NormalizeImageOp>(&t)) {
      const double unit = normalize->is_scale ? 1.0 : 255.0;
      for (int k = 0; k < 3; ++k) {
        o.mean[k] = normalize->mean[k] / unit;
        o.std[k] = normalize->std[k] / unit;
      }
    }
  }
  o.label_is_category_id = c.label_map == "category_id";
  return o;
}

data::TrainLoaderOptions train_loader_options(const config::Config& c, int64_t rank,
                                              int64_t world_size) {
  data::TrainLoaderOptions o;
  o.batch_size = c.train_reader.batch_size;
  o.shuffle = c.train_reader.shuffle;
  o.drop_last = c.train_reader.drop_last;
  o.workers = c.worker_num;
  o.prefetch = std::max<int64_t>(2 * c.worker_num, 2);
  for (const auto& t : c.train_reader.batch_transforms) {
    const int64_t stride = std::get<config::PadBatchOp>(t).pad_to_stride;
    if (stride > 0) o.pad_to_stride = stride;
  }
  o.seed = static_cast<uint64_t>(c.seed);
  o.rank = rank;
  o.world_size = world_size;
  return o;
}

LrSchedule lr_schedule(const config::Config& c, int64_t batches_per_epoch) {
  LrSchedule s;
  s.base_lr = c.learning_rate.base_lr;
  s.warmup_iterations = 0;
  for (const auto& scheduler : c.learning_rate.schedulers) {
    if (const auto* warmup = std::get_if<config::LinearWarmup>(&scheduler)) {
      s.warmup_start_factor = warmup->start_factor;
      s.warmup_iterations = warmup->steps;
    } else if (const auto* decay = std::get_if<config::PiecewiseDecay>(&scheduler)) {
      s.gamma = decay->gamma;
      for (int64_t m : decay->milestones)
        s.milestones.push_back(decay->use_iters ? m : m * batches_per_epoch);
    }
  }
  return s;
}

SGDOptions sgd_options(const config::Config& c) {
  const auto& b = c.optimizer_builder;
  // PaddleDetection's "SGD" optimiser is plain SGD; "Momentum" adds the momentum.
  return {.momentum = b.optimizer.type == "SGD" ? 0.0 : b.optimizer.momentum,
          .weight_decay = b.regularizer.factor,
          .clip_grad_norm = b.clip_grad_by_norm};
}

}  // namespace mrcnn::engine
