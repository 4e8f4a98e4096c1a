// The box branch of the second stage: two fully connected layers on 7x7 RoI features
// (torchvision's TwoMLPHead, PaddleDetection's TwoFCHead) and the predictor of class logits
// and class-specific box deltas. Submodule names are torchvision's.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <utility>

namespace mrcnn::modeling {

class TwoMLPHeadImpl : public torch::nn::Module {
 public:
  TwoMLPHeadImpl(int64_t in_features, int64_t representation);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Linear fc6{nullptr}, fc7{nullptr};
};
TORCH_MODULE(TwoMLPHead);

class FastRCNNPredictorImpl : public torch::nn::Module {
 public:
  // num_classes includes the background.
  FastRCNNPredictorImpl(int64_t in_features, int64_t num_classes);
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& x);  // logits, deltas
  torch::nn::Linear cls_score{nullptr}, bbox_pred{nullptr};
};
TORCH_MODULE(FastRCNNPredictor);

}  // namespace mrcnn::modeling
