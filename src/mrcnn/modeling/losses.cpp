#include "mrcnn/modeling/losses.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "mrcnn/coco/rle.h"
#include "mrcnn/modeling/training_context.h"
#include "mrcnn/ops/roi_align.h"

namespace mrcnn::modeling {
namespace {

constexpr double kSmoothL1Beta = 1.0 / 9;

at::Tensor box_loss_sum(const at::Tensor& input, const at::Tensor& target, BoxLoss kind) {
  if (kind == BoxLoss::kL1) return at::l1_loss(input, target, at::Reduction::Sum);
  return at::smooth_l1_loss(input, target, at::Reduction::Sum, kSmoothL1Beta);
}

}  // namespace

std::pair<at::Tensor, at::Tensor> rpn_loss(const at::Tensor& objectness, const at::Tensor& deltas,
                                           const at::Tensor& labels, const at::Tensor& targets,
                                           const at::Tensor& sampled_positive,
                                           const at::Tensor& sampled_negative, double normaliser,
                                           BoxLoss kind) {
  const at::Tensor sampled = at::cat({sampled_positive, sampled_negative});
  const double n = normaliser > 0 ? normaliser : std::max<double>(sampled.numel(), 1);
  const at::Tensor box_loss = box_loss_sum(deltas.index_select(0, sampled_positive),
                                           targets.index_select(0, sampled_positive), kind) /
                              n;
  const at::Tensor objectness_loss =
      at::binary_cross_entropy_with_logits(
          objectness.flatten().index_select(0, sampled),
          labels.index_select(0, sampled).to(objectness.scalar_type()), {}, {},
          at::Reduction::Sum) /
      n;
  return {objectness_loss, box_loss};
}

std::pair<at::Tensor, at::Tensor> fast_rcnn_loss(const at::Tensor& class_logits,
                                                 const at::Tensor& box_regression,
                                                 const at::Tensor& labels,
                                                 const at::Tensor& targets, double normaliser,
                                                 BoxLoss kind) {
  const double count = normaliser > 0 ? normaliser : static_cast<double>(labels.numel());
  const at::Tensor classification =
      at::cross_entropy_loss(class_logits, labels, {}, at::Reduction::Sum) / count;
  // Every RoI's deltas for its own class, the background's zeroed on both sides: the same sum
  // as over the foreground RoIs alone, without a GPU wait to learn how many there are.
  const int64_t n = class_logits.size(0);
  const at::Tensor per_class = box_regression.reshape({n, box_regression.size(-1) / 4, 4});
  const at::Tensor chosen = per_class.index({at::arange(n, labels.options()), labels});
  const at::Tensor foreground = (labels > 0).unsqueeze(1);
  const at::Tensor box =
      box_loss_sum(at::where(foreground, chosen, 0), at::where(foreground, targets, 0), kind) /
      count;
  return {classification, box};
}

at::Tensor total_loss(const LossMap& losses) {
  TORCH_CHECK(!losses.empty(), "no losses");
  at::Tensor total = losses.front().second;
  for (std::size_t i = 1; i < losses.size(); ++i) total = total + losses[i].second;
  return total;
}

at::Tensor project_masks_on_boxes(const at::Tensor& gt_masks, const at::Tensor& boxes,
                                  const at::Tensor& matched, int64_t resolution) {
  const at::Tensor rois = at::cat({matched.to(boxes.scalar_type()).unsqueeze(1), boxes}, 1);
  const ops::RoIAlignOptions o{resolution, resolution, 1.0, 0, false};
  return ops::roi_align_forward(gt_masks.unsqueeze(1).to(rois.scalar_type()), rois, o).select(1, 0);
}

at::Tensor rasterize_polygons_in_boxes(const std::vector<structures::Polygons>& polygons,
                                       const at::Tensor& boxes, const at::Tensor& matched,
                                       int64_t resolution) {
  const at::Tensor host_boxes = boxes.to(at::kFloat).cpu().contiguous();
  const at::Tensor host_matched = matched.to(at::kLong).cpu().contiguous();
  const int64_t count = host_boxes.size(0);
  const auto side = static_cast<uint32_t>(resolution);
  at::Tensor targets = at::zeros({count, resolution, resolution}, at::kByte);
  for (int64_t i = 0; i < count; ++i) {
    const float* b = host_boxes.data_ptr<float>() + 4 * i;
    const structures::Polygons& object = polygons.at(host_matched.data_ptr<int64_t>()[i]);
    TORCH_CHECK(!object.empty(), "rasterize_polygons_in_boxes: RoI ", i, " has no polygons");
    // The box's size in float32, the scale in double: PaddleDetection's numpy arithmetic.
    const float w = b[2] - b[0], h = b[3] - b[1];
    const double ratio_w = double(resolution) / std::max(double(w), 0.1);
    const double ratio_h = double(resolution) / std::max(double(h), 0.1);
    structures::Polygons moved = object;
    for (std::vector<double>& polygon : moved) {
      for (std::size_t k = 0; k + 1 < polygon.size(); k += 2) {
        polygon[k] = (polygon[k] - double(b[0])) * ratio_w;
        polygon[k + 1] = (polygon[k + 1] - double(b[1])) * ratio_h;
      }
    }
    coco::rle_decode_row_major(coco::rle_from_polygons(moved, side, side),
                               targets[i].data_ptr<uint8_t>());
  }
  return targets.to(boxes.device()).to(boxes.scalar_type());
}

at::Tensor mask_loss(const at::Tensor& mask_logits, const at::Tensor& targets,
                     const at::Tensor& labels, double normaliser) {
  // No foreground RoI: a zero that still depends on the logits, so every step has this loss.
  if (targets.numel() == 0) return mask_logits.sum() * 0;
  const int64_t resolution = mask_logits.size(-1);
  const at::Tensor chosen =
      mask_logits.index({at::arange(labels.size(0), labels.options()), labels});
  const double count = (normaliser > 0 ? normaliser : static_cast<double>(labels.size(0))) *
                       static_cast<double>(resolution * resolution);
  return at::binary_cross_entropy_with_logits(chosen, targets.to(chosen.scalar_type()), {}, {},
                                              at::Reduction::Sum) /
         count;
}

at::Tensor mask_rcnn_loss(const at::Tensor& mask_logits, const std::vector<at::Tensor>& proposals,
                          const std::vector<at::Tensor>& gt_masks,
                          const std::vector<at::Tensor>& labels,
                          const std::vector<at::Tensor>& matched, double normaliser) {
  const int64_t resolution = mask_logits.size(-1);
  std::vector<at::Tensor> targets, all_labels;
  for (std::size_t i = 0; i < proposals.size(); ++i) {
    targets.push_back(project_masks_on_boxes(gt_masks[i], proposals[i], matched[i], resolution));
    all_labels.push_back(labels[i].index_select(0, matched[i]));
  }
  return mask_loss(mask_logits, at::cat(targets), at::cat(all_labels), normaliser);
}

}  // namespace mrcnn::modeling
