#include "mrcnn/modeling/mask_rcnn.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

namespace mrcnn::modeling {

MaskRCNNOptions torchvision_options(int64_t num_classes) {
  MaskRCNNOptions o;
  o.arithmetic = Arithmetic::kTorchvision;
  o.train_proposals = {
      .pre_nms_top_n = 2000, .post_nms_top_n = 2000, .min_size = 1e-3, .topk_after_collect = true};
  o.test_proposals = {
      .pre_nms_top_n = 1000, .post_nms_top_n = 1000, .min_size = 1e-3, .topk_after_collect = true};
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

MaskRCNNImpl::MaskRCNNImpl(const MaskRCNNOptions& o) : options_(o) {
  backbone = register_module("backbone", BackboneWithFPN(o.resnet, o.fpn_channels));
  rpn = register_module(
      "rpn", RegionProposalNetwork(AnchorGenerator(o.anchor_sizes, o.aspect_ratios, o.anchor_offset,
                                                   {4, 8, 16, 32, 64}, o.arithmetic),
                                   o.fpn_channels, o.train_proposals, o.test_proposals,
                                   o.rpn_training, o.arithmetic));
  roi_heads = register_module("roi_heads", RoIHeads(o.fpn_channels, o.roi_heads, o.arithmetic));
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

std::vector<structures::Instances> MaskRCNNImpl::predict(const structures::ImageList& batch,
                                                         InferenceTrace* trace) {
  TORCH_CHECK(!is_training(),
              "predict: the model is in training mode; call eval() first (BatchNorm layers "
              "would otherwise normalise with the batch's statistics)");
  // Inference mode: no autograd bookkeeping at all (version counters, views).
  c10::InferenceMode inference_mode;
  std::vector<at::Tensor> features = this->features(batch.tensor);
  RPNOutput proposals = rpn->forward(features, batch.image_sizes, batch.tensor.size(2),
                                     batch.tensor.size(3), /*training=*/false);
  std::vector<structures::Instances> detections =
      roi_heads->inference(features, proposals.proposals, batch.image_sizes);
  for (std::size_t i = 0; i < detections.size(); ++i)
    detections[i].image_size = batch.image_sizes[i];
  if (trace != nullptr) {
    trace->features = std::move(features);
    trace->proposals = std::move(proposals.proposals);
  }
  return detections;
}

std::vector<structures::Instances> MaskRCNNImpl::detect(const structures::ImageList& batch,
                                                        double min_score) {
  std::vector<structures::Instances> raw = predict(batch);
  std::vector<structures::Instances> out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    c10::InferenceMode inference_mode;
    out.push_back(postprocess(raw[i], batch.original_sizes[i], options_.postprocess, min_score,
                              options_.arithmetic));
  }
  return out;
}

LossMap MaskRCNNImpl::losses(const structures::ImageList& batch,
                             const std::vector<structures::Instances>& targets,
                             TrainingContext& context) {
  TORCH_CHECK(
      batch.image_sizes.size() == targets.size() && targets.size() == context.generators.size(),
      "losses: ", batch.image_sizes.size(), " images, ", targets.size(), " targets, ",
      context.generators.size(), " generators");
  TORCH_CHECK(is_training(), "losses: the model is in eval mode");
  const std::vector<at::Tensor> features = this->features(batch.tensor);
  const RPNOutput rpn_output = rpn->forward(features, batch.image_sizes, batch.tensor.size(2),
                                            batch.tensor.size(3), /*training=*/true);
  auto [rpn_objectness, rpn_box] = rpn->losses(rpn_output, targets, context);
  LossMap losses = {{"loss_rpn_cls", rpn_objectness}, {"loss_rpn_reg", rpn_box}};
  for (auto& loss :
       roi_heads->losses(features, rpn_output.proposals, batch.image_sizes, targets, context)) {
    losses.push_back(std::move(loss));
  }
  return losses;
}

}  // namespace mrcnn::modeling
