// Box regression targets: deltas (dx, dy, dw, dh) between boxes, with per-coordinate weights
// (RPN: 1, 1, 1, 1; box head: 10, 10, 5, 5) and dw/dh clamped at log(1000 / 16).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cmath>

namespace mrcnn::modeling {

class BoxCoder {
 public:
  explicit BoxCoder(std::array<double, 4> weights, double clip = std::log(1000.0 / 16))
      : weights_(weights), clip_(clip) {}

  // deltas [R, 4k], reference boxes [R, 4] (x1, y1, x2, y2) -> boxes [R, k, 4]
  at::Tensor decode(const at::Tensor& deltas, const at::Tensor& boxes) const;
  // reference boxes [R, 4], target boxes [R, 4] -> deltas [R, 4]
  at::Tensor encode(const at::Tensor& targets, const at::Tensor& boxes) const;

 private:
  std::array<double, 4> weights_;
  double clip_;
};

}  // namespace mrcnn::modeling
