// CUDA kernels of the ops (built when the CUDA toolkit is found). Same contracts and the same
// arithmetic as the CPU kernels in ops/cpu/kernels.h.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "mrcnn/ops/kernel_inputs.h"
#include "mrcnn/ops/paste_masks.h"
#include "mrcnn/ops/roi_align.h"

namespace mrcnn::ops::cuda {

at::Tensor roi_align_forward(const at::Tensor& input, const at::Tensor& rois,
                             const RoIAlignOptions& options);
at::Tensor roi_align_backward(const at::Tensor& grad_output, const at::Tensor& rois,
                              const RoIAlignOptions& options, at::IntArrayRef input_sizes);
at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold);
// Writes into `out` (uint8 on the probabilities' device) in one kernel launch.
void paste_binary(const at::Tensor& probabilities, const std::vector<MaskRegion>& regions,
                  float threshold, at::Tensor& out);

}  // namespace mrcnn::ops::cuda
