#include "mrcnn/modeling/postprocess.h"

#include <ATen/ATen.h>

#include "mrcnn/ops/paste_masks.h"
#include "mrcnn/structures/boxes.h"

namespace mrcnn::modeling {

structures::Instances postprocess(const structures::Instances& raw, structures::ImageSize original,
                                  const PostprocessOptions& options, double min_score) {
  structures::Instances kept = min_score > 0 ? raw.index(raw.scores >= min_score) : raw;
  const at::Tensor boxes = structures::rescale_boxes(kept.boxes, raw.image_size, original);
  const auto [height, width] = original;
  // Only the box region of each mask is computed and encoded; no full-size planes.
  const ops::BinaryMasks pasted =
      ops::paste_binary_masks(kept.mask_probs, boxes, height, width, options.mask_threshold);
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
