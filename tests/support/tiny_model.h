// Test support: a Mask R-CNN small enough to train a step in well under a second on a CPU
// (ResNet-18 at an eighth of the width, GroupNorm, narrow heads), for num_classes classes.
#pragma once

#include "mrcnn/modeling/mask_rcnn.h"

namespace mrcnn::testing {

inline modeling::MaskRCNNOptions tiny_model_options(int64_t num_classes) {
  modeling::MaskRCNNOptions o;
  o.resnet.depth = 18;
  o.resnet.base_channels = 8;
  o.resnet.norm = modeling::NormKind::kGroupNorm;
  o.resnet.freeze_norm = false;
  o.resnet.gn_groups = 4;
  o.resnet.frozen_stages = -1;
  o.fpn_channels = 16;
  o.roi_heads.num_classes = num_classes + 1;
  o.roi_heads.representation = 32;
  o.roi_heads.mask_convs = 1;
  o.roi_heads.mask_channels = 8;
  o.roi_heads.sampling.batch_size_per_image = 32;
  o.train_proposals = {.pre_nms_top_n = 100, .post_nms_top_n = 50};
  return o;
}

}  // namespace mrcnn::testing
