// The second stage: box head and predictor on 7x7 RoI features, mask head and predictor on
// 14x14 features, the RoI sampling and losses for training, and the detection selection for
// inference (class-specific boxes, score threshold, per-class NMS, top detections, masks of
// the chosen class). Submodule names are torchvision's.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>

#include <array>
#include <vector>

#include "mrcnn/modeling/arithmetic.h"
#include "mrcnn/modeling/box_coder.h"
#include "mrcnn/modeling/matcher.h"
#include "mrcnn/modeling/roi_heads/box_head.h"
#include "mrcnn/modeling/roi_heads/mask_head.h"
#include "mrcnn/modeling/roi_heads/poolers.h"
#include "mrcnn/modeling/sampler.h"
#include "mrcnn/modeling/training_context.h"
#include "mrcnn/structures/instances.h"

namespace mrcnn::modeling {

// RoI labelling and sampling for the second-stage losses.
struct RoISamplingOptions {
  double foreground_iou = 0.5;  // IoU >= this: foreground
  double background_iou = 0.5;  // IoU < this: background (between the two: ignored)
  int64_t batch_size_per_image = 512;
  double positive_fraction = 0.25;
  bool use_random = true;
  bool operator==(const RoISamplingOptions&) const = default;
};

// Defaults are those of the recipe (PaddleDetection's mask_rcnn_r50_fpn_1x_coco).
struct RoIHeadsOptions {
  int64_t num_classes = 81;  // including background
  int64_t box_resolution = 7;
  int64_t mask_resolution = 14;
  int64_t sampling_ratio = 0;  // 0: adaptive
  bool aligned = true;
  int64_t mask_sampling_ratio = 0;
  bool mask_aligned = true;
  int64_t representation = 1024;
  int64_t mask_convs = 4;
  int64_t mask_channels = 256;
  std::array<double, 4> box_weights = {10.0, 10.0, 5.0, 5.0};
  double score_thresh = 0.05;
  double nms_thresh = 0.5;
  int64_t detections_per_img = 100;
  // torchvision: detections narrower or lower than this are dropped before NMS (paddle drops
  // only empty boxes, after rescaling them: postprocess).
  double min_box_size = 1e-2;
  RoISamplingOptions sampling;
  bool operator==(const RoIHeadsOptions&) const = default;
};

class RoIHeadsImpl : public torch::nn::Module {
 public:
  RoIHeadsImpl(int64_t in_channels, const RoIHeadsOptions& options,
               Arithmetic arithmetic = Arithmetic::kTorchvision);

  // Detections per image in the images' (resized) coordinates: boxes, scores, labels and
  // mask_probs [D, 1, M, M] of each detection's class. image_size is left to the caller.
  std::vector<structures::Instances> inference(
      const std::vector<at::Tensor>& features, const std::vector<at::Tensor>& proposals,
      const std::vector<structures::ImageSize>& image_sizes);

  // Training: the proposals plus the ground-truth boxes are labelled and sampled, then the box
  // classification, box regression and mask losses (names loss_bbox_cls, loss_bbox_reg,
  // loss_mask), present even when no RoI is foreground.
  LossMap losses(const std::vector<at::Tensor>& features, const std::vector<at::Tensor>& proposals,
                 const std::vector<structures::ImageSize>& image_sizes,
                 const std::vector<structures::Instances>& targets, TrainingContext& context);

  TwoMLPHead box_head{nullptr};
  FastRCNNPredictor box_predictor{nullptr};
  torch::nn::Sequential mask_head{nullptr};
  MaskRCNNPredictor mask_predictor{nullptr};

 private:
  RoIHeadsOptions options_;
  Arithmetic arithmetic_;
  MultiScaleRoIAlign box_pooler_, mask_pooler_;
  BoxCoder box_coder_;
  Matcher matcher_;
  BalancedSampler sampler_;
};
TORCH_MODULE(RoIHeads);

}  // namespace mrcnn::modeling
