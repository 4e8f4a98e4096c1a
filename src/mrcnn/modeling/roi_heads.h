// The second stage: box head and predictor on 7x7 RoI features, mask head and predictor on
// 14x14 features, and the inference post-processing (class-specific boxes, score threshold,
// per-class NMS, top detections, masks of the chosen class). Submodule names are torchvision's.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <vector>

#include "mrcnn/modeling/box_coder.h"
#include "mrcnn/modeling/matcher.h"
#include "mrcnn/modeling/poolers.h"
#include "mrcnn/modeling/sampler.h"
#include "mrcnn/modeling/targets.h"

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
  FastRCNNPredictorImpl(int64_t in_features,
                        int64_t num_classes);  // num_classes includes background
  std::pair<at::Tensor, at::Tensor> forward(const at::Tensor& x);
  torch::nn::Linear cls_score{nullptr}, bbox_pred{nullptr};
};
TORCH_MODULE(FastRCNNPredictor);

class MaskRCNNPredictorImpl : public torch::nn::Module {
 public:
  MaskRCNNPredictorImpl(int64_t in_channels, int64_t dim_reduced, int64_t num_classes);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::ConvTranspose2d conv5_mask{nullptr};
  torch::nn::Conv2d mask_fcn_logits{nullptr};
};
TORCH_MODULE(MaskRCNNPredictor);

// RoI labelling and sampling for the second-stage losses.
struct RoISamplingOptions {
  double foreground_iou = 0.5;  // IoU >= this: foreground
  double background_iou = 0.5;  // IoU < this: background (between the two: ignored)
  int64_t batch_size_per_image = 512;
  double positive_fraction = 0.25;
  bool use_random = true;
};

struct RoIHeadsOptions {
  int64_t num_classes = 81;  // including background
  int64_t box_resolution = 7;
  int64_t mask_resolution = 14;
  int64_t sampling_ratio = 2;
  bool aligned = false;
  int64_t mask_sampling_ratio = 2;
  bool mask_aligned = false;
  int64_t representation = 1024;
  int64_t mask_convs = 4;
  int64_t mask_channels = 256;
  std::array<double, 4> box_weights = {10.0, 10.0, 5.0, 5.0};
  double score_thresh = 0.05;
  double nms_thresh = 0.5;
  int64_t detections_per_img = 100;
  double min_box_size = 1e-2;
  RoISamplingOptions sampling;
};

struct Detections {
  at::Tensor boxes;   // [D, 4] in resized-image coordinates
  at::Tensor scores;  // [D]
  at::Tensor labels;  // [D] int64, 1..num_classes-1
  at::Tensor masks;   // [D, 1, M, M] probabilities of the predicted class
};

class RoIHeadsImpl : public torch::nn::Module {
 public:
  RoIHeadsImpl(int64_t in_channels, const RoIHeadsOptions& options);
  std::vector<Detections> inference(const std::vector<at::Tensor>& features,
                                    const std::vector<at::Tensor>& proposals,
                                    const std::vector<std::array<int64_t, 2>>& image_sizes);

  // Training: the proposals plus the ground-truth boxes are labelled and sampled, then the box
  // classification, box regression and mask losses (names loss_bbox_cls, loss_bbox_reg,
  // loss_mask), present even when no RoI is foreground.
  LossMap losses(const std::vector<at::Tensor>& features, const std::vector<at::Tensor>& proposals,
                 const std::vector<std::array<int64_t, 2>>& image_sizes,
                 const std::vector<ImageTargets>& targets, std::vector<at::Generator>& generators,
                 const CountMean& count_mean = {});

  TwoMLPHead box_head{nullptr};
  FastRCNNPredictor box_predictor{nullptr};
  torch::nn::Sequential mask_head{nullptr};
  MaskRCNNPredictor mask_predictor{nullptr};

  const RoIHeadsOptions& options() const { return options_; }
  const MultiScaleRoIAlign& box_pooler() const { return box_pooler_; }
  const MultiScaleRoIAlign& mask_pooler() const { return mask_pooler_; }

 private:
  RoIHeadsOptions options_;
  MultiScaleRoIAlign box_pooler_, mask_pooler_;
  BoxCoder box_coder_;
  Matcher matcher_;
  BalancedSampler sampler_;
};
TORCH_MODULE(RoIHeads);

}  // namespace mrcnn::modeling
