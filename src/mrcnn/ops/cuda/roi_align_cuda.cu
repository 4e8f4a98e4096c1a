// RoIAlign on CUDA: one thread per output element forward, one per output gradient element
// backward (accumulating with atomicAdd). Sample positions and weights as on the CPU.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "mrcnn/ops/cuda/kernels.h"

namespace mrcnn::ops::cuda {
namespace {

constexpr int kThreads = 256;

template <typename T>
__device__ bool bilinear_weights(int height, int width, T y, T x, int& p1, int& p2, int& p3, int& p4, T& w1, T& w2,
                                 T& w3, T& w4) {
  if (y < -1.0 || y > height || x < -1.0 || x > width) return false;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  int y_low = static_cast<int>(y);
  int x_low = static_cast<int>(x);
  int y_high, x_high;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = static_cast<T>(y_low);
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = static_cast<T>(x_low);
  } else {
    x_high = x_low + 1;
  }
  const T ly = y - y_low, lx = x - x_low, hy = T(1) - ly, hx = T(1) - lx;
  p1 = y_low * width + x_low;
  p2 = y_low * width + x_high;
  p3 = y_high * width + x_low;
  p4 = y_high * width + x_high;
  w1 = hy * hx;
  w2 = hy * lx;
  w3 = ly * hx;
  w4 = ly * lx;
  return true;
}

// The RoI geometry, as roi_geometry() on the CPU.
template <typename T>
struct Geometry {
  int batch;
  T start_h, start_w, bin_h, bin_w;
  int grid_h, grid_w;
  T count;
};

template <typename T>
__device__ Geometry<T> geometry(const T* roi, T scale, int pooled_h, int pooled_w, int sampling_ratio, bool aligned) {
  Geometry<T> g;
  g.batch = static_cast<int>(roi[0]);
  const T offset = aligned ? T(0.5) : T(0.0);
  g.start_w = roi[1] * scale - offset;
  g.start_h = roi[2] * scale - offset;
  T roi_w = roi[3] * scale - offset - g.start_w;
  T roi_h = roi[4] * scale - offset - g.start_h;
  if (!aligned) {
    roi_w = max(roi_w, T(1.));
    roi_h = max(roi_h, T(1.));
  }
  g.bin_h = roi_h / static_cast<T>(pooled_h);
  g.bin_w = roi_w / static_cast<T>(pooled_w);
  g.grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int>(ceil(roi_h / pooled_h));
  g.grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int>(ceil(roi_w / pooled_w));
  g.count = max(static_cast<T>(g.grid_h * g.grid_w), T(1));
  return g;
}

template <typename T>
__global__ void forward_kernel(int64_t total, const T* input, const T* rois, T scale, int channels, int height,
                               int width, int pooled_h, int pooled_w, int sampling_ratio, bool aligned, T* output) {
  for (int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; index < total;
       index += int64_t(blockDim.x) * gridDim.x) {
    const int pw = index % pooled_w;
    const int ph = (index / pooled_w) % pooled_h;
    const int c = (index / pooled_w / pooled_h) % channels;
    const int64_t n = index / pooled_w / pooled_h / channels;
    const Geometry<T> g = geometry(rois + n * 5, scale, pooled_h, pooled_w, sampling_ratio, aligned);
    const T* plane = input + (int64_t(g.batch) * channels + c) * height * width;
    T value = 0;
    for (int iy = 0; iy < g.grid_h; ++iy) {
      const T y = g.start_h + ph * g.bin_h + static_cast<T>(iy + .5f) * g.bin_h / static_cast<T>(g.grid_h);
      for (int ix = 0; ix < g.grid_w; ++ix) {
        const T x = g.start_w + pw * g.bin_w + static_cast<T>(ix + .5f) * g.bin_w / static_cast<T>(g.grid_w);
        int p1, p2, p3, p4;
        T w1, w2, w3, w4;
        if (!bilinear_weights(height, width, y, x, p1, p2, p3, p4, w1, w2, w3, w4)) continue;
        value += w1 * plane[p1] + w2 * plane[p2] + w3 * plane[p3] + w4 * plane[p4];
      }
    }
    output[index] = value / g.count;
  }
}

template <typename T>
__global__ void backward_kernel(int64_t total, const T* grad_output, const T* rois, T scale, int channels, int height,
                                int width, int pooled_h, int pooled_w, int sampling_ratio, bool aligned,
                                T* grad_input) {
  for (int64_t index = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; index < total;
       index += int64_t(blockDim.x) * gridDim.x) {
    const int pw = index % pooled_w;
    const int ph = (index / pooled_w) % pooled_h;
    const int c = (index / pooled_w / pooled_h) % channels;
    const int64_t n = index / pooled_w / pooled_h / channels;
    const Geometry<T> g = geometry(rois + n * 5, scale, pooled_h, pooled_w, sampling_ratio, aligned);
    T* plane = grad_input + (int64_t(g.batch) * channels + c) * height * width;
    const T grad = grad_output[index] / g.count;
    for (int iy = 0; iy < g.grid_h; ++iy) {
      const T y = g.start_h + ph * g.bin_h + static_cast<T>(iy + .5f) * g.bin_h / static_cast<T>(g.grid_h);
      for (int ix = 0; ix < g.grid_w; ++ix) {
        const T x = g.start_w + pw * g.bin_w + static_cast<T>(ix + .5f) * g.bin_w / static_cast<T>(g.grid_w);
        int p1, p2, p3, p4;
        T w1, w2, w3, w4;
        if (!bilinear_weights(height, width, y, x, p1, p2, p3, p4, w1, w2, w3, w4)) continue;
        atomicAdd(plane + p1, grad * w1);
        atomicAdd(plane + p2, grad * w2);
        atomicAdd(plane + p3, grad * w3);
        atomicAdd(plane + p4, grad * w4);
      }
    }
  }
}

int blocks_for(int64_t total) {
  return static_cast<int>(std::min<int64_t>((total + kThreads - 1) / kThreads, 4096));
}

}  // namespace

