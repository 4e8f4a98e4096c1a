// Feature pyramid on top of the ResNet stages: 1x1 lateral convs, top-down nearest upsampling,
// 3x3 output convs (P2..P5), and P6 as a stride-2 subsampling of P5 for the RPN. Submodule
// names follow torchvision (`inner_blocks.i.0`, `layer_blocks.i.0`).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <vector>

namespace mrcnn::modeling {

class FeaturePyramidImpl : public torch::nn::Module {
 public:
  FeaturePyramidImpl(const std::vector<int64_t>& in_channels, int64_t out_channels);
  // C2..C5 -> P2..P6
  std::vector<at::Tensor> forward(const std::vector<at::Tensor>& features);

 private:
  torch::nn::ModuleList inner_blocks{nullptr}, layer_blocks{nullptr};
};
TORCH_MODULE(FeaturePyramid);

}  // namespace mrcnn::modeling
