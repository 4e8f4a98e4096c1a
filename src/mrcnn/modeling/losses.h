// The training losses of Mask R-CNN, with torchvision's definitions (so they equal its values
// on the same inputs): RPN objectness + box, Fast R-CNN classification + box, mask BCE. The
// box losses are smooth L1 as torchvision's or L1 as PaddleDetection's.
//
// Each is a sum divided by a count (sampled anchors, sampled RoIs, foreground RoIs). A
// `normaliser` > 0 replaces the local count: data-parallel ranks pass the mean count over all
// ranks, so that the averaged gradients equal those of one process with the whole batch.
#pragma once

#include <ATen/core/Tensor.h>

#include <utility>
#include <vector>

#include "mrcnn/structures/instances.h"

namespace mrcnn::modeling {

enum class BoxLoss {
  kSmoothL1,  // beta 1/9: torchvision, detectron2
  kL1,        // PaddleDetection's RPNHead and BBoxHead without a configured loss
};

// objectness [A] logits, deltas [A, 4], labels [A] (1 fg, 0 bg, other ignored), targets [A, 4],
// sampled positive / negative anchor indices. Box loss summed over the positives; both divided
// by the number of sampled anchors (or the normaliser).
std::pair<at::Tensor, at::Tensor> rpn_loss(const at::Tensor& objectness, const at::Tensor& deltas,
                                           const at::Tensor& labels, const at::Tensor& targets,
                                           const at::Tensor& sampled_positive,
                                           const at::Tensor& sampled_negative,
                                           double normaliser = 0,
                                           BoxLoss box_loss = BoxLoss::kSmoothL1);

// class_logits [R, K], box_regression [R, 4K], labels [R] (0 = background), targets [R, 4].
// Classification: cross entropy; box: the box loss on the labelled class of foreground RoIs,
// summed and divided by R.
std::pair<at::Tensor, at::Tensor> fast_rcnn_loss(const at::Tensor& class_logits,
                                                 const at::Tensor& box_regression,
                                                 const at::Tensor& labels,
                                                 const at::Tensor& targets, double normaliser = 0,
                                                 BoxLoss box_loss = BoxLoss::kSmoothL1);

// Mask targets: each ground-truth mask [G, H, W] cropped to its matched foreground proposal
// and resampled to M x M with RoIAlign (scale 1, sampling ratio 0... as torchvision).
at::Tensor project_masks_on_boxes(const at::Tensor& gt_masks, const at::Tensor& boxes,
                                  const at::Tensor& matched, int64_t resolution);

// PaddleDetection's mask targets: each RoI's matched object polygons moved into the box,
// scaled to M x M and rasterised as COCO rasterises polygons (its
// rasterize_polygons_within_box). boxes [P, 4], matched [P] indices into `polygons`, every
// one of which must be non-empty. float [P, M, M] on the boxes' device.
at::Tensor rasterize_polygons_in_boxes(const std::vector<structures::Polygons>& polygons,
                                       const at::Tensor& boxes, const at::Tensor& matched,
                                       int64_t resolution);

// Binary cross entropy of each foreground RoI's logits for its label against its target,
// averaged over pixels: mask_logits [R, K, M, M], targets [R, M, M], labels [R].
at::Tensor mask_loss(const at::Tensor& mask_logits, const at::Tensor& targets,
                     const at::Tensor& labels, double normaliser = 0);

// mask_logits [R, K, M, M] for the foreground RoIs of all images; per image: foreground
// proposals [P, 4], gt masks [G, H, W], gt labels [G] and each proposal's matched gt index [P].
at::Tensor mask_rcnn_loss(const at::Tensor& mask_logits, const std::vector<at::Tensor>& proposals,
                          const std::vector<at::Tensor>& gt_masks,
                          const std::vector<at::Tensor>& labels,
                          const std::vector<at::Tensor>& matched, double normaliser = 0);

}  // namespace mrcnn::modeling
