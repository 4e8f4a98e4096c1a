// ResNet-18/34/50/101 body as torchvision builds it, returning the outputs of layer1..layer4
// (C2..C5, strides 4..32). Bottlenecks stride on the 3x3 conv ("v1.5", PaddleDetection's
// variant b) or on the first 1x1 conv (the original ResNet, variant a). Submodule names are
// torchvision's, so `backbone.body.*` checkpoint keys load as they are.
// PaddleDetection's variants c and d ("Bag of Tricks", He et al. 2019) replace the 7x7 stem
// by three 3x3 convs (conv1_1..conv1_3, with bn1_1..bn1_3), and d average-pools (2x2, stride
// 2) before a downsampling shortcut's 1x1 conv, which then has stride 1, so the shortcut sees
// every input pixel.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace mrcnn::modeling {

enum class NormKind { kBatchNorm, kGroupNorm };

// BatchNorm with statistics and affine parameters as constants (buffers), as detectron2 and
// torchvision use for fine-tuning from ImageNet weights: y = x * scale + shift.
class FrozenBatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit FrozenBatchNorm2dImpl(int64_t channels, double eps = 1e-5);
  at::Tensor forward(const at::Tensor& x);

  at::Tensor weight, bias, running_mean, running_var;
  double eps;
};
TORCH_MODULE(FrozenBatchNorm2d);

struct ResNetOptions {
  int64_t depth = 50;
  NormKind norm = NormKind::kBatchNorm;
  // Frozen norm layers: BatchNorm's statistics and affine become constants (FrozenBatchNorm),
  // GroupNorm's affine is not trained.
  bool freeze_norm = true;
  int64_t gn_groups = 32;
  // Stem and stages up to this one (0: stem only... 1: +layer1, -1: nothing) are frozen.
  int64_t frozen_stages = 1;
  // Channels of the stem; stage widths are 1, 2, 4, 8 times this (64 in every standard ResNet;
  // smaller for quick models trained from scratch).
  int64_t base_channels = 64;
  bool stride_in_1x1 = false;  // variant a: bottlenecks stride on their first 1x1 conv
  bool deep_stem = false;      // variants c, d: three 3x3 convs instead of one 7x7
  bool average_down = false;   // variant d: downsampling shortcuts average-pool first
  bool operator==(const ResNetOptions&) const = default;
};

// A normalisation layer as the options ask, as a type-erased module.
torch::nn::AnyModule make_norm(const ResNetOptions& options, int64_t channels);

// Two 3x3 convolutions (ResNet-18/34).
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int64_t in_channels, int64_t width, int64_t stride, bool downsample,
                 const ResNetOptions& options);
  at::Tensor forward(const at::Tensor& x);

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::AnyModule bn1, bn2;
  torch::nn::Sequential downsample{nullptr};
  bool pool_shortcut_ = false;
};
TORCH_MODULE(BasicBlock);

class BottleneckImpl : public torch::nn::Module {
 public:
  BottleneckImpl(int64_t in_channels, int64_t width, int64_t stride, bool downsample,
                 const ResNetOptions& options);
  at::Tensor forward(const at::Tensor& x);

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::AnyModule bn1, bn2, bn3;
  torch::nn::Sequential downsample{nullptr};
  bool pool_shortcut_ = false;
};
TORCH_MODULE(Bottleneck);

class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(const ResNetOptions& options);
  // C2, C3, C4, C5
  std::vector<at::Tensor> forward(const at::Tensor& x);
  // Freezes the stem and the first stages as options.frozen_stages says.
  void freeze();

  // Channels of C2..C5.
  std::vector<int64_t> out_channels() const;

 private:
  ResNetOptions options_;
  // The stem: conv1/bn1, or with deep_stem conv1_1..3/bn1_1..3.
  std::vector<torch::nn::Conv2d> stem_convs_;
  std::vector<torch::nn::AnyModule> stem_norms_;
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace mrcnn::modeling
