#include "mrcnn/modeling/sampler.h"

#include <ATen/ATen.h>

namespace mrcnn::modeling {

at::Tensor BalancedSampler::choose(const at::Tensor& candidates, int64_t count,
                                   at::Generator& generator) const {
  if (!use_random_ || count == candidates.numel()) return candidates.slice(0, 0, count);
  // The permutation is drawn on the CPU: one generator, one sequence, whatever the device.
  const at::Tensor order = at::randperm(candidates.numel(), generator, at::TensorOptions(at::kLong))
                               .slice(0, 0, count)
                               .to(candidates.device(), /*non_blocking=*/true);
  return candidates.index_select(0, order);
}

SampledIndices BalancedSampler::operator()(const at::Tensor& labels,
                                           at::Generator& generator) const {
  // Positives, then negatives, then the ignored, each in index order: one stable sort and one
  // read of two counts, so a GPU is waited for once, not once per list.
  const at::Tensor is_positive = labels >= 1, is_negative = labels == 0;
  const at::Tensor kind = (labels < 0).to(at::kByte) * 2 + is_negative.to(at::kByte);
  const at::Tensor order = std::get<1>(kind.sort(/*stable=*/true, 0, /*descending=*/false));
  const at::Tensor counts = at::stack({is_positive.sum(), is_negative.sum()}).to(at::kCPU);
  const int64_t total_positive = counts.data_ptr<int64_t>()[0];
  const int64_t total_negative = counts.data_ptr<int64_t>()[1];
  const at::Tensor positive = order.narrow(0, 0, total_positive);
  const at::Tensor negative = order.narrow(0, total_positive, total_negative);
  const int64_t num_positive = std::min(
      total_positive, static_cast<int64_t>(static_cast<double>(batch_size_) * positive_fraction_));
  const int64_t num_negative = std::min(total_negative, batch_size_ - num_positive);
  return {choose(positive, num_positive, generator), choose(negative, num_negative, generator)};
}

}  // namespace mrcnn::modeling
