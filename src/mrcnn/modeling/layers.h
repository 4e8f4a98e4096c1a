// Small building blocks shared by the heads.
#pragma once

#include <torch/nn/modules/container/sequential.h>

namespace mrcnn::modeling {

// A Sequential with a plain forward, so it can sit inside another Sequential. Mirrors
// torchvision's Conv2dNormActivation blocks, whose layers are named "0", "1", ...
class ConvBlockImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  at::Tensor forward(at::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(ConvBlock);

}  // namespace mrcnn::modeling
