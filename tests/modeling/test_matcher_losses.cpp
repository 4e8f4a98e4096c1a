// Matcher sentinels and the losses' behaviour without positives (hand-checked cases).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "mrcnn/modeling/losses.h"
#include "mrcnn/modeling/matcher.h"

namespace mrcnn::modeling {
namespace {

TEST(Matcher, ThresholdsSentinelsAndLowQualityMatches) {
  // 2 ground truths x 4 predictions.
  const at::Tensor quality =
      at::tensor({0.9f, 0.5f, 0.1f, 0.2f, 0.1f, 0.6f, 0.2f, 0.25f}).view({2, 4});
  const Matcher strict(0.7, 0.3, false);
  EXPECT_TRUE(at::equal(strict(quality), at::tensor({0L, -2L, -1L, -1L})));
  // Ground truth 1's best prediction (1, IoU 0.6) is kept although below 0.7.
  const Matcher lenient(0.7, 0.3, true);
  EXPECT_TRUE(at::equal(lenient(quality), at::tensor({0L, 1L, -1L, -1L})));
  // No ground truth: everything is background.
  EXPECT_TRUE(at::equal(lenient(at::empty({0, 3})), at::tensor({-1L, -1L, -1L})));
}

TEST(Losses, NoForegroundStillGivesEveryLossAsAZeroWithAGradient) {
  const at::Tensor class_logits = at::randn({8, 4}).requires_grad_(true);
  const at::Tensor box_regression = at::randn({8, 16}).requires_grad_(true);
  auto [classification, box] =
      fast_rcnn_loss(class_logits, box_regression, at::zeros({8}, at::kLong), at::zeros({8, 4}));
  EXPECT_GT(classification.item<float>(), 0.f);
  EXPECT_EQ(box.item<float>(), 0.f);

  const at::Tensor mask_logits = at::randn({0, 4, 28, 28}).requires_grad_(true);
  const at::Tensor mask = mask_rcnn_loss(mask_logits, {at::empty({0, 4})}, {at::zeros({1, 10, 10})},
                                         {at::ones({1}, at::kLong)}, {at::empty({0}, at::kLong)});
  EXPECT_EQ(mask.item<float>(), 0.f);
  mask.backward();  // part of the graph, so every step has the same losses
  EXPECT_TRUE(mask_logits.grad().defined());
}

}  // namespace
}  // namespace mrcnn::modeling
