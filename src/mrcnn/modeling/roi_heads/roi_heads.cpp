#include "mrcnn/modeling/roi_heads/roi_heads.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "mrcnn/modeling/losses.h"
#include "mrcnn/ops/nms.h"
#include "mrcnn/structures/boxes.h"

namespace mrcnn::modeling {

RoIHeadsImpl::RoIHeadsImpl(int64_t in_channels, const RoIHeadsOptions& o, Arithmetic arithmetic)
    : options_(o),
      arithmetic_(arithmetic),
      box_pooler_(o.box_resolution, o.sampling_ratio, o.aligned),
      mask_pooler_(o.mask_resolution, o.mask_sampling_ratio, o.mask_aligned),
      box_coder_(o.box_weights),
      matcher_(o.sampling.foreground_iou, o.sampling.background_iou, false),
      sampler_(o.sampling.batch_size_per_image, o.sampling.positive_fraction,
               o.sampling.use_random) {
  box_head = register_module(
      "box_head", TwoMLPHead(in_channels * o.box_resolution * o.box_resolution, o.representation));
  box_predictor =
      register_module("box_predictor", FastRCNNPredictor(o.representation, o.num_classes));
  mask_head =
      register_module("mask_head", make_mask_head(in_channels, o.mask_convs, o.mask_channels));
  const int64_t channels = o.mask_convs > 0 ? o.mask_channels : in_channels;
  mask_predictor = register_module("mask_predictor",
                                   MaskRCNNPredictor(channels, o.mask_channels, o.num_classes));
}

std::vector<structures::Instances> RoIHeadsImpl::inference(
    const std::vector<at::Tensor>& features, const std::vector<at::Tensor>& proposals,
    const std::vector<structures::ImageSize>& image_sizes) {
  const std::vector<at::Tensor> levels(features.begin(), features.begin() + 4);  // P2..P5
  const at::Tensor pooled = box_pooler_(levels, proposals, image_sizes);
  auto [class_logits, box_regression] = box_predictor->forward(box_head->forward(pooled));

  const int64_t num_classes = class_logits.size(-1);
  const at::Tensor all_proposals = at::cat(proposals, 0);
  // Post-processing in float32 even under mixed precision (fp16 boxes are off by pixels).
  const at::Tensor pred_boxes =
      box_coder_.decode(box_regression.to(at::kFloat), all_proposals);  // [R, K, 4]
  const at::Tensor pred_scores = at::softmax(class_logits.to(at::kFloat), -1);

  std::vector<structures::Instances> results;
  int64_t offset = 0;
  for (std::size_t i = 0; i < proposals.size(); ++i) {
    const int64_t n = proposals[i].size(0);
    at::Tensor boxes = structures::clip_boxes_to_image(pred_boxes.narrow(0, offset, n),
                                                       image_sizes[i][0], image_sizes[i][1]);
    at::Tensor scores = pred_scores.narrow(0, offset, n);
    offset += n;
    at::Tensor labels =
        at::arange(num_classes, scores.options().dtype(at::kLong)).view({1, -1}).expand_as(scores);
    // Drop the background column, then flatten (proposal-major, class-minor).
    boxes = boxes.slice(1, 1).reshape({n * (num_classes - 1), 4});  // n may be 0
    scores = scores.slice(1, 1).reshape(-1);
    labels = labels.slice(1, 1).reshape(-1);
    // Low scores and small boxes leave in one selection: one wait for a GPU, not two.
    at::Tensor selected = scores > options_.score_thresh;
    if (arithmetic_ == Arithmetic::kTorchvision) {
      selected = selected.logical_and(structures::large_enough(boxes, options_.min_box_size));
    }
    at::Tensor keep = at::where(selected)[0];
    boxes = boxes.index_select(0, keep);
    scores = scores.index_select(0, keep);
    labels = labels.index_select(0, keep);
    keep = ops::batched_nms(boxes, scores, labels, options_.nms_thresh);
    keep = keep.slice(0, 0, std::min<int64_t>(keep.size(0), options_.detections_per_img));
    structures::Instances detections;
    detections.boxes = boxes.index_select(0, keep);
    detections.scores = scores.index_select(0, keep);
    detections.labels = labels.index_select(0, keep);
    results.push_back(std::move(detections));
  }

  // Masks for the kept boxes, of the predicted class.
  std::vector<at::Tensor> kept_boxes;
  for (const auto& r : results) kept_boxes.push_back(r.boxes);
  const at::Tensor mask_features =
      mask_head->forward(mask_pooler_(levels, kept_boxes, image_sizes));
  const at::Tensor mask_probs = at::sigmoid(mask_predictor->forward(mask_features).to(at::kFloat));
  offset = 0;
  for (auto& r : results) {
    const int64_t n = r.boxes.size(0);
    const at::Tensor probs = mask_probs.narrow(0, offset, n);
    r.mask_probs = probs.index({at::arange(n, r.labels.options()), r.labels}).unsqueeze(1);
    offset += n;
  }
  return results;
}

LossMap RoIHeadsImpl::losses(const std::vector<at::Tensor>& features,
                             const std::vector<at::Tensor>& proposals,
                             const std::vector<structures::ImageSize>& image_sizes,
                             const std::vector<structures::Instances>& targets,
                             TrainingContext& context) {
  const std::vector<at::Tensor> levels(features.begin(), features.begin() + 4);  // P2..P5
  std::vector<at::Tensor> rois, labels, regression;
  std::vector<at::Tensor> foreground_rois, foreground_matched, gt_masks, gt_labels;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const structures::Instances& t = targets[i];
    const at::Tensor gt_boxes = t.boxes.to(proposals[i].scalar_type());
    // The ground-truth boxes join the proposals, so every object has a perfect RoI early on.
    const at::Tensor candidates =
        at::cat({proposals[i], gt_boxes.index_select(0, structures::regular_indices(t))});
    const MatchResult match =
        match_predictions(matcher_, t, candidates, options_.sampling.background_iou);
    const SampledIndices sampled = sampler_(match.labels, context.generators[i]);
    const int64_t num_positive = sampled.positive.numel();
    const at::Tensor chosen = at::cat({sampled.positive, sampled.negative});
    const at::Tensor boxes = candidates.index_select(0, chosen);
    const at::Tensor matched = match.matched.index_select(0, chosen);
    at::Tensor classes = at::zeros_like(matched);
    at::Tensor deltas = at::zeros_like(boxes);
    if (t.boxes.size(0) > 0) {
      classes.slice(0, 0, num_positive)
          .copy_(t.labels.index_select(0, matched.slice(0, 0, num_positive)));
      deltas = box_coder_.encode(gt_boxes.index_select(0, matched), boxes);
    }
    rois.push_back(boxes);
    labels.push_back(classes);
    regression.push_back(deltas);
    foreground_rois.push_back(boxes.slice(0, 0, num_positive));
    foreground_matched.push_back(matched.slice(0, 0, num_positive));
    gt_masks.push_back(t.masks);
    gt_labels.push_back(t.labels);
  }

