#include "mrcnn/ops/nms.h"

#include <ATen/ATen.h>

#include "mrcnn/ops/aten/ops_aten.h"
#include "mrcnn/ops/cpu/kernels.h"
#ifdef MRCNN_WITH_CUDA
#include "mrcnn/ops/cuda/kernels.h"
#endif

namespace mrcnn::ops {

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must be [N, 4], got ",
              boxes.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must be [N]");
  if (boxes.is_cpu()) {
    const at::ScalarType type = at::promote_types(boxes.scalar_type(), at::kFloat);
    return cpu::nms(boxes.to(type), scores.to(type), iou_threshold);
  }
#ifdef MRCNN_WITH_CUDA
  if (boxes.is_cuda()) return cuda::nms(boxes, scores.to(boxes.scalar_type()), iou_threshold);
#endif
  return aten::nms(boxes, scores, iou_threshold);
}

at::Tensor batched_nms(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& groups,
                       double iou_threshold) {
  if (boxes.numel() == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  // A GPU's NMS is one kernel and one read back, while a loop over groups waits for the device
  // twice per group: one NMS for up to 5000 boxes there (torchvision's limits, too).
  if (boxes.size(0) <= (boxes.is_cuda() ? 5000 : 1000)) {
    // Few boxes: one NMS, with each group's boxes shifted so groups never overlap.
    const at::Tensor offsets = groups.to(boxes.scalar_type()) * (boxes.max() + 1);
    return nms(boxes + offsets.unsqueeze(1), scores, iou_threshold);
  }
  // Many boxes (e.g. every class of every proposal): NMS per group is quadratic only in the
  // group sizes. Kept boxes are then ordered by score, ties by index.
  std::vector<at::Tensor> kept;
  const at::Tensor unique_groups = std::get<0>(at::_unique(groups));
  for (int64_t g = 0; g < unique_groups.size(0); ++g) {
    const at::Tensor members = at::where(groups == unique_groups[g])[0];
    kept.push_back(members.index_select(
        0, nms(boxes.index_select(0, members), scores.index_select(0, members), iou_threshold)));
  }
  const at::Tensor keep = std::get<0>(at::cat(kept).sort());
  const at::Tensor order =
      std::get<1>(scores.index_select(0, keep).sort(/*stable=*/true, 0, /*descending=*/true));
  return keep.index_select(0, order);
}

}  // namespace mrcnn::ops
