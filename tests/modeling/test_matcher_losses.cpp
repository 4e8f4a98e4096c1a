// Matcher sentinels and the losses' behaviour without positives (hand-checked cases).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <limits>

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

TEST(Losses, BoxLossSumsForegroundRoIsOnlyWhateverTheBackgroundTargets) {
  at::manual_seed(0);
  const at::Tensor box_regression = at::randn({4, 12}).requires_grad_(true);  // 3 classes
  const at::Tensor labels = at::tensor({2L, 0L, 1L, 0L});
  const at::Tensor targets = at::randn({4, 4});
  targets[1].fill_(std::numeric_limits<float>::quiet_NaN());  // a background row: never read
  auto [classification, box] = fast_rcnn_loss(at::randn({4, 3}), box_regression, labels, targets);
  // By hand: smooth L1 (beta 1/9) of RoI 0's class-2 deltas and RoI 2's class-1 deltas, over
  // the 4 RoIs.
  const auto smooth_l1 = [](const at::Tensor& diff) {
    const at::Tensor d = diff.abs();
    return at::where(d < 1.0 / 9, 4.5 * d * d, d - 0.5 / 9).sum().item<double>();
  };
  const at::Tensor deltas = box_regression.detach();
  const double expected = (smooth_l1(deltas[0].slice(0, 8, 12) - targets[0]) +
                           smooth_l1(deltas[2].slice(0, 4, 8) - targets[2])) /
                          4;
  EXPECT_NEAR(box.item<double>(), expected, 1e-6);
  box.backward();
  EXPECT_TRUE(at::isfinite(box_regression.grad()).all().item<bool>());
  EXPECT_EQ(box_regression.grad()[1].abs().sum().item<float>(), 0.f);
  EXPECT_EQ(box_regression.grad()[0].slice(0, 0, 8).abs().sum().item<float>(), 0.f);
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
