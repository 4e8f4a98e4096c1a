#include "mrcnn/ops/nms.h"

#include <ATen/ATen.h>

#include "mrcnn/ops/cpu/kernels.h"

namespace mrcnn::ops {

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must be [N, 4], got ",
              boxes.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must be [N]");
  if (boxes.is_cpu()) {
    const at::ScalarType type = at::promote_types(boxes.scalar_type(), at::kFloat);
    return cpu::nms(boxes.to(type), scores.to(type), iou_threshold);
  }
  // Other devices: compute on the CPU for now and bring the indices back.
  return nms(boxes.cpu(), scores.cpu(), iou_threshold).to(boxes.device());
}

at::Tensor batched_nms(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& groups,
                       double iou_threshold) {
  if (boxes.numel() == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  // Shift each group's boxes by a multiple of the largest coordinate so groups never overlap.
  const at::Tensor offsets = groups.to(boxes.scalar_type()) * (boxes.max() + 1);
  return nms(boxes + offsets.unsqueeze(1), scores, iou_threshold);
}

}  // namespace mrcnn::ops
