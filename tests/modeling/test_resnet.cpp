// ResNet variants c and d (PaddleDetection's ResNet-vd): the three-conv stem, and downsampling
// shortcuts that average-pool before a stride-1 projection, checked against the arithmetic
// written out with plain ATen ops.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <map>
#include <string>

#include "mrcnn/modeling/backbone/resnet.h"

namespace mrcnn::modeling {
namespace {

std::map<std::string, at::Tensor> tensors_of(torch::nn::Module& module) {
  std::map<std::string, at::Tensor> all;
  for (const auto& p : module.named_parameters()) all[p.key()] = p.value();
  for (const auto& b : module.named_buffers()) all[b.key()] = b.value();
  return all;
}

// Frozen BatchNorm from its four tensors.
at::Tensor frozen_bn(const at::Tensor& x, std::map<std::string, at::Tensor>& t,
                     const std::string& name) {
  auto view = [](const at::Tensor& v) { return v.reshape({1, -1, 1, 1}); };
  return (x - view(t[name + ".running_mean"])) / (view(t[name + ".running_var"]) + 1e-5).sqrt() *
             view(t[name + ".weight"]) +
         view(t[name + ".bias"]);
}

// 2x2 windows at stride 2 over an odd-sized map: the last row and column average the pixels
// they cover only (zeros added, then divided by the count of real pixels).
at::Tensor average_2x2_covered(const at::Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3), ph = (h + 1) / 2 * 2, pw = (w + 1) / 2 * 2;
  const at::Tensor padded = at::constant_pad_nd(x, {0, pw - w, 0, ph - h});
  const at::Tensor ones = at::constant_pad_nd(at::ones_like(x), {0, pw - w, 0, ph - h});
  auto window_sum = [&](const at::Tensor& t) {
    return t.reshape({t.size(0), t.size(1), ph / 2, 2, pw / 2, 2}).sum({3, 5});
  };
  return window_sum(padded) / window_sum(ones);
}

TEST(ResNet, VariantDHasAThreeConvStem) {
  ResNetOptions o;
  o.depth = 50;
  o.frozen_stages = -1;
  o.deep_stem = true;
  o.average_down = true;
  ResNet net(o);
  auto t = tensors_of(*net);
  EXPECT_EQ(t.count("conv1.weight"), 0u);
  EXPECT_EQ(t["conv1_1.weight"].sizes(), (std::vector<int64_t>{32, 3, 3, 3}));
  EXPECT_EQ(t["conv1_2.weight"].sizes(), (std::vector<int64_t>{32, 32, 3, 3}));
  EXPECT_EQ(t["conv1_3.weight"].sizes(), (std::vector<int64_t>{64, 32, 3, 3}));
  EXPECT_EQ(t["layer2.0.downsample.0.weight"].sizes(), (std::vector<int64_t>{512, 256, 1, 1}));
  // The stem halves the size once and the max pool once more: C2 at stride 4, C5 at 32.
  const auto out = net->forward(at::randn({1, 3, 64, 96}));
  EXPECT_EQ(out[0].sizes(), (std::vector<int64_t>{1, 256, 16, 24}));
  EXPECT_EQ(out[3].sizes(), (std::vector<int64_t>{1, 2048, 2, 3}));

  // Frozen from the stem: all three stem convs stop training.
  o.frozen_stages = 0;
  ResNet frozen(o);
  for (const auto& p : frozen->named_parameters()) {
    if (p.key().starts_with("conv1_") || p.key().starts_with("bn1_")) {
      EXPECT_FALSE(p.value().requires_grad()) << p.key();
    }
  }
}

TEST(ResNet, VariantDBottleneckPoolsThenProjects) {
  at::manual_seed(3);
  ResNetOptions o;
  o.average_down = true;
  Bottleneck block(8, 4, /*stride=*/2, /*downsample=*/true, o);
  auto t = tensors_of(*block);
  for (auto& [name, tensor] : t) {
    at::NoGradGuard no_grad;
    if (name.ends_with("running_var")) {
      tensor.uniform_(0.5, 1.5);
    } else if (!name.ends_with("conv1.weight") && !name.ends_with("conv2.weight") &&
               !name.ends_with("conv3.weight") && !name.ends_with("downsample.0.weight")) {
      tensor.normal_(0, 0.5);
    }
  }
  const at::Tensor x = at::randn({2, 8, 7, 9});
  at::Tensor main = at::relu(frozen_bn(at::conv2d(x, t["conv1.weight"]), t, "bn1"));
  main = at::relu(frozen_bn(at::conv2d(main, t["conv2.weight"], {}, 2, 1), t, "bn2"));
  main = frozen_bn(at::conv2d(main, t["conv3.weight"]), t, "bn3");
  const at::Tensor shortcut =
      frozen_bn(at::conv2d(average_2x2_covered(x), t["downsample.0.weight"]), t, "downsample.1");
  const at::Tensor expected = at::relu(main + shortcut);
  const at::Tensor got = block->forward(x);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_TRUE(at::allclose(got, expected, 1e-5, 1e-5));

  // Variant b on the same weights projects with a strided 1x1 conv instead: not the same.
  ResNetOptions b;
  Bottleneck plain(8, 4, 2, true, b);
  auto u = tensors_of(*plain);
  for (auto& [name, tensor] : u) {
    at::NoGradGuard no_grad;
    tensor.copy_(t[name]);
  }
  EXPECT_FALSE(at::allclose(plain->forward(x), expected, 1e-3, 1e-3));
}

}  // namespace
}  // namespace mrcnn::modeling
