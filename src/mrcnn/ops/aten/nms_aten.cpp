// NMS from tensor operations: pairwise IoUs on the boxes' device, then the greedy pass over a
// boolean overlap matrix on the host.
#include <ATen/ATen.h>

#include "mrcnn/ops/aten/ops_aten.h"

namespace mrcnn::ops::aten {

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  if (boxes.size(0) == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  const at::Tensor order = std::get<1>(scores.sort(/*stable=*/true, 0, /*descending=*/true));
  const at::Tensor b = boxes.index_select(0, order);
  const at::Tensor area = (b.select(1, 2) - b.select(1, 0)) * (b.select(1, 3) - b.select(1, 1));
  const at::Tensor lt = at::max(b.slice(1, 0, 2).unsqueeze(1), b.slice(1, 0, 2).unsqueeze(0));
  const at::Tensor rb = at::min(b.slice(1, 2, 4).unsqueeze(1), b.slice(1, 2, 4).unsqueeze(0));
  const at::Tensor wh = (rb - lt).clamp_min(0);
  const at::Tensor inter = wh.select(2, 0) * wh.select(2, 1);
  const at::Tensor overlaps =
      (inter / (area.unsqueeze(1) + area.unsqueeze(0) - inter) > iou_threshold).cpu().contiguous();
  const int64_t n = b.size(0);
  const bool* o = overlaps.data_ptr<bool>();
  std::vector<uint8_t> suppressed(n, 0);
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < n; ++i) {
    if (suppressed[i]) continue;
    keep.push_back(i);
    for (int64_t j = i + 1; j < n; ++j) {
      if (o[i * n + j]) suppressed[j] = 1;
    }
  }
  return order.index_select(0, at::tensor(keep, at::kLong).to(order.device()));
}

}  // namespace mrcnn::ops::aten
