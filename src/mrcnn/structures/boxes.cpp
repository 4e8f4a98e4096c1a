#include "mrcnn/structures/boxes.h"

#include <ATen/ATen.h>

namespace mrcnn::structures {

at::Tensor box_area(const at::Tensor& boxes) {
  return (boxes.select(1, 2) - boxes.select(1, 0)) * (boxes.select(1, 3) - boxes.select(1, 1));
}

at::Tensor box_iou(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor area_a = box_area(a), area_b = box_area(b);
  const at::Tensor lt = at::max(a.slice(1, 0, 2).unsqueeze(1), b.slice(1, 0, 2).unsqueeze(0));
  const at::Tensor rb = at::min(a.slice(1, 2, 4).unsqueeze(1), b.slice(1, 2, 4).unsqueeze(0));
  const at::Tensor wh = (rb - lt).clamp_min(0);
  const at::Tensor inter = wh.select(2, 0) * wh.select(2, 1);
  return inter / (area_a.unsqueeze(1) + area_b.unsqueeze(0) - inter);
}

at::Tensor clip_boxes_to_image(const at::Tensor& boxes, int64_t height, int64_t width) {
  const at::Tensor x = boxes.slice(-1, 0, boxes.size(-1), 2).clamp(0, width);
  const at::Tensor y = boxes.slice(-1, 1, boxes.size(-1), 2).clamp(0, height);
  return at::stack({x, y}, boxes.dim()).reshape(boxes.sizes());
}

at::Tensor large_enough(const at::Tensor& boxes, double min_size) {
  const at::Tensor ws = boxes.select(1, 2) - boxes.select(1, 0);
  const at::Tensor hs = boxes.select(1, 3) - boxes.select(1, 1);
  return (ws >= min_size).logical_and(hs >= min_size).logical_and(ws > 0).logical_and(hs > 0);
}

at::Tensor rescale_boxes(const at::Tensor& boxes, ImageSize from, ImageSize to) {
  // float32 ratios, as torchvision's resize_boxes.
  const float ratio_h = static_cast<float>(to[0]) / static_cast<float>(from[0]);
  const float ratio_w = static_cast<float>(to[1]) / static_cast<float>(from[1]);
  return at::stack({boxes.select(1, 0) * ratio_w, boxes.select(1, 1) * ratio_h,
                    boxes.select(1, 2) * ratio_w, boxes.select(1, 3) * ratio_h},
                   1);
}

}  // namespace mrcnn::structures
