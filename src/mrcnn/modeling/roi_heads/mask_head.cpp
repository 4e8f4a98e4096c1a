#include "mrcnn/modeling/roi_heads/mask_head.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include "mrcnn/modeling/layers.h"

namespace mrcnn::modeling {

torch::nn::Sequential make_mask_head(int64_t in_channels, int64_t num_convs, int64_t channels) {
  torch::nn::Sequential head;
  for (int64_t i = 0; i < num_convs; ++i) {
    // Each block is a Sequential(conv, relu), torchvision's Conv2dNormActivation: keys "i.0.*".
    auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, channels, 3).padding(1));
    torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    torch::nn::init::zeros_(conv->bias);
    head->push_back(ConvBlock(conv, torch::nn::ReLU()));
    in_channels = channels;
  }
  return head;
}

MaskRCNNPredictorImpl::MaskRCNNPredictorImpl(int64_t in_channels, int64_t dim_reduced,
                                             int64_t num_classes) {
  conv5_mask = register_module(
      "conv5_mask", torch::nn::ConvTranspose2d(
                        torch::nn::ConvTranspose2dOptions(in_channels, dim_reduced, 2).stride(2)));
  mask_fcn_logits = register_module(
      "mask_fcn_logits", torch::nn::Conv2d(torch::nn::Conv2dOptions(dim_reduced, num_classes, 1)));
  for (auto& p : named_parameters()) {
    if (p.key().find("weight") != std::string::npos) {
      torch::nn::init::kaiming_normal_(p.value(), 0.0, torch::kFanOut, torch::kReLU);
    } else {
      torch::nn::init::zeros_(p.value());
    }
  }
}

at::Tensor MaskRCNNPredictorImpl::forward(const at::Tensor& x) {
  return mask_fcn_logits(torch::relu(conv5_mask(x)));
}

}  // namespace mrcnn::modeling
