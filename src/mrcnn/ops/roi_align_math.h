// The arithmetic of RoIAlign shared by the CPU and CUDA kernels: where a RoI's bins and
// samples lie, and the bilinear weights of one sample (torchvision's rules).
#pragma once

#include <cmath>
#include <cstdint>

#include "mrcnn/ops/host_device.h"

namespace mrcnn::ops::detail {

template <class T>
struct RoiGeometry {
  int64_t batch = 0;
  T start_h = 0, start_w = 0, bin_h = 0, bin_w = 0;
  int64_t grid_h = 1, grid_w = 1;
  T count = 1;

  // Coordinate of sample i of bin p along each axis.
  MRCNN_HOST_DEVICE T sample_y(int64_t p, int64_t i) const {
    return start_h + p * bin_h + static_cast<T>(i + .5f) * bin_h / static_cast<T>(grid_h);
  }
  MRCNN_HOST_DEVICE T sample_x(int64_t p, int64_t i) const {
    return start_w + p * bin_w + static_cast<T>(i + .5f) * bin_w / static_cast<T>(grid_w);
  }
};

// roi: (batch index, x1, y1, x2, y2) in input-image coordinates.
template <class T>
MRCNN_HOST_DEVICE RoiGeometry<T> roi_geometry(const T* roi, T scale, int64_t pooled_h,
                                              int64_t pooled_w, int64_t sampling_ratio,
                                              bool aligned) {
  RoiGeometry<T> g;
  g.batch = static_cast<int64_t>(roi[0]);
  const T offset = aligned ? T(0.5) : T(0.0);
  g.start_w = roi[1] * scale - offset;
  g.start_h = roi[2] * scale - offset;
  T roi_w = roi[3] * scale - offset - g.start_w;
  T roi_h = roi[4] * scale - offset - g.start_h;
  if (!aligned) {  // legacy behaviour: force malformed RoIs to be 1x1
    roi_w = roi_w > T(1.) ? roi_w : T(1.);
    roi_h = roi_h > T(1.) ? roi_h : T(1.);
  }
  g.bin_h = roi_h / static_cast<T>(pooled_h);
  g.bin_w = roi_w / static_cast<T>(pooled_w);
  g.grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(ceil(roi_h / pooled_h));
  g.grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(ceil(roi_w / pooled_w));
  const T samples = static_cast<T>(g.grid_h * g.grid_w);
  g.count = samples > T(1) ? samples : T(1);
  return g;
}

// One bilinear sample: four neighbour offsets into an H*W plane and their weights.
template <class T>
struct BilinearSample {
  int64_t p1 = 0, p2 = 0, p3 = 0, p4 = 0;
  T w1 = 0, w2 = 0, w3 = 0, w4 = 0;
  bool valid = false;
};

template <class T>
MRCNN_HOST_DEVICE BilinearSample<T> bilinear_sample(int64_t height, int64_t width, T y, T x) {
  BilinearSample<T> s;
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
  const T ly = y - y_low, lx = x - x_low, hy = T(1) - ly, hx = T(1) - lx;
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

}  // namespace mrcnn::ops::detail
