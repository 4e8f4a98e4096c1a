// Region proposal network: a shared 3x3 conv over every FPN level, objectness and box deltas
// per anchor, and proposal selection (top-k per level, decode, clip, drop tiny boxes, NMS per
// level, top-k per image), as torchvision's RegionProposalNetwork; PaddleDetection's
// per-level cap after NMS is an option (topk_after_collect false).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <vector>

#include "mrcnn/modeling/arithmetic.h"
#include "mrcnn/modeling/box_coder.h"
#include "mrcnn/modeling/matcher.h"
#include "mrcnn/modeling/proposal_generator/anchors.h"
#include "mrcnn/modeling/sampler.h"
#include "mrcnn/modeling/training_context.h"
#include "mrcnn/structures/image_list.h"
#include "mrcnn/structures/instances.h"

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
  int64_t pre_nms_top_n = 1000;   // per level, before NMS
  int64_t post_nms_top_n = 1000;  // per image, after NMS
  double nms_thresh = 0.7;
  double min_size = 0.0;  // narrower or lower boxes are dropped (zero-area ones always)
  // false: each level also keeps at most post_nms_top_n after its NMS, before the per-image
  // cut (PaddleDetection's default); true: only the per-image cut (torchvision).
  bool topk_after_collect = false;
  bool operator==(const ProposalOptions&) const = default;
};

// Anchor labelling and sampling for the RPN losses.
struct RPNTrainingOptions {
  double positive_iou = 0.7;  // and each ground truth's best anchors (low-quality matches)
  double negative_iou = 0.3;
  int64_t batch_size_per_image = 256;
  double positive_fraction = 0.5;
  bool use_random = true;
  bool operator==(const RPNTrainingOptions&) const = default;
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
                            ProposalOptions test, RPNTrainingOptions training = {},
                            Arithmetic arithmetic = Arithmetic::kTorchvision);
  // With the training or the test proposal options (never from the module's mode, so that
  // inference changes no state). image_sizes: each image's size inside the padding.
  RPNOutput forward(const std::vector<at::Tensor>& features,
                    const std::vector<structures::ImageSize>& image_sizes, int64_t batch_height,
                    int64_t batch_width, bool training);

  // Objectness and box losses of a forward pass against the images' ground truth. Divided by
  // the sampled anchors (torchvision) or by batch_size_per_image x images (paddle).
  std::pair<at::Tensor, at::Tensor> losses(const RPNOutput& output,
                                           const std::vector<structures::Instances>& targets,
                                           TrainingContext& context) const;

  RPNHead head{nullptr};

 private:
  AnchorGenerator anchor_generator_;
  BoxCoder box_coder_{{1.0, 1.0, 1.0, 1.0}};
  ProposalOptions train_, test_;
  int64_t batch_size_per_image_;
  Arithmetic arithmetic_;
  Matcher matcher_;
  BalancedSampler sampler_;
};
TORCH_MODULE(RegionProposalNetwork);

}  // namespace mrcnn::modeling
