#include "mrcnn/modeling/targets.h"

#include <ATen/ATen.h>

namespace mrcnn::modeling {

ImageTargets ImageTargets::to(const c10::Device& device, bool non_blocking) const {
  auto move = [&](const at::Tensor& t) { return t.defined() ? t.to(device, non_blocking) : t; };
  ImageTargets moved{move(boxes), move(labels), move(masks), move(crowd)};
  const bool flags_on_host = crowd.is_cpu();  // split here, where it costs no wait
  moved.regular_index = move(flags_on_host ? regular_indices(*this) : regular_index);
  moved.crowd_index = move(flags_on_host ? crowd_indices(*this) : crowd_index);
  return moved;
}

at::Tensor regular_indices(const ImageTargets& targets) {
  if (targets.regular_index.defined()) return targets.regular_index;
  return at::where(targets.crowd.to(at::kBool).logical_not())[0];
}

at::Tensor crowd_indices(const ImageTargets& targets) {
  if (targets.crowd_index.defined()) return targets.crowd_index;
  return at::where(targets.crowd.to(at::kBool))[0];
}

at::Tensor total_loss(const LossMap& losses) {
  TORCH_CHECK(!losses.empty(), "no losses");
  at::Tensor total = losses.front().second;
  for (std::size_t i = 1; i < losses.size(); ++i) total = total + losses[i].second;
  return total;
}

}  // namespace mrcnn::modeling
