#include "mrcnn/ops/roi_align.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include "mrcnn/ops/aten/ops_aten.h"
#include "mrcnn/ops/cpu/kernels.h"
#ifdef MRCNN_WITH_CUDA
#include "mrcnn/ops/cuda/kernels.h"
#endif

namespace mrcnn::ops {
namespace {

void check_arguments(const at::Tensor& input, const at::Tensor& rois, const RoIAlignOptions& o) {
  TORCH_CHECK(input.dim() == 4, "roi_align: input must be [N, C, H, W], got ", input.sizes());
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, "roi_align: rois must be [K, 5], got ",
              rois.sizes());
  TORCH_CHECK(o.pooled_height > 0 && o.pooled_width > 0, "roi_align: output size must be positive");
  TORCH_CHECK(o.sampling_ratio >= 0, "roi_align: sampling_ratio must be >= 0");
}

// Half and bfloat16 (autocast) compute in float32 and convert back.
at::ScalarType compute_type(const at::Tensor& t) {
  return t.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
}

class RoIAlignFunction : public torch::autograd::Function<RoIAlignFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input,
                            const at::Tensor& rois, int64_t pooled_height, int64_t pooled_width,
                            double spatial_scale, int64_t sampling_ratio, bool aligned) {
    const RoIAlignOptions o{pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned};
    ctx->save_for_backward({rois});
    ctx->saved_data["pooled_height"] = pooled_height;
    ctx->saved_data["pooled_width"] = pooled_width;
    ctx->saved_data["spatial_scale"] = spatial_scale;
    ctx->saved_data["sampling_ratio"] = sampling_ratio;
    ctx->saved_data["aligned"] = aligned;
    ctx->saved_data["input_sizes"] = input.sizes().vec();
    return roi_align_forward(input, rois, o);
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_outputs) {
    const at::Tensor rois = ctx->get_saved_variables()[0];
    const RoIAlignOptions o{
        ctx->saved_data["pooled_height"].toInt(), ctx->saved_data["pooled_width"].toInt(),
        ctx->saved_data["spatial_scale"].toDouble(), ctx->saved_data["sampling_ratio"].toInt(),
        ctx->saved_data["aligned"].toBool()};
    const auto sizes = ctx->saved_data["input_sizes"].toIntVector();
    const at::Tensor grad_input = roi_align_backward(grad_outputs[0], rois, o, sizes);
    return {grad_input,   at::Tensor(), at::Tensor(), at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor roi_align_forward(const at::Tensor& input, const at::Tensor& rois,
                             const RoIAlignOptions& options) {
  check_arguments(input, rois, options);
#ifdef MRCNN_WITH_CUDA
  if (input.is_cuda()) {
    const at::ScalarType type = compute_type(input);
    return cuda::roi_align_forward(input.to(type), rois.to(input.device(), type), options)
        .to(input.scalar_type());
  }
#endif
  // Devices without a kernel of ours use the ATen formulation.
  if (!input.is_cpu()) return aten::roi_align(input, rois.to(input.device()), options);
  const at::ScalarType type = compute_type(input);
  return cpu::roi_align_forward(input.to(type), rois.to(type), options).to(input.scalar_type());
}

at::Tensor roi_align_backward(const at::Tensor& grad_output, const at::Tensor& rois,
                              const RoIAlignOptions& options, at::IntArrayRef input_sizes) {
  const at::ScalarType type = compute_type(grad_output);
#ifdef MRCNN_WITH_CUDA
  if (grad_output.is_cuda()) {
    return cuda::roi_align_backward(grad_output.to(type), rois.to(grad_output.device(), type),
                                    options, input_sizes)
        .to(grad_output.scalar_type());
  }
#endif
  TORCH_CHECK(grad_output.is_cpu(), "roi_align_backward: no kernel for ", grad_output.device());
  return cpu::roi_align_backward(grad_output.to(type), rois.to(type), options, input_sizes)
      .to(grad_output.scalar_type());
}

at::Tensor roi_align(const at::Tensor& input, const at::Tensor& rois,
                     const RoIAlignOptions& options) {
  check_arguments(input, rois, options);
  // Elsewhere autograd differentiates the ATen formulation.
  if (!input.is_cpu() && !input.is_cuda())
    return aten::roi_align(input, rois.to(input.device()), options);
#ifndef MRCNN_WITH_CUDA
  if (input.is_cuda()) return aten::roi_align(input, rois.to(input.device()), options);
#endif
  return RoIAlignFunction::apply(input, rois, options.pooled_height, options.pooled_width,
                                 options.spatial_scale, options.sampling_ratio, options.aligned);
}

}  // namespace mrcnn::ops
