// PaddleDetection's parameter names and layouts, mapped onto ours, so that a `.pdparams` file
// of its Mask R-CNN (or of the ImageNet ResNet it starts from) loads into our modules:
//
//   backbone.conv1.conv1.{conv,norm}        -> backbone.body.conv1, bn1 (vd: conv1_1..3)
//   backbone.res2.res2a.branch2a.{conv,norm} -> backbone.body.layer1.0.conv1, bn1
//   ...short.{conv,norm} (vd: short.conv.*) -> ...downsample.0, downsample.1
//   norm.{weight,bias,_mean,_variance}     -> weight, bias, running_mean, running_var
//   neck.fpn_inner_res{2,3,4}_sum_lateral, fpn_inner_res5_sum -> backbone.fpn.inner_blocks.N.0
//   neck.fpn_res{2..5}_sum                  -> backbone.fpn.layer_blocks.N.0
//   rpn_head.rpn_feat.rpn_conv, rpn_rois_score, rpn_rois_delta -> rpn.head.conv.0.0,
//                                              cls_logits, bbox_pred
//   bbox_head.head.fc6, fc7                 -> roi_heads.box_head.fc6, fc7 (stored [in, out]:
//                                              transposed)
//   bbox_head.bbox_score [in, C+1], background LAST -> box_predictor.cls_score, background
//                                              first
//   bbox_head.bbox_delta [in, 4C], no background -> box_predictor.bbox_pred [4(C+1), in],
//                                              zero background rows
//   mask_head.head.upsample.mask_inter_feat_N, conv5_mask -> roi_heads.mask_head.(N-1).0,
//                                              mask_predictor.conv5_mask
//   mask_head.mask_fcn_logits [C], no background -> mask_predictor.mask_fcn_logits [C+1],
//                                              zero background row
//
// A backbone file without the "backbone." prefix (PaddleDetection's ImageNet weights) maps to
// backbone.body.* the same way.
#pragma once

#include <string>
#include <vector>

#include "mrcnn/io/tensor_dict.h"

namespace mrcnn::modeling {

// True when the names are PaddleDetection's (a ResNet stage "res2." or a Paddle head).
bool uses_paddle_names(const io::NamedTensors& tensors);

// Our names and layouts for Paddle's. Names it does not know are kept as they are (so that
// the load report lists them as unused) and noted in `unknown` when given.
io::NamedTensors from_paddle_names(const io::NamedTensors& tensors,
                                   std::vector<std::string>* unknown = nullptr);

}  // namespace mrcnn::modeling
