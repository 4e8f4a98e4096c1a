// PaddleDetection's names and layouts onto ours, case by case from PaddleDetection's naming
// (name_adapter.py, fpn.py, rpn_head.py, bbox_head.py, mask_head.py). The whole-model check
// against weights real PaddleDetection saves is tests/cli/test_paddle_weights.py.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <map>

#include "mrcnn/modeling/paddle_names.h"

namespace mrcnn::modeling {
namespace {

std::map<std::string, at::Tensor> mapped(const io::NamedTensors& paddle,
                                         std::vector<std::string>* unknown = nullptr) {
  std::map<std::string, at::Tensor> out;
  for (auto& [key, tensor] : from_paddle_names(paddle, unknown)) out.emplace(key, tensor);
  return out;
}

TEST(PaddleNames, BackboneNeckAndRpnNames) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"backbone.conv1.conv1.conv.weight", "backbone.body.conv1.weight"},
      {"backbone.conv1.conv1.norm._mean", "backbone.body.bn1.running_mean"},
      {"backbone.conv1.conv1_2.norm.weight", "backbone.body.bn1_2.weight"},  // vd's stem
      {"backbone.res2.res2a.branch2a.conv.weight", "backbone.body.layer1.0.conv1.weight"},
      {"backbone.res2.res2c.branch2b.norm._variance", "backbone.body.layer1.2.bn2.running_var"},
      {"backbone.res3.res3a.short.conv.weight", "backbone.body.layer2.0.downsample.0.weight"},
      {"backbone.res3.res3a.short.norm.bias", "backbone.body.layer2.0.downsample.1.bias"},
      // ResNet-vd: the striding shortcut's conv sits after its pool, under short.conv.
      {"backbone.res4.res4a.short.conv.conv.weight", "backbone.body.layer3.0.downsample.0.weight"},
      {"backbone.res4.res4a.short.conv.norm._mean",
       "backbone.body.layer3.0.downsample.1.running_mean"},
      {"backbone.res4.res4f.branch2c.norm.weight", "backbone.body.layer3.5.bn3.weight"},
      // ResNet-101's res4 has 23 blocks: res4a, res4b1 ... res4b22.
      {"backbone.res4.res4b22.branch2a.conv.weight", "backbone.body.layer3.22.conv1.weight"},
      {"backbone.res5.res5c.branch2c.conv.weight", "backbone.body.layer4.2.conv3.weight"},
      // An ImageNet backbone file, without the "backbone." prefix.
      {"res2.res2a.branch2a.conv.weight", "backbone.body.layer1.0.conv1.weight"},
      {"neck.fpn_inner_res2_sum_lateral.weight", "backbone.fpn.inner_blocks.0.0.weight"},
      {"neck.fpn_inner_res5_sum.bias", "backbone.fpn.inner_blocks.3.0.bias"},
      {"neck.fpn_res3_sum.weight", "backbone.fpn.layer_blocks.1.0.weight"},
      {"rpn_head.rpn_feat.rpn_conv.weight", "rpn.head.conv.0.0.weight"},
      {"rpn_head.rpn_rois_score.bias", "rpn.head.cls_logits.bias"},
      {"rpn_head.rpn_rois_delta.weight", "rpn.head.bbox_pred.weight"},
      {"mask_head.head.upsample.mask_inter_feat_4.weight", "roi_heads.mask_head.3.0.weight"},
      {"mask_head.head.upsample.conv5_mask.bias", "roi_heads.mask_predictor.conv5_mask.bias"},
  };
  for (const auto& [paddle, ours] : cases) {
    const at::Tensor value = at::randn({3});
    const auto out = mapped({{paddle, value}});
    ASSERT_EQ(out.count(ours), 1u) << paddle << " -> " << out.begin()->first;
    EXPECT_TRUE(at::equal(out.at(ours), value)) << paddle;
  }
}

TEST(PaddleNames, HeadLayoutsBecomeOurs) {
  // Two classes: Paddle's classifier has [bg-less c1, c2, background]; deltas and mask logits
  // have no background entries.
  const at::Tensor fc6 = at::randn({12, 5});     // [in, out]
  const at::Tensor score_w = at::randn({5, 3});  // [in, C+1]
  const at::Tensor score_b = at::tensor({1.f, 2.f, 9.f});
  const at::Tensor delta_w = at::randn({5, 8});  // [in, 4C]
  const at::Tensor delta_b = at::arange(8, at::kFloat);
  const at::Tensor logits_w = at::randn({2, 4, 1, 1});  // [C, in, 1, 1]
  const auto out = mapped({{"bbox_head.head.fc6.weight", fc6},
                           {"bbox_head.bbox_score.weight", score_w},
                           {"bbox_head.bbox_score.bias", score_b},
                           {"bbox_head.bbox_delta.weight", delta_w},
                           {"bbox_head.bbox_delta.bias", delta_b},
                           {"mask_head.mask_fcn_logits.weight", logits_w}});
  EXPECT_TRUE(at::equal(out.at("roi_heads.box_head.fc6.weight"), fc6.t()));
  const at::Tensor cls = out.at("roi_heads.box_predictor.cls_score.weight");
  ASSERT_EQ(cls.sizes(), (std::vector<int64_t>{3, 5}));
  EXPECT_TRUE(at::equal(cls[0], score_w.select(1, 2)));  // the background first
  EXPECT_TRUE(at::equal(cls[1], score_w.select(1, 0)));
  EXPECT_TRUE(
      at::equal(out.at("roi_heads.box_predictor.cls_score.bias"), at::tensor({9.f, 1.f, 2.f})));
  const at::Tensor deltas = out.at("roi_heads.box_predictor.bbox_pred.weight");
  ASSERT_EQ(deltas.sizes(), (std::vector<int64_t>{12, 5}));
  EXPECT_TRUE(at::equal(deltas.slice(0, 0, 4), at::zeros({4, 5})));
  EXPECT_TRUE(at::equal(deltas.slice(0, 4), delta_w.t()));
  EXPECT_TRUE(at::equal(out.at("roi_heads.box_predictor.bbox_pred.bias").slice(0, 4), delta_b));
  const at::Tensor logits = out.at("roi_heads.mask_predictor.mask_fcn_logits.weight");
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{3, 4, 1, 1}));
  EXPECT_TRUE(at::equal(logits[0], at::zeros({4, 1, 1})));
  EXPECT_TRUE(at::equal(logits.slice(0, 1), logits_w));
}

TEST(PaddleNames, UnknownNamesAreKeptAndReported) {
  io::NamedTensors paddle = {{"backbone.res2.res2a.branch2a.conv.weight", at::ones({1})},
                             {"backbone.res2.res2a.branch2a.conv.offset", at::ones({1})},
                             {"bbox_head.cot_bbox_score.weight", at::ones({1})}};
  EXPECT_TRUE(uses_paddle_names(paddle));
  std::vector<std::string> unknown;
  const auto out = mapped(paddle, &unknown);
  EXPECT_EQ(unknown, (std::vector<std::string>{"backbone.res2.res2a.branch2a.conv.offset",
                                               "bbox_head.cot_bbox_score.weight"}));
  EXPECT_EQ(out.count("bbox_head.cot_bbox_score.weight"), 1u);
  EXPECT_FALSE(uses_paddle_names({{"backbone.body.conv1.weight", at::ones({1})}}));
}

}  // namespace
}  // namespace mrcnn::modeling
