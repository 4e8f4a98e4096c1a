#include "mrcnn/modeling/box_coder.h"

#include <ATen/ATen.h>

namespace mrcnn::modeling {

at::Tensor BoxCoder::decode(const at::Tensor& deltas, const at::Tensor& reference) const {
  const at::Tensor boxes = reference.to(deltas.scalar_type());
  const int64_t r = boxes.size(0);
  // Sizes spelt out: with no boxes (r = 0) a -1 could be anything and reshape refuses.
  const at::Tensor d = deltas.reshape({r, deltas.size(-1) / 4, 4});
  const at::Tensor widths = (boxes.select(1, 2) - boxes.select(1, 0)).unsqueeze(1);
  const at::Tensor heights = (boxes.select(1, 3) - boxes.select(1, 1)).unsqueeze(1);
  const at::Tensor ctr_x = boxes.select(1, 0).unsqueeze(1) + 0.5 * widths;
  const at::Tensor ctr_y = boxes.select(1, 1).unsqueeze(1) + 0.5 * heights;
  const at::Tensor dx = d.select(2, 0) / weights_[0];
  const at::Tensor dy = d.select(2, 1) / weights_[1];
  const at::Tensor dw = (d.select(2, 2) / weights_[2]).clamp_max(clip_);
  const at::Tensor dh = (d.select(2, 3) / weights_[3]).clamp_max(clip_);
  const at::Tensor pred_ctr_x = dx * widths + ctr_x;
  const at::Tensor pred_ctr_y = dy * heights + ctr_y;
  const at::Tensor half_w = 0.5 * (at::exp(dw) * widths);
  const at::Tensor half_h = 0.5 * (at::exp(dh) * heights);
  return at::stack(
      {pred_ctr_x - half_w, pred_ctr_y - half_h, pred_ctr_x + half_w, pred_ctr_y + half_h}, 2);
}

at::Tensor BoxCoder::encode(const at::Tensor& targets, const at::Tensor& reference) const {
  const at::Tensor widths = reference.select(1, 2) - reference.select(1, 0);
  const at::Tensor heights = reference.select(1, 3) - reference.select(1, 1);
  const at::Tensor ctr_x = reference.select(1, 0) + 0.5 * widths;
  const at::Tensor ctr_y = reference.select(1, 1) + 0.5 * heights;
  const at::Tensor gt_widths = targets.select(1, 2) - targets.select(1, 0);
  const at::Tensor gt_heights = targets.select(1, 3) - targets.select(1, 1);
  const at::Tensor gt_ctr_x = targets.select(1, 0) + 0.5 * gt_widths;
  const at::Tensor gt_ctr_y = targets.select(1, 1) + 0.5 * gt_heights;
  return at::stack(
      {weights_[0] * (gt_ctr_x - ctr_x) / widths, weights_[1] * (gt_ctr_y - ctr_y) / heights,
       weights_[2] * at::log(gt_widths / widths), weights_[3] * at::log(gt_heights / heights)},
      1);
}

}  // namespace mrcnn::modeling
