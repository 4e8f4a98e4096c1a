// The mask branch of the second stage: 3x3 convolutions on 14x14 RoI features (torchvision's
// MaskRCNNHeads, PaddleDetection's MaskFeat), then a stride-2 transposed conv and one 28x28
// mask per class. Submodule names are torchvision's ("i.0.*", conv5_mask, mask_fcn_logits).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

namespace mrcnn::modeling {

// num_convs blocks of conv 3x3 + ReLU, `channels` wide.
torch::nn::Sequential make_mask_head(int64_t in_channels, int64_t num_convs, int64_t channels);

class MaskRCNNPredictorImpl : public torch::nn::Module {
 public:
  MaskRCNNPredictorImpl(int64_t in_channels, int64_t dim_reduced, int64_t num_classes);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::ConvTranspose2d conv5_mask{nullptr};
  torch::nn::Conv2d mask_fcn_logits{nullptr};
};
TORCH_MODULE(MaskRCNNPredictor);

}  // namespace mrcnn::modeling
