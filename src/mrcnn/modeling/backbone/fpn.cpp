#include "mrcnn/modeling/backbone/fpn.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

namespace mrcnn::modeling {

namespace F = torch::nn::functional;

FeaturePyramidImpl::FeaturePyramidImpl(const std::vector<int64_t>& in_channels,
                                       int64_t out_channels) {
  inner_blocks = register_module("inner_blocks", torch::nn::ModuleList());
  layer_blocks = register_module("layer_blocks", torch::nn::ModuleList());
  for (int64_t c : in_channels) {
    // Wrapped in a Sequential, as torchvision's Conv2dNormActivation is: keys end in ".0.".
    inner_blocks->push_back(
        torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(c, out_channels, 1))));
    layer_blocks->push_back(torch::nn::Sequential(
        torch::nn::Conv2d(torch::nn::Conv2dOptions(out_channels, out_channels, 3).padding(1))));
  }
  // torchvision initialises these with kaiming_uniform_(a=1) and zero bias.
  for (auto& p : named_parameters()) {
    if (p.key().find("weight") != std::string::npos) {
      torch::nn::init::kaiming_uniform_(p.value(), 1);
    } else {
      torch::nn::init::zeros_(p.value());
    }
  }
}

std::vector<at::Tensor> FeaturePyramidImpl::forward(const std::vector<at::Tensor>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  auto inner = [&](int64_t i, const at::Tensor& t) {
    return inner_blocks[i]->as<torch::nn::Sequential>()->forward(t);
  };
  auto layer = [&](int64_t i, const at::Tensor& t) {
    return layer_blocks[i]->as<torch::nn::Sequential>()->forward(t);
  };
  std::vector<at::Tensor> results(n);
  at::Tensor last_inner = inner(n - 1, x[n - 1]);
  results[n - 1] = layer(n - 1, last_inner);
  for (int64_t i = n - 2; i >= 0; --i) {
    const at::Tensor lateral = inner(i, x[i]);
    const at::Tensor top_down = F::interpolate(
        last_inner, F::InterpolateFuncOptions()
                        .size(std::vector<int64_t>{lateral.size(-2), lateral.size(-1)})
                        .mode(torch::kNearest));
    last_inner = lateral + top_down;
    results[i] = layer(i, last_inner);
  }
  results.push_back(F::max_pool2d(results.back(), F::MaxPool2dFuncOptions(1).stride(2).padding(0)));
  return results;
}

}  // namespace mrcnn::modeling
