// Balanced sampling of labelled anchors or RoIs: up to batch_size_per_image per image, at most
// positive_fraction of them positive, the rest negative, drawn at random without replacement
// (torchvision's BalancedPositiveNegativeSampler, PaddleDetection's use_random).
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

namespace mrcnn::modeling {

struct SampledIndices {
  at::Tensor positive;  // int64 indices into the labels, on the labels' device
  at::Tensor negative;
};

class BalancedSampler {
 public:
  BalancedSampler(int64_t batch_size_per_image, double positive_fraction, bool use_random = true)
      : batch_size_(batch_size_per_image),
        positive_fraction_(positive_fraction),
        use_random_(use_random) {}

  // labels [N]: >= 1 positive, 0 negative, < 0 ignored. The draw uses `generator` (a CPU
  // generator, so that a seed gives the same samples on every device); without use_random the
  // first candidates are taken.
  SampledIndices operator()(const at::Tensor& labels, at::Generator& generator) const;

 private:
  at::Tensor choose(const at::Tensor& candidates, int64_t count, at::Generator& generator) const;

  int64_t batch_size_;
  double positive_fraction_;
  bool use_random_;
};

}  // namespace mrcnn::modeling
