// Optimiser, schedule, loss scaling and checkpoints, against hand-computed values.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>

#include <unistd.h>

#include <filesystem>

#include "mrcnn/common/error.h"
#include "mrcnn/engine/amp.h"
#include "mrcnn/engine/checkpoint.h"
#include "mrcnn/engine/gradient_reducer.h"
#include "mrcnn/engine/lr_schedule.h"
#include "mrcnn/engine/optimizer.h"
#include "mrcnn/io/safetensors.h"
#include "mrcnn/visualization/plot.h"

namespace mrcnn::engine {
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

TEST(Checkpoint, RoundTripAndATornPairIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("mrcnn_checkpoint_test_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  Tiny model;
  const TrainerPosition position{
      .epoch = 3, .batch = 7, .iteration = 52, .best_ap = 0.25, .best_epoch = 1};
  const io::NamedTensors state = {{"momentum.conv.weight", at::randn({2, 1, 1, 1})}};
  save_checkpoint((dir / "last").string(), model, state, position);
  const Checkpoint loaded = load_checkpoint((dir / "last.safetensors").string());
  EXPECT_EQ(loaded.position.epoch, 3);
  EXPECT_EQ(loaded.position.batch, 7);
  EXPECT_EQ(loaded.position.iteration, 52);
  EXPECT_DOUBLE_EQ(loaded.position.best_ap, 0.25);
  ASSERT_EQ(loaded.state.size(), 1u);
  EXPECT_TRUE(at::equal(loaded.state[0].second, state[0].second));
  ASSERT_EQ(loaded.weights.size(), model_state(model).size());

  // New state beside old weights (a crash between the two renames) is detected.
  TrainerPosition later = position;
  later.iteration = 60;
  save_checkpoint((dir / "other").string(), model, state, later);
  std::filesystem::copy_file(dir / "other.state.safetensors", dir / "last.state.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  try {
    load_checkpoint((dir / "last").string());
    FAIL() << "a torn checkpoint loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("incomplete checkpoint"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_checkpoint((dir / "missing").string()), Error);
  std::filesystem::remove_all(dir);
}

TEST(GradientReducer, BucketsGradientsAsTheyArriveAndFillsInUnusedParameters) {
  // A world of one: the mean over ranks is the gradient itself, which checks the bucketing,
  // the hooks and the copy back; several ranks are covered by tests/cli/test_distributed.py.
  const auto group = ProcessGroup::create({}, c10::Device("cpu"), "auto", std::chrono::seconds(5));
  std::vector<at::Tensor> parameters = {at::randn({3, 4}).requires_grad_(true),
                                        at::randn({5}).requires_grad_(true),
                                        at::randn({2, 2}).requires_grad_(true)};
  GradientReducer reducer(*group, parameters, /*bucket_bytes=*/64);
  EXPECT_EQ(reducer.bucket_count(), 2);  // {third, second}: 36 bytes; the first (48) alone
  for (int step = 0; step < 2; ++step) {
    for (auto& p : parameters) p.mutable_grad() = at::Tensor();
    reducer.begin();
    // The third parameter takes no part in this graph.
    ((parameters[0] * 2).sum() + (parameters[1] * parameters[1]).sum()).backward();
    // The bucket with the unused parameter holds back every bucket after it, so that all
    // ranks start their collectives in the same order.
    EXPECT_EQ(reducer.buckets_started(), 0);
    reducer.finish();
    EXPECT_TRUE(at::allclose(parameters[0].grad(), at::full({3, 4}, 2.0)));
    EXPECT_TRUE(at::allclose(parameters[1].grad(), 2 * parameters[1].detach()));
    EXPECT_TRUE(at::equal(parameters[2].grad(), at::zeros({2, 2})));
  }
  // With every parameter in the graph, both all-reduces start during the backward pass.
  for (auto& p : parameters) p.mutable_grad() = at::Tensor();
  reducer.begin();
  (parameters[0].sum() + parameters[1].sum() + parameters[2].sum()).backward();
  EXPECT_EQ(reducer.buckets_started(), 2);
  reducer.finish();
  EXPECT_TRUE(at::equal(parameters[2].grad(), at::ones({2, 2})));
}

TEST(GradientReducer, KeepsChannelsLastGradientsInTheirLayout) {
  const auto group = ProcessGroup::create({}, c10::Device("cpu"), "auto", std::chrono::seconds(5));
  std::vector<at::Tensor> parameters = {
      at::randn({4, 3, 2, 5}).contiguous(at::MemoryFormat::ChannelsLast).requires_grad_(true),
      at::randn({6}).requires_grad_(true)};
  GradientReducer reducer(*group, parameters, /*bucket_bytes=*/1 << 20);
  const at::Tensor weights = at::randn({4, 3, 2, 5});
  for (const bool conv_used : {true, false}) {  // unused: the reducer makes its gradient
    for (auto& p : parameters) p.mutable_grad() = at::Tensor();
    reducer.begin();
    at::Tensor loss = parameters[1].sum();
    if (conv_used) loss = loss + (parameters[0] * weights).sum();
    loss.backward();
    reducer.finish();
    EXPECT_TRUE(at::allclose(parameters[0].grad(), conv_used ? weights : at::zeros_like(weights)));
    EXPECT_TRUE(parameters[0].grad().is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(at::equal(parameters[1].grad(), at::ones({6})));
  }
}

TEST(Plot, DrawsEverySeries) {
  const visualization::Panel panel{"losses", {{"a", {0, 1, 2}, {3, 2, 1}}, {"b", {0, 2}, {1, 1}}}};
  const at::Tensor image = visualization::plot_panels({panel, {"empty", {}}}, 400, 200);
  EXPECT_EQ(image.sizes(), (std::vector<int64_t>{400, 400, 3}));
  // Some pixels are neither white nor grey: the coloured lines.
  const at::Tensor top = image.slice(0, 0, 200).to(at::kInt);
  const at::Tensor spread = std::get<0>(top.max(2)) - std::get<0>(top.min(2));
  EXPECT_GT((spread > 60).sum().item<int64_t>(), 50);
}

}  // namespace
}  // namespace mrcnn::engine
