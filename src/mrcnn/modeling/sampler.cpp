#include "mrcnn/modeling/sampler.h"

#include <ATen/ATen.h>

namespace mrcnn::modeling {

at::Tensor BalancedSampler::choose(const at::Tensor& candidates, int64_t count,
                                   at::Generator& generator) const {
  if (!use_random_ || count == candidates.numel()) return candidates.slice(0, 0, count);
  // The permutation is drawn on the CPU: one generator, one sequence, whatever the device.
  const at::Tensor order = at::randperm(candidates.numel(), generator, at::TensorOptions(at::kLong))
                               .slice(0, 0, count)
                               .to(candidates.device());
  return candidates.index_select(0, order);
}

SampledIndices BalancedSampler::operator()(const at::Tensor& labels,
                                           at::Generator& generator) const {
  const at::Tensor positive = at::where(labels >= 1)[0];
  const at::Tensor negative = at::where(labels == 0)[0];
  const int64_t num_positive =
      std::min(positive.numel(),
               static_cast<int64_t>(static_cast<double>(batch_size_) * positive_fraction_));
  const int64_t num_negative = std::min(negative.numel(), batch_size_ - num_positive);
  return {choose(positive, num_positive, generator), choose(negative, num_negative, generator)};
}

}  // namespace mrcnn::modeling
