// Thresholded mask pasting on CUDA: one launch for many detections; block row d covers
// detection d's region pixel by pixel, so only box regions are ever computed.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <cstring>

#include "mrcnn/ops/cuda/kernels.h"
#include "mrcnn/ops/paste_math.h"

namespace mrcnn::ops::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxBlocksPerRegion = 64;

__global__ void paste_binary_kernel(const float* masks, int64_t m, const MaskRegion* regions,
                                    float threshold, uint8_t* out) {
  const MaskRegion r = regions[blockIdx.y];
  const float* mask = masks + static_cast<int64_t>(blockIdx.y) * m * m;
  const int64_t area = r.w * r.h;
  for (int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; p < area;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = p / r.w, column = p % r.w;
    const detail::LinearSource y = detail::linear_source(r.y0 - r.box_y0 + row, m + 2, r.box_h);
    const detail::LinearSource x = detail::linear_source(r.x0 - r.box_x0 + column, m + 2, r.box_w);
    out[r.offset + p] = detail::pasted_value(mask, m, y, x) > threshold ? 1 : 0;
  }
}

}  // namespace

void paste_binary(const at::Tensor& probabilities, const std::vector<MaskRegion>& regions,
                  float threshold, at::Tensor& out) {
  require_device_type(probabilities, c10::kCUDA, "cuda::paste_binary");
  require_device_type(out, c10::kCUDA, "cuda::paste_binary");
  if (regions.empty()) return;
  const c10::cuda::CUDAGuard guard(probabilities.device());
  static_assert(sizeof(MaskRegion) % sizeof(int64_t) == 0, "MaskRegion must be int64 fields");
  constexpr int64_t kFields = sizeof(MaskRegion) / sizeof(int64_t);
  const int64_t count = static_cast<int64_t>(regions.size());
  at::Tensor host = at::empty({count, kFields}, at::TensorOptions(at::kLong).pinned_memory(true));
  std::memcpy(host.data_ptr<int64_t>(), regions.data(), sizeof(MaskRegion) * regions.size());
  const at::Tensor device_regions = host.to(probabilities.device(), /*non_blocking=*/true);
  int64_t largest = 1;
  for (const MaskRegion& r : regions) largest = std::max(largest, r.w * r.h);
  const int64_t blocks_x =
      std::min<int64_t>((largest + kThreads - 1) / kThreads, kMaxBlocksPerRegion);
  const dim3 blocks(static_cast<unsigned>(blocks_x), static_cast<unsigned>(count));
  paste_binary_kernel<<<blocks, kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      probabilities.data_ptr<float>(), probabilities.size(-1),
      reinterpret_cast<const MaskRegion*>(device_regions.data_ptr<int64_t>()), threshold,
      out.data_ptr<uint8_t>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace mrcnn::ops::cuda
