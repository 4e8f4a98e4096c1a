#include "mrcnn/build/model.h"

namespace mrcnn::build {
namespace {

modeling::ProposalOptions proposal_options(const config::ProposalConfig& p) {
  return {.pre_nms_top_n = p.pre_nms_top_n,
          .post_nms_top_n = p.post_nms_top_n,
          .nms_thresh = p.nms_thresh,
          .min_size = p.min_size,
          .topk_after_collect = p.topk_after_collect};
}

}  // namespace

modeling::MaskRCNNOptions model_options(const config::Config& c) {
  modeling::MaskRCNNOptions o;
  o.arithmetic = c.arithmetic == "torchvision" ? modeling::Arithmetic::kTorchvision
                                               : modeling::Arithmetic::kPaddle;
  o.resnet.depth = c.resnet.depth;
  // sync_bn builds bn: frozen, or in one process, they are the same layer; a training job
  // with several processes refuses trainable sync_bn (build/train_job.cpp).
  o.resnet.norm =
      c.resnet.norm_type == "gn" ? modeling::NormKind::kGroupNorm : modeling::NormKind::kBatchNorm;
  o.resnet.freeze_norm = c.resnet.freeze_norm;
  o.resnet.gn_groups = c.resnet.gn_groups;
  o.resnet.base_channels = c.resnet.base_channels;
  o.resnet.stride_in_1x1 = c.resnet.variant == "a";
  o.resnet.deep_stem = c.resnet.variant == "c" || c.resnet.variant == "d";
  o.resnet.average_down = c.resnet.variant == "d";
  // PaddleDetection's freeze_at counts res2 as 0 and freezes the stem with it.
  o.resnet.frozen_stages = c.resnet.freeze_at < 0 ? -1 : c.resnet.freeze_at + 1;

  o.fpn_channels = c.fpn.out_channel;
  o.channels_last = c.channels_last;
  const auto& a = c.rpn_head.anchor_generator;
  o.anchor_sizes = a.anchor_sizes;
  if (o.anchor_sizes.size() == 1) o.anchor_sizes.resize(a.strides.size(), a.anchor_sizes[0]);
  o.aspect_ratios = a.aspect_ratios;
  o.anchor_offset = a.offset;
  const auto& rpn_assign = c.rpn_head.rpn_target_assign;
  o.rpn_training = {.positive_iou = rpn_assign.positive_overlap,
                    .negative_iou = rpn_assign.negative_overlap,
                    .batch_size_per_image = rpn_assign.batch_size_per_im,
                    .positive_fraction = rpn_assign.fg_fraction,
                    .use_random = rpn_assign.use_random};
  o.train_proposals = proposal_options(c.rpn_head.train_proposal);
  o.test_proposals = proposal_options(c.rpn_head.test_proposal);

  auto& r = o.roi_heads;
  r.num_classes = c.num_classes + 1;  // and the background
  r.box_resolution = c.bbox_head.roi_extractor.resolution;
  r.mask_resolution = c.mask_head.roi_extractor.resolution;
  r.sampling_ratio = c.bbox_head.roi_extractor.sampling_ratio;
  r.aligned = c.bbox_head.roi_extractor.aligned;
  r.mask_sampling_ratio = c.mask_head.roi_extractor.sampling_ratio;
  r.mask_aligned = c.mask_head.roi_extractor.aligned;
  r.representation = c.two_fc_head.out_channel;
  r.mask_convs = c.mask_feat.num_convs;
  r.mask_channels = c.mask_feat.out_channel;
  for (std::size_t i = 0; i < 4; ++i) r.box_weights[i] = c.bbox_head.bbox_weight[i];
  r.score_thresh = c.bbox_post_process.nms.score_threshold;
  r.nms_thresh = c.bbox_post_process.nms.nms_threshold;
  r.detections_per_img = c.bbox_post_process.nms.keep_top_k;
  r.sampling = {.foreground_iou = c.bbox_assigner.fg_thresh,
                .background_iou = c.bbox_assigner.bg_thresh,
                .batch_size_per_image = c.bbox_assigner.batch_size_per_im,
                .positive_fraction = c.bbox_assigner.fg_fraction,
                .use_random = c.bbox_assigner.use_random};
  o.postprocess.mask_threshold = c.mask_post_process.binary_thresh;
  return o;
}

}  // namespace mrcnn::build
