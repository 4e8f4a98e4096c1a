// Mask R-CNN with a ResNet-FPN backbone: transform -> backbone -> RPN -> RoI heads ->
// back to the original images. Module names are torchvision's maskrcnn_resnet50_fpn names
// (backbone.body, backbone.fpn, rpn.head, roi_heads.*), so its state dicts load directly.
#pragma once

#include <torch/nn/module.h>

#include <vector>

#include "mrcnn/modeling/fpn.h"
#include "mrcnn/modeling/resnet.h"
#include "mrcnn/modeling/roi_heads.h"
#include "mrcnn/modeling/rpn.h"
#include "mrcnn/modeling/transform.h"

namespace mrcnn::modeling {

struct MaskRCNNOptions {
  ResNetOptions resnet;
  int64_t fpn_channels = 256;
  std::vector<std::vector<double>> anchor_sizes = {{32}, {64}, {128}, {256}, {512}};
  std::vector<double> aspect_ratios = {0.5, 1.0, 2.0};
  double anchor_offset = 0.0;
  ProposalOptions train_proposals{.pre_nms_top_n = 2000, .post_nms_top_n = 2000};
  ProposalOptions test_proposals{.pre_nms_top_n = 1000, .post_nms_top_n = 1000};
  RPNTrainingOptions rpn_training;
  RoIHeadsOptions roi_heads;
  TransformOptions transform;
  // Convolution weights and the backbone's input in NHWC order: faster convolutions on GPUs
  // with tensor cores (cuDNN), the same results.
  bool channels_last = false;
};

// torchvision's maskrcnn_resnet50_fpn settings (91 classes, aligned=false, sampling 2).
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
  ImageBatch batch;
  std::vector<at::Tensor> features;    // P2..P6
  std::vector<at::Tensor> proposals;   // per image, resized coordinates
  std::vector<Detections> detections;  // per image, resized coordinates, MxM masks
};

// Final results per image, in original image coordinates.
struct ImageResult {
  at::Tensor boxes;   // [D, 4]
  at::Tensor scores;  // [D]
  at::Tensor labels;  // [D] int64 (model labels: 1..num_classes-1)
  at::Tensor masks;   // [D, 1, M, M] mask probabilities, to be pasted with their boxes
};

class MaskRCNNImpl : public torch::nn::Module {
 public:
  explicit MaskRCNNImpl(const MaskRCNNOptions& options);

  // images: float [3, H, W] in 0..1 on the model's device. Runs in inference mode.
  std::vector<ImageResult> predict(const std::vector<at::Tensor>& images,
                                   InferenceTrace* trace = nullptr);

  // Training forward: batch.tensors are normalised, padded images (see data::TrainLoader),
  // targets in the same coordinates. Returns loss_rpn_cls, loss_rpn_reg, loss_bbox_cls,
  // loss_bbox_reg and loss_mask, always all five. Image i's anchor and RoI sampling draws from
  // generators[i] (one per image, so a data-parallel rank draws exactly what one process
  // with the whole batch draws for the same image); count_mean, when given, averages the
  // losses' normalising counts over the ranks (see losses.h).
  LossMap losses(const ImageBatch& batch, const std::vector<ImageTargets>& targets,
                 std::vector<at::Generator>& generators, const CountMean& count_mean = {});

  const MaskRCNNOptions& options() const { return options_; }

  BackboneWithFPN backbone{nullptr};
  RegionProposalNetwork rpn{nullptr};
  RoIHeads roi_heads{nullptr};

 private:
  std::vector<at::Tensor> features(const at::Tensor& images);

  MaskRCNNOptions options_;
  Transform transform_;
};
TORCH_MODULE(MaskRCNN);

}  // namespace mrcnn::modeling
