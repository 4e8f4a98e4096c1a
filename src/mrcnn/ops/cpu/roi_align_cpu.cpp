// RoIAlign forward and backward on the CPU. The sample positions, bilinear weights and the
// order of accumulation follow torchvision's kernel, so results agree to float rounding.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "mrcnn/ops/cpu/kernels.h"

namespace mrcnn::ops::cpu {
namespace {

// One bilinear sample: four neighbour offsets (into one H*W plane) and their weights.
template <class T>
struct Sample {
  int64_t p1 = 0, p2 = 0, p3 = 0, p4 = 0;
  T w1 = 0, w2 = 0, w3 = 0, w4 = 0;
  bool valid = false;
};

template <class T>
Sample<T> bilinear_sample(int64_t height, int64_t width, T y, T x) {
  Sample<T> s;
  // Samples more than one pixel outside the map contribute nothing.
  if (y < -1.0 || y > height || x < -1.0 || x > width) return s;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  int64_t y_low = static_cast<int64_t>(y);
  int64_t x_low = static_cast<int64_t>(x);
  int64_t y_high, x_high;
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
  const T ly = y - y_low, lx = x - x_low, hy = 1. - ly, hx = 1. - lx;
  s.p1 = y_low * width + x_low;
  s.p2 = y_low * width + x_high;
  s.p3 = y_high * width + x_low;
  s.p4 = y_high * width + x_high;
  s.w1 = hy * hx;
  s.w2 = hy * lx;
  s.w3 = ly * hx;
  s.w4 = ly * lx;
  s.valid = true;
  return s;
}

// The geometry of one RoI: where its bins start, how big they are, how many samples each has.
template <class T>
struct RoiGeometry {
  int64_t batch = 0;
  T start_h = 0, start_w = 0, bin_h = 0, bin_w = 0;
  int64_t grid_h = 1, grid_w = 1;
  T count = 1;
};

template <class T>
RoiGeometry<T> roi_geometry(const T* roi, const RoIAlignOptions& o) {
  RoiGeometry<T> g;
  g.batch = static_cast<int64_t>(roi[0]);
  const T offset = o.aligned ? T(0.5) : T(0.0);
  const T scale = static_cast<T>(o.spatial_scale);
  g.start_w = roi[1] * scale - offset;
  g.start_h = roi[2] * scale - offset;
  const T end_w = roi[3] * scale - offset;
  const T end_h = roi[4] * scale - offset;
  T roi_w = end_w - g.start_w;
  T roi_h = end_h - g.start_h;
  if (!o.aligned) {  // legacy behaviour: force malformed RoIs to be 1x1
    roi_w = std::max(roi_w, T(1.));
    roi_h = std::max(roi_h, T(1.));
  }
  g.bin_h = roi_h / static_cast<T>(o.pooled_height);
  g.bin_w = roi_w / static_cast<T>(o.pooled_width);
  g.grid_h = o.sampling_ratio > 0 ? o.sampling_ratio
                                  : static_cast<int64_t>(std::ceil(roi_h / o.pooled_height));
  g.grid_w = o.sampling_ratio > 0 ? o.sampling_ratio
                                  : static_cast<int64_t>(std::ceil(roi_w / o.pooled_width));
  g.count = std::max<T>(static_cast<T>(g.grid_h * g.grid_w), T(1));
  return g;
}

template <class T>
void for_each_sample(const RoiGeometry<T>& g, const RoIAlignOptions& o, int64_t height,
                     int64_t width, std::vector<Sample<T>>& samples) {
  samples.clear();
  for (int64_t ph = 0; ph < o.pooled_height; ++ph)
    for (int64_t pw = 0; pw < o.pooled_width; ++pw)
      for (int64_t iy = 0; iy < g.grid_h; ++iy) {
        const T y = g.start_h + ph * g.bin_h +
                    static_cast<T>(iy + .5f) * g.bin_h / static_cast<T>(g.grid_h);
        for (int64_t ix = 0; ix < g.grid_w; ++ix) {
          const T x = g.start_w + pw * g.bin_w +
                      static_cast<T>(ix + .5f) * g.bin_w / static_cast<T>(g.grid_w);
          samples.push_back(bilinear_sample<T>(height, width, y, x));
        }
      }
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
  const at::Tensor go = grad_output.contiguous();
  const at::Tensor boxes = rois.to(go.scalar_type()).contiguous();
  at::Tensor grad_input = at::zeros(input_sizes, go.options());
  if (boxes.size(0) == 0) return grad_input;
  AT_DISPATCH_FLOATING_TYPES(go.scalar_type(), "roi_align_backward_cpu",
                             [&] { backward_kernel<scalar_t>(go, boxes, options, grad_input); });
  return grad_input;
}

}  // namespace mrcnn::ops::cpu
