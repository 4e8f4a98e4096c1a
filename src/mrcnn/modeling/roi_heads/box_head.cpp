#include "mrcnn/modeling/roi_heads/box_head.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>

namespace mrcnn::modeling {

TwoMLPHeadImpl::TwoMLPHeadImpl(int64_t in_features, int64_t representation) {
  fc6 = register_module("fc6", torch::nn::Linear(in_features, representation));
  fc7 = register_module("fc7", torch::nn::Linear(representation, representation));
}

at::Tensor TwoMLPHeadImpl::forward(const at::Tensor& x) {
  return torch::relu(fc7(torch::relu(fc6(x.flatten(1)))));
}

FastRCNNPredictorImpl::FastRCNNPredictorImpl(int64_t in_features, int64_t num_classes) {
  cls_score = register_module("cls_score", torch::nn::Linear(in_features, num_classes));
  bbox_pred = register_module("bbox_pred", torch::nn::Linear(in_features, num_classes * 4));
}

std::pair<at::Tensor, at::Tensor> FastRCNNPredictorImpl::forward(const at::Tensor& x) {
  const at::Tensor flat = x.flatten(1);
  return {cls_score(flat), bbox_pred(flat)};
}

}  // namespace mrcnn::modeling
