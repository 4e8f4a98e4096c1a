#include "mrcnn/ops/paste_masks.h"

#include <ATen/ATen.h>

namespace mrcnn::ops {
namespace {

constexpr int64_t kPadding = 1;

// Boxes enlarged about their centres by `scale`, truncated to integers.
at::Tensor expand_boxes(const at::Tensor& boxes, double scale) {
  const at::Tensor w_half = (boxes.select(1, 2) - boxes.select(1, 0)) * 0.5 * scale;
  const at::Tensor h_half = (boxes.select(1, 3) - boxes.select(1, 1)) * 0.5 * scale;
  const at::Tensor x_c = (boxes.select(1, 2) + boxes.select(1, 0)) * 0.5;
  const at::Tensor y_c = (boxes.select(1, 3) + boxes.select(1, 1)) * 0.5;
  return at::stack({x_c - w_half, y_c - h_half, x_c + w_half, y_c + h_half}, 1).to(at::kLong);
}

// Resizes the padded mask to its integer box and keeps the part inside the image.
PastedRegion paste_region(const at::Tensor& padded, const int64_t* box, int64_t height,
                          int64_t width) {
  const int64_t w = std::max<int64_t>(box[2] - box[0] + 1, 1);
  const int64_t h = std::max<int64_t>(box[3] - box[1] + 1, 1);
  const int64_t x0 = std::max<int64_t>(box[0], 0), x1 = std::min<int64_t>(box[2] + 1, width);
  const int64_t y0 = std::max<int64_t>(box[1], 0), y1 = std::min<int64_t>(box[3] + 1, height);
  if (x1 <= x0 || y1 <= y0) return {at::empty({0, 0}, padded.options()), 0, 0};
  const at::Tensor resized = at::upsample_bilinear2d(
      padded.view({1, 1, padded.size(-2), padded.size(-1)}), {h, w}, false)[0][0];
  return {resized.slice(0, y0 - box[1], y1 - box[1]).slice(1, x0 - box[0], x1 - box[0]), x0, y0};
}

at::Tensor paste_one(const at::Tensor& padded, const int64_t* box, int64_t height, int64_t width) {
  at::Tensor canvas = at::zeros({height, width}, padded.options());
  const PastedRegion region = paste_region(padded, box, height, width);
  if (region.values.numel() > 0) {
    canvas.slice(0, region.y0, region.y0 + region.values.size(0))
        .slice(1, region.x0, region.x0 + region.values.size(1))
        .copy_(region.values);
  }
  return canvas;
}

}  // namespace

at::Tensor paste_masks(const at::Tensor& masks, const at::Tensor& boxes, int64_t height,
                       int64_t width) {
  TORCH_CHECK(masks.dim() == 4 && masks.size(1) == 1, "paste_masks: masks must be [D, 1, M, M]");
  const int64_t m = masks.size(-1);
  const double scale = double(m + 2 * kPadding) / m;
  const at::Tensor padded = at::constant_pad_nd(masks, {kPadding, kPadding, kPadding, kPadding}, 0);
  const at::Tensor int_boxes = expand_boxes(boxes, scale).cpu().contiguous();
  std::vector<at::Tensor> pasted;
  for (int64_t i = 0; i < masks.size(0); ++i) {
    pasted.push_back(paste_one(padded[i][0], int_boxes.data_ptr<int64_t>() + 4 * i, height, width));
  }
  if (pasted.empty()) return at::empty({0, 1, height, width}, masks.options());
  return at::stack(pasted, 0).unsqueeze(1);
}

PastedRegion paste_mask_region(const at::Tensor& mask, const at::Tensor& box, int64_t height,
                               int64_t width) {
  const int64_t m = mask.size(-1);
  const double scale = double(m + 2 * kPadding) / m;
  const at::Tensor padded = at::constant_pad_nd(mask.view({1, 1, mask.size(-2), m}),
                                                {kPadding, kPadding, kPadding, kPadding}, 0);
  const at::Tensor int_box = expand_boxes(box.view({1, 4}), scale).cpu().contiguous();
  return paste_region(padded[0][0], int_box.data_ptr<int64_t>(), height, width);
}

}  // namespace mrcnn::ops
