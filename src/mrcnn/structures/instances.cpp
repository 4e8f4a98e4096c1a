#include "mrcnn/structures/instances.h"

#include <ATen/ATen.h>

namespace mrcnn::structures {

int64_t Instances::size() const {
  for (const at::Tensor* t : {&boxes, &scores, &labels, &crowd, &masks, &mask_probs}) {
    if (t->defined()) return t->size(0);
  }
  return static_cast<int64_t>(mask_rles.size());
}

Instances Instances::index(const at::Tensor& keep) const {
  const at::Tensor positions =
      keep.scalar_type() == at::kBool ? at::where(keep)[0] : keep.to(at::kLong);
  auto take = [&](const at::Tensor& t) {
    return t.defined() ? t.index_select(0, positions.to(t.device())) : t;
  };
  Instances out;
  out.image_size = image_size;
  out.boxes = take(boxes);
  out.scores = take(scores);
  out.labels = take(labels);
  out.crowd = take(crowd);
  out.masks = take(masks);
  out.mask_probs = take(mask_probs);
  if (!mask_rles.empty() || !polygons.empty()) {
    const at::Tensor host = positions.cpu().contiguous();
    for (int64_t k = 0; k < host.numel(); ++k) {
      const int64_t i = host.data_ptr<int64_t>()[k];
      if (!mask_rles.empty()) out.mask_rles.push_back(mask_rles.at(i));
      if (!polygons.empty()) out.polygons.push_back(polygons.at(i));
    }
  }
  return out;  // the crowd split is recomputed when asked for
}

Instances Instances::to(const c10::Device& device, bool non_blocking) const {
  auto move = [&](const at::Tensor& t) { return t.defined() ? t.to(device, non_blocking) : t; };
  Instances moved = *this;
  moved.boxes = move(boxes);
  moved.scores = move(scores);
  moved.labels = move(labels);
  moved.crowd = move(crowd);
  moved.masks = move(masks);
  moved.mask_probs = move(mask_probs);
  // Split here, where it costs no wait, when the flags are on the host.
  const bool flags_on_host = crowd.defined() && crowd.is_cpu();
  moved.regular_index = move(flags_on_host ? regular_indices(*this) : regular_index);
  moved.crowd_index = move(flags_on_host ? crowd_indices(*this) : crowd_index);
  return moved;
}

at::Tensor regular_indices(const Instances& targets) {
  if (targets.regular_index.defined()) return targets.regular_index;
  return at::where(targets.crowd.to(at::kBool).logical_not())[0];
}

at::Tensor crowd_indices(const Instances& targets) {
  if (targets.crowd_index.defined()) return targets.crowd_index;
  return at::where(targets.crowd.to(at::kBool))[0];
}

}  // namespace mrcnn::structures