at::Tensor roi_align_forward(const at::Tensor& input, const at::Tensor& rois, const RoIAlignOptions& o) {
  const c10::cuda::CUDAGuard guard(input.device());
  const at::Tensor in = input.contiguous();
  const at::Tensor boxes = rois.to(in.scalar_type()).contiguous();
  at::Tensor output = at::zeros({boxes.size(0), in.size(1), o.pooled_height, o.pooled_width}, in.options());
  const int64_t total = output.numel();
  if (total == 0) return output;
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "roi_align_forward_cuda", [&] {
    forward_kernel<scalar_t><<<blocks_for(total), kThreads, 0, stream>>>(
        total, in.data_ptr<scalar_t>(), boxes.data_ptr<scalar_t>(), static_cast<scalar_t>(o.spatial_scale),
        static_cast<int>(in.size(1)), static_cast<int>(in.size(2)), static_cast<int>(in.size(3)),
        static_cast<int>(o.pooled_height), static_cast<int>(o.pooled_width), static_cast<int>(o.sampling_ratio),
        o.aligned, output.data_ptr<scalar_t>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return output;
}

at::Tensor roi_align_backward(const at::Tensor& grad_output, const at::Tensor& rois, const RoIAlignOptions& o,
                              at::IntArrayRef input_sizes) {
  const c10::cuda::CUDAGuard guard(grad_output.device());
  const at::Tensor go = grad_output.contiguous();
  const at::Tensor boxes = rois.to(go.scalar_type()).contiguous();
  at::Tensor grad_input = at::zeros(input_sizes, go.options());
  const int64_t total = go.numel();
  if (total == 0) return grad_input;
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES(go.scalar_type(), "roi_align_backward_cuda", [&] {
    backward_kernel<scalar_t><<<blocks_for(total), kThreads, 0, stream>>>(
        total, go.data_ptr<scalar_t>(), boxes.data_ptr<scalar_t>(), static_cast<scalar_t>(o.spatial_scale),
        static_cast<int>(input_sizes[1]), static_cast<int>(input_sizes[2]), static_cast<int>(input_sizes[3]),
        static_cast<int>(o.pooled_height), static_cast<int>(o.pooled_width), static_cast<int>(o.sampling_ratio),
        o.aligned, grad_input.data_ptr<scalar_t>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return grad_input;
}

}  // namespace mrcnn::ops::cuda
