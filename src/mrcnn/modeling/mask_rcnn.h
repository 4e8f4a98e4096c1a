// Mask R-CNN with a ResNet-FPN backbone: backbone -> RPN -> RoI heads, on batches the data
// layer has already preprocessed (data/transforms.h), and post-processing back to the
// original images. Module names are torchvision's maskrcnn_resnet50_fpn names (backbone.body,
// backbone.fpn, rpn.head, roi_heads.*), so its state dicts load directly.
#pragma once

#include <torch/nn/module.h>

#include <vector>

#include "mrcnn/modeling/backbone/fpn.h"
#include "mrcnn/modeling/backbone/resnet.h"
#include "mrcnn/modeling/postprocess.h"
#include "mrcnn/modeling/proposal_generator/rpn.h"
#include "mrcnn/modeling/roi_heads/roi_heads.h"
#include "mrcnn/modeling/training_context.h"
#include "mrcnn/structures/image_list.h"
#include "mrcnn/structures/instances.h"

namespace mrcnn::modeling {

// Defaults are the recipe's (PaddleDetection's mask_rcnn_r50_fpn_1x_coco), the same as those
// of an empty config.
struct MaskRCNNOptions {
  // Whose arithmetic where the references differ (arithmetic.h): PaddleDetection's for the
  // recipe, torchvision's for its checkpoints.
  Arithmetic arithmetic = Arithmetic::kPaddle;
  ResNetOptions resnet;
  int64_t fpn_channels = 256;
  std::vector<std::vector<double>> anchor_sizes = {{32}, {64}, {128}, {256}, {512}};
  std::vector<double> aspect_ratios = {0.5, 1.0, 2.0};
  double anchor_offset = 0.0;
  ProposalOptions train_proposals{
      .pre_nms_top_n = 2000, .post_nms_top_n = 1000, .topk_after_collect = true};
  ProposalOptions test_proposals;
  RPNTrainingOptions rpn_training;
  RoIHeadsOptions roi_heads;
  PostprocessOptions postprocess;
  // Convolution weights and the backbone's input in NHWC order: faster convolutions on GPUs
  // with tensor cores (cuDNN), the same results.
  bool channels_last = false;
  bool operator==(const MaskRCNNOptions&) const = default;
};

// torchvision's maskrcnn_resnet50_fpn settings (its arithmetic, 91 classes, aligned=false,
// sampling 2, 2000 training proposals per image, proposals at least 1e-3 px).
MaskRCNNOptions torchvision_options(int64_t num_classes = 91);

class BackboneWithFPNImpl : public torch::nn::Module {
 public:
  BackboneWithFPNImpl(const ResNetOptions& resnet, int64_t fpn_channels);
  std::vector<at::Tensor> forward(const at::Tensor& x);  // P2..P6
  ResNet body{nullptr};
  FeaturePyramid fpn{nullptr};
};
TORCH_MODULE(BackboneWithFPN);

// Intermediate results of one inference pass, for tests and tools.
struct InferenceTrace {
  std::vector<at::Tensor> features;   // P2..P6
  std::vector<at::Tensor> proposals;  // per image, resized coordinates
};

class MaskRCNNImpl : public torch::nn::Module {
 public:
  explicit MaskRCNNImpl(const MaskRCNNOptions& options);

  // Raw detections per image, in the batch's (resized) coordinates, with mask probabilities
  // of each detection's class (image_size: the image's size in the batch). Runs in inference
  // mode and changes no module state, so threads may share a model; the model must be in eval
  // mode (eval()), which fixes BatchNorm to its running statistics.
  std::vector<structures::Instances> predict(const structures::ImageList& batch,
                                             InferenceTrace* trace = nullptr);
  // predict + postprocess: per image, boxes in the original image and encoded masks (CPU).
  // Detections below min_score are dropped before their masks are pasted.
  std::vector<structures::Instances> detect(const structures::ImageList& batch,
                                            double min_score = 0);

  // Training forward: batch tensors are normalised, padded images, targets in the same
  // coordinates. Returns loss_rpn_cls, loss_rpn_reg, loss_bbox_cls, loss_bbox_reg and
  // loss_mask, always all five. The model must be in training mode.
  LossMap losses(const structures::ImageList& batch,
                 const std::vector<structures::Instances>& targets, TrainingContext& context);

  const MaskRCNNOptions& options() const { return options_; }

  BackboneWithFPN backbone{nullptr};
  RegionProposalNetwork rpn{nullptr};
  RoIHeads roi_heads{nullptr};

 private:
  std::vector<at::Tensor> features(const at::Tensor& images);

  MaskRCNNOptions options_;
};
TORCH_MODULE(MaskRCNN);

}  // namespace mrcnn::modeling
