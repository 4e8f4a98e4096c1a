#include "mrcnn/ops/paste_masks_sampled.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace mrcnn::ops {

BinaryMasks paste_binary_masks_sampled(const at::Tensor& masks, const at::Tensor& boxes,
                                       int64_t height, int64_t width, double threshold) {
  TORCH_CHECK(masks.dim() == 4 && masks.size(1) == 1 && boxes.dim() == 2 &&
                  boxes.size(0) == masks.size(0) && boxes.size(1) == 4,
              "paste_binary_masks_sampled: masks [D, 1, M, M] and boxes [D, 4] expected");
  const int64_t m = masks.size(-1);
  const at::Tensor host_boxes = boxes.to(at::kFloat).cpu().contiguous();  // waits for a GPU
  const at::Tensor probs = masks.to(at::kFloat);
  BinaryMasks out;
  std::vector<at::Tensor> bits;
  int64_t total = 0;
  for (int64_t i = 0; i < masks.size(0); ++i) {
    const float* b = host_boxes.data_ptr<float>() + 4 * i;
    const float bw = b[2] - b[0], bh = b[3] - b[1];
    TORCH_CHECK(bw > 0 && bh > 0, "paste_binary_masks_sampled: detection ", i, " has an empty box");
    MaskRegion r;
    const double half_x = bw / (2.0 * m), half_y = bh / (2.0 * m);
    r.x0 = std::clamp<int64_t>(static_cast<int64_t>(std::floor(b[0] - half_x)), 0, width);
    r.y0 = std::clamp<int64_t>(static_cast<int64_t>(std::floor(b[1] - half_y)), 0, height);
    r.w = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(b[2] + half_x)), 0, width) - r.x0;
    r.h = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(b[3] + half_y)), 0, height) - r.y0;
    if (r.w <= 0 || r.h <= 0) r.w = r.h = 0;
    r.box_x0 = r.x0;
    r.box_y0 = r.y0;
    r.box_w = std::max<int64_t>(r.w, 1);
    r.box_h = std::max<int64_t>(r.h, 1);
    r.offset = total;
    total += r.w * r.h;
    out.regions.push_back(r);
    if (r.w == 0) continue;
    // Grid coordinates in float32 and in PaddleDetection's order of operations:
    // ((pixel + 0.5) - x0) / (x1 - x0) * 2 - 1.
    const auto options = probs.options();
    const at::Tensor xs =
        ((at::arange(r.x0, r.x0 + r.w, options) + 0.5f) - b[0]) / (b[2] - b[0]) * 2 - 1;
    const at::Tensor ys =
        ((at::arange(r.y0, r.y0 + r.h, options) + 0.5f) - b[1]) / (b[3] - b[1]) * 2 - 1;
    const at::Tensor grid =
        at::stack({xs.view({1, -1}).expand({r.h, r.w}), ys.view({-1, 1}).expand({r.h, r.w})}, 2);
    const at::Tensor sampled =
        at::grid_sampler(probs.narrow(0, i, 1), grid.unsqueeze(0), /*bilinear*/ 0,
                         /*zeros*/ 0, /*align_corners=*/false);
    bits.push_back((sampled.view(-1) >= threshold).to(at::kByte));
  }
  out.bits = bits.empty() ? at::zeros({0}, at::kByte) : at::cat(bits).cpu().contiguous();
  return out;
}

}  // namespace mrcnn::ops
