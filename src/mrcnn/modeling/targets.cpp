#include "mrcnn/modeling/targets.h"

#include <ATen/ATen.h>

namespace mrcnn::modeling {

ImageTargets ImageTargets::to(const c10::Device& device, bool non_blocking) const {
  auto move = [&](const at::Tensor& t) { return t.to(device, non_blocking); };
  return {move(boxes), move(labels), move(masks), move(crowd)};
}

at::Tensor total_loss(const LossMap& losses) {
  TORCH_CHECK(!losses.empty(), "no losses");
  at::Tensor total = losses.front().second;
  for (std::size_t i = 1; i < losses.size(); ++i) total = total + losses[i].second;
  return total;
}

}  // namespace mrcnn::modeling
