// RoIAlign on CUDA: one thread per output element forward, one per output gradient element
// backward (accumulating with atomicAdd). Sample positions and weights as on the CPU.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "mrcnn/ops/cuda/kernels.h"
#include "mrcnn/ops/roi_align_math.h"

namespace mrcnn::ops::cuda {
namespace {

constexpr int kThreads = 256;

// An element of the [R, C, PH, PW] output (or its gradient): RoI, channel and bin.
struct BinIndex {
  int64_t n;
  int c, ph, pw;
};

__device__ BinIndex bin_index(int64_t index, int channels, int pooled_h, int pooled_w) {
  BinIndex b;
  b.pw = static_cast<int>(index % pooled_w);
  b.ph = static_cast<int>((index / pooled_w) % pooled_h);
  b.c = static_cast<int>((index / pooled_w / pooled_h) % channels);
  b.n = index / pooled_w / pooled_h / channels;
  return b;
}

template <typename T>
__global__ void forward_kernel(int64_t total, const T* input, const T* rois, T scale, int channels,
                               int height, int width, int pooled_h, int pooled_w,
                               int sampling_ratio, bool aligned, T* output) {
  for (int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; index < total;
       index += int64_t(blockDim.x) * gridDim.x) {
    const BinIndex b = bin_index(index, channels, pooled_h, pooled_w);
    const int pw = b.pw, ph = b.ph, c = b.c;
    const int64_t n = b.n;
    const auto g =
        detail::roi_geometry<T>(rois + n * 5, scale, pooled_h, pooled_w, sampling_ratio, aligned);
    const T* plane = input + (g.batch * channels + c) * height * width;
    T value = 0;
    for (int64_t iy = 0; iy < g.grid_h; ++iy) {
      for (int64_t ix = 0; ix < g.grid_w; ++ix) {
        const auto s =
            detail::bilinear_sample<T>(height, width, g.sample_y(ph, iy), g.sample_x(pw, ix));
        if (!s.valid) continue;
        value += s.w1 * plane[s.p1] + s.w2 * plane[s.p2] + s.w3 * plane[s.p3] + s.w4 * plane[s.p4];
      }
    }
    output[index] = value / g.count;
  }
}

template <typename T>
__global__ void backward_kernel(int64_t total, const T* grad_output, const T* rois, T scale,
                                int channels, int height, int width, int pooled_h, int pooled_w,
                                int sampling_ratio, bool aligned, T* grad_input) {
  for (int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; index < total;
       index += int64_t(blockDim.x) * gridDim.x) {
    const BinIndex b = bin_index(index, channels, pooled_h, pooled_w);
    const int pw = b.pw, ph = b.ph, c = b.c;
    const int64_t n = b.n;
    const auto g =
        detail::roi_geometry<T>(rois + n * 5, scale, pooled_h, pooled_w, sampling_ratio, aligned);
    T* plane = grad_input + (g.batch * channels + c) * height * width;
    const T grad = grad_output[index] / g.count;
    for (int64_t iy = 0; iy < g.grid_h; ++iy) {
      for (int64_t ix = 0; ix < g.grid_w; ++ix) {
        const auto s =
            detail::bilinear_sample<T>(height, width, g.sample_y(ph, iy), g.sample_x(pw, ix));
        if (!s.valid) continue;
        atomicAdd(plane + s.p1, grad * s.w1);
        atomicAdd(plane + s.p2, grad * s.w2);
        atomicAdd(plane + s.p3, grad * s.w3);
        atomicAdd(plane + s.p4, grad * s.w4);
      }
    }
  }
}

int blocks_for(int64_t total) {
  return static_cast<int>(std::min<int64_t>((total + kThreads - 1) / kThreads, 4096));
}

}  // namespace

at::Tensor roi_align_forward(const at::Tensor& input, const at::Tensor& rois,
                             const RoIAlignOptions& o) {
  require_device_type(input, c10::kCUDA, "cuda::roi_align_forward");
  require_device_type(rois, c10::kCUDA, "cuda::roi_align_forward");
  const c10::cuda::CUDAGuard guard(input.device());
  const at::Tensor in = input.contiguous();
  const at::Tensor boxes = rois.to(in.scalar_type()).contiguous();
  at::Tensor output =
      at::zeros({boxes.size(0), in.size(1), o.pooled_height, o.pooled_width}, in.options());
  const int64_t total = output.numel();
  if (total == 0) return output;
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "roi_align_forward_cuda", [&] {
    forward_kernel<scalar_t><<<blocks_for(total), kThreads, 0, stream>>>(
        total, in.data_ptr<scalar_t>(), boxes.data_ptr<scalar_t>(),
        static_cast<scalar_t>(o.spatial_scale), static_cast<int>(in.size(1)),
        static_cast<int>(in.size(2)), static_cast<int>(in.size(3)),
        static_cast<int>(o.pooled_height), static_cast<int>(o.pooled_width),
        static_cast<int>(o.sampling_ratio), o.aligned, output.data_ptr<scalar_t>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return output;
}

at::Tensor roi_align_backward(const at::Tensor& grad_output, const at::Tensor& rois,
                              const RoIAlignOptions& o, at::IntArrayRef input_sizes) {
  require_device_type(grad_output, c10::kCUDA, "cuda::roi_align_backward");
  require_device_type(rois, c10::kCUDA, "cuda::roi_align_backward");
  const c10::cuda::CUDAGuard guard(grad_output.device());
  const at::Tensor go = grad_output.contiguous();
  const at::Tensor boxes = rois.to(go.scalar_type()).contiguous();
  at::Tensor grad_input = at::zeros(input_sizes, go.options());
  const int64_t total = go.numel();
  if (total == 0) return grad_input;
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(go.scalar_type(), "roi_align_backward_cuda", [&] {
    backward_kernel<scalar_t><<<blocks_for(total), kThreads, 0, stream>>>(
        total, go.data_ptr<scalar_t>(), boxes.data_ptr<scalar_t>(),
        static_cast<scalar_t>(o.spatial_scale), static_cast<int>(input_sizes[1]),
        static_cast<int>(input_sizes[2]), static_cast<int>(input_sizes[3]),
        static_cast<int>(o.pooled_height), static_cast<int>(o.pooled_width),
        static_cast<int>(o.sampling_ratio), o.aligned, grad_input.data_ptr<scalar_t>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return grad_input;
}

}  // namespace mrcnn::ops::cuda
