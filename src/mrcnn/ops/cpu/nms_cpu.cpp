// Greedy non-maximum suppression on the CPU, as torchvision's nms: boxes in descending score
// order, a box is dropped when its IoU with a kept box exceeds the threshold.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include "mrcnn/ops/cpu/kernels.h"

namespace mrcnn::ops::cpu {
namespace {

template <class T>
at::Tensor nms_kernel(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  const int64_t n = boxes.size(0);
  // Stable: equal scores keep their input order, so results do not depend on the sort.
  const at::Tensor order =
      std::get<1>(scores.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true));
  const int64_t* ord = order.data_ptr<int64_t>();
  const T* b = boxes.data_ptr<T>();
  std::vector<T> areas(n);
  for (int64_t i = 0; i < n; ++i)
    areas[i] = (b[i * 4 + 2] - b[i * 4 + 0]) * (b[i * 4 + 3] - b[i * 4 + 1]);
  std::vector<uint8_t> suppressed(n, 0);
  std::vector<int64_t> keep;
  keep.reserve(n);
  for (int64_t oi = 0; oi < n; ++oi) {
    const int64_t i = ord[oi];
    if (suppressed[i]) continue;
    keep.push_back(i);
    const T ix1 = b[i * 4 + 0], iy1 = b[i * 4 + 1], ix2 = b[i * 4 + 2], iy2 = b[i * 4 + 3];
    for (int64_t oj = oi + 1; oj < n; ++oj) {
      const int64_t j = ord[oj];
      if (suppressed[j]) continue;
      const T w = std::max<T>(0, std::min(ix2, b[j * 4 + 2]) - std::max(ix1, b[j * 4 + 0]));
      const T h = std::max<T>(0, std::min(iy2, b[j * 4 + 3]) - std::max(iy1, b[j * 4 + 1]));
      const T inter = w * h;
      const T iou = inter / (areas[i] + areas[j] - inter);
      if (iou > iou_threshold) suppressed[j] = 1;
    }
  }
  return at::tensor(keep, at::kLong);
}

}  // namespace

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  require_device_type(boxes, c10::kCPU, "cpu::nms");
  require_device_type(scores, c10::kCPU, "cpu::nms");
  if (boxes.size(0) == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  at::Tensor result;
  AT_DISPATCH_FLOATING_TYPES(boxes.scalar_type(), "nms_cpu", [&] {
    result = nms_kernel<scalar_t>(boxes.contiguous(), scores.contiguous(), iou_threshold);
  });
  return result;
}

}  // namespace mrcnn::ops::cpu
