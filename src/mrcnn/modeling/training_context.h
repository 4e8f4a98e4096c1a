// What a training forward needs besides the batch: one random generator per image for the
// anchor and RoI sampling (seeded by the image's place in the global batch, so a data-parallel
// rank draws what one process with the whole batch draws), and the mean of a count over the
// ranks (the losses divide by it instead of their local count).
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mrcnn::modeling {

struct TrainingContext {
  std::vector<at::Generator> generators;  // one per image, CPU generators
  // The mean of a count over data-parallel ranks; empty in a single process.
  std::function<double(double local_count)> count_mean;

  double mean_count(double local_count) const {
    return count_mean ? count_mean(local_count) : local_count;
  }
};

// The five training losses, always all present and in this order (every rank of a
// data-parallel run, and every step, has the same names).
using LossMap = std::vector<std::pair<std::string, at::Tensor>>;

at::Tensor total_loss(const LossMap& losses);

}  // namespace mrcnn::modeling
