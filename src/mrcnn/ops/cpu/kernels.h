// CPU kernels of the ops; the public headers in ops/ choose between these, the CUDA kernels
// and the plain-ATen paths by device.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "mrcnn/ops/kernel_inputs.h"
#include "mrcnn/ops/paste_masks.h"
#include "mrcnn/ops/roi_align.h"

namespace mrcnn::ops::cpu {

at::Tensor roi_align_forward(const at::Tensor& input, const at::Tensor& rois,
                             const RoIAlignOptions& options);
at::Tensor roi_align_backward(const at::Tensor& grad_output, const at::Tensor& rois,
                              const RoIAlignOptions& options, at::IntArrayRef input_sizes);

// Indices of the boxes kept by greedy NMS, in descending score order.
at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold);

// Thresholded pasted masks of `regions` (offsets into `out`) from probabilities [D, M, M].
void paste_binary(const at::Tensor& probabilities, const std::vector<MaskRegion>& regions,
                  float threshold, uint8_t* out);

}  // namespace mrcnn::ops::cpu