  const at::Tensor pooled = box_pooler_(levels, rois, image_sizes);
  auto [class_logits, box_regression] = box_predictor->forward(box_head->forward(pooled));
  auto [classification, box] =
      fast_rcnn_loss(class_logits, box_regression, at::cat(labels), at::cat(regression),
                     context.mean_count(static_cast<double>(class_logits.size(0))),
                     arithmetic_ == Arithmetic::kPaddle ? BoxLoss::kL1 : BoxLoss::kSmoothL1);

  const at::Tensor mask_logits = mask_predictor->forward(
      mask_head->forward(mask_pooler_(levels, foreground_rois, image_sizes)));
  const int64_t target_size = mask_logits.size(-1);
  std::vector<at::Tensor> mask_targets, mask_labels;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const structures::Instances& t = targets[i];
    // PaddleDetection rasterises each object's polygons within its RoI; objects given as RLE
    // (which PaddleDetection cannot train on) and torchvision's arithmetic crop the masks.
    const bool from_polygons =
        arithmetic_ == Arithmetic::kPaddle && !t.polygons.empty() &&
        std::all_of(t.polygons.begin(), t.polygons.end(),
                    [](const structures::Polygons& p) { return !p.empty(); });
    mask_targets.push_back(from_polygons
                               ? rasterize_polygons_in_boxes(t.polygons, foreground_rois[i],
                                                             foreground_matched[i], target_size)
                               : project_masks_on_boxes(gt_masks[i], foreground_rois[i],
                                                        foreground_matched[i], target_size));
    mask_labels.push_back(gt_labels[i].index_select(0, foreground_matched[i]));
  }
  const at::Tensor mask = mask_loss(mask_logits, at::cat(mask_targets), at::cat(mask_labels),
                                    context.mean_count(static_cast<double>(mask_logits.size(0))));
  return {{"loss_bbox_cls", classification}, {"loss_bbox_reg", box}, {"loss_mask", mask}};
}

}  // namespace mrcnn::modeling
