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
  // group sizes. The groups' members come from one stable sort and one read of the sorted
  // groups (a GPU is waited for once, plus once per group's NMS). Kept boxes are then ordered
  // by score, ties by index.
  auto [sorted_groups, by_group] = groups.sort(/*stable=*/true, 0, /*descending=*/false);
  const at::Tensor host_groups = sorted_groups.to(at::kCPU, at::kLong);
  const int64_t* group_of = host_groups.data_ptr<int64_t>();
  const int64_t n = host_groups.numel();
  std::vector<at::Tensor> kept;
  for (int64_t start = 0, end = 0; start < n; start = end) {
    while (end < n && group_of[end] == group_of[start]) ++end;
    const at::Tensor members = by_group.narrow(0, start, end - start);
    kept.push_back(members.index_select(
        0, nms(boxes.index_select(0, members), scores.index_select(0, members), iou_threshold)));
  }
  const at::Tensor keep = std::get<0>(at::cat(kept).sort());
  const at::Tensor order =
      std::get<1>(scores.index_select(0, keep).sort(/*stable=*/true, 0, /*descending=*/true));
  return keep.index_select(0, order);
}

}  // namespace mrcnn::ops
