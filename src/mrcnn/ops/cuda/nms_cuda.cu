// NMS on CUDA: boxes sorted by score, a kernel marks for every box which later boxes it
// overlaps (64 per machine word), and one host pass over those masks keeps the survivors.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <vector>

#include "mrcnn/ops/cuda/kernels.h"

namespace mrcnn::ops::cuda {
namespace {

constexpr int kWord = 64;

template <typename T>
__device__ bool overlaps(const T* a, const T* b, float threshold) {
  const T w = max(min(a[2], b[2]) - max(a[0], b[0]), T(0));
  const T h = max(min(a[3], b[3]) - max(a[1], b[1]), T(0));
  const T inter = w * h;
  const T area_a = (a[2] - a[0]) * (a[3] - a[1]);
  const T area_b = (b[2] - b[0]) * (b[3] - b[1]);
  return inter / (area_a + area_b - inter) > threshold;
}

template <typename T>
__global__ void mask_kernel(int n, float threshold, const T* boxes, unsigned long long* mask) {
  const int row_block = blockIdx.y, col_block = blockIdx.x;
  const int row_size = min(n - row_block * kWord, kWord);
  const int col_size = min(n - col_block * kWord, kWord);
  __shared__ T block_boxes[kWord * 4];
  if (threadIdx.x < col_size) {
    for (int k = 0; k < 4; ++k)
      block_boxes[threadIdx.x * 4 + k] = boxes[(col_block * kWord + threadIdx.x) * 4 + k];
  }
  __syncthreads();
  if (threadIdx.x >= row_size) return;
  const int i = row_block * kWord + threadIdx.x;
  unsigned long long bits = 0;
  const int start = row_block == col_block ? threadIdx.x + 1 : 0;
  for (int j = start; j < col_size; ++j) {
    if (overlaps(boxes + i * 4, block_boxes + j * 4, threshold)) bits |= 1ULL << j;
  }
  const int col_blocks = (n + kWord - 1) / kWord;
  mask[int64_t(i) * col_blocks + col_block] = bits;
}

}  // namespace

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold) {
  require_device_type(boxes, c10::kCUDA, "cuda::nms");
  require_device_type(scores, c10::kCUDA, "cuda::nms");
  const c10::cuda::CUDAGuard guard(boxes.device());
  const int64_t n = boxes.size(0);
  if (n == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  const at::Tensor order = std::get<1>(scores.sort(/*stable=*/true, 0, /*descending=*/true));
  const at::Tensor sorted = boxes.index_select(0, order).contiguous();
  const int col_blocks = static_cast<int>((n + kWord - 1) / kWord);
  at::Tensor mask = at::empty({n * col_blocks}, boxes.options().dtype(at::kLong));
  const dim3 blocks(col_blocks, col_blocks);
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(sorted.scalar_type(), "nms_cuda", [&] {
    mask_kernel<scalar_t><<<blocks, kWord, 0, stream>>>(
        static_cast<int>(n), static_cast<float>(iou_threshold), sorted.data_ptr<scalar_t>(),
        reinterpret_cast<unsigned long long*>(mask.data_ptr<int64_t>()));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  // Both transfers go through pinned memory, so the step waits for the device once: for the
  // masks. The survivors then travel back without a wait.
  const auto pinned = at::TensorOptions(at::kLong).pinned_memory(true);
  at::Tensor host_mask = at::empty({n * col_blocks}, pinned);
  host_mask.copy_(mask, /*non_blocking=*/true);
  stream.synchronize();
  const auto* bits = reinterpret_cast<const unsigned long long*>(host_mask.data_ptr<int64_t>());
  at::Tensor keep = at::empty({n}, pinned);
  int64_t* kept = keep.data_ptr<int64_t>();
  int64_t count = 0;
  std::vector<unsigned long long> removed(col_blocks, 0);
  for (int64_t i = 0; i < n; ++i) {
    const int block = static_cast<int>(i / kWord), bit = static_cast<int>(i % kWord);
    if (removed[block] & (1ULL << bit)) continue;
    kept[count++] = i;
    for (int b = block; b < col_blocks; ++b) removed[b] |= bits[i * col_blocks + b];
  }
  return order.index_select(0, keep.narrow(0, 0, count).to(boxes.device(), /*non_blocking=*/true));
}

}  // namespace mrcnn::ops::cuda
