// The training losses of Mask R-CNN, with torchvision's definitions (so they equal its values
// on the same inputs): RPN objectness + box, Fast R-CNN classification + box, mask BCE.
//
// Each is a sum divided by a count (sampled anchors, sampled RoIs, foreground RoIs). A
// `normaliser` > 0 replaces the local count: data-parallel ranks pass the mean count over all
// ranks, so that the averaged gradients equal those of one process with the whole batch.
#pragma once

#include <ATen/core/Tensor.h>

#include <utility>
#include <vector>

namespace mrcnn::modeling {

// objectness [A] logits, deltas [A, 4], labels [A] (1 fg, 0 bg, other ignored), targets [A, 4],
// sampled positive / negative anchor indices. Box loss: smooth L1 (beta 1/9) summed over the
// positives and divided by the number of sampled anchors.
std::pair<at::Tensor, at::Tensor> rpn_loss(const at::Tensor& objectness, const at::Tensor& deltas,
                                           const at::Tensor& labels, const at::Tensor& targets,
                                           const at::Tensor& sampled_positive,
                                           const at::Tensor& sampled_negative,
                                           double normaliser = 0);

// class_logits [R, K], box_regression [R, 4K], labels [R] (0 = background), targets [R, 4].
// Classification: cross entropy; box: smooth L1 (beta 1/9) on the labelled class of foreground
// RoIs, summed and divided by R.
std::pair<at::Tensor, at::Tensor> fast_rcnn_loss(const at::Tensor& class_logits,
                                                 const at::Tensor& box_regression,
                                                 const at::Tensor& labels,
                                                 const at::Tensor& targets, double normaliser = 0);

// Mask targets: each ground-truth mask [G, H, W] cropped to its matched foreground proposal
// and resampled to M x M with RoIAlign (scale 1, sampling ratio 0... as torchvision).
at::Tensor project_masks_on_boxes(const at::Tensor& gt_masks, const at::Tensor& boxes,
                                  const at::Tensor& matched, int64_t resolution);

// mask_logits [R, K, M, M] for the foreground RoIs of all images; per image: foreground
// proposals [P, 4], gt masks [G, H, W], gt labels [G] and each proposal's matched gt index [P].
at::Tensor mask_rcnn_loss(const at::Tensor& mask_logits, const std::vector<at::Tensor>& proposals,
                          const std::vector<at::Tensor>& gt_masks,
                          const std::vector<at::Tensor>& labels,
                          const std::vector<at::Tensor>& matched, double normaliser = 0);

}  // namespace mrcnn::modeling
