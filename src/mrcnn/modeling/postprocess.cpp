#include "mrcnn/modeling/postprocess.h"

#include <ATen/ATen.h>

#include "mrcnn/ops/paste_masks.h"
#include "mrcnn/ops/paste_masks_sampled.h"
#include "mrcnn/structures/boxes.h"

namespace mrcnn::modeling {

structures::Instances postprocess(const structures::Instances& raw, structures::ImageSize original,
                                  const PostprocessOptions& options, double min_score,
                                  Arithmetic arithmetic) {
  structures::Instances kept = min_score > 0 ? raw.index(raw.scores >= min_score) : raw;
  const auto [height, width] = original;
  at::Tensor boxes;
  if (arithmetic == Arithmetic::kPaddle) {
    // PaddleDetection's BBoxPostProcess.get_pred: divided by the float32 scale factors,
    // clipped to the original image, boxes left empty dropped.
    const float scale_y = static_cast<float>(double(raw.image_size[0]) / double(height));
    const float scale_x = static_cast<float>(double(raw.image_size[1]) / double(width));
    const at::Tensor b = kept.boxes.to(at::kFloat);
    const auto clip = [](const at::Tensor& v, float hi) { return v.clamp_max(hi).clamp_min(0); };
    boxes = at::stack({clip(b.select(1, 0) / scale_x, float(width)),
                       clip(b.select(1, 1) / scale_y, float(height)),
                       clip(b.select(1, 2) / scale_x, float(width)),
                       clip(b.select(1, 3) / scale_y, float(height))},
                      1);
    const at::Tensor nonempty = (boxes.select(1, 2) > boxes.select(1, 0))
                                    .logical_and(boxes.select(1, 3) > boxes.select(1, 1));
    const at::Tensor keep = at::where(nonempty)[0];
    kept = kept.index(keep);
    boxes = boxes.index_select(0, keep);
  } else {
    boxes = structures::rescale_boxes(kept.boxes, raw.image_size, original);
  }
  // Only the box region of each mask is computed and encoded; no full-size planes.
  const ops::BinaryMasks pasted =
      arithmetic == Arithmetic::kPaddle
          ? ops::paste_binary_masks_sampled(kept.mask_probs, boxes, height, width,
                                            options.mask_threshold)
          : ops::paste_binary_masks(kept.mask_probs, boxes, height, width, options.mask_threshold);
  structures::Instances out;
  out.image_size = original;
  out.boxes = boxes.cpu();
  out.scores = kept.scores.cpu();
  out.labels = kept.labels.cpu();
  for (std::size_t i = 0; i < pasted.regions.size(); ++i) {
    const ops::MaskRegion& region = pasted.regions[i];
    out.mask_rles.push_back(coco::rle_encode_region(
        pasted.region_bits(i), static_cast<uint32_t>(region.h), static_cast<uint32_t>(region.w),
        static_cast<uint32_t>(region.x0), static_cast<uint32_t>(region.y0),
        static_cast<uint32_t>(height), static_cast<uint32_t>(width)));
  }
  return out;
}

}  // namespace mrcnn::modeling
