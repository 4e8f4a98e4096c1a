#include "mrcnn/build/training.h"

#include <fmt/format.h>

#include <algorithm>
#include <variant>

namespace mrcnn::build {

coco::TrainingViewOptions training_view_options(const config::Config& c) {
  const auto& fields = c.train_dataset.data_fields;
  return {.require_masks = true,
          .keep_crowd = std::find(fields.begin(), fields.end(), "is_crowd") != fields.end(),
          .keep_empty_images = c.train_dataset.allow_empty,
          .empty_ratio = c.train_dataset.empty_ratio,
          .seed = static_cast<uint64_t>(c.seed)};
}

data::TrainLoaderOptions train_loader_options(const config::Config& c, const c10::Device& device,
                                              int64_t rank, int64_t world_size) {
  data::TrainLoaderOptions o;
  o.batch_size = c.train_reader.batch_size;
  o.shuffle = c.train_reader.shuffle;
  o.drop_last = c.train_reader.drop_last;
  o.workers = c.worker_num;
  o.prefetch = std::max<int64_t>(2 * c.worker_num, 2);
  o.device = device;
  o.pin_memory = device.is_cuda();
  o.preprocess_on_device =
      c.train_preprocess == "device" || (c.train_preprocess == "auto" && device.is_cuda());
  o.seed = static_cast<uint64_t>(c.seed);
  o.rank = rank;
  o.world_size = world_size;
  return o;
}

solver::LrSchedule lr_schedule(const config::Config& c, int64_t batches_per_epoch) {
  solver::LrSchedule s;
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

solver::SGDOptions sgd_options(const config::Config& c) {
  const auto& b = c.optimizer_builder;
  // PaddleDetection's "SGD" optimiser is plain SGD; "Momentum" adds the momentum.
  solver::SGDOptions options{.momentum = b.optimizer.type == "SGD" ? 0.0 : b.optimizer.momentum,
                             .weight_decay = b.regularizer.factor,
                             .clip_grad_norm = b.clip_grad_by_norm};
  // ResNet.lr_mult_list: res2..res5 are torchvision's layer1..layer4.
  for (std::size_t stage = 0; stage < c.resnet.lr_mult_list.size(); ++stage) {
    const double factor = c.resnet.lr_mult_list[stage];
    if (factor != 1.0) {
      options.lr_factors.emplace_back(fmt::format("backbone.body.layer{}.", stage + 1), factor);
    }
  }
  return options;
}

}  // namespace mrcnn::build
