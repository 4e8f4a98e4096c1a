#include "mrcnn/modeling/build.h"

#include <variant>

namespace mrcnn::modeling {

int64_t num_model_classes(const config::Config& c) {
  // Both mappings add a background slot; with label == category id the slots run 0..num_classes.
  return c.num_classes + 1;
}

MaskRCNNOptions options_from_config(const config::Config& c) {
  MaskRCNNOptions o;
  o.resnet.depth = c.resnet.depth;
  if (c.resnet.norm_type == "gn") {
    o.resnet.norm = NormKind::kGroupNorm;
  } else {
    o.resnet.norm = c.resnet.freeze_norm ? NormKind::kFrozenBatchNorm : NormKind::kBatchNorm;
  }
  o.resnet.gn_groups = c.resnet.gn_groups;
  o.resnet.base_channels = c.resnet.base_channels;
  // PaddleDetection's freeze_at counts res2 as 0 and freezes the stem with it.
  o.resnet.frozen_stages = c.resnet.freeze_at < 0 ? -1 : c.resnet.freeze_at + 1;

  o.fpn_channels = c.fpn.out_channel;
  o.channels_last = c.channels_last;
  const auto& a = c.rpn_head.anchor_generator;
  o.anchor_sizes = a.anchor_sizes;
  o.aspect_ratios = a.aspect_ratios;
  o.anchor_offset = a.offset;
  auto proposals = [](const config::ProposalConfig& p) {
    return ProposalOptions{.pre_nms_top_n = p.pre_nms_top_n,
                           .post_nms_top_n = p.post_nms_top_n,
                           .nms_thresh = p.nms_thresh,
                           .min_size = std::max(p.min_size, 1e-3)};
  };
  const auto& rpn_assign = c.rpn_head.rpn_target_assign;
  o.rpn_training = {.positive_iou = rpn_assign.positive_overlap,
                    .negative_iou = rpn_assign.negative_overlap,
                    .batch_size_per_image = rpn_assign.batch_size_per_im,
                    .positive_fraction = rpn_assign.fg_fraction,
                    .use_random = rpn_assign.use_random};
  o.train_proposals = proposals(c.rpn_head.train_proposal);
  o.test_proposals = proposals(c.rpn_head.test_proposal);

  auto& r = o.roi_heads;
  r.num_classes = num_model_classes(c);
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

  // Inference-time transform from the EvalReader.
  for (const auto& t : c.eval_reader.sample_transforms) {
    if (const auto* resize = std::get_if<config::ResizeOp>(&t)) {
      o.transform.min_size = resize->target_size[0];
      o.transform.max_size = resize->target_size[1];
    } else if (const auto* normalize = std::get_if<config::NormalizeImageOp>(&t)) {
      const double unit = normalize->is_scale ? 1.0 : 255.0;
      for (int k = 0; k < 3; ++k) {
        o.transform.mean[k] = normalize->mean[k] / unit;
        o.transform.std[k] = normalize->std[k] / unit;
      }
    }
  }
  for (const auto& t : c.eval_reader.batch_transforms) {
    const int64_t stride = std::get<config::PadBatchOp>(t).pad_to_stride;
    if (stride > 0) o.transform.size_divisible = stride;
  }
  return o;
}

}  // namespace mrcnn::modeling
