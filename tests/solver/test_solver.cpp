// Optimiser, schedule and loss scaling, against hand-computed values.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>

#include "mrcnn/solver/amp.h"
#include "mrcnn/solver/lr_schedule.h"
#include "mrcnn/solver/optimizer.h"

namespace mrcnn::solver {
namespace {

TEST(LrSchedule, LinearWarmupThenStepDecay) {
  const LrSchedule s{.base_lr = 0.01,
                     .warmup_start_factor = 0.001,
                     .warmup_iterations = 1000,
                     .milestones = {8000, 11000},
                     .gamma = 0.1};
  EXPECT_DOUBLE_EQ(s.at(0), 0.01 * 0.001);
  EXPECT_DOUBLE_EQ(s.at(500), 0.01 * (0.001 * 0.5 + 0.5));
  EXPECT_DOUBLE_EQ(s.at(1000), 0.01);
  EXPECT_DOUBLE_EQ(s.at(7999), 0.01);
  EXPECT_NEAR(s.at(8000), 0.001, 1e-15);
  EXPECT_NEAR(s.at(11000), 0.0001, 1e-15);
}

// A conv (decayed) and a GroupNorm named like a ResNet norm layer (not decayed).
struct Tiny : torch::nn::Module {
  Tiny() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 2, 1)));
    bn1 = register_module("bn1", torch::nn::GroupNorm(1, 2));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::GroupNorm bn1{nullptr};
};

TEST(SGD, MomentumAndDecayAsPyTorchAndPaddleDefineThem) {
  Tiny model;
  SGD sgd(model, {.momentum = 0.9, .weight_decay = 0.1});
  EXPECT_TRUE(is_norm_parameter("bn1.weight", model.bn1->weight));
  EXPECT_FALSE(is_norm_parameter("conv.bias", model.conv->bias));
  const at::Tensor w0 = model.conv->weight.detach().clone();
  const at::Tensor g0 = model.bn1->weight.detach().clone();
  const at::Tensor grad = at::full_like(w0, 0.5);
  for (int step = 0; step < 2; ++step) {
    model.conv->weight.mutable_grad() = grad.clone();
    model.bn1->weight.mutable_grad() = at::full_like(g0, 0.5);
    sgd.step(0.1);
  }
  // Step 1: v1 = g + 0.1 w0; w1 = w0 - 0.1 v1. Step 2: v2 = 0.9 v1 + g + 0.1 w1; w2 = w1 - 0.1 v2.
  const at::Tensor v1 = grad + 0.1 * w0;
  const at::Tensor w1 = w0 - 0.1 * v1;
  const at::Tensor v2 = 0.9 * v1 + grad + 0.1 * w1;
  EXPECT_TRUE(at::allclose(model.conv->weight.detach(), w1 - 0.1 * v2, 1e-6, 1e-7));
  // No decay on the norm layer: v = 0.5, then 0.95.
  EXPECT_TRUE(at::allclose(model.bn1->weight.detach(), g0 - 0.1 * 0.5 - 0.1 * 0.95, 1e-6, 1e-7));

  // The momentum buffers survive a save and load by name.
  Tiny other;
  SGD restored(other, {.momentum = 0.9, .weight_decay = 0.1});
  restored.load_state(sgd.state());
  ASSERT_EQ(restored.state().size(), sgd.state().size());
  for (std::size_t i = 0; i < sgd.state().size(); ++i)
    EXPECT_TRUE(at::equal(restored.state()[i].second, sgd.state()[i].second));
}

TEST(SGD, LearningRateFactorsScaleTheStepOfTheParametersTheyName) {
  // PaddleDetection's per-parameter learning_rate: w -= lr * factor * v.
  Tiny model;
  SGD sgd(model, {.momentum = 0.9, .weight_decay = 0.0, .lr_factors = {{"conv.", 0.25}}});
  const at::Tensor w0 = model.conv->weight.detach().clone();
  const at::Tensor n0 = model.bn1->weight.detach().clone();
  model.conv->weight.mutable_grad() = at::full_like(w0, 2.0);
  model.bn1->weight.mutable_grad() = at::full_like(n0, 2.0);
  sgd.step(0.1);
  EXPECT_TRUE(at::allclose(model.conv->weight.detach(), w0 - 0.1 * 0.25 * 2.0, 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(model.bn1->weight.detach(), n0 - 0.1 * 2.0, 1e-6, 1e-7));
}

TEST(SGD, ClipsTheGlobalGradientNorm) {
  Tiny model;
  SGD sgd(model, {.momentum = 0, .weight_decay = 0, .clip_grad_norm = 1.0});
  for (auto& p : model.parameters()) p.mutable_grad() = at::full_like(p, 3.0);
  const double norm = sgd.clip_gradients().item<double>();
  int64_t n = 0;
  for (auto& p : model.parameters()) n += p.numel();
  EXPECT_NEAR(norm, 3.0 * std::sqrt(double(n)), 1e-4);
  double clipped = 0;
  for (auto& p : model.parameters()) clipped += p.grad().pow(2).sum().item<double>();
  EXPECT_NEAR(std::sqrt(clipped), 1.0, 1e-4);
}

TEST(GradScaler, SkipsOverflowingStepsAndAdaptsTheScale) {
  GradScaler scaler(c10::Device("cpu"), true, 1024.0, 2.0, 0.5, 2);
  at::Tensor p = at::ones({3}).requires_grad_(true);
  scaler.scale(p.sum()).backward();
  EXPECT_FALSE(scaler.unscale({p}));
  EXPECT_TRUE(at::allclose(p.grad(), at::ones({3})));  // unscaled
  scaler.update();
  p.mutable_grad() = at::tensor({1.f, INFINITY, 0.f});
  EXPECT_TRUE(scaler.unscale({p}));
  scaler.update();
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 512.0);  // backed off
  for (int i = 0; i < 2; ++i) {
    p.mutable_grad() = at::ones({3});
    EXPECT_FALSE(scaler.unscale({p}));
    scaler.update();
  }
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 1024.0);  // grown after 2 clean steps
  GradScaler off(c10::Device("cpu"), false);
  EXPECT_FALSE(off.unscale({p}));
  EXPECT_DOUBLE_EQ(off.current_scale(), 1.0);
}

}  // namespace
}  // namespace mrcnn::solver
