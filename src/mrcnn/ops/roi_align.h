// RoIAlign (Mask R-CNN's region feature extraction) with autograd.
//
// Semantics are torchvision's roi_align: boxes are [K, 5] rows (batch index, x1, y1, x2, y2) in
// input-image coordinates, scaled by spatial_scale; each output bin averages bilinear samples
// on a sampling_ratio x sampling_ratio grid (0: ceil(bin size) samples, adaptive). With
// aligned=true pixel centres sit at +0.5 (detectron2, PaddleDetection); with aligned=false
// (torchvision's Mask R-CNN) RoIs are at least 1x1.
#pragma once

#include <ATen/core/Tensor.h>

namespace mrcnn::ops {

struct RoIAlignOptions {
  int64_t pooled_height = 7;
  int64_t pooled_width = 7;
  double spatial_scale = 1.0;
  int64_t sampling_ratio = 0;
  bool aligned = true;
};

// input [N, C, H, W] float, rois [K, 5] -> [K, C, pooled_height, pooled_width]. Differentiable
// with respect to input.
at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois,
                     const RoIAlignOptions& options);

// The kernels without autograd, for tests and for the autograd function.
at::Tensor roi_align_forward(const at::Tensor& input, const at::Tensor& rois,
                             const RoIAlignOptions& options);
at::Tensor roi_align_backward(const at::Tensor& grad_output, const at::Tensor& rois,
                              const RoIAlignOptions& options, at::IntArrayRef input_sizes);

}  // namespace mrcnn::ops
