// Training pieces of the model: sampling, matching with crowd regions, and the training
// forward's loss set on tiny inputs (including images without any positive), and the NHWC
// layout giving the default layout's results.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "mrcnn/modeling/mask_rcnn.h"
#include "mrcnn/modeling/matcher.h"
#include "mrcnn/modeling/sampler.h"
#include "mrcnn/structures/image_list.h"
#include "support/tiny_model.h"

namespace mrcnn::modeling {
namespace {

at::Generator generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

at::Tensor flags(std::vector<int64_t> values) { return at::tensor(values).to(at::kBool); }

structures::Instances targets(at::Tensor boxes, at::Tensor labels, at::Tensor masks,
                              at::Tensor crowd) {
  structures::Instances t;
  t.boxes = std::move(boxes);
  t.labels = std::move(labels);
  t.masks = std::move(masks);
  t.crowd = std::move(crowd);
  return t;
}

TEST(BalancedSampler, RespectsTheBudgetAndTheFractionAndSkipsIgnored) {
  // 10 positives, 100 negatives, 20 ignored.
  at::Tensor labels = at::zeros({130}, at::kLong);
  labels.slice(0, 0, 10).fill_(1);
  labels.slice(0, 110, 130).fill_(-1);
  const BalancedSampler sampler(64, 0.25);
  auto g = generator(7);
  const SampledIndices s = sampler(labels, g);
  EXPECT_EQ(s.positive.numel(), 10);  // fewer positives than the 16 allowed: all of them
  EXPECT_EQ(s.negative.numel(), 54);  // the rest of the budget
  EXPECT_TRUE((labels.index_select(0, s.positive) == 1).all().item<bool>());
  EXPECT_TRUE((labels.index_select(0, s.negative) == 0).all().item<bool>());
  EXPECT_EQ(std::get<0>(at::_unique(s.negative)).numel(), 54);  // without replacement

  // Many positives: capped at the fraction. Same seed, same draw; another seed, another.
  labels.fill_(1);
  auto g1 = generator(3), g2 = generator(3), g3 = generator(4);
  const SampledIndices a = sampler(labels, g1), b = sampler(labels, g2), c = sampler(labels, g3);
  EXPECT_EQ(a.positive.numel(), 16);
  EXPECT_EQ(a.negative.numel(), 0);
  EXPECT_TRUE(at::equal(a.positive, b.positive));
  EXPECT_FALSE(at::equal(a.positive, c.positive));

  // Without use_random the first candidates are taken.
  const BalancedSampler ordered(4, 0.5, false);
  EXPECT_TRUE(at::equal(ordered(labels, g1).positive, at::arange(2, at::kLong)));
}

TEST(MatchPredictions, CrowdRegionsAreNeitherPositiveNorNegative) {
  structures::Instances t;
  // Ground truth 0: a crowd region; ground truth 1: a regular object.
  t.boxes = at::tensor({0.f, 0.f, 10.f, 10.f, 20.f, 20.f, 30.f, 30.f}).view({2, 4});
  t.labels = at::tensor({1L, 2L});
  t.crowd = flags({1, 0});
  t.masks = at::zeros({2, 32, 32}, at::kByte);
  const at::Tensor predictions = at::tensor({0.f, 0.f, 10.f, 10.f,     // on the crowd region
                                             20.f, 20.f, 30.f, 30.f,   // on the object
                                             40.f, 40.f, 50.f, 50.f})  // on nothing
                                     .view({3, 4});
  const Matcher matcher(0.5, 0.5, false);
  const MatchResult r = match_predictions(matcher, t, predictions, 0.5);
  EXPECT_TRUE(at::equal(r.labels, at::tensor({-1L, 1L, 0L})));
  EXPECT_EQ(r.matched[1].item<int64_t>(), 1);  // an index into all ground truth, crowd included

  // Moved targets carry the split made on the host, and match the same way.
  const structures::Instances moved = t.to(c10::Device(c10::kCPU));
  EXPECT_TRUE(at::equal(moved.regular_index, at::tensor({1L})));
  EXPECT_TRUE(at::equal(moved.crowd_index, at::tensor({0L})));
  const MatchResult m = match_predictions(matcher, moved, predictions, 0.5);
  EXPECT_TRUE(at::equal(m.labels, r.labels));
  EXPECT_TRUE(at::equal(m.matched, r.matched));

  // No ground truth at all: everything is background.
  const structures::Instances empty =
      targets(at::zeros({0, 4}), at::zeros({0}, at::kLong), at::zeros({0, 32, 32}, at::kByte),
              at::zeros({0}, at::kBool));
  EXPECT_TRUE(at::equal(match_predictions(matcher, empty, predictions, 0.5).labels,
                        at::zeros({3}, at::kLong)));
}

MaskRCNNOptions tiny_options() { return testing::tiny_model_options(2); }

structures::ImageList tiny_batch() {
  structures::ImageList batch;
  batch.tensor = at::randn({2, 3, 64, 96});
  batch.image_sizes = {{64, 96}, {60, 80}};
  batch.original_sizes = batch.image_sizes;
  return batch;
}

structures::Instances two_objects() {
  structures::Instances t =
      targets(at::tensor({4.f, 4.f, 40.f, 30.f, 50.f, 10.f, 90.f, 60.f}).view({2, 4}),
              at::tensor({1L, 2L}), at::zeros({2, 64, 96}, at::kByte), flags({0, 0}));
  t.masks[0].slice(0, 4, 30).slice(1, 4, 40).fill_(1);
  t.masks[1].slice(0, 10, 60).slice(1, 50, 90).fill_(1);
  return t;
}

TEST(MaskRCNNLosses, AlwaysTheSameFiveFiniteLossesWithGradients) {
  at::manual_seed(0);
  MaskRCNN model(tiny_options());
  model->train();
  const structures::ImageList batch = tiny_batch();
  const structures::Instances with_objects = two_objects();
  // The second image has only a crowd region: no positive anywhere.
  const structures::Instances crowd_only =
      targets(at::tensor({10.f, 10.f, 40.f, 40.f}).view({1, 4}), at::tensor({1L}),
              at::zeros({1, 64, 96}, at::kByte), flags({1}));
  TrainingContext g{.generators = {generator(0), generator(1)}};
  const LossMap losses = model->losses(batch, {with_objects, crowd_only}, g);
  std::vector<std::string> names;
  for (const auto& [name, value] : losses) {
    names.push_back(name);
    EXPECT_TRUE(std::isfinite(value.item<double>())) << name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"loss_rpn_cls", "loss_rpn_reg", "loss_bbox_cls",
                                             "loss_bbox_reg", "loss_mask"}));
  total_loss(losses).backward();
  int64_t with_grad = 0, trainable = 0;
  for (const auto& p : model->parameters()) {
    if (!p.requires_grad()) continue;
    ++trainable;
    with_grad += p.grad().defined();
  }
  EXPECT_EQ(with_grad, trainable);

