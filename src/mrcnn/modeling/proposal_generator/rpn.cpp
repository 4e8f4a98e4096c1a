#include "mrcnn/modeling/proposal_generator/rpn.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>

#include "mrcnn/modeling/layers.h"
#include "mrcnn/modeling/losses.h"
#include "mrcnn/ops/nms.h"
#include "mrcnn/structures/boxes.h"

namespace mrcnn::modeling {

RPNHeadImpl::RPNHeadImpl(int64_t in_channels, int64_t num_anchors) {
  // torchvision nests the 3x3 conv as conv.0.0 (a Conv2dNormActivation inside a Sequential).
  conv = register_module(
      "conv",
      torch::nn::Sequential(ConvBlock(
          torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, in_channels, 3).padding(1)),
          torch::nn::ReLU())));
  cls_logits = register_module(
      "cls_logits", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, num_anchors, 1)));
  bbox_pred = register_module(
      "bbox_pred", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, num_anchors * 4, 1)));
  for (auto& p : named_parameters()) {
    if (p.key().find("weight") != std::string::npos) {
      torch::nn::init::normal_(p.value(), 0.0, 0.01);
    } else {
      torch::nn::init::zeros_(p.value());
    }
  }
}

std::pair<std::vector<at::Tensor>, std::vector<at::Tensor>> RPNHeadImpl::forward(
    const std::vector<at::Tensor>& features) {
  std::vector<at::Tensor> logits, deltas;
  for (const auto& f : features) {
    const at::Tensor t = conv->forward(f);
    logits.push_back(cls_logits(t));
    deltas.push_back(bbox_pred(t));
  }
  return {logits, deltas};
}

namespace {

// [N, A*C, H, W] -> [N, H*W*A, C]: anchors ordered by cell, then anchor, as the generator.
at::Tensor permute_and_flatten(const at::Tensor& x, int64_t c) {
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  return x.view({n, -1, c, h, w}).permute({0, 3, 4, 1, 2}).reshape({n, -1, c});
}

// `keep` (score order) less what goes beyond each level's first `per_level` entries.
at::Tensor cap_per_level(const at::Tensor& keep, const at::Tensor& levels, int64_t num_levels,
                         int64_t per_level) {
  const at::Tensor level = levels.index_select(0, keep);
  const at::Tensor one_hot =
      (level.unsqueeze(1) == at::arange(num_levels, level.options())).to(at::kLong);
  const at::Tensor rank_in_level = (one_hot.cumsum(0) * one_hot).sum(1) - 1;
  return keep.index_select(0, at::where(rank_in_level < per_level)[0]);
}

}  // namespace

RegionProposalNetworkImpl::RegionProposalNetworkImpl(AnchorGenerator anchors, int64_t in_channels,
                                                     ProposalOptions train, ProposalOptions test,
                                                     RPNTrainingOptions training,
                                                     Arithmetic arithmetic)
    : anchor_generator_(std::move(anchors)),
      train_(train),
      test_(test),
      batch_size_per_image_(training.batch_size_per_image),
      arithmetic_(arithmetic),
      matcher_(training.positive_iou, training.negative_iou, true,
               /*low_quality_needs_overlap=*/arithmetic == Arithmetic::kPaddle),
      sampler_(training.batch_size_per_image, training.positive_fraction, training.use_random) {
  head = register_module("head", RPNHead(in_channels, anchor_generator_.anchors_per_location()));
}

