// RoIAlign forward and backward on the CPU. The sample positions, bilinear weights and the
// order of accumulation follow torchvision's kernel, so results agree to float rounding.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "mrcnn/ops/cpu/kernels.h"
#include "mrcnn/ops/roi_align_math.h"

namespace mrcnn::ops::cpu {
namespace {

using detail::bilinear_sample;
using detail::RoiGeometry;
template <class T>
using Sample = detail::BilinearSample<T>;

template <class T>
RoiGeometry<T> roi_geometry(const T* roi, const RoIAlignOptions& o) {
  return detail::roi_geometry<T>(roi, static_cast<T>(o.spatial_scale), o.pooled_height,
                                 o.pooled_width, o.sampling_ratio, o.aligned);
}

template <class T>
void for_each_sample(const RoiGeometry<T>& g, const RoIAlignOptions& o, int64_t height,
                     int64_t width, std::vector<Sample<T>>& samples) {
  samples.clear();
  for (int64_t ph = 0; ph < o.pooled_height; ++ph)
    for (int64_t pw = 0; pw < o.pooled_width; ++pw)
      for (int64_t iy = 0; iy < g.grid_h; ++iy)
        for (int64_t ix = 0; ix < g.grid_w; ++ix)
          samples.push_back(
              bilinear_sample<T>(height, width, g.sample_y(ph, iy), g.sample_x(pw, ix)));
}

template <class T>
void forward_kernel(const at::Tensor& input, const at::Tensor& rois, const RoIAlignOptions& o,
                    at::Tensor& output) {
  const int64_t channels = input.size(1), height = input.size(2), width = input.size(3);
  const int64_t bins = o.pooled_height * o.pooled_width;
  const T* in = input.data_ptr<T>();
  const T* roi_data = rois.data_ptr<T>();
  T* out = output.data_ptr<T>();
  at::parallel_for(0, rois.size(0), 1, [&](int64_t begin, int64_t end) {
    std::vector<Sample<T>> samples;
    for (int64_t n = begin; n < end; ++n) {
      const RoiGeometry<T> g = roi_geometry(roi_data + n * 5, o);
      for_each_sample(g, o, height, width, samples);
      const int64_t per_bin = g.grid_h * g.grid_w;
      for (int64_t c = 0; c < channels; ++c) {
        const T* plane = in + (g.batch * channels + c) * height * width;
        T* dst = out + (n * channels + c) * bins;
        for (int64_t b = 0; b < bins; ++b) {
          T value = 0;
          for (int64_t k = 0; k < per_bin; ++k) {
            const Sample<T>& s = samples[b * per_bin + k];
            if (!s.valid) continue;
            value +=
                s.w1 * plane[s.p1] + s.w2 * plane[s.p2] + s.w3 * plane[s.p3] + s.w4 * plane[s.p4];
          }
          dst[b] = value / g.count;
        }
      }
    }
  });
}

template <class T>
void backward_kernel(const at::Tensor& grad_output, const at::Tensor& rois,
                     const RoIAlignOptions& o, at::Tensor& grad_input) {
  const int64_t channels = grad_input.size(1), height = grad_input.size(2),
                width = grad_input.size(3);
  const int64_t bins = o.pooled_height * o.pooled_width;
  const T* go = grad_output.data_ptr<T>();
  const T* roi_data = rois.data_ptr<T>();
  T* gi = grad_input.data_ptr<T>();
  const int64_t num_rois = rois.size(0);
  // Precompute every RoI's samples once; then channels are independent, so threads split the
  // channels and never write to the same element.
  std::vector<std::vector<Sample<T>>> samples(num_rois);
  std::vector<RoiGeometry<T>> geometry(num_rois);
  at::parallel_for(0, num_rois, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      geometry[n] = roi_geometry(roi_data + n * 5, o);
      for_each_sample(geometry[n], o, height, width, samples[n]);
    }
  });
  at::parallel_for(0, channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      for (int64_t n = 0; n < num_rois; ++n) {
        const RoiGeometry<T>& g = geometry[n];
        const int64_t per_bin = g.grid_h * g.grid_w;
        T* plane = gi + (g.batch * channels + c) * height * width;
        const T* src = go + (n * channels + c) * bins;
        for (int64_t b = 0; b < bins; ++b) {
          const T grad = src[b] / g.count;
          for (int64_t k = 0; k < per_bin; ++k) {
            const Sample<T>& s = samples[n][b * per_bin + k];
            if (!s.valid) continue;
            plane[s.p1] += grad * s.w1;
            plane[s.p2] += grad * s.w2;
            plane[s.p3] += grad * s.w3;
            plane[s.p4] += grad * s.w4;
          }
        }
      }
    }
  });
}

}  // namespace

at::Tensor roi_align_forward(const at::Tensor& input, const at::Tensor& rois,
                             const RoIAlignOptions& options) {
  require_device_type(input, c10::kCPU, "cpu::roi_align_forward");
  require_device_type(rois, c10::kCPU, "cpu::roi_align_forward");
  const at::Tensor in = input.contiguous();
  const at::Tensor boxes = rois.to(in.scalar_type()).contiguous();
  at::Tensor output = at::zeros(
      {boxes.size(0), in.size(1), options.pooled_height, options.pooled_width}, in.options());
  if (boxes.size(0) == 0) return output;
  AT_DISPATCH_FLOATING_TYPES(in.scalar_type(), "roi_align_forward_cpu",
                             [&] { forward_kernel<scalar_t>(in, boxes, options, output); });
  return output;
}

at::Tensor roi_align_backward(const at::Tensor& grad_output, const at::Tensor& rois,
                              const RoIAlignOptions& options, at::IntArrayRef input_sizes) {
  require_device_type(grad_output, c10::kCPU, "cpu::roi_align_backward");
  require_device_type(rois, c10::kCPU, "cpu::roi_align_backward");
  const at::Tensor go = grad_output.contiguous();
  const at::Tensor boxes = rois.to(go.scalar_type()).contiguous();
  at::Tensor grad_input = at::zeros(input_sizes, go.options());
  if (boxes.size(0) == 0) return grad_input;
  AT_DISPATCH_FLOATING_TYPES(go.scalar_type(), "roi_align_backward_cpu",
                             [&] { backward_kernel<scalar_t>(go, boxes, options, grad_input); });
  return grad_input;
}

}  // namespace mrcnn::ops::cpu
