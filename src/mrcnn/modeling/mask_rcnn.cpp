#include "mrcnn/modeling/mask_rcnn.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

namespace mrcnn::modeling {

MaskRCNNOptions torchvision_options(int64_t num_classes) {
  MaskRCNNOptions o;
  o.roi_heads.num_classes = num_classes;
  o.roi_heads.aligned = false;
  o.roi_heads.sampling_ratio = 2;
  o.roi_heads.mask_aligned = false;
  o.roi_heads.mask_sampling_ratio = 2;
  return o;
}

BackboneWithFPNImpl::BackboneWithFPNImpl(const ResNetOptions& resnet, int64_t fpn_channels) {
  body = register_module("body", ResNet(resnet));
  fpn = register_module("fpn", FeaturePyramid(body->out_channels(), fpn_channels));
}

std::vector<at::Tensor> BackboneWithFPNImpl::forward(const at::Tensor& x) {
  return fpn->forward(body->forward(x));
}

MaskRCNNImpl::MaskRCNNImpl(const MaskRCNNOptions& o) : options_(o), transform_(o.transform) {
  backbone = register_module("backbone", BackboneWithFPN(o.resnet, o.fpn_channels));
  rpn = register_module(
      "rpn",
      RegionProposalNetwork(AnchorGenerator(o.anchor_sizes, o.aspect_ratios, o.anchor_offset),
                            o.fpn_channels, o.train_proposals, o.test_proposals, o.rpn_training));
  roi_heads = register_module("roi_heads", RoIHeads(o.fpn_channels, o.roi_heads));
  if (o.channels_last) {
    // Loading weights copies into these tensors and moving them keeps their layout.
    for (at::Tensor& p : parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
}

std::vector<at::Tensor> MaskRCNNImpl::features(const at::Tensor& images) {
  return backbone->forward(
      options_.channels_last ? images.contiguous(at::MemoryFormat::ChannelsLast) : images);
}

std::vector<ImageResult> MaskRCNNImpl::predict(const std::vector<at::Tensor>& images,
                                               InferenceTrace* trace) {
  // Inference mode: no autograd bookkeeping at all (version counters, views).
  c10::InferenceMode inference_mode;
  const bool was_training = is_training();
  eval();
  ImageBatch batch = transform_(images);
  std::vector<at::Tensor> features = this->features(batch.tensors);
  RPNOutput proposals =
      rpn->forward(features, batch.image_sizes, batch.tensors.size(2), batch.tensors.size(3));
  std::vector<Detections> detections =
      roi_heads->inference(features, proposals.proposals, batch.image_sizes);
  std::vector<ImageResult> results;
  for (std::size_t i = 0; i < detections.size(); ++i) {
    const Detections& d = detections[i];
    results.push_back(
        {Transform::resize_boxes(d.boxes, batch.image_sizes[i], batch.original_sizes[i]), d.scores,
         d.labels, d.masks});
  }
  if (trace != nullptr) {
    trace->batch = std::move(batch);
    trace->features = std::move(features);
    trace->proposals = std::move(proposals.proposals);
    trace->detections = std::move(detections);
  }
  train(was_training);
  return results;
}

LossMap MaskRCNNImpl::losses(const ImageBatch& batch, const std::vector<ImageTargets>& targets,
                             std::vector<at::Generator>& generators, const CountMean& count_mean) {
  TORCH_CHECK(batch.image_sizes.size() == targets.size() && targets.size() == generators.size(),
              "losses: ", batch.image_sizes.size(), " images, ", targets.size(), " targets, ",
              generators.size(), " generators");
  TORCH_CHECK(is_training(), "losses: the model is in eval mode");
  const std::vector<at::Tensor> features = this->features(batch.tensors);
  const RPNOutput rpn_output =
      rpn->forward(features, batch.image_sizes, batch.tensors.size(2), batch.tensors.size(3));
  auto [rpn_objectness, rpn_box] = rpn->losses(rpn_output, targets, generators, count_mean);
  LossMap losses = {{"loss_rpn_cls", rpn_objectness}, {"loss_rpn_reg", rpn_box}};
  for (auto& loss : roi_heads->losses(features, rpn_output.proposals, batch.image_sizes, targets,
                                      generators, count_mean)) {
    losses.push_back(std::move(loss));
  }
  return losses;
}

}  // namespace mrcnn::modeling
