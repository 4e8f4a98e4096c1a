// Region proposal network: a shared 3x3 conv over every FPN level, objectness and box deltas
// per anchor, and proposal selection (top-k per level, decode, clip, drop tiny boxes, NMS per
// level, top-k per image), as torchvision's RegionProposalNetwork.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <vector>

#include "mrcnn/modeling/anchors.h"
#include "mrcnn/modeling/box_coder.h"
#include "mrcnn/modeling/matcher.h"
#include "mrcnn/modeling/sampler.h"
#include "mrcnn/modeling/targets.h"

namespace mrcnn::modeling {

class RPNHeadImpl : public torch::nn::Module {
 public:
  RPNHeadImpl(int64_t in_channels, int64_t num_anchors);
  // Per level: objectness [N, A, H, W] and deltas [N, 4A, H, W].
  std::pair<std::vector<at::Tensor>, std::vector<at::Tensor>> forward(
      const std::vector<at::Tensor>& features);

 private:
  torch::nn::Sequential conv{nullptr};
  torch::nn::Conv2d cls_logits{nullptr}, bbox_pred{nullptr};
};
TORCH_MODULE(RPNHead);

struct ProposalOptions {
  int64_t pre_nms_top_n = 1000;   // per level
  int64_t post_nms_top_n = 1000;  // per image
  double nms_thresh = 0.7;
  double min_size = 1e-3;
  double score_thresh = 0.0;
};

// Anchor labelling and sampling for the RPN losses.
struct RPNTrainingOptions {
  double positive_iou = 0.7;  // and each ground truth's best anchors (low-quality matches)
  double negative_iou = 0.3;
  int64_t batch_size_per_image = 256;
  double positive_fraction = 0.5;
  bool use_random = true;
};

struct RPNOutput {
  std::vector<at::Tensor> proposals;  // per image [P, 4]
  std::vector<at::Tensor> scores;     // per image [P] (objectness probabilities)
  // For training: flattened objectness [N*total] and deltas [N*total, 4], and the anchors.
  at::Tensor objectness, deltas, anchors;
};

class RegionProposalNetworkImpl : public torch::nn::Module {
 public:
  RegionProposalNetworkImpl(AnchorGenerator anchors, int64_t in_channels, ProposalOptions train,
                            ProposalOptions test, RPNTrainingOptions training = {});
  // image_sizes: the resized (unpadded) size of each image; batch_height/width: padded size.
  RPNOutput forward(const std::vector<at::Tensor>& features,
                    const std::vector<std::array<int64_t, 2>>& image_sizes, int64_t batch_height,
                    int64_t batch_width);

  // Objectness and box losses of a forward pass against the images' ground truth.
  std::pair<at::Tensor, at::Tensor> losses(const RPNOutput& output,
                                           const std::vector<ImageTargets>& targets,
                                           std::vector<at::Generator>& generators,
                                           const CountMean& count_mean = {}) const;

  RPNHead head{nullptr};

 private:
  AnchorGenerator anchor_generator_;
  BoxCoder box_coder_{{1.0, 1.0, 1.0, 1.0}};
  ProposalOptions train_, test_;
  Matcher matcher_;
  BalancedSampler sampler_;
};
TORCH_MODULE(RegionProposalNetwork);

}  // namespace mrcnn::modeling