RPNOutput RegionProposalNetworkImpl::forward(const std::vector<at::Tensor>& features,
                                             const std::vector<structures::ImageSize>& image_sizes,
                                             int64_t batch_height, int64_t batch_width,
                                             bool training) {
  const ProposalOptions& o = training ? train_ : test_;
  auto [logits, deltas] = head->forward(features);
  const int64_t num_images = features.front().size(0);
  const at::Tensor anchors = anchor_generator_.grid_anchors(features, batch_height, batch_width);
  const std::vector<int64_t> per_level = anchor_generator_.anchors_per_level(features);

  std::vector<at::Tensor> flat_logits, flat_deltas;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    flat_logits.push_back(permute_and_flatten(logits[i], 1));
    flat_deltas.push_back(permute_and_flatten(deltas[i], 4));
  }
  RPNOutput out;
  out.objectness = at::cat(flat_logits, 1).reshape({-1, 1});
  out.deltas = at::cat(flat_deltas, 1).reshape({-1, 4});
  out.anchors = anchors;

  const at::Tensor all_anchors = anchors.repeat({num_images, 1});
  // Proposals are selected in float32 even under mixed precision: decoded fp16 boxes would be
  // off by several pixels on large images.
  const at::Tensor proposals =
      box_coder_.decode(out.deltas.detach().to(at::kFloat), all_anchors).view({num_images, -1, 4});
  const at::Tensor objectness = out.objectness.detach().to(at::kFloat).reshape({num_images, -1});

  // Top-k per level.
  std::vector<at::Tensor> top_idx, level_ids;
  int64_t offset = 0;
  for (std::size_t level = 0; level < per_level.size(); ++level) {
    const at::Tensor ob = objectness.narrow(1, offset, per_level[level]);
    const int64_t k = std::min(o.pre_nms_top_n, per_level[level]);
    top_idx.push_back(std::get<1>(ob.topk(k, 1)) + offset);
    level_ids.push_back(
        at::full({k}, static_cast<int64_t>(level), objectness.options().dtype(at::kLong)));
    offset += per_level[level];
  }
  const at::Tensor idx = at::cat(top_idx, 1);
  const at::Tensor levels = at::cat(level_ids, 0);
  const at::Tensor batch = at::arange(num_images, idx.options()).unsqueeze(1);
  const at::Tensor top_scores = at::sigmoid(objectness.index({batch, idx}));
  const at::Tensor top_boxes = proposals.index({batch, idx});

  for (int64_t i = 0; i < num_images; ++i) {
    at::Tensor boxes =
        structures::clip_boxes_to_image(top_boxes[i], image_sizes[i][0], image_sizes[i][1]);
    at::Tensor scores = top_scores[i];
    at::Tensor lvl = levels;
    // Small boxes and NaN scores leave in one selection: one wait for a GPU, not two.
    // PaddleDetection's generate_proposals drops boxes under 1 px whatever min_size says.
    const double min_size =
        arithmetic_ == Arithmetic::kPaddle ? std::max(o.min_size, 1.0) : o.min_size;
    at::Tensor keep = at::where(
        structures::large_enough(boxes, min_size).logical_and(at::isnan(scores).logical_not()))[0];
    boxes = boxes.index_select(0, keep);
    scores = scores.index_select(0, keep);
    lvl = lvl.index_select(0, keep);
    keep = ops::batched_nms(boxes, scores, lvl, o.nms_thresh);
    // A level can only hold more than post_nms_top_n when it had more candidates.
    if (!o.topk_after_collect && o.pre_nms_top_n > o.post_nms_top_n) {
      keep = cap_per_level(keep, lvl, static_cast<int64_t>(per_level.size()), o.post_nms_top_n);
    }
    keep = keep.slice(0, 0, std::min<int64_t>(keep.size(0), o.post_nms_top_n));
    out.proposals.push_back(boxes.index_select(0, keep));
    out.scores.push_back(scores.index_select(0, keep));
  }
  return out;
}

std::pair<at::Tensor, at::Tensor> RegionProposalNetworkImpl::losses(
    const RPNOutput& output, const std::vector<structures::Instances>& targets,
    TrainingContext& context) const {
  const at::Tensor& anchors = output.anchors;
  const int64_t per_image = anchors.size(0);
  std::vector<at::Tensor> labels, regression, positive, negative;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const MatchResult match =
        match_predictions(matcher_, targets[i], anchors, matcher_.low_threshold());
    labels.push_back(match.labels);
    regression.push_back(
        targets[i].boxes.size(0) > 0
            ? box_coder_.encode(targets[i].boxes.index_select(0, match.matched).to(anchors.dtype()),
                                anchors)
            : at::zeros_like(anchors));
    const SampledIndices sampled = sampler_(match.labels, context.generators[i]);
    const int64_t offset = static_cast<int64_t>(i) * per_image;
    positive.push_back(sampled.positive + offset);
    negative.push_back(sampled.negative + offset);
  }
  const at::Tensor sampled_positive = at::cat(positive), sampled_negative = at::cat(negative);
  const bool paddle = arithmetic_ == Arithmetic::kPaddle;
  // PaddleDetection divides by the number of anchors it would sample, whether there were that
  // many or not.
  const double count =
      paddle ? static_cast<double>(batch_size_per_image_ * static_cast<int64_t>(targets.size()))
             : static_cast<double>(sampled_positive.numel() + sampled_negative.numel());
  return rpn_loss(output.objectness, output.deltas, at::cat(labels), at::cat(regression),
                  sampled_positive, sampled_negative, context.mean_count(std::max(count, 1.0)),
                  paddle ? BoxLoss::kL1 : BoxLoss::kSmoothL1);
}

}  // namespace mrcnn::modeling