  // A batch with no positive at all still gives all five.
  TrainingContext g2{.generators = {generator(2), generator(3)}};
  const LossMap none = model->losses(batch, {crowd_only, crowd_only}, g2);
  ASSERT_EQ(none.size(), 5u);
  EXPECT_EQ(none[4].second.item<double>(), 0.0);  // loss_mask
}

TEST(ChannelsLast, SameLossesGradientsAndDetectionsAsTheDefaultLayout) {
  MaskRCNNOptions nhwc_options = tiny_options();
  nhwc_options.channels_last = true;
  at::manual_seed(0);
  MaskRCNN nchw(tiny_options());
  at::manual_seed(0);
  MaskRCNN nhwc(nhwc_options);
  const auto conv = nhwc->named_parameters()["backbone.body.conv1.weight"];
  EXPECT_TRUE(conv.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_FALSE(conv.is_contiguous());

  const structures::ImageList batch = tiny_batch();
  std::vector<LossMap> losses;
  for (MaskRCNN* model : {&nchw, &nhwc}) {
    (*model)->train();
    TrainingContext g{.generators = {generator(0), generator(1)}};
    losses.push_back((*model)->losses(batch, {two_objects(), two_objects()}, g));
    total_loss(losses.back()).backward();
  }
  for (std::size_t k = 0; k < losses[0].size(); ++k) {
    EXPECT_NEAR(losses[0][k].second.item<double>(), losses[1][k].second.item<double>(), 1e-5)
        << losses[0][k].first;
  }
  const auto nchw_parameters = nchw->named_parameters();
  for (const auto& p : nhwc->named_parameters()) {
    if (!p.value().grad().defined()) continue;
    const at::Tensor expected = nchw_parameters[p.key()].grad();
    EXPECT_TRUE(at::allclose(p.value().grad(), expected, 1e-4, 1e-5)) << p.key();
  }

  structures::ImageList images = structures::pad_images({at::randn({3, 64, 96})}, 32);
  nchw->eval();
  nhwc->eval();
  const structures::Instances a = nchw->predict(images)[0], b = nhwc->predict(images)[0];
  ASSERT_GT(a.scores.numel(), 0);
  ASSERT_EQ(a.scores.numel(), b.scores.numel());
  EXPECT_TRUE(at::allclose(a.boxes, b.boxes, 1e-4, 1e-3));
  // Another summation order in every convolution: float noise, amplified by 20 layers.
  EXPECT_TRUE(at::allclose(a.mask_probs, b.mask_probs, 1e-4, 2e-4));
}

TEST(ResNet, SmallVariantsHaveTorchvisionShapes) {
  ResNetOptions o;
  o.depth = 18;
  o.norm = NormKind::kBatchNorm;
  o.freeze_norm = false;  // trainable BatchNorm: its affine parameters count
  ResNet r18(o);
  EXPECT_EQ(r18->out_channels(), (std::vector<int64_t>{64, 128, 256, 512}));
  int64_t count = 0;
  for (const auto& p : r18->parameters()) count += p.numel();
  // torchvision's resnet18 has 11,689,512 parameters, 513,000 of them in the fc layer.
  EXPECT_EQ(count, 11689512 - 513000);
  const auto outputs = r18->forward(at::randn({1, 3, 64, 64}));
  EXPECT_EQ(outputs[3].sizes(), (std::vector<int64_t>{1, 512, 2, 2}));
  bool has_downsample_in_layer1 = false;
  for (const auto& item : r18->named_parameters()) {
    has_downsample_in_layer1 |= item.key().rfind("layer1.0.downsample", 0) == 0;
  }
  EXPECT_FALSE(has_downsample_in_layer1);
}

}  // namespace
}  // namespace mrcnn::modeling
