// The ground truth of one training image, in the coordinates of the image as the model sees it
// (after resizing and flipping, before padding).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mrcnn::modeling {

struct ImageTargets {
  at::Tensor boxes;   // [G, 4] float, x1 y1 x2 y2
  at::Tensor labels;  // [G] int64, 1..num_classes-1
  at::Tensor masks;   // [G, H, W] uint8 instance masks at the image's size
  at::Tensor crowd;   // [G] bool; crowd regions are never positives and never negatives
  // The indices of the regular boxes and of the crowd regions ([R] and [C] int64), made on the
  // host by `to`, so that training never has to ask a GPU which boxes are crowd regions.
  // Undefined in targets built in place: regular_indices() and crowd_indices() then find them.
  at::Tensor regular_index{}, crowd_index{};

  // The same targets on another device.
  ImageTargets to(const c10::Device& device, bool non_blocking = false) const;
};

// The indices of `targets`' regular boxes and crowd regions, on its device.
at::Tensor regular_indices(const ImageTargets& targets);
at::Tensor crowd_indices(const ImageTargets& targets);

// The five training losses, always all present and in this order (every rank of a
// data-parallel run, and every step, has the same names).
using LossMap = std::vector<std::pair<std::string, at::Tensor>>;

// The mean of a count over data-parallel ranks (the identity in a single process): losses
// divide by it instead of their local count.
using CountMean = std::function<double(double local_count)>;

// Sum of the losses.
at::Tensor total_loss(const LossMap& losses);

}  // namespace mrcnn::modeling
